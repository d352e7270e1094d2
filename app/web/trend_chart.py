"""The trend report's chart: the top movers with their history, forecast and prediction band, drawn as
inline SVG so it is sharp on a phone and labelled in the page's language.

The movers are chosen as `generation.trends.chart.top_movers` chooses them for the CLI's PNG (the
surest riser, then the surest fader, ...). Each mover is drawn over its own span (`trends.load_frames`):
a series whose data ends before the newest stored week ends at its own last week and its forecast
starts there, as its signal's does, never after weeks filled with 0. The forecast is `forecast_frame`
over every series of a span that has a mover (one call when, as usual, there is one span), because
its bands pool the backtest errors of the series of one span; panels of one span share a time axis.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy.orm import Session

from generation.trends.chart import top_movers
from generation.trends.forecast import Forecast, forecast_frame
from generation.trends.rising import TrendSignal

from app.models import TrendSeries
from app.services import trends
from app.web.i18n import Translator, growth_pct

WIDTH, HEIGHT, PAD = 320.0, 120.0, 4.0
HISTORY_WEEKS, HORIZON, LEVEL = 104, 52, 0.9


@dataclass(frozen=True)
class Panel:
    """One mover's chart, as SVG coordinates in a WIDTH x HEIGHT box."""

    signal: TrendSignal
    title: str
    history: str  # polyline points
    year_ago: str  # the same weeks a year earlier, under the forecast: what growth is measured against
    forecast: str
    band: str  # polygon points of the prediction band
    split_x: float  # where history ends
    ticks: tuple[tuple[float, str], ...]  # (x, "2024-07") for the first week of January and July
    y_max: float


def _points(xs: np.ndarray, ys: np.ndarray, y_max: float) -> str:
    h = HEIGHT - 2 * PAD
    return " ".join(f"{x:.1f},{HEIGHT - PAD - h * min(y, y_max) / y_max:.1f}" for x, y in zip(xs, ys))


@dataclass(frozen=True)
class _Axis:
    """The forecast of one span and the time axis its panels share: `past` weeks of history, then the forecast."""

    fc: Forecast
    past: int
    xs: np.ndarray  # x of every week drawn: history, then forecast
    ticks: tuple[tuple[float, str], ...]


def _axis(fc: Forecast) -> _Axis:
    past = min(HISTORY_WEEKS, len(fc.history.weeks))
    xs = np.linspace(0.0, WIDTH, past + len(fc.weeks))
    weeks = list(fc.history.weeks[-past:]) + list(fc.weeks)
    edge = 0.06 * WIDTH  # a label centred nearer the edge than this would be cut off
    ticks = tuple((float(x), f"{w:%Y-%m}") for x, w, prev in zip(xs[1:], weeks[1:], weeks[:-1])
                  if w.month in (1, 7) and w.month != prev.month and edge < x < WIDTH - edge)
    return _Axis(fc, past, xs, ticks)


def movers(session: Session, t: Translator, signals: Sequence[TrendSignal], *, n: int = 6,
           about: Mapping[str, TrendSeries] | None = None) -> list[Panel]:
    """Chart panels for the `n` top movers among `signals` (the page's, from `trends.signals`), each
    drawn over its own span; only the spans that have a mover are forecast. `about` (series name -> its
    stored row) names free-named series by what they measure."""
    picked = top_movers(signals, n)
    if not picked:
        return []
    frames = trends.load_frames(session)
    span_of = {name: i for i, frame in enumerate(frames) for name in frame.names}
    axes: dict[int, _Axis] = {}
    panels = []
    for sig in picked:
        i = span_of[sig.series]
        if i not in axes:
            axes[i] = _axis(forecast_frame(frames[i], HORIZON, level=LEVEL))
        panels.append(_panel(sig, axes[i], t, (about or {}).get(sig.series)))
    return panels


def _panel(sig: TrendSignal, axis: _Axis, t: Translator, about: TrendSeries | None) -> Panel:
    """One mover's panel: its history up to its own last week, a year earlier, forecast and band."""
    fc, past, xs = axis.fc, axis.past, axis.xs
    hist = fc.history
    j = hist.names.index(sig.series)
    h = hist.values[-past:, j]
    lo, mid, hi = fc.lower[:, j], fc.mean[:, j], fc.upper[:, j]
    y_max = float(max(h.max(), hi.max())) * 1.08 or 1.0
    fx = xs[past - 1:]  # the forecast line starts at the last observed week
    year_ago = hist.values[len(hist.weeks) - 52:len(hist.weeks) - 52 + len(fc.weeks), j] if len(hist.weeks) >= 52 else np.array([])
    change = f"{growth_pct(sig.growth)} [{growth_pct(sig.lo)}, {growth_pct(sig.hi)}]"
    return Panel(
        signal=sig,
        title=f"{t.series(sig.series, about)} — {t(f'direction.{sig.direction}')} {change}",
        history=_points(xs[:past], h, y_max),
        year_ago=_points(xs[past:past + len(year_ago)], year_ago, y_max),
        forecast=_points(fx, np.concatenate([[h[-1]], mid]), y_max),
        band=_points(np.concatenate([xs[past:], xs[past:][::-1]]), np.concatenate([lo, hi[::-1]]), y_max),
        split_x=float(xs[past - 1]),
        ticks=axis.ticks,
        y_max=y_max,
    )

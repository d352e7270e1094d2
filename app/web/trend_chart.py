"""The trend report's chart: the top movers with their history, forecast and prediction band, drawn as
inline SVG so it is sharp on a phone and labelled in the page's language.

The movers are chosen as `generation.trends.chart.top_movers` chooses them for the CLI's PNG (the
surest riser, then the surest fader, ...); the forecast is `forecast_frame` over every stored series,
because its bands pool the backtest errors of all series.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy.orm import Session

from generation.trends.chart import top_movers
from generation.trends.forecast import forecast_frame
from generation.trends.rising import TrendSignal

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


def movers(session: Session, t: Translator, *, n: int = 6, category: str | None = None) -> list[Panel]:
    """Chart panels for the `n` top movers among the stored signals (of `category` when given)."""
    frame = trends.load_frame(session)
    signals = [g for _, g in trends.signals(session, category=category)]
    picked = top_movers(signals, n)
    if frame is None or not picked:
        return []
    fc = forecast_frame(frame, HORIZON, level=LEVEL)
    hist = fc.history
    past = min(HISTORY_WEEKS, len(hist.weeks))
    total = past + len(fc.weeks)
    xs = np.linspace(0.0, WIDTH, total)
    weeks = list(hist.weeks[-past:]) + list(fc.weeks)
    edge = 0.06 * WIDTH  # a label centred nearer the edge than this would be cut off
    ticks = tuple((float(x), f"{w:%Y-%m}") for x, w, prev in zip(xs[1:], weeks[1:], weeks[:-1])
                  if w.month in (1, 7) and w.month != prev.month and edge < x < WIDTH - edge)
    panels = []
    for sig in picked:
        j = hist.names.index(sig.series)
        h = hist.values[-past:, j]
        lo, mid, hi = fc.lower[:, j], fc.mean[:, j], fc.upper[:, j]
        y_max = float(max(h.max(), hi.max())) * 1.08 or 1.0
        fx = xs[past - 1:]  # the forecast line starts at the last observed week
        year_ago = hist.values[len(hist.weeks) - 52:len(hist.weeks) - 52 + len(fc.weeks), j] if len(hist.weeks) >= 52 else np.array([])
        change = f"{growth_pct(sig.growth)} [{growth_pct(sig.lo)}, {growth_pct(sig.hi)}]"
        panels.append(Panel(
            signal=sig,
            title=f"{t.series(sig.series)} — {t(f'direction.{sig.direction}')} {change}",
            history=_points(xs[:past], h, y_max),
            year_ago=_points(xs[past:past + len(year_ago)], year_ago, y_max),
            forecast=_points(fx, np.concatenate([[h[-1]], mid]), y_max),
            band=_points(np.concatenate([xs[past:], xs[past:][::-1]]), np.concatenate([lo, hi[::-1]]), y_max),
            split_x=float(xs[past - 1]),
            ticks=ticks,
            y_max=y_max,
        ))
    return panels

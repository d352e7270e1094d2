"""PNG chart of the top movers: recent history, the forecast and its prediction band, per series."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from generation.trends.forecast import Forecast
from generation.trends.frame import SeriesName
from generation.trends.rising import TrendSignal

RISING, FADING, HISTORY = "#1a7f37", "#cf222e", "#57606a"


def top_movers(signals: Sequence[TrendSignal], n: int) -> list[TrendSignal]:
    """The `n` surest movers: alternately the surest riser and the surest fader while both last."""
    risers = [s for s in signals if s.direction == "rising"]
    faders = [s for s in reversed(signals) if s.direction == "fading"]
    out: list[TrendSignal] = []
    while len(out) < n and (risers or faders):
        for pool in (risers, faders):
            if pool and len(out) < n:
                out.append(pool.pop(0))
    return out


def _label(series: str) -> str:
    name = SeriesName.split(series)
    return series if name is None else f"{name.category} · {name.kind}: {name.attribute} ({name.who})"


def plot_movers(fc: Forecast, movers: Sequence[TrendSignal], path: str | Path, *, history_weeks: int = 104,
                title: str = "Top movers: forecast with prediction band") -> Path:
    """Write one panel per mover (history, forecast, band) to `path` as PNG; returns the path."""
    if not movers:
        raise ValueError("no movers to plot")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    cols = 2 if len(movers) > 1 else 1
    rows = math.ceil(len(movers) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(7.0 * cols, 3.1 * rows), squeeze=False)
    hist = fc.history
    past = list(hist.weeks[-history_weeks:])
    future = list(fc.weeks)
    level = int(round(100 * fc.level))
    for ax, sig in zip(axes.ravel(), movers):
        j = hist.names.index(sig.series)
        colour = RISING if sig.direction == "rising" else FADING if sig.direction == "fading" else HISTORY
        ax.plot(past, hist.values[-history_weeks:, j], color=HISTORY, lw=1.1, label="history")
        # the same weeks a year earlier, shifted onto the forecast weeks: what growth is measured against
        year_ago = hist.values[len(hist.weeks) - 52:len(hist.weeks) - 52 + len(future), j]
        if len(hist.weeks) >= 52:
            ax.plot(future[:len(year_ago)], year_ago, color=HISTORY, lw=0.9, ls=":", label="a year earlier")
        ax.fill_between(future, fc.lower[:, j], fc.upper[:, j], color=colour, alpha=0.18, lw=0,
                        label=f"{level}% band")
        ax.plot([past[-1], future[0]], [hist.values[-1, j], fc.mean[0, j]], color=colour, lw=1.6)
        ax.plot(future, fc.mean[:, j], color=colour, lw=1.8, label="forecast")
        ax.axvline(past[-1], color="#8c959f", lw=0.8, ls="--")
        change = f"{100 * math.expm1(sig.growth):+.0f}% [{100 * math.expm1(sig.lo):+.0f}%, {100 * math.expm1(sig.hi):+.0f}%]"
        ax.set_title(f"{_label(sig.series)}\n{sig.direction} {change} vs a year earlier", fontsize=9.5)
        ax.xaxis.set_major_locator(mdates.MonthLocator(bymonth=(1, 7)))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))
        ax.tick_params(labelsize=8)
        ax.set_ylim(bottom=0, top=float(np.nanmax([hist.values[-history_weeks:, j].max(), fc.upper[:, j].max()])) * 1.08 or 1.0)
        ax.grid(alpha=0.25)
        ax.legend(fontsize=7, loc="best", frameon=False)
    for ax in axes.ravel()[len(movers):]:
        ax.set_visible(False)
    fig.suptitle(title, fontsize=12)
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out

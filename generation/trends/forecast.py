"""Forecast every weekly series of a `TrendFrame` `horizon` weeks ahead, with prediction intervals.

The model (per series, vectorised over all series at once; see `models.py`):

1. `z = log(y + c)` with `c = 0.1 x` the series' mean: multiplicative seasonality and growth, a
   forecast that never goes negative, and zeros that do not blow up the log.
2. A smooth yearly shape (Fourier harmonics, the number per series by AICc) fitted jointly with a
   smooth piecewise-linear trend, so a level shift does not leak into the shape.
3. The seasonally adjusted series goes through damped-trend exponential smoothing. A small
   ensemble: 18 candidate (alpha, beta) models, from "slow level, no trend" to "fast level with
   trend", run in one pass; per series, the one with the least one-step error (follows a level
   shift fast) and the one with the least error 1 to 52 weeks ahead (ignores a wobble that will
   have died out) are averaged. The forecast is that level + damped trend, plus the yearly shape.

Why not seasonal naive: it copies one year of noise forward. The shape here averages every year of
history, and the level is the recent level rather than last year's. On every family of series in
`suite.py` this beats both seasonal naive and damped Holt-Winters (figures in BENCHMARKS.md).

Prediction intervals are empirical: the same model is refitted without the last year, forecast
over that year, and its log errors, divided by each series' one-step error, are pooled across
series per horizon (and across neighbouring horizons when there are few series). Quantiles of
those standardised errors times each series' one-step error give the interval; the interval can
only widen with the horizon. Coverage is checked in `scripts/bench_trends.py`.

Fallbacks, per series, never silent (`Forecast.methods` names the one used):
- `seasonal`: the model above; needs at least 104 weeks (two seasons) of history.
- `nonseasonal`: 8 to 103 weeks: damped-trend smoothing of `z` with no yearly shape.
- `mean`: fewer than 8 weeks: the mean of the history, with a normal-theory interval.
- `all-zero`: every value is 0: the forecast and both bounds are 0.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np

from generation.errors import GenerationError
from generation.trends.frame import TrendFrame
from generation.trends.intervals import empirical_quantiles, window_quantiles
from generation.trends.models import damped_holt, fourier, seasonal_profile

MIN_SEASONAL = 104  # two seasons
MIN_SMOOTHING = 8
OFFSET_SHARE = 0.1  # c = OFFSET_SHARE x mean(y)
MIN_SCALE = 1e-3  # floor of the one-step error on the log scale (0.1%): no series is that exact
MAX_LOG_BAND = 10.0
METHODS = ("seasonal", "nonseasonal", "mean", "all-zero")
# map_blocks(fit, blocks) -> [fit(block) for block in blocks], possibly run elsewhere
BlockMap = Callable[[Callable[[np.ndarray], Any], Sequence[np.ndarray]], Sequence[Any]]


@dataclass(frozen=True)
class Forecast:
    """Point forecasts and a central `level` interval for every series, `horizon` weeks ahead.

    `mean`, `lower` and `upper` are (H, S) on the original scale. `offset` (S,) is the `c` of
    `z = log(y + c)`; `scale` (S,) each series' one-step error on that scale; `backtest` (B, S')
    the standardised log errors of the refit without the last B weeks (B may be 0), for the S'
    series that are not all zero.
    """

    history: TrendFrame
    weeks: tuple[date, ...]
    mean: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    level: float
    methods: tuple[str, ...]
    harmonics: np.ndarray
    offset: np.ndarray
    scale: np.ndarray
    backtest: np.ndarray

    @property
    def names(self) -> tuple[str, ...]:
        return self.history.names

    def frame(self, which: str = "mean") -> TrendFrame:
        """The forecast (or its `lower`/`upper` bound) as a TrendFrame on the future weeks."""
        if which not in ("mean", "lower", "upper"):
            raise ValueError(f"which must be mean, lower or upper, got {which!r}")
        return TrendFrame(self.weeks, self.names, getattr(self, which))

    def method_counts(self) -> dict[str, int]:
        return {m: self.methods.count(m) for m in METHODS if m in self.methods}


def _fit_point(z: np.ndarray, t0: int, horizon: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """Forecast (H, S) in z-space, the one-step error (S,), harmonics (S,) and the method name."""
    n, s = z.shape
    if n >= MIN_SEASONAL:
        coefs, k, shape = seasonal_profile(z, t0)
        fc, rmse = damped_holt(z - shape, horizon)
        future = fourier(np.arange(t0 + n, t0 + n + horizon, dtype=np.float64), coefs.shape[0] // 2)
        return fc + future @ coefs, rmse, k, "seasonal"
    if n >= MIN_SMOOTHING:
        fc, rmse = damped_holt(z, horizon, warmup=min(26, n // 2))
        return fc, rmse, np.zeros(s, dtype=np.int64), "nonseasonal"
    mean = z.mean(axis=0)
    sd = z.std(axis=0, ddof=1) if n > 1 else np.zeros(s)
    return np.repeat(mean[None, :], horizon, axis=0), sd, np.zeros(s, dtype=np.int64), "mean"


def _fit_chunked(z: np.ndarray, t0: int, horizon: int, chunk: int, tick: Callable[[int], None],
                 map_blocks: BlockMap | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """`_fit_point` over blocks of `chunk` series (same result, bounded memory, progress per block), here
    or through `map_blocks` (which may run the blocks elsewhere, e.g. as Ray tasks)."""
    blocks = [z[:, start:start + chunk] for start in range(0, z.shape[1], chunk)]
    fit = functools.partial(_fit_point, t0=t0, horizon=horizon)
    if map_blocks is None:
        parts = []
        for block in blocks:
            parts.append(fit(block))
            tick(block.shape[1])
    else:
        parts = list(map_blocks(fit, blocks))
        tick(z.shape[1])
    fc = np.concatenate([p[0] for p in parts], axis=1)
    rmse = np.concatenate([p[1] for p in parts])
    k = np.concatenate([p[2] for p in parts])
    return fc, rmse, k, parts[0][3]


def forecast_frame(frame: TrendFrame, horizon: int = 52, *, level: float = 0.9, chunk: int = 2000,
                   on_progress: Callable[[int, int], None] | None = None,
                   map_blocks: BlockMap | None = None) -> Forecast:
    """Forecast every series of `frame` `horizon` weeks ahead with a central `level` interval.

    Series are fitted in blocks of `chunk` (the result does not depend on it). `on_progress`, when
    given, is called as on_progress(done, total) after each block of the backtest and of the final
    fit (total = 2 x the number of series), so a CLI can show a bar. `map_blocks(fit, blocks)`, when
    given, fits the blocks instead of a loop here and returns their results in order (an executor's
    `map`: the blocks may run in other processes or machines; the result is the same)."""
    if horizon < 1:
        raise GenerationError(f"horizon must be at least 1 week, got {horizon}")
    if not 0.5 <= level < 1.0:
        raise GenerationError(f"interval level must be in [0.5, 1), got {level}")
    y = frame.values
    n, s = y.shape
    if n < 1 or s < 1:
        raise GenerationError("nothing to forecast: the frame has no weeks or no series")
    t0 = _week_index(frame.weeks[0])
    scale_y = y.mean(axis=0)
    zero = scale_y <= 0
    offset = np.where(zero, 1.0, OFFSET_SHARE * scale_y)  # (S,)
    z = np.log(y + offset)

    done = [0]

    def tick(k: int) -> None:
        done[0] += k
        if on_progress is not None:
            on_progress(done[0], 2 * s)

    # Backtest: refit without the last b weeks and forecast them.
    b = min(52, n - MIN_SEASONAL) if n >= MIN_SEASONAL + 8 else min(52, n // 3)
    if b >= 4 and n - b >= 2:
        fc_b, r_b, _, _ = _fit_chunked(z[:-b], t0, b, chunk, tick, map_blocks)
        u = (z[-b:] - fc_b) / np.maximum(r_b, MIN_SCALE)[None, :]
        u = u[:, ~zero] if (~zero).any() else u
    else:
        b, u = 0, np.zeros((0, s))
        tick(s)

    fc, rmse, k, method = _fit_chunked(z, t0, horizon, chunk, tick, map_blocks)
    rmse = np.maximum(rmse, MIN_SCALE)
    probs = ((1 - level) / 2, (1 + level) / 2)
    if b:
        q = empirical_quantiles(u, horizon, probs)  # (H, 2)
    else:  # normal theory with the error growing like sqrt(h): documented in the module
        zq = _normal_quantile(probs[1])
        grow = np.sqrt(np.arange(1, horizon + 1, dtype=np.float64))
        q = np.stack([-zq * grow, zq * grow], axis=1)
    # bounds at most a factor e^MAX_LOG_BAND from the forecast: a noise-free history can otherwise
    # standardise a backtest miss into an astronomically wide (overflowing) band
    lo_z = fc + np.maximum(q[:, :1] * rmse[None, :], -MAX_LOG_BAND)
    hi_z = fc + np.minimum(q[:, 1:] * rmse[None, :], MAX_LOG_BAND)
    mean = np.maximum(np.exp(fc) - offset, 0.0)
    lower = np.clip(np.exp(lo_z) - offset, 0.0, mean)
    upper = np.maximum(np.exp(hi_z) - offset, mean)
    methods = [method] * s
    for j in np.flatnonzero(zero):
        mean[:, j] = lower[:, j] = upper[:, j] = 0.0
        methods[j] = "all-zero"
    last = frame.weeks[-1]
    weeks = tuple(last + timedelta(weeks=h) for h in range(1, horizon + 1))
    return Forecast(frame, weeks, mean, lower, upper, level, tuple(methods), k, offset, rmse,
                    u if b else np.zeros((0, s)))


def growth_interval(fc: Forecast, window: int, probs: tuple[float, float]) -> tuple[np.ndarray, ...]:
    """Year-on-year growth over the first `window` forecast weeks, per series, with an interval.

    growth = mean over h <= window of log((forecast_h + c) / (y_{h-52} + c)), the forecast against
    the observed same weeks a year earlier. Its interval comes from the backtest: the quantiles of
    the window-mean of the standardised errors, times the series' one-step error. Returns
    (growth, lo, hi, recent) arrays of shape (S,); `recent` is the observed mean of the last
    `window` weeks.
    """
    y = fc.history.values
    n = y.shape[0]
    w = min(window, fc.mean.shape[0])
    if n < 52 + 1:
        raise GenerationError(f"year-on-year growth needs at least 53 weeks of history, got {n}")
    c = fc.offset[None, :]
    past_idx = n - 52 + np.arange(w)
    past = np.where(past_idx[:, None] < n, y[np.minimum(past_idx, n - 1)], fc.mean[np.maximum(past_idx - n, 0)])
    growth = np.log((fc.mean[:w] + c) / (past + c)).mean(axis=0)
    if fc.backtest.shape[0] >= 4:
        qlo, qhi = window_quantiles(fc.backtest, w, probs)
    else:
        zq = _normal_quantile(probs[1]) * math.sqrt((w + 1) / 2)
        qlo, qhi = -zq, zq
    lo, hi = growth + qlo * fc.scale, growth + qhi * fc.scale
    recent = y[-w:].mean(axis=0)
    return growth, lo, hi, recent


def _week_index(d: date) -> int:
    """Weeks since 1970-01-05 (a Monday): the calendar position that keeps yearly shapes aligned."""
    return (d - date(1970, 1, 5)).days // 7


def _normal_quantile(p: float) -> float:
    from statistics import NormalDist

    return NormalDist().inv_cdf(p)

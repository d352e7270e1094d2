"""Empirical prediction-interval quantiles from backtest errors pooled across series.

A backtest gives, for every series s and horizon h = 1..B, a standardised error
`u[h, s] = (actual - forecast) / one-step error of s` (on the log scale the forecaster works on).
One series has a single error per horizon, so quantiles are pooled across series: per horizon when
there are many series, across a band of neighbouring horizons when there are few (the band is wide
enough to hold at least `min_pool` errors). The bounds may only widen with the horizon (a running
max/min), and horizons past the backtest grow like sqrt(h / B) from the last one.
"""

from __future__ import annotations

import math

import numpy as np


def empirical_quantiles(u: np.ndarray, horizon: int, probs: tuple[float, float], *,
                        min_pool: int = 200) -> np.ndarray:
    """(horizon, 2) lower and upper quantiles of the standardised error, per horizon.

    `u` is (B, S) with B >= 1 backtest horizons."""
    b, s = u.shape
    if b < 1 or s < 1:
        raise ValueError(f"need at least one backtest horizon and one series, got {u.shape}")
    half = max(0, math.ceil(min_pool / (2 * s)))  # neighbouring horizons each side
    q = np.empty((b, 2))
    for h in range(b):
        pool = u[max(0, h - half):h + half + 1].ravel()
        q[h] = np.quantile(pool, probs)
    q[:, 0] = np.minimum.accumulate(np.minimum(q[:, 0], 0.0))
    q[:, 1] = np.maximum.accumulate(np.maximum(q[:, 1], 0.0))
    if horizon <= b:
        return q[:horizon]
    extra = np.sqrt(np.arange(b + 1, horizon + 1) / b)[:, None] * q[-1:]
    return np.concatenate([q, extra], axis=0)


def window_quantiles(u: np.ndarray, window: int, probs: tuple[float, float], *,
                     min_series: int = 40) -> tuple[float, float]:
    """Quantiles of the mean standardised error over the first `window` horizons (capped at B).

    Pooled across series: the interval of a mean over weeks whose errors are correlated, taken
    straight from how such means actually came out in the backtest. With fewer than `min_series`
    series there are too few means; the quantiles of the single-week errors in the window are used
    instead, which is wider (a mean varies less than its terms) and so errs on the safe side."""
    w = max(1, min(window, u.shape[0]))
    pool = u[:w].mean(axis=0) if u.shape[1] >= min_series else u[:w].ravel()
    lo, hi = np.quantile(pool, probs)
    return min(float(lo), 0.0), max(float(hi), 0.0)

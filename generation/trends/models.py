"""Vectorised forecasting models on a (T, S) matrix of weekly series that share one calendar.

Every model here works on *transformed* values `z = log(y + c)` (so seasonality and growth are
multiplicative and a forecast never goes negative after the back-transform) and returns a
`(H, S)` array of forecasts on the same scale. They loop over time, never over series, so 10,000
series cost about as much as a few hundred.

- `seasonal_profile`: a smooth yearly shape per series from a joint least-squares fit of Fourier
  terms (period 365.25/7 weeks, so it stays on the calendar over 52/53-week years) and a smooth
  piecewise-linear trend (the trend soaks up level shifts so they do not leak into the shape). The
  number of harmonics is picked per series by AICc.
- `damped_holt`: level + damped trend exponential smoothing of the seasonally adjusted series:
  the average of two models picked per series from an (alpha, beta) grid, one by one-step error,
  one by error over 1 to 52 weeks ahead.
- `holt_winters`: damped additive Holt-Winters with its own seasonal states (the classic baseline).
- `seasonal_naive`: last year's value at the same week, `z[t + h - 52]`.
"""

from __future__ import annotations

import math

import numpy as np

YEAR = 365.25 / 7.0  # weeks in a year, not 52: the calendar drifts a week every ~7 years
LAG = 52  # the seasonal-naive lag in whole weeks


def fourier(t: np.ndarray, k: int) -> np.ndarray:
    """(len(t), 2k) cos/sin columns of the first k yearly harmonics at week indices t."""
    ang = 2 * math.pi * np.outer(t, np.arange(1, k + 1)) / YEAR
    return np.concatenate([np.cos(ang), np.sin(ang)], axis=1)


def hinge_basis(n: int, spacing: int) -> np.ndarray:
    """(n, m) piecewise-linear trend: an intercept, a slope and a hinge every `spacing` weeks."""
    t = np.arange(n, dtype=np.float64)
    knots = np.arange(spacing, n - spacing // 2, spacing)
    cols = [np.ones(n), t / YEAR] + [np.maximum(0.0, t - k) / YEAR for k in knots]
    return np.stack(cols, axis=1)


def seasonal_profile(z: np.ndarray, t0: int = 0, *, max_harmonics: int = 8, knot_spacing: int = 26,
                     ridge: float = 1.0, penalty: float = 2.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fit trend + yearly shape jointly; return (coefs (2K, S), harmonics (S,), in-sample shape (T, S)).

    `z` is (T, S) with T >= 2 * 52. Week index t0 is the calendar position of row 0, so shapes of
    frames that start on different weeks line up. The hinge slopes are ridge-penalised (`ridge`,
    in units of the design's scale) so the trend stays smooth; the Fourier terms are not.
    Harmonics K = 1..max_harmonics are compared by AICc per series (`penalty` 2 per parameter;
    a larger one is stricter); a series with no seasonality
    worth its parameters gets K = 0 (a flat shape).
    """
    n, s = z.shape
    trend = hinge_basis(n, knot_spacing)  # (T, m)
    m = trend.shape[1]
    fz = fourier(np.arange(t0, t0 + n, dtype=np.float64), max_harmonics)  # (T, 2K)
    best_aicc = np.full(s, np.inf)
    best_k = np.zeros(s, dtype=np.int64)
    coefs = np.zeros((2 * max_harmonics, s))
    for k in range(0, max_harmonics + 1):
        cols = np.concatenate([trend, fz[:, :k], fz[:, max_harmonics:max_harmonics + k]], axis=1)
        pen = np.zeros(cols.shape[1])
        pen[2:m] = ridge * n / 10.0
        beta = np.linalg.solve(cols.T @ cols + np.diag(pen), cols.T @ z)  # (p, S)
        rss = np.maximum(((z - cols @ beta) ** 2).sum(axis=0), 1e-300)
        p = 2 + 2 * k + 3  # intercept, slope, harmonics and ~3 effective hinge parameters
        aicc = n * np.log(rss / n) + penalty * p + 2 * p * (p + 1) / max(n - p - 1, 1)
        better = aicc < best_aicc
        best_aicc[better], best_k[better] = aicc[better], k
        if k:
            full = np.zeros((2 * max_harmonics, s))
            full[:k] = beta[m:m + k]
            full[max_harmonics:max_harmonics + k] = beta[m + k:]
            coefs[:, better] = full[:, better]
        else:
            coefs[:, better] = 0.0
    shape = fz @ coefs
    return coefs, best_k, shape


def damped_holt(x: np.ndarray, horizon: int, *, alphas: tuple[float, ...] = (0.02, 0.05, 0.1, 0.2, 0.35, 0.6),
                betas: tuple[float, ...] = (0.0, 0.02, 0.08), phi: float = 0.97, warmup: int = 26,
                horizons: tuple[int, ...] = (1, 4, 13, 26, 52)) -> tuple[np.ndarray, np.ndarray]:
    """Damped-trend exponential smoothing of (T, S) series; returns ((H, S) forecasts, (S,) one-step RMSE).

    Every (alpha, beta) of the grid runs in one pass (beta = 0 is a local level with no trend).
    Two models are picked per series and their forecasts averaged: the one with the least squared
    one-step error (responsive: follows a level shift) and the one with the least absolute error
    summed over `horizons` weeks ahead (steady: does not chase a wobble that will have died out a
    year later). The RMSE returned is the one-step error of the first, after `warmup` weeks.
    """
    n, s = x.shape
    grid = [(a, b) for a in alphas for b in betas]
    al = np.array([a for a, _ in grid])[:, None]  # (G, 1)
    be = np.array([b for _, b in grid])[:, None]
    init = min(13, n)
    level = np.repeat(x[:init].mean(axis=0)[None, :], len(grid), axis=0)  # (G, S)
    trend = np.zeros_like(level)
    sse = np.zeros_like(level)
    multi = np.zeros_like(level)
    ring = max(horizons) + 1
    past_level = np.empty((ring, *level.shape))  # states after each update, for h-step errors
    past_trend = np.empty_like(past_level)
    steps = {h: float(np.sum(phi ** np.arange(1, h + 1))) for h in horizons}
    for t in range(n):
        for h in horizons:
            if t - h >= warmup:
                multi += np.abs(x[t] - past_level[(t - h) % ring] - steps[h] * past_trend[(t - h) % ring])
        pred = level + phi * trend
        err = x[t] - pred
        if t >= warmup:
            sse += err * err
        new_level = pred + al * err
        trend = be * (new_level - level) + (1 - be) * phi * trend
        level = new_level
        past_level[t % ring], past_trend[t % ring] = level, trend
    cols = np.arange(s)
    damp = np.cumsum(phi ** np.arange(1, horizon + 1))[:, None]  # (H, 1)
    g1 = np.argmin(sse, axis=0)  # (S,)
    g2 = np.argmin(multi, axis=0) if n - 1 - min(horizons) >= warmup else g1
    fc = 0.5 * (level[g1, cols] + level[g2, cols])[None, :] + damp * 0.5 * (trend[g1, cols] + trend[g2, cols])[None, :]
    return fc, np.sqrt(sse[g1, cols] / max(n - warmup, 1))


def holt_winters(z: np.ndarray, horizon: int, *, alphas: tuple[float, ...] = (0.05, 0.15, 0.35),
                 gammas: tuple[float, ...] = (0.01, 0.05, 0.15), beta: float = 0.02,
                 phi: float = 0.95) -> np.ndarray:
    """Damped additive Holt-Winters (period 52) of (T, S) series with T >= 104; (H, S) forecasts.

    Initial states: the level is the first year's mean, the trend the change to the second year's
    mean, the seasonal states the first year minus its mean. (alpha, gamma) per series from a grid
    by one-step squared error; beta and phi fixed (a damped, slow trend).
    """
    n, s = z.shape
    m = LAG
    grid = [(a, g) for a in alphas for g in gammas]
    al = np.array([a for a, _ in grid])[:, None]
    ga = np.array([g for _, g in grid])[:, None]
    y1, y2 = z[:m].mean(axis=0), z[m:2 * m].mean(axis=0)
    level = np.repeat(y1[None, :], len(grid), axis=0)
    trend = np.repeat(((y2 - y1) / m)[None, :], len(grid), axis=0)
    season = np.repeat((z[:m] - y1)[:, None, :], len(grid), axis=1)  # (m, G, S), ring buffer
    sse = np.zeros_like(level)
    for t in range(m, n):
        si = t % m
        pred = level + phi * trend + season[si]
        err = z[t] - pred
        sse += err * err
        old = level
        level = old + phi * trend + al * err
        trend = beta * (level - old) + (1 - beta) * phi * trend
        season[si] = season[si] + ga * err
    g = np.argmin(sse, axis=0)
    cols = np.arange(s)
    damp = np.cumsum(phi ** np.arange(1, horizon + 1))[:, None]
    idx = (n + np.arange(horizon)) % m
    return level[g, cols][None, :] + damp * trend[g, cols][None, :] + season[idx][:, g, cols]


def seasonal_naive(z: np.ndarray, horizon: int) -> np.ndarray:
    """(H, S): the value 52 weeks before each target week (repeating the last year for H > 52)."""
    n = z.shape[0]
    idx = n - LAG + (np.arange(horizon) % LAG)
    return z[idx]

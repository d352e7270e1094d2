"""Families of realistic weekly trend series for measuring forecasts (not for tuning them).

The repo's sample data (`synthetic.py`) has one shape of series. Forecast accuracy is measured on
several independent families instead, each with a property real fashion series have and that
breaks some forecasting method:

- `smooth`: HERMES-like normalised shares - a yearly shape made of one to three harmonics or a
  sharp one-season bump, a slow log-linear trend whose slope changes once, a random-walk drift of
  the level and mild multiplicative noise;
- `shift`: the same with one or two abrupt level shifts (x0.4 to x2.5), some in the last two years;
- `intermittent`: small counts (Poisson, a mean of 0.2 to 4 a week) - many zeros;
- `emerging`: fads that rise on a logistic curve, some fading again, at any point of the history;
- `noisy`: weak seasonality buried in heavy noise, where a forecast should be close to the mean.

Every generator is deterministic given its seed. Values are non-negative floats on a shared weekly
calendar (`weeks` consecutive weeks ending on `end`).
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np

from generation.trends.frame import TrendFrame

FAMILIES: tuple[str, ...] = ("smooth", "shift", "intermittent", "emerging", "noisy")
YEAR = 365.25 / 7.0


def _calendar(weeks: int, end: date) -> tuple[tuple[date, ...], np.ndarray]:
    days = tuple(end - timedelta(weeks=weeks - 1 - i) for i in range(weeks))
    # fractional position in the year, so the season drifts correctly over 52.18-week years
    phase = np.array([(d - date(d.year, 1, 1)).days / (366 if d.year % 4 == 0 else 365) for d in days])
    return days, phase


def _season(rng: np.random.Generator, phase: np.ndarray, strength: float) -> np.ndarray:
    """A log-scale yearly shape: harmonics, or one sharp bump (a holiday or a summer-only item)."""
    if rng.random() < 0.3:
        peak, width = rng.uniform(0, 1), rng.uniform(0.04, 0.12)
        d = np.angle(np.exp(2j * math.pi * (phase - peak))) / (2 * math.pi)  # signed distance in years
        shape = np.exp(-0.5 * (d / width) ** 2)
        shape = shape - shape.mean()
        return strength * 2.0 * shape / max(shape.std(), 1e-9) * 0.5
    out = np.zeros_like(phase)
    for k in range(1, int(rng.integers(1, 4)) + 1):
        out += rng.normal(0, 1.0 / k) * np.cos(2 * math.pi * k * phase - rng.uniform(0, 2 * math.pi))
    return strength * out / max(out.std(), 1e-9)


def _trend(rng: np.random.Generator, n: int) -> np.ndarray:
    """Log-scale trend: slope per year in [-0.5, 0.5] that changes once at a random week."""
    t = np.arange(n) / YEAR
    s1, s2 = rng.normal(0, 0.25, size=2)
    k = rng.uniform(0.2, 0.9) * n / YEAR
    return np.where(t < k, s1 * t, s1 * k + s2 * (t - k))


def _ar(rng: np.random.Generator, n: int, phi: float, sd: float) -> np.ndarray:
    e = rng.normal(0, sd, size=n)
    out = np.empty(n)
    acc = 0.0
    for i in range(n):
        acc = phi * acc + e[i]
        out[i] = acc
    return out


def _one(rng: np.random.Generator, family: str, phase: np.ndarray) -> np.ndarray:
    n = len(phase)
    t = np.arange(n)
    if family == "smooth":
        log_y = (_season(rng, phase, rng.uniform(0.1, 0.6)) + _trend(rng, n)
                 + np.cumsum(rng.normal(0, rng.uniform(0.005, 0.03), size=n))
                 + _ar(rng, n, rng.uniform(0.3, 0.8), rng.uniform(0.02, 0.1)))
        return np.exp(log_y) * rng.lognormal(0, 1)
    if family == "shift":
        log_y = _season(rng, phase, rng.uniform(0.1, 0.5)) + 0.5 * _trend(rng, n) + _ar(rng, n, 0.5, rng.uniform(0.03, 0.12))
        for _ in range(int(rng.integers(1, 3))):
            at = int(rng.integers(n // 4, n - 60))
            log_y[at:] += math.log(rng.choice([rng.uniform(0.4, 0.75), rng.uniform(1.4, 2.5)]))
        return np.exp(log_y) * rng.lognormal(0, 1)
    if family == "intermittent":
        mean = rng.uniform(0.2, 4.0)
        lam = mean * np.exp(_season(rng, phase, rng.uniform(0.2, 0.8)) + 0.5 * _trend(rng, n))
        return rng.poisson(lam).astype(np.float64) / 100.0  # shares of a small, fixed post volume
    if family == "emerging":
        onset = rng.uniform(-0.3, 0.95) * n
        rise = 1.0 / (1.0 + np.exp(-(t - onset) / rng.uniform(3, 20)))
        height = rng.uniform(1.0, 8.0)
        fade = np.ones(n)
        if rng.random() < 0.4:  # a fad: fades again some months after it peaked
            off = onset + rng.uniform(20, 80)
            fade = 1.0 - rng.uniform(0.5, 0.9) / (1.0 + np.exp(-(t - off) / rng.uniform(4, 15)))
        base = np.exp(_season(rng, phase, rng.uniform(0.05, 0.4)) + _ar(rng, n, 0.6, rng.uniform(0.03, 0.1)))
        return base * (0.3 + height * rise * fade) * rng.lognormal(0, 1)
    if family == "noisy":
        log_y = _season(rng, phase, rng.uniform(0.0, 0.15)) + rng.normal(0, rng.uniform(0.2, 0.5), size=n)
        return np.exp(log_y) * rng.lognormal(0, 1)
    raise ValueError(f"unknown family {family!r}; allowed: {', '.join(FAMILIES)}")


def make_family(family: str, *, n_series: int, weeks: int = 261, end: date = date(2019, 12, 30),
                seed: int = 0) -> TrendFrame:
    """`n_series` series of one family on `weeks` consecutive weeks ending on `end`."""
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; allowed: {', '.join(FAMILIES)}")
    rng = np.random.default_rng([seed, FAMILIES.index(family)])
    days, phase = _calendar(weeks, end)
    values = np.stack([_one(rng, family, phase) for _ in range(n_series)], axis=1)
    return TrendFrame(days, tuple(f"{family}-{i}" for i in range(n_series)), np.maximum(values, 0.0))

"""The forecaster: known answers, the documented fallbacks, interval coverage, and the ranking on it."""

import math
from datetime import date, timedelta

import numpy as np
import pytest

from generation.errors import GenerationError
from generation.taxonomy import load_taxonomy
from generation.trends.forecast import forecast_frame, growth_interval
from generation.trends.frame import TrendFrame
from generation.trends.intervals import empirical_quantiles, window_quantiles
from generation.trends.models import YEAR, seasonal_naive
from generation.trends.rising import rank_forecast
from generation.trends.suite import FAMILIES, make_family
from generation.trends.synthetic import make_trend_sample

START = date(2021, 1, 4)


def frame_of(*series: np.ndarray, start: date = START) -> TrendFrame:
    n = len(series[0])
    weeks = tuple(start + timedelta(weeks=i) for i in range(n))
    return TrendFrame(weeks, tuple(f"cn_all_dress_color_c{i}" for i in range(len(series))), np.stack(series, axis=1))


def seasonal(n: int, amp: float = 0.5, level: float = 0.05, phase: float = 0.0) -> np.ndarray:
    t = np.arange(n)
    return level * np.exp(amp * np.cos(2 * math.pi * t / YEAR + phase))


def test_pure_seasonal_series_is_forecast_nearly_exactly():
    full = seasonal(208 + 52)
    fc = forecast_frame(frame_of(full[:208]), 52)
    rel = np.abs(fc.mean[:, 0] - full[208:]) / full[208:]
    assert rel.max() < 0.02
    assert fc.methods == ("seasonal",) and fc.harmonics[0] >= 1
    assert fc.weeks[0] == START + timedelta(weeks=208) and len(fc.weeks) == 52


def test_a_level_shift_is_followed():
    y = seasonal(208, amp=0.3)
    y[180:] *= 2.0  # the level doubles 28 weeks before the end
    truth = 2.0 * seasonal(260, amp=0.3)[208:]
    fc = forecast_frame(frame_of(y), 52)
    assert fc.mean[:, 0].mean() / truth.mean() == pytest.approx(1.0, abs=0.1)
    naive = seasonal_naive(y[:, None], 52)[:, 0]
    assert np.abs(fc.mean[:, 0] - truth).mean() < 0.5 * np.abs(naive - truth).mean()


def test_fallbacks_are_named_never_dropped():
    zero = forecast_frame(frame_of(np.zeros(200), seasonal(200)), 10)
    assert zero.methods == ("all-zero", "seasonal")
    assert not zero.mean[:, 0].any() and not zero.upper[:, 0].any() and zero.mean.shape == (10, 2)
    short = forecast_frame(frame_of(seasonal(60)), 12)
    assert short.methods == ("nonseasonal",) and np.all(short.lower <= short.mean) and np.all(short.mean <= short.upper)
    tiny = forecast_frame(frame_of(np.array([1.0, 2.0, 3.0])), 4)
    assert tiny.methods == ("mean",)
    assert tiny.mean[:, 0] == pytest.approx(np.full(4, math.exp(np.log(np.array([1.0, 2, 3]) + 0.2).mean()) - 0.2))
    assert np.all(tiny.upper[1:] >= tiny.upper[:-1])  # the band widens with the horizon


def test_forecasts_are_non_negative_and_bands_contain_the_forecast():
    frame = make_family("intermittent", n_series=50, weeks=156, seed=1)
    fc = forecast_frame(frame, 52)
    assert np.all(fc.lower >= 0) and np.all(fc.lower <= fc.mean) and np.all(fc.mean <= fc.upper)


def test_chunking_does_not_change_the_result():
    frame = make_family("smooth", n_series=30, weeks=160, seed=2)
    a, b = forecast_frame(frame, 20), forecast_frame(frame, 20, chunk=7)
    assert np.allclose(a.mean, b.mean) and np.allclose(a.upper, b.upper)
    seen = []
    forecast_frame(frame, 20, chunk=10, on_progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (60, 60) and len(seen) == 6


@pytest.mark.parametrize("family", FAMILIES)
def test_interval_coverage_is_sane_on_held_out_weeks(family):
    frame = make_family(family, n_series=200, weeks=209, seed=11)
    train = TrendFrame(frame.weeks[:-52], frame.names, frame.values[:-52])
    test = frame.values[-52:]
    fc = forecast_frame(train, 52, level=0.8)
    coverage = ((test >= fc.lower) & (test <= fc.upper)).mean()
    assert 0.65 <= coverage <= 0.995, coverage  # nominal 0.8; over-coverage errs on the safe side


def test_beats_seasonal_naive_on_smooth_series():
    frame = make_family("smooth", n_series=200, weeks=209, seed=5)
    y, test = frame.values[:-52], frame.values[-52:]
    fc = forecast_frame(TrendFrame(frame.weeks[:-52], frame.names, y), 52)
    scale = np.abs(y[52:] - y[:-52]).mean(axis=0)
    ours = (np.abs(test - fc.mean).mean(axis=0) / scale).mean()
    naive = (np.abs(test - seasonal_naive(y, 52)).mean(axis=0) / scale).mean()
    assert ours < 0.85 * naive


def test_interval_quantiles():
    u = np.random.default_rng(0).normal(size=(52, 400)) * np.linspace(1, 2, 52)[:, None]
    q = empirical_quantiles(u, 60, (0.1, 0.9))
    assert q.shape == (60, 2) and np.all(np.diff(q[:, 1]) >= 0) and np.all(np.diff(q[:, 0]) <= 0)
    assert q[0, 1] == pytest.approx(1.2816, abs=0.2) and q[51, 1] == pytest.approx(2 * 1.2816, abs=0.4)
    lo, hi = window_quantiles(np.ones((52, 100)), 26, (0.025, 0.975))
    assert (lo, hi) == (0.0, 1.0)
    with pytest.raises(GenerationError):
        forecast_frame(frame_of(seasonal(120)), 0)


def test_growth_and_ranking_from_the_forecast():
    n = 156
    flat, up = seasonal(n), seasonal(n)
    up[-26:] *= 2.5  # 2.5x since half a year ago: the next 26 weeks compare with pre-rise weeks
    frame = frame_of(flat, up, np.zeros(n))
    fc = forecast_frame(frame, 26)
    growth, lo, hi, recent = growth_interval(fc, 26, (0.025, 0.975))
    assert growth[1] == pytest.approx(math.log(2.5), abs=0.2) and abs(growth[0]) < 0.1
    assert lo[1] < growth[1] < hi[1] and recent[1] == pytest.approx(up[-26:].mean())
    signals = {g.series: g for g in rank_forecast(frame, fc)}
    riser = signals["cn_all_dress_color_c1"]
    assert riser.direction == "rising" and riser.method == "forecast" and "vs the same weeks a year earlier" in riser.why
    assert signals["cn_all_dress_color_c0"].direction == "flat"
    assert signals["cn_all_dress_color_c2"].method == "all-zero"


def test_short_frames_rank_by_the_documented_fallback():
    y = np.concatenate([np.ones(20), 3 * np.ones(20)])
    (g,) = rank_forecast(frame_of(y))
    assert g.method == "short-history" and g.direction == "rising" and g.why


def test_planted_movers_are_found_by_the_forecast_ranking():
    sample = make_trend_sample(load_taxonomy(), seed=3)
    signals = rank_forecast(sample.frame)
    rising = {g.series for g in signals if g.direction == "rising"}
    fading = {g.series for g in signals if g.direction == "fading"}
    false_alarms = 0.01 * len(signals)  # at most 1% of the series (784 since the taxonomy grew)
    assert len(rising & set(sample.rising)) >= 0.85 * len(sample.rising) and len(rising - set(sample.rising)) <= false_alarms
    assert len(fading & set(sample.fading)) >= 0.75 * len(sample.fading) and len(fading - set(sample.fading)) <= false_alarms

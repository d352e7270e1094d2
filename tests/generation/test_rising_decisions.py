"""Rising, fading or flat, one decision at a time: the year-on-year and short-history rules worked by hand,
the strict and non-strict bars, how much history each path needs (52 + recent weeks, 53 weeks, 4 weeks),
all-zero series, the ordering, and the words that explain each signal."""

import math
from datetime import date, timedelta

import numpy as np
import pytest

from generation.trends.forecast import Forecast, forecast_frame
from generation.trends.frame import TrendFrame
from generation.trends.rising import (MIN_WEEKS, SEASON, TrendSignal, _signal, direction, explain, rank_forecast,
                                      rank_rising)


def frame(*columns, names=None) -> TrendFrame:
    values = np.stack([np.asarray(c, dtype=np.float64) for c in columns], axis=1)
    weeks = tuple(date(2023, 1, 2) + timedelta(weeks=i) for i in range(values.shape[0]))
    return TrendFrame(weeks, tuple(names or (f"s{i}" for i in range(len(columns)))), values)


def step(n: int, last: int, before: float = 10.0, after: float = 20.0) -> np.ndarray:
    """n weeks at `before`, the last `last` of them at `after`."""
    y = np.full(n, before)
    y[-last:] = after
    return y


def sig(growth=0.0, lo=0.0, hi=0.0, method="yoy") -> TrendSignal:
    return TrendSignal("s", growth, lo, hi, 1.0, "flat", method)


# --- rank_rising: the rules by hand -------------------------------------------------------------------------


def test_year_on_year_growth_by_hand():
    """56 weeks (52 + 4): the last 4 at 20 against weeks 0..3 at 10; eps = 0.05 x mean of the positive values."""
    y = step(56, 4)
    eps = 0.05 * y.mean()
    (s,) = rank_rising(frame(y), recent_weeks=4)
    assert s.method == "yoy" and s.growth == pytest.approx(math.log((20 + eps) / (10 + eps)))
    assert (s.lo, s.hi) == pytest.approx((s.growth, s.growth)) and s.recent_mean == 20.0 and s.direction == "rising"


def test_year_on_year_compares_the_same_weeks_a_year_earlier():
    """Weeks 0..3 (a year before the last 4) at 40, everything else 10, last 4 at 20: a fall, not a rise."""
    y = step(56, 4)
    y[:4] = 40.0
    eps = 0.05 * y.mean()
    (s,) = rank_rising(frame(y), recent_weeks=4)
    assert s.growth == pytest.approx(math.log((20 + eps) / (40 + eps))) and s.direction == "fading"


def test_exactly_52_plus_recent_weeks_is_year_on_year():
    assert rank_rising(frame(step(56, 4)), recent_weeks=4)[0].method == "yoy"


def test_one_week_fewer_falls_back_to_the_short_history_rule():
    assert rank_rising(frame(step(55, 4)), recent_weeks=4)[0].method == "short-history"


def test_short_history_compares_the_last_half_window_with_the_one_before():
    """30 weeks, recent 26: half = min(26, 15) = 15: the last 15 (at 20) against the 15 before (at 10)."""
    y = step(30, 15)
    eps = 0.05 * y.mean()
    (s,) = rank_rising(frame(y), recent_weeks=26)
    assert s.method == "short-history" and s.growth == pytest.approx(math.log((20 + eps) / (10 + eps)))
    assert s.recent_mean == 20.0


def test_short_history_half_window_is_at_most_recent_weeks():
    """40 weeks, recent 4: half = 4, so weeks 32..35 (at 10) against 36..39 (at 20), not the 20-week halves."""
    y = np.full(40, 5.0)
    y[32:36], y[36:] = 10.0, 20.0
    eps = 0.05 * y.mean()
    (s,) = rank_rising(frame(y), recent_weeks=4)
    assert s.growth == pytest.approx(math.log((20 + eps) / (10 + eps)))


def test_short_history_half_window_is_at_least_two_weeks():
    """4 weeks, recent 4: half = max(2, min(4, 2)) = 2."""
    (s,) = rank_rising(frame([10.0, 10.0, 20.0, 20.0]), recent_weeks=4)
    eps = 0.05 * 15.0
    assert s.growth == pytest.approx(math.log((20 + eps) / (10 + eps)))


def test_eps_keeps_a_rise_from_zero_finite():
    """Before: zeros; after: 10. eps = 0.05 x 10 = 0.5: growth log(10.5 / 0.5)."""
    (s,) = rank_rising(frame([0.0, 0.0, 10.0, 10.0]), recent_weeks=4)
    assert s.growth == pytest.approx(math.log(10.5 / 0.5))


def test_the_interval_by_hand():
    """Ratios r_t over 4 weeks; growth = mean, half = 1.96 x sd(ddof 1) / sqrt(4 / 4 = 1)."""
    before, after = np.array([10.0, 12.0, 8.0, 10.0]), np.array([20.0, 30.0, 10.0, 25.0])
    y = np.concatenate([before, np.full(48, 10.0), after])
    eps = 0.05 * y.mean()
    r = np.log((after + eps) / (before + eps))
    (s,) = rank_rising(frame(y), recent_weeks=4)
    half = 1.96 * r.std(ddof=1) / 1.0
    assert (s.growth, s.lo, s.hi) == pytest.approx((r.mean(), r.mean() - half, r.mean() + half))


def test_the_autocorrelation_factor_shrinks_the_sample():
    """8 ratios, factor 2: n_eff = 4, half = 1.96 sd / 2."""
    rng = np.random.default_rng(0)
    y = rng.uniform(5, 15, 60)
    eps = 0.05 * y.mean()
    r = np.log((y[-8:] + eps) / (y[-60:-52] + eps))
    (s,) = rank_rising(frame(y), recent_weeks=8, autocorr_factor=2.0)
    assert s.hi - s.growth == pytest.approx(1.96 * r.std(ddof=1) / 2.0)


def test_the_effective_sample_is_at_least_one():
    rng = np.random.default_rng(0)
    y = rng.uniform(5, 15, 56)
    eps = 0.05 * y.mean()
    r = np.log((y[-4:] + eps) / (y[-56:-52] + eps))
    (s,) = rank_rising(frame(y), recent_weeks=4, autocorr_factor=100.0)
    assert s.hi - s.growth == pytest.approx(1.96 * r.std(ddof=1))


def test_the_default_window_is_26_weeks_and_the_factor_4():
    rng = np.random.default_rng(1)
    y = rng.uniform(5, 15, 80)
    eps = 0.05 * y.mean()
    r = np.log((y[-26:] + eps) / (y[-78:-52] + eps))
    (s,) = rank_rising(frame(y))
    assert s.growth == pytest.approx(r.mean()) and s.hi - s.growth == pytest.approx(1.96 * r.std(ddof=1) / math.sqrt(6.5))


def test_an_all_zero_series_is_flat_with_growth_zero():
    (s,) = rank_rising(frame(np.zeros(60)), recent_weeks=4)
    assert (s.growth, s.lo, s.hi, s.recent_mean, s.direction, s.method) == (0.0, 0.0, 0.0, 0.0, "flat", "all-zero")


def test_a_fall_is_fading():
    (s,) = rank_rising(frame(step(56, 4, after=5.0)), recent_weeks=4)
    assert s.direction == "fading" and s.growth < 0


def test_fewer_than_four_recent_weeks_are_refused():
    with pytest.raises(ValueError, match="recent_weeks must be at least 4, got 3"):
        rank_rising(frame(step(56, 4)), recent_weeks=3)


def test_risers_first_then_flat_then_faders():
    out = rank_rising(frame(step(56, 4, after=5.0), np.zeros(56), step(56, 4, after=40.0), step(56, 4, after=20.0),
                            names=("down", "zero", "big", "up")), recent_weeks=4)
    assert [s.series for s in out] == ["big", "up", "zero", "down"]


# --- the label bars --------------------------------------------------------------------------------------------


def test_rank_rising_needs_the_whole_interval_above_the_bar():
    """min_change 0.1: bar log 1.1. Constant ratios put lo = growth exactly."""
    bar = math.log1p(0.1)
    assert _signal("s", np.array([bar, bar]), np.ones(2), "yoy", 0.1, 4.0).direction == "flat"
    assert _signal("s", np.array([bar + 1e-9] * 2), np.ones(2), "yoy", 0.1, 4.0).direction == "rising"
    assert _signal("s", np.array([-bar, -bar]), np.ones(2), "yoy", 0.1, 4.0).direction == "flat"
    assert _signal("s", np.array([-bar - 1e-9] * 2), np.ones(2), "yoy", 0.1, 4.0).direction == "fading"


def test_a_wide_interval_is_flat_whatever_the_growth():
    s = _signal("s", np.array([0.0, 1.0]), np.ones(2), "yoy", 0.1, 4.0)
    assert s.growth == 0.5 and s.lo < 0 and s.direction == "flat"


def test_signal_keeps_method_and_recent_level():
    s = _signal("name", np.array([0.2, 0.2]), np.array([3.0, 5.0]), "short-history", 0.1, 4.0)
    assert (s.series, s.method, s.recent_mean) == ("name", "short-history", 4.0)


def test_direction_rising_at_exactly_the_bar():
    bar = math.log1p(0.1)
    assert direction(bar, 1e-6, 1.0, 0.1) == "rising"
    assert direction(bar - 1e-9, 1e-6, 1.0, 0.1) == "flat"


def test_direction_rising_needs_the_interval_above_zero():
    assert direction(0.5, 0.0, 1.0, 0.1) == "flat" and direction(0.5, 1e-9, 1.0, 0.1) == "rising"


def test_direction_fading_at_exactly_the_bar():
    bar = math.log1p(0.1)
    assert direction(-bar, -1.0, -1e-6, 0.1) == "fading"
    assert direction(-bar + 1e-9, -1.0, -1e-6, 0.1) == "flat"


def test_direction_fading_needs_the_interval_below_zero():
    assert direction(-0.5, -1.0, 0.0, 0.1) == "flat" and direction(-0.5, -1.0, -1e-9, 0.1) == "fading"


def test_direction_with_a_larger_min_change():
    assert direction(0.2, 0.1, 0.3, 0.25) == "flat" and direction(0.2, 0.1, 0.3, 0.2) == "rising"


# --- the signal's properties and words ------------------------------------------------------------------------


def test_confidence_is_the_bound_nearest_zero():
    assert sig(lo=0.2, hi=0.5).confidence == 0.2
    assert sig(lo=-0.5, hi=-0.1).confidence == -0.1
    assert sig(lo=-0.1, hi=0.3).confidence == 0.0
    assert sig(lo=0.0, hi=0.0).confidence == 0.0


def test_change_pct():
    assert sig(growth=math.log(1.84)).change_pct == pytest.approx(84.0)
    assert sig(growth=0.0).change_pct == 0.0


def test_explain_each_method():
    g, lo, hi = math.log(1.5), math.log(1.1), math.log(2.0)
    assert explain(sig(g, lo, hi, "yoy")) == "+50% over the last 26 weeks vs the same weeks a year earlier (95% interval +10% to +100%)"
    assert explain(sig(g, lo, hi, "forecast-short"), window=13, level=0.9) == (
        "+50% forecast for the next 13 weeks vs the same weeks a year earlier (90% interval +10% to +100%)")
    assert explain(sig(-g, -hi, -lo, "short-history")) == (
        "-33% over the last weeks vs the weeks before, under a year of history (95% interval -50% to -9%)")
    assert explain(sig(method="all-zero")) == "every value is 0"


# --- rank_forecast: which path --------------------------------------------------------------------------------


def test_no_signal_before_four_weeks():
    assert MIN_WEEKS == 4 and rank_forecast(frame([1.0, 2.0, 3.0])) == []


def test_four_weeks_give_a_short_history_signal():
    (s,) = rank_forecast(frame([10.0, 10.0, 20.0, 20.0]))
    assert s.method == "short-history" and s.direction in ("rising", "flat")
    assert s.why.startswith("+") and "under a year of history" in s.why


def test_52_weeks_fall_back_to_the_short_history_rule():
    """52 weeks: half = min(26, 26) = 26; the last 26 weeks at 20 against the 26 before at 10."""
    y = step(52, 26)
    (s,) = rank_forecast(frame(y))
    eps = 0.05 * y.mean()
    assert SEASON == 52 and s.method == "short-history"
    assert s.growth == pytest.approx(math.log((20 + eps) / (10 + eps)))


def test_the_fallback_window_follows_the_forecast_window():
    """30 weeks, window 8: recent_weeks = max(4, min(8, 15)) = 8: the last 8 against the 8 before."""
    y = np.full(30, 5.0)
    y[-16:-8], y[-8:] = 10.0, 20.0
    eps = 0.05 * y.mean()
    (s,) = rank_forecast(frame(y), window=8)
    assert s.growth == pytest.approx(math.log((20 + eps) / (10 + eps)))


def test_53_weeks_use_the_forecast():
    (s,) = rank_forecast(frame(np.random.default_rng(0).uniform(5, 15, 53)))
    assert s.method.startswith("forecast") and "forecast for the next 26 weeks" in s.why


def test_a_window_under_four_weeks_is_refused():
    with pytest.raises(ValueError, match="window must be at least 4 weeks, got 3"):
        rank_forecast(frame(step(60, 4)), window=3)


def hand_forecast(fr: TrendFrame, mean: np.ndarray, methods: tuple[str, ...], scale: float = 0.0,
                  offset: float = 0.0) -> Forecast:
    """A forecast given by hand: `mean` (H, S), log offset `offset`, one-step error `scale`, no backtest."""
    s = len(fr.names)
    weeks = tuple(fr.weeks[-1] + timedelta(weeks=i + 1) for i in range(mean.shape[0]))
    return Forecast(fr, weeks, mean, mean, mean, 0.9, methods, np.full(s, 2), np.full(s, offset), np.full(s, scale),
                    np.zeros((0, s)))


def test_forecast_growth_against_the_same_weeks_a_year_earlier():
    """History 60 weeks at 10 except weeks 8..11 at 40; forecast weeks 60..63 at 20 against weeks 8..11 (52
    earlier): growth log(20 / 40), fading, although the latest weeks are at 10."""
    y = np.full(60, 10.0)
    y[8:12] = 40.0
    fr = frame(y)
    fc = hand_forecast(fr, np.full((4, 1), 20.0), ("seasonal",))
    (s,) = rank_forecast(fr, fc, window=4)
    assert s.growth == pytest.approx(math.log(0.5)) and (s.lo, s.hi) == pytest.approx((s.growth, s.growth))
    assert s.direction == "fading" and s.method == "forecast" and s.recent_mean == 10.0


def test_forecast_method_names_and_models_in_words():
    fr = frame(np.full(60, 10.0), np.full(60, 10.0), np.full(60, 10.0), np.zeros(60), names=("a", "b", "c", "z"))
    fc = hand_forecast(fr, np.full((4, 4), 20.0), ("seasonal", "nonseasonal", "mean", "all-zero"), offset=1.0)
    got = {s.series: s for s in rank_forecast(fr, fc, window=4)}
    assert [got[n].method for n in "abcz"] == ["forecast", "forecast-short", "forecast-mean", "all-zero"]
    assert got["a"].why.endswith("; yearly shape with 2 harmonic(s) + damped trend")
    assert got["b"].why.endswith("; damped trend, no yearly shape (under two years of history)")
    assert got["c"].why.endswith("; mean of a very short history")
    assert (got["z"].growth, got["z"].lo, got["z"].hi, got["z"].recent_mean, got["z"].direction, got["z"].why) == (
        0.0, 0.0, 0.0, 0.0, "flat", "every value is 0")


def test_forecast_uses_the_interval_rule_of_direction():
    """Growth log 2 with a one-step error 0.1: the normal interval is growth +- z x sqrt((4 + 1) / 2) x 0.1."""
    fr = frame(np.full(60, 10.0))
    fc = hand_forecast(fr, np.full((4, 1), 20.0), ("seasonal",), scale=0.1)
    (s,) = rank_forecast(fr, fc, window=4)
    half = 1.959964 * math.sqrt(2.5) * 0.1
    assert (s.lo, s.hi) == pytest.approx((math.log(2) - half, math.log(2) + half), abs=1e-5)
    assert s.direction == "rising"


def test_with_a_backtest_the_interval_is_its_central_quantiles():
    """Backtest errors [-2, -1, 1, 3] (one series: the single-week errors are pooled), level 0.5: quantiles at 0.25
    and 0.75 are -1.25 and 1.5, times the one-step error 0.1."""
    fr = frame(np.full(60, 10.0))
    fc = hand_forecast(fr, np.full((4, 1), 20.0), ("seasonal",), scale=0.1)
    fc = Forecast(*(getattr(fc, f) for f in ("history", "weeks", "mean", "lower", "upper", "level", "methods",
                                             "harmonics", "offset", "scale")), np.array([[-2.0], [-1.0], [1.0], [3.0]]))
    (s,) = rank_forecast(fr, fc, window=4, level=0.5)
    assert (s.lo, s.hi) == pytest.approx((math.log(2) - 0.125, math.log(2) + 0.15))


def test_forecast_min_change_is_a_parameter():
    fr = frame(np.full(60, 10.0))
    fc = hand_forecast(fr, np.full((4, 1), 11.5), ("seasonal",))
    assert rank_forecast(fr, fc, window=4)[0].direction == "rising"  # +15% >= +10%
    assert rank_forecast(fr, fc, window=4, min_change=0.2)[0].direction == "flat"


def test_a_given_forecast_is_reused_when_it_covers_the_window():
    fr = frame(np.full(60, 10.0))
    fc = hand_forecast(fr, np.full((6, 1), 30.0), ("seasonal",))
    assert rank_forecast(fr, fc, window=4)[0].growth == pytest.approx(math.log(3))


def test_a_forecast_shorter_than_the_window_is_made_again():
    fr = frame(np.full(60, 10.0))
    fc = hand_forecast(fr, np.full((3, 1), 30.0), ("seasonal",))
    assert rank_forecast(fr, fc, window=4)[0].growth == pytest.approx(0.0, abs=0.05)


def test_a_forecast_of_another_frame_is_made_again():
    fr = frame(np.full(60, 10.0))
    other = frame(np.full(60, 10.0))
    fc = hand_forecast(other, np.full((4, 1), 30.0), ("seasonal",))
    assert rank_forecast(fr, fc, window=4)[0].growth == pytest.approx(0.0, abs=0.05)


def test_forecast_signals_are_sorted_surest_riser_first():
    fr = frame(np.full(60, 10.0), np.full(60, 10.0), np.full(60, 10.0), names=("down", "flat", "up"))
    fc = hand_forecast(fr, np.array([[5.0, 10.0, 30.0]] * 4), ("seasonal",) * 3, scale=0.01)
    assert [s.series for s in rank_forecast(fr, fc, window=4)] == ["up", "flat", "down"]


def test_the_level_is_a_parameter():
    fr = frame(np.full(60, 10.0))
    fc = hand_forecast(fr, np.full((4, 1), 20.0), ("seasonal",), scale=0.1)
    (s,) = rank_forecast(fr, fc, window=4, level=0.5)
    half = 0.6744898 * math.sqrt(2.5) * 0.1
    assert s.hi - s.growth == pytest.approx(half, abs=1e-5) and "50% interval" in s.why


def test_forecast_frame_default_is_made_for_the_window():
    fr = frame(np.random.default_rng(0).uniform(5, 15, 60))
    fc = forecast_frame(fr, horizon=26)
    assert [s.growth for s in rank_forecast(fr, fc)] == pytest.approx([s.growth for s in rank_forecast(fr)])

import math
from datetime import date, timedelta

import numpy as np
import pytest

from generation.errors import TrendDataError
from generation.taxonomy import load_taxonomy
from generation.trends.frame import TrendFrame, parse_series_name
from generation.trends.io import parse_wide_csv, read_wide_csv, write_wide_csv
from generation.trends.rising import direction, rank_rising
from generation.trends.synthetic import make_trend_sample

TX = load_taxonomy()
GOOD = "date,cn_all_socks_color_navy,cn_all_socks_color_red\n2025-01-06,0.1,0.2\n2025-01-13,0.15,0\n"


def test_wide_csv_round_trip(tmp_path):
    frame = parse_wide_csv(GOOD)
    assert frame.names == ("cn_all_socks_color_navy", "cn_all_socks_color_red")
    assert frame.weeks == (date(2025, 1, 6), date(2025, 1, 13))
    write_wide_csv(frame, tmp_path / "t.csv")
    again = read_wide_csv(tmp_path / "t.csv")
    assert again.names == frame.names and np.allclose(again.values, frame.values)


@pytest.mark.parametrize("text, line, reason", [
    ("", 1, "empty"),
    ("date\n2025-01-06\n", 1, "only one column"),
    ("date,a\n", None, "no data rows"),
    ("date,a,a\n2025-01-06,1,2\n", 1, "repeat"),
    ("date,a\n2025-01-06,1\n2025-01-13,x\n", 3, "column 2 \\('a'\\): 'x' is not a number"),
    ("date,a\n2025-01-06,-1\n", 2, "must be a finite number >= 0"),
    ("date,a\n2025-01-06,nan\n", 2, "finite"),
    ("date,a\n2025-01-06,1\n2025-01-06,1\n", 3, "appears twice"),
    ("date,a\n2025-01-06,1\n2025-01-20,1\n", 3, "skips weeks \\(expected 2025-01-13\\)"),
    ("date,a\n06/01/2025,1\n", 2, "not an ISO date"),
    ("date,a\n2025-01-06,1,2\n", 2, "3 fields, expected 2"),
])
def test_bad_wide_csv_names_the_line(text, line, reason):
    with pytest.raises(TrendDataError, match=reason) as exc:
        parse_wide_csv(text, file="t.csv")
    assert exc.value.line == line and exc.value.file == "t.csv"


def test_series_names_are_checked_against_the_taxonomy():
    assert parse_series_name("cn_all_dress_color_sage-green", TX).attribute == "sage-green"
    for bad in ("cn_all_dress_sage-green", "xx_all_dress_color_navy", "cn_all_dress_material_canvasx"):
        with pytest.raises(Exception, match="series"):
            parse_series_name(bad, TX)


def _frame(*series: np.ndarray) -> TrendFrame:
    weeks = tuple(date(2022, 1, 3) + timedelta(weeks=i) for i in range(len(series[0])))
    return TrendFrame(weeks, tuple(f"s{i}" for i in range(len(series))), np.stack(series, axis=1))


def test_growth_known_answer():
    # Seasonal series whose last 26 weeks are exactly double the same weeks a year earlier.
    t = np.arange(130)
    base = 1 + 0.5 * np.sin(2 * np.pi * t / 52)
    doubled = base.copy()
    doubled[-26:] *= 2
    flat, zero = base.copy(), np.zeros(130)
    sig = {g.series: g for g in rank_rising(_frame(doubled, flat, zero))}
    eps = 0.05 * doubled.mean()
    expected = np.mean(np.log((doubled[-26:] + eps) / (doubled[-78:-52] + eps)))
    assert sig["s0"].growth == pytest.approx(expected) and sig["s0"].direction == "rising"
    assert sig["s1"].growth == pytest.approx(0.0) and sig["s1"].direction == "flat"
    assert sig["s2"].method == "all-zero" and sig["s2"].direction == "flat"


def test_short_history_uses_documented_fallback():
    y = np.concatenate([np.ones(20), 3 * np.ones(20)])
    (g,) = rank_rising(_frame(y))
    assert g.method == "short-history" and g.direction == "rising"


def test_planted_movers_are_found():
    sample = make_trend_sample(TX, seed=3)
    signals = rank_rising(sample.frame)
    top = {g.series for g in signals[: len(sample.rising)]}
    bottom = {g.series for g in signals[-len(sample.fading):]}
    assert len(top & set(sample.rising)) / len(sample.rising) >= 0.85
    assert len(bottom & set(sample.fading)) / len(sample.fading) >= 0.85
    rising = {g.series for g in signals if g.direction == "rising"}
    assert len(rising - set(sample.rising)) <= 2  # few false alarms


def test_forecast_direction_needs_a_sure_sign_and_a_change_that_matters():
    """rank_forecast's rule (module docstring of rising.py): growth at least +10% and the whole 95%
    interval above 0. The strict rule (the interval above +10%) had called a +44% series with an
    interval of +4% to +106% flat, and every real series with it."""
    up = [math.log(x) for x in (1.44, 1.04, 2.06)]
    assert direction(*up, min_change=0.10) == "rising"
    assert direction(-up[0], -up[2], -up[1], min_change=0.10) == "fading"
    assert direction(math.log(1.09), math.log(1.01), math.log(1.18), min_change=0.10) == "flat"  # too small
    assert direction(math.log(1.40), math.log(0.98), math.log(2.0), min_change=0.10) == "flat"  # sign unsure

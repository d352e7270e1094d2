"""Catalogue sales as a demand prior (`matching.sales`) and its backtest: known answers worked out by hand."""

from datetime import date
from math import log

import numpy as np
import pytest

from matching.demand import GLOBAL_PRIOR
from matching.sales import SalesScale, sales_prior, top_k
from matching.sales_backtest import date_split, random_folds


def test_relative_demand_is_log_units_over_the_category_median():
    # socks [1, 3, 7]: median 3, so (1 + u) / 4 = 1/2, 1, 2; the cap (one item) falls back to the overall median 3
    scale = SalesScale.fit(np.array([1, 3, 7, 9]), ["socks", "socks", "socks", "cap"])
    assert scale.medians == {"socks": 3.0} and scale.overall == 5.0
    assert scale.relative(np.array([1, 3, 7]), ["socks"] * 3) == pytest.approx([-log(2), 0.0, log(2)])
    assert scale.typical("cap") == scale.typical(None) == 5.0


def test_sales_prior_worked_example():
    # module docstring: w = [1, 0], λ = 0.5, ρ̂ = 0.5 · log 4 = log 2: conversion 1% -> 2%, order size kept
    prior = sales_prior(np.array([1.0, 0.0]), np.array([log(4), -log(4)]), GLOBAL_PRIOR, strength=100.0)
    assert (prior.conv_a, prior.conv_b) == pytest.approx((2.0, 98.0))
    assert (prior.size_shape, prior.size_rate) == (GLOBAL_PRIOR.size_shape, GLOBAL_PRIOR.size_rate)
    assert prior.conversion_mean * prior.size_mean == pytest.approx(0.8)


def test_dissimilar_or_no_items_leave_the_base_prior():
    assert sales_prior(np.array([]), np.array([]), GLOBAL_PRIOR) is GLOBAL_PRIOR
    assert sales_prior(np.array([-0.2]), np.array([log(8)]), GLOBAL_PRIOR).conversion_mean == pytest.approx(0.01)


def test_top_k_is_exact_and_best_first():
    items = np.eye(3, dtype=np.float32)
    sims, idx = top_k(np.array([[0.6, 0.8, 0.0]], dtype=np.float32), items, 2)
    assert idx.tolist() == [[1, 0]] and sims[0] == pytest.approx([0.8, 0.6])


def test_date_split_holds_out_the_latest_and_needs_an_earlier_past():
    days = [date(2024, m, 1) for m in range(1, 11)]
    train, test = date_split(days)
    assert test.tolist() == [8, 9] and train.tolist() == list(range(8))
    assert date_split([date(2024, 1, 1)] * 10) is None and date_split(days[:9] + [None]) is None


def test_random_folds_partition_the_items():
    folds = random_folds(10, 3, seed=0)
    assert sorted(np.concatenate([te for _, te in folds]).tolist()) == list(range(10))
    assert all(not set(tr) & set(te) for tr, te in folds)


def test_backtest_holds_out_the_latest_fifth_by_launch_date():
    from matching.sales_backtest import backtest_sales

    colours = np.repeat(np.eye(2, dtype=np.float32), 5, axis=0)  # 10 items, two "colours"
    units = np.array([100, 90, 110, 95, 105, 10, 9, 11, 10, 12])
    days = [date(2024, 1, 1 + i) for i in (0, 1, 2, 3, 8, 4, 5, 6, 7, 9)]  # one of each colour launched last
    out = backtest_sales(colours, units, ["socks"] * 10, days, k=3)
    assert out.held_out == 2 and out.method.startswith("latest 20% by launch date (launched 2024-01-09")
    assert out.spearman == pytest.approx(1.0) and out.baseline["category_mean"]["spearman"] is None
    assert out.mae_log < out.baseline["category_mean"]["mae_log"]

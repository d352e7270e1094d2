"""The catalogue sales prior's decisions, one at a time: which median is typical, the shrunk relative
demand, the cap, and the exact top-k it reads neighbours from."""

from math import exp, log

import numpy as np
import pytest

from matching.demand import GLOBAL_PRIOR, Prior
from matching.sales import MAX_RATE, MIN_GROUP, SalesScale, neighbour_relative, sales_prior, sales_priors, top_k


def test_a_category_needs_three_items_for_its_own_median():
    assert MIN_GROUP == 3
    scale = SalesScale.fit(np.array([1, 3, 7, 100, 200]), ["socks", "socks", "socks", "cap", "cap"])
    assert scale.medians == {"socks": 3.0}


def test_a_category_with_exactly_min_group_items_has_its_own_median():
    scale = SalesScale.fit(np.array([1, 3, 100, 200]), ["socks", "socks", "cap", "cap"], min_group=2)
    assert scale.medians == {"socks": 2.0, "cap": 150.0}


def test_the_overall_median_counts_items_without_a_category():
    scale = SalesScale.fit(np.array([1, 3, 7, 9, 11]), ["socks", "socks", "socks", None, None])
    assert scale.overall == 7.0 and None not in scale.medians


def test_no_items_have_typical_zero():
    scale = SalesScale.fit(np.array([]), [])
    assert scale.medians == {} and scale.overall == 0.0


def test_typical_units_fall_back_to_the_overall_median():
    scale = SalesScale({"socks": 3.0}, 9.0)
    assert scale.typical("socks") == 3.0 and scale.typical("cap") == 9.0 and scale.typical(None) == 9.0


def test_log_typical_is_log_of_one_plus_typical():
    scale = SalesScale({"socks": 3.0}, 9.0)
    assert scale.log_typical(["socks", None]) == pytest.approx([log(4), log(10)])


def test_relative_demand_by_hand():
    scale = SalesScale({"socks": 3.0}, 9.0)
    assert scale.relative(np.array([7, 4]), ["socks", "cap"]) == pytest.approx([log(8 / 4), log(5 / 10)])


def test_neighbour_relative_by_hand():
    """sims [1, 0.5]: w = [1, 0.25], lambda 0.625; weighted mean (log 4 + 0.25 log 2) / 1.25."""
    rho, lam = neighbour_relative(np.array([1.0, 0.5]), np.array([log(4), log(2)]))
    assert lam == pytest.approx(0.625)
    assert rho == pytest.approx(0.625 * (log(4) + 0.25 * log(2)) / 1.25)


def test_neighbour_relative_power_is_a_parameter():
    rho, lam = neighbour_relative(np.array([1.0, 0.5]), np.array([log(4), log(2)]), power=1.0)
    assert lam == pytest.approx(0.75) and rho == pytest.approx(0.75 * (log(4) + 0.5 * log(2)) / 1.5)


def test_neighbour_relative_of_no_neighbours_is_typical():
    assert neighbour_relative(np.array([]), np.array([])) == (0.0, 0.0)


def test_neighbour_relative_of_dissimilar_neighbours_is_typical():
    assert neighbour_relative(np.array([0.0, -0.3]), np.array([log(4), log(8)])) == (0.0, 0.0)


def test_a_negative_similarity_weighs_nothing():
    rho, lam = neighbour_relative(np.array([-0.5, 1.0]), np.array([log(8), log(2)]))
    assert lam == pytest.approx(0.5) and rho == pytest.approx(0.5 * log(2))


def test_a_similarity_above_one_counts_as_one():
    assert neighbour_relative(np.array([2.0]), np.array([log(2)])) == pytest.approx((log(2), 1.0))


def test_sales_prior_scales_the_conversion_by_exp_rho():
    """One identical neighbour that sold 3x typical (rho = log 3): conversion 1% -> 3%."""
    p = sales_prior(np.array([1.0]), np.array([log(3)]), GLOBAL_PRIOR)
    assert (p.conv_a, p.conv_b) == pytest.approx((3.0, 97.0))


def test_sales_prior_keeps_the_base_order_size():
    base = Prior(1.0, 99.0, 7.0, 0.25)
    p = sales_prior(np.array([1.0]), np.array([log(3)]), base)
    assert (p.size_shape, p.size_rate) == (7.0, 0.25)


def test_sales_prior_strength_is_a_parameter():
    p = sales_prior(np.array([1.0]), np.array([log(3)]), GLOBAL_PRIOR, strength=10.0)
    assert (p.conv_a, p.conv_b) == pytest.approx((0.3, 9.7))


def test_sales_prior_never_expects_more_than_half_to_convert():
    assert MAX_RATE == 0.5
    p = sales_prior(np.array([1.0]), np.array([log(1000)]), GLOBAL_PRIOR)
    assert (p.conv_a, p.conv_b) == pytest.approx((50.0, 50.0))


def test_sales_prior_cap_is_a_parameter():
    p = sales_prior(np.array([1.0]), np.array([log(1000)]), GLOBAL_PRIOR, max_rate=0.2)
    assert p.conversion_mean == pytest.approx(0.2)


def test_a_slow_seller_lowers_the_conversion():
    p = sales_prior(np.array([1.0]), np.array([-log(4)]), GLOBAL_PRIOR)
    assert p.conversion_mean == pytest.approx(0.0025)


def test_sales_prior_weighs_by_squared_similarity_by_default():
    """sim 0.5: w = 0.25 = lambda, rho-hat = 0.25 log 16 = log 2: conversion 1% -> 2%."""
    p = sales_prior(np.array([0.5]), np.array([log(16)]), GLOBAL_PRIOR)
    assert p.conversion_mean == pytest.approx(0.02)


def test_sales_prior_power_is_a_parameter():
    p = sales_prior(np.array([0.5]), np.array([log(4)]), GLOBAL_PRIOR, power=1.0)
    assert p.conversion_mean == pytest.approx(0.01 * exp(0.5 * log(4)))


def test_sales_prior_says_where_it_came_from():
    p = sales_prior(np.array([1.0, 0.0]), np.array([log(4), -log(4)]), GLOBAL_PRIOR)
    assert p.source == "catalogue sales of 2 similar items, similarity weight 0.50, relative demand x2.00"


def test_no_catalogue_items_leave_the_base():
    assert sales_prior(np.array([]), np.array([]), GLOBAL_PRIOR) is GLOBAL_PRIOR


def test_top_k_keeps_all_items_when_k_is_larger():
    sims, idx = top_k(np.array([[1.0, 0.0]], dtype=np.float32), np.eye(2, dtype=np.float32), 5)
    assert idx.tolist() == [[0, 1]] and sims.tolist() == [[1.0, 0.0]]


def test_top_k_of_one_is_the_nearest():
    items = np.array([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]], dtype=np.float32)
    sims, idx = top_k(np.array([[0.0, 1.0]], dtype=np.float32), items, 1)
    assert idx.tolist() == [[2]] and sims[0, 0] == pytest.approx(1.0)


def test_top_k_without_items_or_queries_is_empty():
    sims, idx = top_k(np.ones((2, 3), dtype=np.float32), np.zeros((0, 3), dtype=np.float32), 4)
    assert sims.shape == (2, 0) and idx.shape == (2, 0) and idx.dtype == np.int64
    sims, idx = top_k(np.zeros((0, 3), dtype=np.float32), np.ones((2, 3), dtype=np.float32), 4)
    assert sims.shape == (0, 0) and idx.shape == (0, 0)


def test_sales_priors_read_each_query_from_its_own_neighbours():
    """Socks sold [1, 3, 7] (median 3): rho = [-log 2, 0, log 2]. Query 0 is item 2 (k = 1): conversion x2;
    query 1 is item 0: conversion / 2."""
    items = np.eye(3, dtype=np.float32)
    priors = sales_priors(items[[2, 0]], items, np.array([1, 3, 7]), ["socks"] * 3, GLOBAL_PRIOR, k=1)
    assert [p.conversion_mean for p in priors] == pytest.approx([0.02, 0.005])
    assert [p.conv_a + p.conv_b for p in priors] == pytest.approx([100.0, 100.0])


def test_sales_priors_weigh_by_squared_similarity():
    """A query at cosine 0.6 from the one item that sold 7 (rho = log 2): w = 0.36, lambda 0.36, rho-hat 0.36 log 2."""
    items = np.eye(2, dtype=np.float32)
    query = np.array([[0.6, 0.8]], dtype=np.float32)
    (prior,) = sales_priors(query, items[:1], np.array([7]), ["socks"], GLOBAL_PRIOR, k=1)
    scale = SalesScale.fit(np.array([7]), ["socks"])
    assert scale.overall == 7.0
    assert prior.conversion_mean == pytest.approx(0.01)  # one item is its own typical: rho = 0
    (prior,) = sales_priors(query, items, np.array([7, 1, ]), ["socks", "socks"], GLOBAL_PRIOR, k=1, strength=10.0)
    # typical = median(7, 1) = 4 (overall; a category of 2 < 3 items): rho(item 0) = log(8 / 5); query's nearest is item 1
    # (0.8): rho(item 1) = log(2 / 5), w = 0.64, lambda = 0.64
    assert prior.conversion_mean == pytest.approx(0.01 * exp(0.64 * log(2 / 5)), rel=1e-5)
    assert prior.conv_a + prior.conv_b == pytest.approx(10.0)


def test_sales_priors_default_to_ten_neighbours():
    """Eleven items, the query equally near all: with k = 10 the last (the best seller) is left out."""
    items = np.tile(np.array([[1.0, 0.0]], dtype=np.float32), (11, 1))
    units = np.array([3] * 10 + [1000])
    (prior,) = sales_priors(np.array([[1.0, 0.0]], dtype=np.float32), items, units, ["socks"] * 11, GLOBAL_PRIOR)
    assert "of 10 similar items" in prior.source

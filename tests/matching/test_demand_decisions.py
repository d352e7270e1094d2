"""The demand model's decisions pinned one at a time: priors worked out by hand branch by branch, the
conjugate update, P(reach) at its edges and the won / dropped / keep-testing boundaries."""

import numpy as np
import pytest
from scipy.stats import poisson

from matching.demand import (GLOBAL_PRIOR, Outcome, Posterior, Prior, decide_many, global_prior, neighbour_prior,
                             population_prior, posterior, posterior_from_arrays, prob_reach)

BASE = Prior(1.0, 99.0, 2.0, 0.05)


def sure(p: float, size: float, n: int = 1) -> Posterior:
    """A posterior that has all but settled: conversion p, order size `size` (Beta/Gamma of 1e9 pseudo-counts)."""
    big = 1e9
    return Posterior(np.full(n, p * big), np.full(n, (1 - p) * big), np.full(n, size * big), np.full(n, big))


# --- Prior ---------------------------------------------------------------------------------------------


def test_prior_means():
    p = Prior(2.0, 6.0, 3.0, 0.5)
    assert p.conversion_mean == pytest.approx(0.25) and p.size_mean == pytest.approx(6.0)


def test_global_prior_is_one_percent_and_forty_pieces():
    assert (GLOBAL_PRIOR.conv_a, GLOBAL_PRIOR.conv_b, GLOBAL_PRIOR.size_shape, GLOBAL_PRIOR.size_rate) == (1, 99, 2, 0.05)
    assert GLOBAL_PRIOR.source == "global"


def test_scaled_to_divides_the_size_rate_by_the_moq_and_keeps_the_rest():
    p = Prior(1.0, 9.0, 4.0, 2.0, "pop").scaled_to(5)
    assert p == Prior(1.0, 9.0, 4.0, 0.4, "pop")
    assert p.size_mean == pytest.approx(10.0)


def test_scaled_to_an_moq_of_zero_counts_it_as_one():
    assert Prior(1.0, 9.0, 4.0, 2.0).scaled_to(0).size_rate == 2.0


# --- global_prior ----------------------------------------------------------------------------------------


def test_pooled_prior_by_hand_with_its_strengths():
    """Orders 8 + 2 in 400 + 600 impressions: rate 0.01; 300 pieces / 10 orders = 30 a order.
    Strength 50: Beta(0.5, 49.5); size strength 3: Gamma(90, 3)."""
    p = global_prior([Outcome(400, 8, 240), Outcome(600, 2, 60)], strength=50, size_strength=3)
    assert (p.conv_a, p.conv_b, p.size_shape, p.size_rate) == pytest.approx((0.5, 49.5, 90.0, 3.0))
    assert p.source == "pooled"


def test_pooled_prior_default_strengths_are_100_and_2():
    p = global_prior([Outcome(400, 8, 240), Outcome(600, 2, 60)])
    assert (p.conv_a, p.conv_b, p.size_shape, p.size_rate) == pytest.approx((1.0, 99.0, 60.0, 2.0))


def test_pooled_prior_without_orders_is_the_global_prior():
    assert global_prior([Outcome(500, 0, 0)]) is GLOBAL_PRIOR


def test_pooled_prior_without_impressions_is_the_global_prior():
    assert global_prior([Outcome(0, 3, 30)]) is GLOBAL_PRIOR


def test_pooled_prior_of_one_order_in_one_impression_is_not_the_global_prior():
    p = global_prior([Outcome(1, 1, 7)], strength=10)
    assert p.conversion_mean == pytest.approx(1.0) and p.size_mean == pytest.approx(7.0)


# --- population_prior --------------------------------------------------------------------------------------

# Two designs seen: n = [100, 400], k = [10, 8], so m = 18 / 500 = 0.036, rates [0.1, 0.02].
# noise = mean(m(1-m)/n) = 0.034704 x (1/100 + 1/400) / 2 = 0.0002169
# between = (100 x 0.064^2 + 400 x 0.016^2) / 500 - noise = 0.001024 - 0.0002169
# strength = m(1-m) / between - 1 = 41.998...; pieces [50, 12] over MOQs [5, 4]: nu = (10 + 3) / 18.
POP = dict(impressions=np.array([100, 400]), orders=np.array([10, 8]), pieces=np.array([50, 12]),
           moq=np.array([5, 4]))
M = 18 / 500
NOISE = M * (1 - M) * (1 / 100 + 1 / 400) / 2
STRENGTH = M * (1 - M) / ((100 * 0.064**2 + 400 * 0.016**2) / 500 - NOISE) - 1


def test_population_prior_conversion_by_moments():
    p = population_prior(**POP, min_designs=2)
    assert STRENGTH == pytest.approx(41.998, abs=1e-3)
    assert p.conv_a == pytest.approx(M * STRENGTH, rel=1e-9) and p.conv_b == pytest.approx((1 - M) * STRENGTH, rel=1e-9)


def test_population_prior_order_size_is_in_moqs():
    p = population_prior(**POP, min_designs=2, size_strength=3.0)
    assert p.size_rate == 3.0 and p.size_shape == pytest.approx(13 / 18 * 3.0)


def test_population_prior_default_size_strength_is_2():
    assert population_prior(**POP, min_designs=2).size_rate == 2.0


def test_population_prior_says_how_many_designs_it_saw():
    assert population_prior(**POP, min_designs=2).source == "population of 2 designs (order size in MOQs)"


def test_population_prior_needs_exactly_min_designs_seen():
    assert population_prior(**POP, min_designs=2) is not None
    assert population_prior(**POP, min_designs=3) is None


def test_population_prior_default_min_designs_is_20():
    n = np.full(20, 100)
    k = np.arange(20) % 3
    assert population_prior(n, k, k * 10, np.full(20, 10)) is not None
    assert population_prior(n[:19], k[:19], k[:19] * 10, np.full(19, 10)) is None


def test_designs_without_impressions_are_not_counted_as_seen():
    p = population_prior(np.array([100, 400, 0]), np.array([10, 8, 0]), np.array([50, 12, 0]), np.array([5, 4, 1]),
                         min_designs=3)
    assert p is None


def test_unseen_designs_do_not_move_the_population_rate():
    p = population_prior(np.array([100, 400, 0]), np.array([10, 8, 0]), np.array([50, 12, 0]), np.array([5, 4, 1]),
                         min_designs=2)
    assert p.conversion_mean == pytest.approx(M) and p.conv_a == pytest.approx(M * STRENGTH, rel=1e-9)


def test_population_prior_needs_a_pre_order():
    assert population_prior(np.array([100, 400]), np.array([0, 0]), np.array([0, 0]), np.array([5, 4]),
                            min_designs=2) is None


def test_a_zero_moq_counts_as_one_piece():
    p = population_prior(np.array([100, 400]), np.array([10, 8]), np.array([50, 12]), np.array([0, 4]), min_designs=2)
    assert p.size_shape == pytest.approx((50 + 3) / 18 * 2.0)


def test_identical_rates_give_the_strongest_prior():
    """Same rate everywhere: the between-design variance is all noise, floored at 1e-12: strength 1000."""
    p = population_prior(np.full(3, 1000), np.full(3, 10), np.full(3, 100), np.full(3, 10), min_designs=3)
    assert p.conv_a + p.conv_b == pytest.approx(1000.0)


def test_a_wildly_varied_population_gives_the_weakest_prior():
    """Rates 0 and 1: between = 0.25 - noise, so m(1-m)/between - 1 is about 0, clipped to 2."""
    p = population_prior(np.full(2, 1000), np.array([0, 1000]), np.array([0, 1000]), np.ones(2), min_designs=2)
    assert p.conv_a + p.conv_b == pytest.approx(2.0) and p.conversion_mean == pytest.approx(0.5)


# --- neighbour_prior -----------------------------------------------------------------------------------------

# sims [1.0, 0.5], power 2: w = [1, 0.25], lambda = 0.625. Base Beta(1, 99), Gamma(2, 0.05).
# rates (4 + 1) / (100 + 100) = 0.025 and (0 + 1) / (300 + 100) = 0.0025: weighted (0.025 + 0.000625) / 1.25 = 0.0205;
# rate = 0.625 x 0.0205 + 0.375 x 0.01 = 0.0165625.
# sizes (80 + 2) / (4 + 0.05) and (0 + 2) / (0 + 0.05) = 40: weighted (82 / 4.05 + 10) / 1.25;
# size = 0.625 x that + 0.375 x 40.
NEIGHBOURS = [Outcome(100, 4, 80), Outcome(300, 0, 0)]
RATE = 0.625 * 0.0205 + 0.375 * 0.01
SIZE = 0.625 * (82 / 4.05 + 0.25 * 40) / 1.25 + 0.375 * 40


def test_neighbour_prior_conversion_by_hand():
    p = neighbour_prior(np.array([1.0, 0.5]), NEIGHBOURS, BASE)
    assert RATE == pytest.approx(0.0165625)
    assert p.conv_a == pytest.approx(RATE * 100) and p.conv_b == pytest.approx((1 - RATE) * 100)


def test_neighbour_prior_order_size_by_hand():
    p = neighbour_prior(np.array([1.0, 0.5]), NEIGHBOURS, BASE)
    assert p.size_shape == pytest.approx(SIZE * 2) and p.size_rate == 2.0


def test_neighbour_prior_strengths_are_parameters():
    p = neighbour_prior(np.array([1.0, 0.5]), NEIGHBOURS, BASE, strength=10.0, size_strength=4.0)
    assert (p.conv_a, p.conv_b, p.size_shape, p.size_rate) == pytest.approx((RATE * 10, (1 - RATE) * 10, SIZE * 4, 4.0))


def test_neighbour_prior_power_one_weighs_by_similarity_itself():
    """power 1: w = [1, 0.5], lambda 0.75, neighbour rate (0.025 + 0.5 x 0.0025) / 1.5."""
    p = neighbour_prior(np.array([1.0, 0.5]), NEIGHBOURS, BASE, power=1.0)
    rate = 0.75 * (0.025 + 0.5 * 0.0025) / 1.5 + 0.25 * 0.01
    assert p.conversion_mean == pytest.approx(rate)


def test_neighbour_prior_names_its_neighbours_and_weight():
    assert neighbour_prior(np.array([1.0, 0.5]), NEIGHBOURS, BASE).source.startswith("2 neighbours, similarity weight 0.6")


def test_no_neighbours_leave_the_base_prior():
    assert neighbour_prior(np.array([]), [], BASE) is BASE


def test_only_dissimilar_neighbours_leave_the_base_prior():
    assert neighbour_prior(np.array([0.0, -0.4]), NEIGHBOURS, BASE) is BASE


def test_a_negative_similarity_weighs_nothing():
    """[-0.5, 1.0]: w = [0, 1], lambda 0.5; only the second neighbour (rate 0.0025) counts."""
    p = neighbour_prior(np.array([-0.5, 1.0]), NEIGHBOURS, BASE)
    assert p.conversion_mean == pytest.approx(0.5 * 0.0025 + 0.5 * 0.01)


def test_a_similarity_above_one_counts_as_one():
    p = neighbour_prior(np.array([1.5]), NEIGHBOURS[:1], BASE)
    assert p.conversion_mean == pytest.approx(0.025)  # lambda = 1: all neighbour


# --- posterior ----------------------------------------------------------------------------------------------


def test_posterior_counts_impressions_without_an_order_as_failures():
    post = posterior([BASE], np.array([200]), np.array([4]), np.array([120]))
    assert (post.conv_a[0], post.conv_b[0]) == (5.0, 295.0)


def test_posterior_size_adds_pieces_and_orders():
    post = posterior([BASE], np.array([200]), np.array([4]), np.array([120]))
    assert post.size_shape[0] == 122.0 and post.size_rate[0] == pytest.approx(4.05)


def test_more_orders_than_impressions_add_no_negative_failures():
    post = posterior_from_arrays(np.array([1.0]), np.array([99.0]), np.array([2.0]), np.array([0.05]),
                                 np.array([2]), np.array([5]), np.array([50]))
    assert post.conv_b[0] == 99.0 and post.conv_a[0] == 6.0


def test_posterior_means_and_take():
    post = Posterior(np.array([1.0, 3.0]), np.array([3.0, 1.0]), np.array([10.0, 20.0]), np.array([2.0, 4.0]))
    assert post.conversion_mean.tolist() == [0.25, 0.75]
    assert post.pieces_per_impression.tolist() == [0.25 * 5, 0.75 * 5]
    one = post.take(np.array([1]))
    assert (one.conv_a.tolist(), one.conv_b.tolist(), one.size_shape.tolist(), one.size_rate.tolist()) == (
        [3.0], [1.0], [20.0], [4.0])


# --- prob_reach ----------------------------------------------------------------------------------------------


def rng() -> np.random.Generator:
    return np.random.default_rng(7)


def test_prob_reach_of_no_designs_is_empty():
    empty = Posterior(np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0))
    assert prob_reach(empty, np.zeros(0), np.zeros(0), np.zeros(0), rng()).shape == (0,)


def test_exactly_at_the_threshold_is_reached_without_more_traffic():
    pr = prob_reach(sure(0.5, 10), np.array([300]), np.array([300]), np.array([0]), rng())
    assert pr[0] == 1.0


def test_one_piece_short_without_more_traffic_is_not_reached():
    pr = prob_reach(sure(0.5, 10), np.array([299]), np.array([300]), np.array([0]), rng())
    assert pr[0] == 0.0


def test_negative_remaining_traffic_counts_as_none():
    pr = prob_reach(sure(0.5, 10), np.array([299]), np.array([300]), np.array([-50]), rng())
    assert pr[0] == 0.0


def test_prob_reach_counts_what_is_already_committed():
    """p = 1, 10 pcs an order, 10 impressions left: about 100 more pieces. 250 of 300 committed needs 50: sure."""
    pr = prob_reach(sure(1.0 - 1e-9, 10), np.array([250]), np.array([300]), np.array([10]), rng())
    assert pr[0] == 1.0


def test_prob_reach_fails_far_beyond_expected_pieces():
    """About 100 pieces expected, 200 needed: Poisson(100) >= 200 never happens."""
    pr = prob_reach(sure(1.0 - 1e-9, 10), np.array([100]), np.array([300]), np.array([10]), rng())
    assert pr[0] == 0.0


def test_prob_reach_matches_the_poisson_tail():
    """p = 1 and 2 pcs an order over 10 impressions: future ~ Poisson(20); P(X >= 20) = 0.5297 (P(X = 20) = 0.089)."""
    pr = prob_reach(sure(1.0 - 1e-9, 2.0), np.array([5]), np.array([25]), np.array([10]), rng(), draws=40_000)
    assert pr[0] == pytest.approx(poisson.sf(19, 20), abs=0.015)


def test_prob_reach_order_count_follows_the_conversion():
    """p = 0.5 over 40 impressions, 1 pc an order: future ~ Poisson(Binomial(40, 0.5)) with mean 20."""
    pr = prob_reach(sure(0.5, 1.0), np.array([0]), np.array([30]), np.array([40]), rng(), draws=20_000)
    assert 0.0 < pr[0] < 0.1


def test_prob_reach_is_a_share_of_2000_draws_by_default():
    pr = prob_reach(sure(0.5, 1.0), np.array([0]), np.array([20]), np.array([40]), rng())
    assert 0 < pr[0] < 1 and (pr[0] * 2000) == pytest.approx(round(pr[0] * 2000), abs=1e-9)
    assert (pr[0] * 1999) != pytest.approx(round(pr[0] * 1999), abs=1e-6)


def test_prob_reach_is_per_design():
    post = Posterior(*(np.concatenate([a, b]) for a, b in zip(
        (sure(1 - 1e-9, 10).conv_a, sure(1 - 1e-9, 10).conv_b, sure(1 - 1e-9, 10).size_shape, sure(1 - 1e-9, 10).size_rate),
        (sure(1e-9, 10).conv_a, sure(1e-9, 10).conv_b, sure(1e-9, 10).size_shape, sure(1e-9, 10).size_rate))))
    pr = prob_reach(post, np.array([0, 0]), np.array([50, 50]), np.array([10, 10]), rng())
    assert pr.tolist() == [1.0, 0.0]


# --- decide_many ---------------------------------------------------------------------------------------------


def decide(committed=0, threshold=300, p=0.5, n=100, closed=False, **kw):
    return decide_many(np.array([committed]), np.array([threshold]), np.array([p]), np.array([n]),
                       np.array([closed]), **kw)[0]


def test_committed_exactly_at_the_threshold_wins():
    assert decide(committed=300, p=0.0, n=0) == "won"


def test_one_piece_short_of_the_threshold_keeps_testing():
    assert decide(committed=299, p=0.5, n=0) is None


def test_reaching_the_threshold_wins_even_when_the_window_closed():
    assert decide(committed=300, p=0.0, closed=True) == "won"


def test_a_closed_window_short_of_the_threshold_drops():
    assert decide(committed=299, p=0.5, n=0, closed=True) == "dropped"


def test_win_probability_exactly_at_the_bar_wins():
    assert decide(p=0.8, win_prob=0.8) == "won"


def test_win_probability_just_under_the_bar_keeps_testing():
    assert decide(p=0.7999, win_prob=0.8) is None


def test_drop_probability_exactly_at_the_bar_keeps_testing():
    assert decide(p=0.1, drop_prob=0.1) is None


def test_drop_probability_just_under_the_bar_drops():
    assert decide(p=0.0999, drop_prob=0.1) == "dropped"


def test_exactly_min_impressions_is_judged():
    assert decide(p=0.95, n=30, min_impressions=30) == "won"
    assert decide(p=0.01, n=30, min_impressions=30) == "dropped"


def test_one_impression_short_of_min_impressions_is_not_judged():
    assert decide(p=0.95, n=29, min_impressions=30) is None
    assert decide(p=0.01, n=29, min_impressions=30) is None


def test_default_rules_are_0_9_0_05_and_50_impressions():
    assert decide(p=0.9, n=50) == "won" and decide(p=0.8999, n=50) is None
    assert decide(p=0.0499, n=50) == "dropped" and decide(p=0.05, n=50) is None
    assert decide(p=0.99, n=49) is None


def test_decide_many_keeps_the_order_of_its_designs():
    out = decide_many(np.array([0, 300, 0]), np.array([300, 300, 300]), np.array([0.5, 0.5, 0.0]),
                      np.array([100, 100, 100]), np.array([False, False, False]))
    assert out == [None, "won", "dropped"]

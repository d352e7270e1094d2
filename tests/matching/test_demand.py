import numpy as np
import pytest

from matching.demand import GLOBAL_PRIOR, Outcome, Prior, decide_many, global_prior, neighbour_prior, posterior, prob_reach
from matching.exposure import rank_feed


def test_posterior_by_hand():
    prior = Prior(conv_a=1, conv_b=99, size_shape=2, size_rate=0.05)
    post = posterior([prior], np.array([200]), np.array([4]), np.array([120]))
    assert post.conv_a[0] == 5 and post.conv_b[0] == 295  # Beta(1 + 4, 99 + 196)
    assert post.size_shape[0] == 122 and post.size_rate[0] == pytest.approx(4.05)  # Gamma(2 + 120, 0.05 + 4)
    assert post.pieces_per_impression[0] == pytest.approx(5 / 300 * 122 / 4.05)


def test_pooled_prior_by_hand():
    p = global_prior([Outcome(1000, 20, 600), Outcome(1000, 0, 0)], strength=100, size_strength=2)
    assert p.conversion_mean == pytest.approx(0.01) and p.size_mean == pytest.approx(30)
    assert global_prior([]) == GLOBAL_PRIOR


def test_neighbour_prior_is_optimistic_near_winners_and_sceptical_near_flops():
    base = Prior(1, 99, 2, 0.05)
    winners = [Outcome(500, 25, 1000)] * 3  # 5% conversion
    flops = [Outcome(500, 0, 0)] * 3
    near = np.array([0.95, 0.9, 0.9])
    up = neighbour_prior(near, winners, base)
    down = neighbour_prior(near, flops, base)
    assert up.conversion_mean > 2 * base.conversion_mean
    assert down.conversion_mean < base.conversion_mean
    # Dissimilar neighbours barely move the prior (shrinkage by similarity).
    far = neighbour_prior(np.array([0.2, 0.1, 0.1]), winners, base)
    assert abs(far.conversion_mean - base.conversion_mean) < 0.1 * (up.conversion_mean - base.conversion_mean)
    # Hand check: weights 0.9025, 0.81, 0.81 -> lambda = 0.840833; neighbour rate (25+1)/(500+100) each.
    lam = (0.95**2 + 0.9**2 + 0.9**2) / 3
    assert up.conversion_mean == pytest.approx(lam * 26 / 600 + (1 - lam) * 0.01)


def test_prob_reach_and_decisions():
    rng = np.random.default_rng(0)
    prior = Prior(1, 99, 2, 0.05)
    # A: 10 orders of ~30 pcs in 200 impressions, needs 100 more with 300 impressions left: near certain.
    # B: nothing in 400 impressions, needs 300 with 100 left: near impossible.
    post = posterior([prior, prior], np.array([200, 400]), np.array([10, 0]), np.array([300, 0]))
    pr = prob_reach(post, np.array([300, 0]), np.array([400, 300]), np.array([300, 100]), rng)
    assert pr[0] > 0.95 and pr[1] < 0.05
    assert decide_many(np.array([300, 0, 400, 10]), np.array([400, 300, 400, 300]),
                       np.array([0.97, 0.01, 0.0, 0.5]), np.array([200, 400, 10, 20]),
                       np.array([False, False, False, True])) == ["won", "dropped", "won", "dropped"]
    # Too few impressions to judge on probability alone.
    assert decide_many(np.array([0]), np.array([300]), np.array([0.0]), np.array([10]), np.array([False])) == [None]


def test_thompson_starves_clear_losers_but_uniform_does_not():
    rng = np.random.default_rng(1)
    prior = Prior(1, 99, 2, 0.05)
    post = posterior([prior] * 3, np.array([500, 500, 500]), np.array([20, 10, 0]), np.array([600, 300, 0]))
    kw = dict(need=np.array([100, 100, 100]), target=np.array([0.5, 0.5, 0.5]), impressions=np.array([500, 500, 500]))
    firsts = [int(rank_feed("thompson", post, rng, k=1, **kw)[0]) for _ in range(300)]
    assert firsts.count(2) < 10 and firsts.count(0) > firsts.count(1)  # the loser rarely wins a draw
    uniform = [int(rank_feed("uniform", post, rng, k=1, **kw)[0]) for _ in range(300)]
    assert uniform.count(2) > 60


def test_threshold_policy_spends_impressions_where_the_answer_is_unsettled():
    rng = np.random.default_rng(2)
    prior = Prior(1, 99, 2, 0.05)
    # θ estimates: A ~1.2 pcs/impression (far above τ=0.5), B ~0.5 (at τ), C = 0 (far below); same n.
    post = posterior([prior] * 3, np.array([500, 500, 500]), np.array([20, 10, 0]), np.array([600, 250, 0]))
    kw = dict(need=np.array([100, 100, 100]), target=np.array([0.5, 0.5, 0.5]), impressions=np.array([500, 500, 500]))
    firsts = [int(rank_feed("threshold", post, rng, k=1, **kw)[0]) for _ in range(300)]
    assert firsts.count(1) > 200  # the undecided one near τ gets the traffic
    # With little evidence, a design is shown before a well-measured one at the same distance from τ.
    post2 = posterior([prior] * 2, np.array([20, 2000]), np.array([0, 0]), np.array([0, 0]))
    kw2 = dict(need=np.array([100, 100]), target=np.array([0.5, 0.5]), impressions=np.array([20, 2000]))
    assert [int(rank_feed("threshold", post2, rng, k=1, **kw2)[0]) for _ in range(100)].count(0) > 90


def test_population_prior_by_moments():
    from matching.demand import population_prior

    rng = np.random.default_rng(0)
    true = rng.beta(2, 198, size=400)  # mean 1%, strength 200
    n = np.full(400, 5000)
    k = rng.binomial(n, true)
    moq = np.where(np.arange(400) % 2 == 0, 5, 50)  # half the designs sell in fives, half in fifties
    p = population_prior(n, k, k * moq * 2, moq)  # every order is 2 MOQs
    assert p.conversion_mean == pytest.approx(0.01, rel=0.1)
    assert 100 < p.conv_a + p.conv_b < 400
    assert p.size_mean == pytest.approx(2)  # in MOQs
    assert p.scaled_to(5).size_mean == pytest.approx(10) and p.scaled_to(50).size_mean == pytest.approx(100)
    assert population_prior(n[:5], k[:5], k[:5], moq[:5]) is None  # too few designs yet


def test_large_feeds_draw_only_within_a_candidate_pool():
    rng = np.random.default_rng(3)
    n = 10_000
    prior = Prior(1, 99, 2, 0.05)
    orders = np.zeros(n, dtype=int)
    imps = np.full(n, 2000)  # nothing in 2,000 impressions: clearly below target ...
    orders[1234], imps[1234] = 5, 100  # ... except one design, near its target after 100 impressions
    post = posterior([prior] * n, imps, orders, orders * 20)
    kw = dict(need=np.full(n, 100), target=np.full(n, 1.0), impressions=imps)
    order = rank_feed("threshold", post, rng, k=5, pool=256, **kw)
    assert len(set(order.tolist())) == 5 and all(0 <= i < n for i in order)
    assert 1234 in order

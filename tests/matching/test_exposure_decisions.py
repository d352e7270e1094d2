"""The exposure policy's decisions, one at a time: each policy's score recomputed from the same posterior
draw, designs with different targets, the relevance mix, and the large-feed pool."""

import numpy as np
import pytest

from matching.demand import Posterior
from matching.errors import MatchingError
from matching.exposure import EPSILON, FEED_POOL, mean_scores, policy_scores, prob_above, rank_feed, sample_rate

# Three designs: posterior means of theta = conversion x size = 0.1 x 5, 0.2 x 5, 0.05 x 20.
POST = Posterior(np.array([1.0, 2.0, 1.0]), np.array([9.0, 8.0, 19.0]), np.array([10.0, 10.0, 40.0]),
                 np.array([2.0, 2.0, 2.0]))
MEANS = np.array([0.5, 1.0, 1.0])
NEED = np.array([100.0, 50.0, 200.0])
TARGET = np.array([0.5, 2.0, 0.25])  # different targets per design
IMPS = np.array([0, 15, 99])


def draw(seed: int = 3) -> np.ndarray:
    return sample_rate(POST, np.random.default_rng(seed))


def threshold_score(theta, target, imps):
    return 1.0 / (1.0 + np.sqrt(imps + 1.0) * (np.abs(theta - target) / target + EPSILON))


def test_sample_rate_is_a_beta_draw_times_a_gamma_draw():
    r = np.random.default_rng(3)
    expected = r.beta(POST.conv_a, POST.conv_b) * r.gamma(POST.size_shape, 1.0 / POST.size_rate)
    assert draw() == pytest.approx(expected)


def test_sample_rate_averages_to_the_posterior_mean():
    big = Posterior(*(np.repeat(a, 20_000) for a in (POST.conv_a, POST.conv_b, POST.size_shape, POST.size_rate)))
    theta = sample_rate(big, np.random.default_rng(0)).reshape(3, 20_000)
    assert theta.mean(axis=1) == pytest.approx(MEANS, rel=0.05)


def test_unknown_policy_is_refused_with_the_allowed_names():
    with pytest.raises(MatchingError, match="unknown exposure policy 'greedy'; allowed: threshold, thompson, uniform"):
        policy_scores("greedy", POST, np.random.default_rng(0), need=NEED, target=TARGET, impressions=IMPS)


def test_uniform_scores_are_plain_random_numbers():
    scores = policy_scores("uniform", POST, np.random.default_rng(5), need=NEED, target=TARGET, impressions=IMPS)
    assert scores.tolist() == np.random.default_rng(5).random(3).tolist()


def test_threshold_without_a_target_is_uniform():
    scores = policy_scores("threshold", POST, np.random.default_rng(5), need=NEED, target=None, impressions=IMPS)
    assert scores.tolist() == np.random.default_rng(5).random(3).tolist()


def test_thompson_without_a_target_still_draws():
    scores = policy_scores("thompson", POST, np.random.default_rng(3), need=NEED, target=None, impressions=IMPS)
    speed = draw() / NEED
    assert scores == pytest.approx(speed / speed.max())


def test_no_designs_no_scores():
    empty = Posterior(np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0))
    for policy in ("threshold", "thompson", "uniform"):
        out = policy_scores(policy, empty, np.random.default_rng(0), need=np.zeros(0), target=np.zeros(0),
                            impressions=np.zeros(0))
        assert out.shape == (0,)


def test_thompson_score_is_fill_speed_over_the_fastest():
    scores = policy_scores("thompson", POST, np.random.default_rng(3), need=NEED, target=TARGET, impressions=IMPS)
    speed = draw() / NEED
    assert scores == pytest.approx(speed / speed.max()) and scores.max() == 1.0


def test_thompson_counts_a_need_below_one_as_one():
    need = np.array([0.0, 0.5, 2.0])
    scores = policy_scores("thompson", POST, np.random.default_rng(3), need=need, target=TARGET, impressions=IMPS)
    speed = draw() / np.array([1.0, 1.0, 2.0])
    assert scores == pytest.approx(speed / speed.max())


def test_thompson_with_every_draw_zero_scores_zero_not_nan():
    nothing = Posterior(np.full(2, 1e-300), np.ones(2), np.full(2, 1e-300), np.ones(2))
    scores = policy_scores("thompson", nothing, np.random.default_rng(0), need=np.ones(2), target=None,
                           impressions=np.zeros(2))
    assert scores.tolist() == [0.0, 0.0]


def test_threshold_score_with_different_targets():
    """score = 1 / (1 + sqrt(n + 1) (|theta - tau| / tau + 0.1)), each design against its own tau."""
    scores = policy_scores("threshold", POST, np.random.default_rng(3), need=NEED, target=TARGET, impressions=IMPS)
    assert scores == pytest.approx(threshold_score(draw(), TARGET, IMPS))


def test_threshold_tolerance_is_ten_percent():
    assert EPSILON == 0.1


def test_threshold_with_a_zero_target_uses_a_tiny_one():
    target = np.array([0.0, 2.0, 0.25])
    scores = policy_scores("threshold", POST, np.random.default_rng(3), need=NEED, target=target, impressions=IMPS)
    tau = np.array([1e-12, 2.0, 0.25])
    assert scores == pytest.approx(threshold_score(draw(), tau, IMPS), rel=1e-9)
    assert 0 < scores[0] < 1e-10


def test_mean_scores_threshold_uses_the_posterior_mean():
    scores = mean_scores("threshold", POST, need=NEED, target=TARGET, impressions=IMPS)
    assert scores == pytest.approx(threshold_score(MEANS, TARGET, IMPS))


def test_mean_scores_threshold_at_the_target_after_99_impressions_is_a_half():
    """theta = tau: 1 / (1 + sqrt(100) x 0.1) = 0.5."""
    scores = mean_scores("threshold", POST, need=NEED, target=MEANS, impressions=np.array([99, 99, 99]))
    assert scores.tolist() == pytest.approx([0.5, 0.5, 0.5])


def test_mean_scores_threshold_with_a_zero_target():
    scores = mean_scores("threshold", POST, need=NEED, target=np.array([0.0, 1.0, 1.0]), impressions=IMPS)
    assert scores[0] == pytest.approx(threshold_score(0.5, 1e-12, 0), rel=1e-9) and scores[0] > 0


def test_mean_scores_thompson_is_mean_speed_over_the_fastest():
    scores = mean_scores("thompson", POST, need=NEED, target=TARGET, impressions=IMPS)
    speed = MEANS / NEED
    assert scores == pytest.approx(speed / speed.max())


def test_mean_scores_thompson_counts_a_need_below_one_as_one():
    scores = mean_scores("thompson", POST, need=np.array([0.0, 2.0, 4.0]), target=TARGET, impressions=IMPS)
    assert scores == pytest.approx([1.0, 1.0, 0.5])


def test_mean_scores_thompson_of_nothing_is_zero_not_nan():
    nothing = Posterior(np.zeros(2), np.ones(2), np.ones(2), np.ones(2))
    assert mean_scores("thompson", nothing, need=np.ones(2), target=None, impressions=np.zeros(2)).tolist() == [0, 0]


def test_mean_scores_uniform_or_without_target_are_zero():
    assert mean_scores("uniform", POST, need=NEED, target=TARGET, impressions=IMPS).tolist() == [0, 0, 0]
    assert mean_scores("threshold", POST, need=NEED, target=None, impressions=IMPS).tolist() == [0, 0, 0]


# --- rank_feed ----------------------------------------------------------------------------------------------


def feed(policy="threshold", seed=3, **kw):
    args = dict(k=3, need=NEED, target=TARGET, impressions=IMPS)
    args.update(kw)
    return rank_feed(policy, POST, np.random.default_rng(seed), **args).tolist()


def test_feed_is_the_best_scores_first():
    scores = threshold_score(draw(), TARGET, IMPS)
    assert feed() == np.argsort(-scores).tolist()


def test_feed_of_k_is_the_top_k():
    scores = threshold_score(draw(), TARGET, IMPS)
    assert feed(k=2) == np.argsort(-scores)[:2].tolist()


def test_feed_of_one_is_the_best():
    scores = threshold_score(draw(), TARGET, IMPS)
    assert feed(k=1) == [int(np.argmax(scores))]


def test_feed_of_more_than_there_are_is_all_of_them():
    assert sorted(feed(k=10)) == [0, 1, 2]


def test_feed_of_zero_designs_is_empty():
    empty = Posterior(np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0))
    out = rank_feed("uniform", empty, np.random.default_rng(0), k=5, need=np.zeros(0), target=None,
                    impressions=np.zeros(0))
    assert out.shape == (0,) and out.dtype == np.int64


def test_a_feed_of_fewer_than_one_is_refused():
    with pytest.raises(MatchingError, match="k must be at least 1, got 0"):
        feed(k=0)


def test_relevance_is_added_with_its_weight():
    relevance = np.array([0.0, 0.2, 0.9])
    out = feed("uniform", seed=9, relevance=relevance, relevance_weight=0.5)
    score = np.random.default_rng(9).random(3) + 0.5 * relevance
    assert out == np.argsort(-score).tolist()


def test_relevance_weight_defaults_to_0_3():
    relevance = np.array([0.0, 1.0, 0.0])
    for seed in range(40):
        score = np.random.default_rng(seed).random(3) + 0.3 * relevance
        assert feed("uniform", seed=seed, relevance=relevance) == np.argsort(-score).tolist()


def test_the_pool_holds_the_best_mean_scores():
    """pool = 2 of 3 designs: the one with the worst score at the posterior mean is never drawn for."""
    pre = threshold_score(MEANS, TARGET, IMPS)
    worst = int(np.argmin(pre))
    for seed in range(20):
        out = feed(seed=seed, pool=2)
        assert len(out) == 2 and worst not in out


def test_the_pool_counts_relevance():
    pre = threshold_score(MEANS, TARGET, IMPS)
    worst = int(np.argmin(pre))
    relevance = np.zeros(3)
    relevance[worst] = 10.0
    assert worst in feed(pool=2, relevance=relevance)


def test_the_pool_counts_relevance_with_its_weight():
    """Without weight the relevance lifts the worst design; with weight 0 it does not."""
    pre = threshold_score(MEANS, TARGET, IMPS)
    worst = int(np.argmin(pre))
    relevance = np.zeros(3)
    relevance[worst] = 10.0
    assert worst not in feed(pool=2, relevance=relevance, relevance_weight=0.0)


def test_a_feed_exactly_the_pool_size_draws_for_every_design():
    assert sorted(feed(pool=3)) == [0, 1, 2]


def test_the_uniform_policy_never_preselects():
    assert sorted(feed("uniform", pool=2)) == [0, 1, 2]


def test_the_thompson_pool_is_chosen_by_mean_fill_speed():
    need = np.array([100.0, 50.0, 400.0])  # mean speeds 0.005, 0.02, 0.0025
    assert all(2 not in feed("thompson", seed=s, pool=2, need=need) for s in range(10))


def test_the_pool_draws_as_a_caller_passing_only_the_pool_would():
    pre = threshold_score(MEANS, TARGET, IMPS)
    keep = np.sort(np.argsort(-pre)[:2])
    sub = Posterior(POST.conv_a[keep], POST.conv_b[keep], POST.size_shape[keep], POST.size_rate[keep])
    for seed in range(10):
        alone = rank_feed("threshold", sub, np.random.default_rng(seed), k=2, need=NEED[keep], target=TARGET[keep],
                          impressions=IMPS[keep])
        assert feed(seed=seed, k=2, pool=2) == keep[alone].tolist()


def test_the_pool_without_a_target_is_uniform_within_the_pool():
    out = feed(target=None, pool=2, k=3)
    assert len(out) == 2  # mean scores all 0: the pool is some 2 designs


def test_the_default_pool_is_4096_designs():
    assert FEED_POOL == 4096
    for n, shown in ((4096, 4096), (4097, 4096)):
        post = Posterior(np.ones(n), np.full(n, 9.0), np.full(n, 10.0), np.full(n, 2.0))
        out = rank_feed("threshold", post, np.random.default_rng(0), k=n, need=np.full(n, 10.0),
                        target=np.full(n, 0.5), impressions=np.zeros(n))
        assert len(out) == shown


# --- prob_above ----------------------------------------------------------------------------------------------


def sure(p: float, size: float, n: int = 1) -> Posterior:
    big = 1e9
    return Posterior(np.full(n, p * big), np.full(n, (1 - p) * big), np.full(n, size * big), np.full(n, big))


def test_prob_above_of_no_designs_is_empty():
    empty = Posterior(np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0))
    assert prob_above(empty, np.zeros(0), np.random.default_rng(0)).shape == (0,)


def test_prob_above_a_settled_design():
    """theta = 0.5 x 4 = 2: surely above 1.9, surely below 2.1."""
    post = Posterior(*(np.concatenate([a, a]) for a in (sure(0.5, 4).conv_a, sure(0.5, 4).conv_b,
                                                            sure(0.5, 4).size_shape, sure(0.5, 4).size_rate)))
    assert prob_above(post, np.array([1.9, 2.1]), np.random.default_rng(0)).tolist() == [1.0, 0.0]


def test_prob_above_is_a_share_of_1000_draws_by_default():
    post = Posterior(np.ones(1), np.ones(1), np.full(1, 1e9), np.full(1, 1e9))
    pa = prob_above(post, np.array([0.3]), np.random.default_rng(0))[0]
    assert 0 < pa < 1 and pa * 1000 == pytest.approx(round(pa * 1000), abs=1e-9)
    assert pa * 999 != pytest.approx(round(pa * 999), abs=1e-6)


def test_prob_above_matches_the_share_of_draws():
    """Beta(1, 1) x Gamma(1e9, 1e9) = Uniform(0, 1): P(theta >= 0.3) = 0.7."""
    post = Posterior(np.ones(1), np.ones(1), np.full(1, 1e9), np.full(1, 1e9))
    assert prob_above(post, np.array([0.3]), np.random.default_rng(0), draws=20_000)[0] == pytest.approx(0.7, abs=0.02)

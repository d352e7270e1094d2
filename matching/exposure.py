"""Exposure policy: which designs under test fill the feed's slots.

The question a test answers per design is a threshold question: does its demand rate θ (pieces per
impression) reach τ = the rate that would fill its production threshold with a fair share of traffic?

- `threshold` (default) is a thresholding-bandit policy in the spirit of APT (Locatelli, Gutzeit and
  Carpentier, 2016): show first the designs whose classification is least settled, i.e. with the
  smallest sqrt(n) * (|θ - τ| / τ + ε), using a posterior draw of θ so buyers see varied feeds.
  Clear winners and clear losers stop costing impressions; undecided ones near τ get them.
- `thompson` draws θ from each posterior and shows the highest fill speed θ / (pieces still needed):
  it maximises sales during the test, which makes lucky early designs close their books on volume.
- `uniform` gives every design under test the same chance (the baseline).

A buyer's relevance (cosine of the buyer's preference vector with each design) is mixed in with
`relevance_weight`, so the feed is personal without letting relevance starve the test.
`scripts/bench_policy.py` compares the three (BENCHMARKS.md).
"""

from __future__ import annotations

import numpy as np

from matching.demand import Posterior
from matching.errors import MatchingError

POLICIES = ("threshold", "thompson", "uniform")
EPSILON = 0.1  # relative tolerance around τ: designs within ±10% of it are not worth resolving exactly
FEED_POOL = 4096  # above this many designs, posterior draws are made only within a pool of this size


def sample_rate(post: Posterior, rng: np.random.Generator) -> np.ndarray:
    """One posterior draw of θ = conversion x order size (pieces per impression) per design."""
    return rng.beta(post.conv_a, post.conv_b) * rng.gamma(post.size_shape, 1.0 / post.size_rate)


def policy_scores(policy: str, post: Posterior, rng: np.random.Generator, *, need: np.ndarray,
                  target: np.ndarray | None, impressions: np.ndarray) -> np.ndarray:
    """A score per design in [0, 1]: higher = show sooner.

    `need` = pieces still missing (>= 1); `target` = τ per design (None while there is no traffic to
    estimate a fair share from: then every policy is uniform); `impressions` = n per design.
    """
    n = len(post.conv_a)
    if policy not in POLICIES:
        raise MatchingError(f"unknown exposure policy {policy!r}; allowed: {', '.join(POLICIES)}")
    if policy == "uniform" or n == 0 or (policy == "threshold" and target is None):
        return rng.random(n)
    theta = sample_rate(post, rng)
    if policy == "thompson":
        speed = theta / np.maximum(need, 1.0)
        top = speed.max()
        return speed / top if top > 0 else speed
    assert target is not None
    tau = np.maximum(target, 1e-12)
    b = np.sqrt(np.asarray(impressions, dtype=np.float64) + 1.0) * (np.abs(theta - tau) / tau + EPSILON)
    return 1.0 / (1.0 + b)


def mean_scores(policy: str, post: Posterior, *, need: np.ndarray, target: np.ndarray | None,
                impressions: np.ndarray) -> np.ndarray:
    """`policy_scores` with θ at its posterior mean instead of a draw (cheap, deterministic): what
    `rank_feed` chooses its pool by, and what a caller may pre-sort designs by (`app.services.feed`)."""
    theta = post.pieces_per_impression
    if policy == "thompson":
        speed = theta / np.maximum(need, 1.0)
        return speed / max(float(speed.max()), 1e-12)
    if policy == "threshold" and target is not None:
        tau = np.maximum(target, 1e-12)
        return 1.0 / (1.0 + np.sqrt(np.asarray(impressions, dtype=np.float64) + 1.0) * (np.abs(theta - tau) / tau + EPSILON))
    return np.zeros(len(theta))


def rank_feed(policy: str, post: Posterior, rng: np.random.Generator, *, k: int, need: np.ndarray,
              target: np.ndarray | None, impressions: np.ndarray, relevance: np.ndarray | None = None,
              relevance_weight: float = 0.3, pool: int = FEED_POOL) -> np.ndarray:
    """Indices of the `k` designs to show, best first.

    With more than `pool` designs, the posterior draws are made only for the `pool` designs with the
    best score at the posterior mean (plus relevance): drawing for 100,000 designs per request would
    cost more than the rest of the feed, and a design outside that pool would almost never win a draw.
    The pool is taken in index order, so a caller that passes any subset (in the same order) holding the
    whole pool gets the same draws, hence the same feed, as one that passes every design.
    """
    if k < 1:
        raise MatchingError(f"k must be at least 1, got {k}")
    n = len(post.conv_a)
    if n > pool and policy != "uniform":
        pre = mean_scores(policy, post, need=need, target=target, impressions=impressions)
        if relevance is not None:
            pre = pre + relevance_weight * np.asarray(relevance, dtype=np.float64)
        keep = np.sort(np.argpartition(-pre, pool - 1)[:pool])
        order = rank_feed(policy, post.take(keep), rng, k=k, need=need[keep], target=None if target is None else target[keep],
                          impressions=np.asarray(impressions)[keep],
                          relevance=None if relevance is None else np.asarray(relevance)[keep],
                          relevance_weight=relevance_weight, pool=pool)
        return keep[order]
    score = policy_scores(policy, post, rng, need=need, target=target, impressions=impressions)
    if relevance is not None:
        score = score + relevance_weight * np.asarray(relevance, dtype=np.float64)
    k = min(k, len(score))
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    top = np.argpartition(-score, k - 1)[:k]
    return top[np.argsort(-score[top])]


def prob_above(post: Posterior, target: np.ndarray, rng: np.random.Generator, draws: int = 1000) -> np.ndarray:
    """P(θ >= τ) per design under the posterior: the system's belief that a design is a winner."""
    n = len(post.conv_a)
    if n == 0:
        return np.zeros(0)
    p = rng.beta(post.conv_a[:, None], post.conv_b[:, None], size=(n, draws))
    mu = rng.gamma(post.size_shape[:, None], 1.0 / post.size_rate[:, None], size=(n, draws))
    return (p * mu >= np.asarray(target)[:, None]).mean(axis=1)

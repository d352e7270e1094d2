"""Exposure policy: which designs under test fill the feed's slots.

`thompson` draws, for every design, a plausible fill speed from its posterior (conversion x order size
per impression, divided by the pieces it still needs) and ranks by the draw: designs that may well
be winners get traffic until they are proven, and clear losers rarely win a draw, so they stop
costing impressions. `uniform` gives every design under test the same chance (the baseline).

A buyer's relevance (cosine of the buyer's preference vector with each design) is mixed in with
`relevance_weight`, so the feed is personal without letting relevance starve the test.
"""

from __future__ import annotations

import numpy as np

from matching.demand import Posterior
from matching.errors import MatchingError

POLICIES = ("thompson", "uniform")


def policy_scores(policy: str, post: Posterior, need: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A score per design in [0, 1]: higher = show sooner. `need` = pieces still missing (>= 1)."""
    n = len(post.conv_a)
    if policy == "uniform":
        return rng.random(n)
    if policy != "thompson":
        raise MatchingError(f"unknown exposure policy {policy!r}; allowed: {', '.join(POLICIES)}")
    p = rng.beta(post.conv_a, post.conv_b)
    mu = rng.gamma(post.size_shape, 1.0 / post.size_rate)
    speed = p * mu / np.maximum(need, 1.0)  # fraction of the missing pieces one impression brings
    top = speed.max() if n else 1.0
    return speed / top if top > 0 else speed


def rank_feed(policy: str, post: Posterior, need: np.ndarray, rng: np.random.Generator, *, k: int,
              relevance: np.ndarray | None = None, relevance_weight: float = 0.3) -> np.ndarray:
    """Indices of the `k` designs to show, best first."""
    if k < 1:
        raise MatchingError(f"k must be at least 1, got {k}")
    score = policy_scores(policy, post, need, rng)
    if relevance is not None:
        score = score + relevance_weight * np.asarray(relevance, dtype=np.float64)
    k = min(k, len(score))
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    top = np.argpartition(-score, k - 1)[:k]
    return top[np.argsort(-score[top])]

"""Demand model: how likely a design under test is to sell enough to be made.

Per design:
- **conversion** p = pre-orders per impression, p ~ Beta(a, b);
- **order size** μ = pieces per pre-order, orders' pieces ~ Poisson(μ), μ ~ Gamma(shape, rate).
Both priors come from the design's nearest neighbours (by embedding) among designs whose outcome is
known, each weighted by its similarity and shrunk towards the global prior when neighbours are not
similar: a design like past winners starts optimistic, one like past flops starts sceptical.
Observed impressions, pre-orders and pieces update the priors (conjugate updates).

`prob_reach` asks: if the design got its fair share of traffic for the rest of its test window, how
likely is its committed quantity to reach the production threshold? Judging on the fair share (not
on the traffic the exposure policy happened to give it) keeps a starved design from being dropped
only because it was starved. Everything is vectorised over designs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Outcome:
    """What a decided design showed: impressions, pre-orders and pieces over its test."""

    impressions: int
    orders: int
    pieces: int


@dataclass(frozen=True)
class Prior:
    conv_a: float
    conv_b: float
    size_shape: float
    size_rate: float
    source: str = "global"

    @property
    def conversion_mean(self) -> float:
        return self.conv_a / (self.conv_a + self.conv_b)

    @property
    def size_mean(self) -> float:
        return self.size_shape / self.size_rate

    def scaled_to(self, moq: int) -> Prior:
        """A prior in MOQ units (`population_prior`) for a design whose MOQ is `moq` pieces."""
        return Prior(self.conv_a, self.conv_b, self.size_shape, self.size_rate / max(moq, 1), self.source)


GLOBAL_PRIOR = Prior(conv_a=1.0, conv_b=99.0, size_shape=2.0, size_rate=0.05)  # ~1% conversion, ~40 pcs/order


def global_prior(outcomes: list[Outcome], *, strength: float = 100.0, size_strength: float = 2.0) -> Prior:
    """A prior that matches the pooled outcomes of decided designs (GLOBAL_PRIOR when there are none)."""
    imps = sum(o.impressions for o in outcomes)
    orders = sum(o.orders for o in outcomes)
    if imps == 0 or orders == 0:
        return GLOBAL_PRIOR
    rate = orders / imps
    size = sum(o.pieces for o in outcomes) / orders
    return Prior(rate * strength, (1 - rate) * strength, size * size_strength, size_strength, "pooled")


def population_prior(impressions: np.ndarray, orders: np.ndarray, pieces: np.ndarray, moq: np.ndarray, *,
                     min_designs: int = 20, size_strength: float = 2.0) -> Prior | None:
    """Empirical-Bayes prior fitted to the designs seen so far (method of moments), or None before
    `min_designs` designs have impressions and at least one pre-order exists.

    Conversion: Beta whose mean is the pooled rate and whose spread is the between-design variance of
    the rates once their binomial noise is removed, so a varied population gives a weak prior and the
    evidence decides sooner. Order size: buyers order in multiples of a design's MOQ, so the prior is
    in MOQ units (ν, pieces per order / MOQ); for a design it becomes Gamma(shape, rate / MOQ_d), i.e.
    μ_d = MOQ_d · ν (see `Prior.scaled_to`).
    """
    n = np.asarray(impressions, dtype=np.float64)
    k = np.asarray(orders, dtype=np.float64)
    q = np.maximum(np.asarray(moq, dtype=np.float64), 1.0)
    seen = n > 0
    if seen.sum() < min_designs or k.sum() == 0:
        return None
    m = k[seen].sum() / n[seen].sum()
    rates = k[seen] / n[seen]
    noise = np.mean(m * (1 - m) / n[seen])  # expected variance from sampling alone
    between = max(float(np.average((rates - m) ** 2, weights=n[seen])) - noise, 1e-12)
    strength = float(np.clip(m * (1 - m) / between - 1.0, 2.0, 1000.0))
    nu = float((np.asarray(pieces, dtype=np.float64) / q).sum() / k.sum())
    return Prior(m * strength, (1 - m) * strength, nu * size_strength, size_strength,
                 f"population of {int(seen.sum())} designs (order size in MOQs)")


def neighbour_prior(similarities: np.ndarray, outcomes: list[Outcome], base: Prior, *,
                    strength: float = 100.0, size_strength: float = 2.0, power: float = 2.0) -> Prior:
    """Prior from the k nearest decided designs, shrunk towards `base` when they are not similar.

    Each neighbour j contributes its smoothed conversion (orders_j + a) / (impressions_j + a + b) and
    order size with weight w_j = max(0, sim_j) ** power. The neighbour mean gets the share
    λ = mean(w); the rest stays with `base`. The strength (pseudo-impressions) is `strength`.
    """
    if len(outcomes) == 0:
        return base
    sims = np.clip(np.asarray(similarities, dtype=np.float64), 0.0, 1.0)
    w = sims ** power
    if w.sum() <= 0:
        return base
    lam = float(w.mean())
    imps = np.array([o.impressions for o in outcomes], dtype=np.float64)
    orders = np.array([o.orders for o in outcomes], dtype=np.float64)
    pieces = np.array([o.pieces for o in outcomes], dtype=np.float64)
    rates = (orders + base.conv_a) / (imps + base.conv_a + base.conv_b)
    sizes = (pieces + base.size_shape) / (orders + base.size_rate)
    nb_rate = float(np.sum(w * rates) / w.sum())
    nb_size = float(np.sum(w * sizes) / w.sum())
    rate = lam * nb_rate + (1 - lam) * base.conversion_mean
    size = lam * nb_size + (1 - lam) * base.size_mean
    return Prior(rate * strength, (1 - rate) * strength, size * size_strength, size_strength,
                 f"{len(outcomes)} neighbours, similarity weight {lam:.2f}")


@dataclass(frozen=True)
class Posterior:
    """Vectorised posteriors for n designs (all arrays of shape (n,))."""

    conv_a: np.ndarray
    conv_b: np.ndarray
    size_shape: np.ndarray
    size_rate: np.ndarray

    @property
    def conversion_mean(self) -> np.ndarray:
        return self.conv_a / (self.conv_a + self.conv_b)

    def take(self, idx: np.ndarray) -> Posterior:
        """The posteriors of the designs at positions `idx`."""
        return Posterior(self.conv_a[idx], self.conv_b[idx], self.size_shape[idx], self.size_rate[idx])

    @property
    def pieces_per_impression(self) -> np.ndarray:
        """Posterior mean of expected pieces per impression (conversion x order size)."""
        return self.conversion_mean * self.size_shape / self.size_rate


def posterior(priors: list[Prior], impressions: np.ndarray, orders: np.ndarray, pieces: np.ndarray) -> Posterior:
    """Conjugate updates: Beta on conversion with (orders, impressions - orders), Gamma on size with (pieces, orders)."""
    return posterior_from_arrays(np.array([p.conv_a for p in priors]), np.array([p.conv_b for p in priors]),
                                 np.array([p.size_shape for p in priors]), np.array([p.size_rate for p in priors]),
                                 impressions, orders, pieces)


def posterior_from_arrays(conv_a: np.ndarray, conv_b: np.ndarray, size_shape: np.ndarray, size_rate: np.ndarray,
                          impressions: np.ndarray, orders: np.ndarray, pieces: np.ndarray) -> Posterior:
    """`posterior` with the priors given as arrays (fast for many designs)."""
    imps = np.asarray(impressions, dtype=np.float64)
    orders_ = np.asarray(orders, dtype=np.float64)
    return Posterior(conv_a + orders_, conv_b + np.maximum(imps - orders_, 0.0),
                     size_shape + np.asarray(pieces, dtype=np.float64), size_rate + orders_)


def prob_reach(post: Posterior, committed: np.ndarray, threshold: np.ndarray, remaining_impressions: np.ndarray,
               rng: np.random.Generator, draws: int = 2000) -> np.ndarray:
    """P(committed + future pieces >= threshold) by Monte Carlo over the posterior, per design."""
    n = len(post.conv_a)
    if n == 0:
        return np.zeros(0)
    p = rng.beta(post.conv_a[:, None], post.conv_b[:, None], size=(n, draws))
    mu = rng.gamma(post.size_shape[:, None], 1.0 / post.size_rate[:, None], size=(n, draws))
    remaining = np.maximum(np.asarray(remaining_impressions, dtype=np.int64), 0)[:, None]
    orders = rng.binomial(np.broadcast_to(remaining, (n, draws)), p)
    future = rng.poisson(mu * orders)
    need = (np.asarray(threshold) - np.asarray(committed))[:, None]
    return (future >= need).mean(axis=1)


def decide_many(committed: np.ndarray, threshold: np.ndarray, p_reach: np.ndarray, impressions: np.ndarray,
                window_closed: np.ndarray, *, win_prob: float = 0.9, drop_prob: float = 0.05,
                min_impressions: int = 50) -> list[str | None]:
    """'won', 'dropped' or None (keep testing) for each design.

    Won: committed >= threshold, or P(reach) >= win_prob after min_impressions. Dropped: the window
    closed short of the threshold, or P(reach) < drop_prob after min_impressions.
    """
    out: list[str | None] = []
    for c, t, pr, n, closed in zip(committed, threshold, p_reach, impressions, window_closed):
        judged = n >= min_impressions
        if c >= t or (judged and pr >= win_prob):
            out.append("won")
        elif closed or (judged and pr < drop_prob):
            out.append("dropped")
        else:
            out.append(None)
    return out

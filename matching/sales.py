"""Catalogue sales as demand evidence: a new design's prior from the sales of similar catalogue items.

A catalogue says how many units each of the merchandiser's own products sold, not how many buyers saw
it or pre-ordered, so its units cannot be an `Outcome`. What transfers is *relative* demand, under one
documented assumption:

    **An item that sold r times the typical units of its category shows how much more (or less) a
    similar design will convert than the typical design: its expected conversion is r times the base
    prior's, its order size unchanged.**

Typical is the median of the category (the whole catalogue's median for a category with fewer than
`min_group` items), because categories sell on different unit scales (socks by the dozen, coats one by
one) and sales are heavy-tailed. Relative demand is taken in logs, ρ_j = log((1 + u_j) / (1 + m_c)),
the 1 keeping unsold items finite. A design's ρ̂ is the similarity-weighted mean of its neighbours' ρ,
shrunk towards 0 (typical) with the same rule as `demand.neighbour_prior`: weights w_j = max(0, sim_j) ** 2,
share λ = mean(w), so ρ̂ = λ · Σ w_j ρ_j / Σ w_j. The prior's conversion mean becomes
base mean · exp(ρ̂), capped at `max_rate`.

Worked example (the known-answer test): socks sold [1, 3, 7] units, median m = 3, so
ρ = [log(2/4), log(4/4), log(8/4)] = [-log 2, 0, log 2]. A design whose two neighbours have
similarities [1.0, 0.0] and ρ = [log 4, -log 4]: w = [1, 0], λ = 0.5, weighted mean log 4,
ρ̂ = 0.5 · log 4 = log 2, so its expected conversion doubles: on GLOBAL_PRIOR (1% conversion,
40 pieces an order) with strength 100 the prior is Beta(2, 98), Gamma(2, 0.05): 0.8 expected pieces
per impression instead of 0.4.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from matching.demand import Prior

MIN_GROUP = 3  # items a category needs for its own median
MAX_RATE = 0.5  # a catalogue prior never expects more than half the impressions to convert


@dataclass(frozen=True)
class SalesScale:
    """What "typical units" means per category of one catalogue (median units; the overall median
    for a category with too few items or no category)."""

    medians: dict[str, float]
    overall: float

    @classmethod
    def fit(cls, units: np.ndarray, groups: Sequence[str | None], *, min_group: int = MIN_GROUP) -> SalesScale:
        """Medians of `units` per group; `units` (n,) non-negative, `groups` (n,) category or None."""
        u = np.asarray(units, dtype=np.float64)
        if len(u) == 0:
            return cls({}, 0.0)
        medians = {}
        for g in {g for g in groups if g is not None}:
            members = u[[x == g for x in groups]]
            if len(members) >= min_group:
                medians[g] = float(np.median(members))
        return cls(medians, float(np.median(u)))

    def typical(self, group: str | None) -> float:
        return self.medians.get(group, self.overall) if group is not None else self.overall

    def log_typical(self, groups: Sequence[str | None]) -> np.ndarray:
        """(n,) log(1 + typical units) of each item's group."""
        return np.log1p(np.array([self.typical(g) for g in groups], dtype=np.float64))

    def relative(self, units: np.ndarray, groups: Sequence[str | None]) -> np.ndarray:
        """(n,) ρ = log((1 + units) / (1 + typical units of the item's group))."""
        return np.log1p(np.asarray(units, dtype=np.float64)) - self.log_typical(groups)


def neighbour_relative(similarities: np.ndarray, relative: np.ndarray, *, power: float = 2.0) -> tuple[float, float]:
    """(ρ̂, λ): the shrunk, similarity-weighted log relative demand of k neighbours (module docstring)."""
    sims = np.clip(np.asarray(similarities, dtype=np.float64), 0.0, 1.0)
    if sims.size == 0:
        return 0.0, 0.0
    w = sims ** power
    if w.sum() <= 0:
        return 0.0, 0.0
    lam = float(w.mean())
    return lam * float(np.sum(w * np.asarray(relative, dtype=np.float64)) / w.sum()), lam


def sales_prior(similarities: np.ndarray, relative: np.ndarray, base: Prior, *, strength: float = 100.0,
                power: float = 2.0, max_rate: float = MAX_RATE) -> Prior:
    """`base` with its conversion mean scaled by the neighbours' relative demand exp(ρ̂) (capped at
    `max_rate`), at `strength` pseudo-impressions; order size stays `base`'s. No neighbours: `base`."""
    if len(relative) == 0:
        return base
    rho, lam = neighbour_relative(similarities, relative, power=power)
    rate = min(base.conversion_mean * float(np.exp(rho)), max_rate)
    return Prior(rate * strength, (1 - rate) * strength, base.size_shape, base.size_rate,
                 f"catalogue sales of {len(relative)} similar items, similarity weight {lam:.2f}, "
                 f"relative demand x{np.exp(rho):.2f}")


def top_k(queries: np.ndarray, items: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact cosine top-k of unit-length `queries` (q, d) among `items` (n, d): (sims (q, k'), idx (q, k')),
    best first, k' = min(k, n)."""
    if len(items) == 0 or len(queries) == 0:
        return np.zeros((len(queries), 0), np.float32), np.zeros((len(queries), 0), np.int64)
    sims = queries @ items.T  # (q, n)
    kk = min(k, items.shape[0])
    idx = np.argpartition(-sims, kk - 1, axis=1)[:, :kk]  # (q, kk), unordered
    part = np.take_along_axis(sims, idx, axis=1)
    order = np.argsort(-part, axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1), np.take_along_axis(idx, order, axis=1).astype(np.int64)


def sales_priors(queries: np.ndarray, items: np.ndarray, units: np.ndarray, categories: Sequence[str | None],
                 base: Prior, *, k: int = 10, strength: float = 100.0, power: float = 2.0) -> list[Prior]:
    """A `sales_prior` for each unit-length query (q, d) from its k nearest sold catalogue items
    (`items` (n, d) unit-length, `units` (n,), `categories` (n,)), typical units fitted on all n."""
    relative = SalesScale.fit(units, categories).relative(units, categories)  # (n,)
    sims, idx = top_k(queries, items, k)  # (q, k'), (q, k')
    return [sales_prior(s, relative[i], base, strength=strength, power=power) for s, i in zip(sims, idx)]

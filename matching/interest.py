"""Buyer interest: what each event signals, a per-design interest score, and the winner rule.

A design under test collects impressions (views) and stronger signals. We keep a Beta posterior on
its pre-order conversion (pre-orders per impression) for the feed's Thompson sampling, a weighted
interest score for people to read, and a simple, explicit decision rule: **won** when committed
pre-order quantity reaches the production threshold, **dropped** when the test window has closed
without that.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import numpy as np

EVENT_KINDS: tuple[str, ...] = ("view", "click", "favourite", "inquiry", "pre_order")
# What each event signals about demand, relative to a click.
EVENT_WEIGHTS: dict[str, float] = {"view": 0.0, "click": 1.0, "favourite": 3.0, "inquiry": 5.0, "pre_order": 10.0}


@dataclass(frozen=True)
class InterestStats:
    """Event counts for one design; `quantity` is the pieces committed by active pre-orders."""

    views: int = 0
    clicks: int = 0
    favourites: int = 0
    inquiries: int = 0
    pre_orders: int = 0
    quantity: int = 0

    @classmethod
    def from_counts(cls, counts: Mapping[str, int], quantity: int = 0) -> InterestStats:
        return cls(counts.get("view", 0), counts.get("click", 0), counts.get("favourite", 0),
                   counts.get("inquiry", 0), counts.get("pre_order", 0), quantity)

    @property
    def score(self) -> float:
        """Weighted signals per impression (a smoothed rate; 0 with no views)."""
        weighted = (EVENT_WEIGHTS["click"] * self.clicks + EVENT_WEIGHTS["favourite"] * self.favourites
                    + EVENT_WEIGHTS["inquiry"] * self.inquiries + EVENT_WEIGHTS["pre_order"] * self.pre_orders)
        return weighted / (self.views + 10.0)

    def posterior(self, prior_a: float = 1.0, prior_b: float = 30.0) -> tuple[float, float]:
        """Beta(a, b) posterior on pre-orders per impression."""
        failures = max(0, self.views - self.pre_orders)
        return prior_a + self.pre_orders, prior_b + failures


def decide(committed: int, threshold: int, now: datetime, window_end: datetime) -> str | None:
    """'won' when committed quantity reaches the threshold, 'dropped' once the window has closed, else None."""
    if committed >= threshold:
        return "won"
    if now >= window_end:
        return "dropped"
    return None


def thompson_order(stats: Mapping[int, InterestStats], rng: np.random.Generator) -> list[int]:
    """Design ids ordered by a draw from each one's conversion posterior (best draw first)."""
    ids = list(stats)
    if not ids:
        return []
    ab = np.array([stats[i].posterior() for i in ids])
    draws = rng.beta(ab[:, 0], ab[:, 1])
    return [ids[k] for k in np.argsort(-draws)]

"""Buyer interest: what each event signals, and a per-design interest score for people to read.

The demand model that decides winners and losers is in `matching.demand`; the feed policy in
`matching.exposure`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

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

"""A design's group order (凑单) as a buyer sees it: how many buyers joined, the pieces committed, the
tier prices from the buyer MOQ up, the pieces to the next cheaper tier, the time left until the book
closes, and what a typed quantity would cost at the tier the group would then reach.

Everyone pays the unit price of the tier the group's total reaches (`DesignSpec.unit_price_cents`).
Tiers below the buyer MOQ cannot be ordered, so they are not shown: under a 24-piece MOQ the tiers
1-9, 10-49, 50+ read 24-49, 50+.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from generation.concepts.spec import DesignSpec

from app.lifecycle import PreOrderState
from app.models import Design, PreOrder


@dataclass(frozen=True)
class Tier:
    lo: int  # pieces in the group's total, from
    hi: int | None  # to (None: and more)
    unit_price_cents: int


@dataclass(frozen=True)
class GroupOrder:
    buyers: int  # buyers holding a pre-order that is not cancelled
    committed: int  # their pieces
    moq: int
    tiers: tuple[Tier, ...]  # from the buyer MOQ up
    current: int  # index of the tier the total reaches (the first while under the MOQ)
    to_next_tier: int | None  # pieces until the next cheaper tier (None: the cheapest is reached)
    closes_at: datetime | None  # when the pre-order book closes (the test window's end)
    seconds_left: int | None  # until then, never negative (None: no end set)

    @property
    def steps(self) -> list[list[int]]:
        """[[from pieces, unit price], ...] of the tiers (what the page's script computes totals with)."""
        return [[t.lo, t.unit_price_cents] for t in self.tiers]

    def unit_price_for(self, quantity: int) -> int:
        """The unit price everyone pays once `quantity` more pieces join the group."""
        total = self.committed + quantity
        price = self.tiers[0].unit_price_cents
        for tier in self.tiers:
            if total >= tier.lo:
                price = tier.unit_price_cents
        return price

    def total_for(self, quantity: int) -> int:
        """What `quantity` pieces cost at the tier the group would reach with them (cents)."""
        return quantity * self.unit_price_for(quantity)


def moq_price(spec: Mapping[str, Any]) -> int:
    """The unit price of one buyer's smallest order (the buyer MOQ) from a stored spec: the dearest price
    a buyer can pay, which the storefront shows, filters and sorts by (cents)."""
    tiers = sorted(spec["price_tiers"], key=lambda t: t["min_qty"])
    return int(max((t for t in tiers if t["min_qty"] <= spec.get("moq", 1)), key=lambda t: t["min_qty"],
                   default=tiers[0])["unit_price_cents"])


def buyer_tiers(spec: DesignSpec) -> tuple[Tier, ...]:
    """The spec's price tiers as a buyer can order them: none below the buyer MOQ, the first from it."""
    tiers = sorted(spec.price_tiers, key=lambda t: t.min_qty)
    out: list[Tier] = []
    for i, t in enumerate(tiers):
        hi = tiers[i + 1].min_qty - 1 if i + 1 < len(tiers) else None
        if hi is not None and hi < spec.moq:
            continue
        out.append(Tier(max(t.min_qty, spec.moq), hi, t.unit_price_cents))
    return tuple(out)


def group_order(session: Session, design: Design, spec: DesignSpec, now: datetime) -> GroupOrder:
    """The group order of a published design at `now`."""
    buyers = session.scalar(select(func.count(func.distinct(PreOrder.buyer_id))).where(
        PreOrder.design_id == design.id, PreOrder.status != PreOrderState.CANCELLED)) or 0
    tiers = buyer_tiers(spec)
    reach = max(design.committed, spec.moq)
    current = max((i for i, t in enumerate(tiers) if reach >= t.lo), default=0)
    to_next = tiers[current + 1].lo - design.committed if current + 1 < len(tiers) else None
    end = design.window_end
    left = None if end is None else max(0, int((end - now).total_seconds()))
    return GroupOrder(int(buyers), design.committed, spec.moq, tiers, current, to_next, end, left)

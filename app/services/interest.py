"""Buyers, interest events, pre-orders that add up, the feed, and the winner/dropped decision."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from generation.concepts.spec import DesignSpec
from matching.interest import InterestStats, decide, thompson_order

from app.errors import Conflict, Invalid, NotFound
from app.models import BUYER_KINDS, Buyer, Design, InterestEvent, PreOrder

BROWSE_EVENTS = ("view", "click", "favourite", "inquiry")  # pre_order events come from place_preorder


def create_buyer(session: Session, name: str, kind: str, region: str = "cn") -> Buyer:
    if kind not in BUYER_KINDS:
        raise Invalid(f"unknown buyer kind {kind!r}; allowed: {', '.join(BUYER_KINDS)}", field="kind")
    buyer = Buyer(name=name, kind=kind, region=region)
    session.add(buyer)
    session.flush()
    return buyer


def get_buyer(session: Session, buyer_id: int) -> Buyer:
    buyer = session.get(Buyer, buyer_id)
    if buyer is None:
        raise NotFound(f"buyer {buyer_id} not found")
    return buyer


def published_design(session: Session, design_id: int) -> Design:
    """A design buyers may see (any status but draft); NotFound otherwise."""
    design = session.get(Design, design_id)
    if design is None or design.status == "draft":  # drafts are invisible to buyers
        raise NotFound(f"design {design_id} not found")
    return design


def record_event(session: Session, buyer_id: int, design_id: int, kind: str, now: datetime) -> InterestEvent:
    """Store one browse event (view, click, favourite, inquiry) of a buyer on a published design."""
    if kind not in BROWSE_EVENTS:
        raise Invalid(f"unknown event kind {kind!r}; allowed: {', '.join(BROWSE_EVENTS)} "
                      "(pre-orders go through the pre-order endpoint)", field="kind")
    get_buyer(session, buyer_id)
    published_design(session, design_id)
    event = InterestEvent(design_id=design_id, buyer_id=buyer_id, kind=kind, occurred_at=now)
    session.add(event)
    return event


def committed_quantity(session: Session, design_id: int) -> int:
    """Pieces committed to a design by active and confirmed pre-orders, across all buyers."""
    return session.scalar(select(func.coalesce(func.sum(PreOrder.quantity), 0)).where(
        PreOrder.design_id == design_id, PreOrder.status.in_(("active", "confirmed")))) or 0


def _request_hash(buyer_id: int, design_id: int, quantity: int) -> str:
    body = json.dumps({"buyer_id": buyer_id, "design_id": design_id, "quantity": quantity}, sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()


def place_preorder(session: Session, buyer_id: int, design_id: int, quantity: int, now: datetime, *,
                   idempotency_key: str | None = None, max_quantity: int = 100_000) -> tuple[PreOrder, bool]:
    """Commit `quantity` pieces at the tier reached by everyone's total; returns (pre-order, created).

    A retry with the same idempotency key returns the first pre-order and creates nothing; the same
    key with a different body is rejected. When the total reaches the production threshold the design
    wins at once and every pre-order is confirmed at the final tier price.
    """
    if idempotency_key is not None:
        earlier = session.scalar(select(PreOrder).where(PreOrder.idempotency_key == idempotency_key))
        if earlier is not None:
            if (earlier.buyer_id, earlier.design_id, earlier.quantity) != (buyer_id, design_id, quantity):
                raise Invalid("idempotency key was already used for a different pre-order", field="idempotency_key")
            return earlier, False
    get_buyer(session, buyer_id)
    design = published_design(session, design_id)
    if design.status != "published":
        raise Conflict(f"design {design_id} is {design.status}; pre-orders are open only while it is tested")
    spec = DesignSpec.from_dict(design.spec)
    if quantity < spec.moq:
        raise Invalid(f"quantity {quantity} is below this design's minimum order of {spec.moq} pcs", field="quantity")
    if quantity > max_quantity:
        raise Invalid(f"quantity {quantity} is above the {max_quantity} pcs limit per pre-order", field="quantity")
    total = committed_quantity(session, design_id) + quantity
    order = PreOrder(buyer_id=buyer_id, design_id=design_id, quantity=quantity,
                     unit_price_cents=spec.unit_price_cents(total), idempotency_key=idempotency_key,
                     status="active", created_at=now)
    session.add(order)
    session.add(InterestEvent(design_id=design_id, buyer_id=buyer_id, kind="pre_order", quantity=quantity, occurred_at=now))
    try:
        session.flush()
    except IntegrityError:  # a concurrent request with the same key won the race
        raise Conflict("a pre-order with this idempotency key is being created; retry to read it") from None
    _close_if_decided(session, design, now)
    return order, True


def cancel_preorder(session: Session, buyer_id: int, preorder_id: int) -> PreOrder:
    """active -> cancelled, allowed only while the design has not won."""
    order = session.get(PreOrder, preorder_id)
    if order is None or order.buyer_id != buyer_id:
        raise NotFound(f"pre-order {preorder_id} not found for buyer {buyer_id}")
    if order.status != "active":
        raise Conflict(f"pre-order {preorder_id} is {order.status}; only active pre-orders can be cancelled")
    order.status = "cancelled"
    return order


def buyer_preorders(session: Session, buyer_id: int) -> list[PreOrder]:
    get_buyer(session, buyer_id)
    return list(session.scalars(select(PreOrder).where(PreOrder.buyer_id == buyer_id).order_by(PreOrder.id)))


def _close_if_decided(session: Session, design: Design, now: datetime) -> str | None:
    assert design.production_threshold is not None and design.window_end is not None
    committed = committed_quantity(session, design.id)
    outcome = decide(committed, design.production_threshold, now, design.window_end)
    if outcome is None:
        return None
    design.status, design.decided_at = outcome, now
    active = list(session.scalars(select(PreOrder).where(PreOrder.design_id == design.id, PreOrder.status == "active")))
    if outcome == "won":
        final_price = DesignSpec.from_dict(design.spec).unit_price_cents(committed)
        for p in active:
            p.status, p.unit_price_cents = "confirmed", final_price
        design.note = f"won with {committed} pcs committed (threshold {design.production_threshold}); tier price {final_price} cents"
    else:
        for p in active:
            p.status = "cancelled"
        design.note = f"dropped: {committed} of {design.production_threshold} pcs when the test window closed"
    return outcome


def close_windows(session: Session, now: datetime) -> dict[str, int]:
    """Decide every published design whose test window has closed; returns counts per outcome."""
    out: dict[str, int] = {}
    for design in session.scalars(select(Design).where(Design.status == "published", Design.window_end <= now)):
        outcome = _close_if_decided(session, design, now)
        if outcome:
            out[outcome] = out.get(outcome, 0) + 1
    return out


def stats(session: Session, design_ids: Sequence[int]) -> dict[int, InterestStats]:
    """Event counts and committed quantity per design."""
    counts: dict[int, dict[str, int]] = {i: {} for i in design_ids}
    q = (select(InterestEvent.design_id, InterestEvent.kind, func.count())
         .where(InterestEvent.design_id.in_(design_ids)).group_by(InterestEvent.design_id, InterestEvent.kind))
    for did, kind, n in session.execute(q):
        counts[did][kind] = n
    qty_q = (select(PreOrder.design_id, func.sum(PreOrder.quantity))
             .where(PreOrder.design_id.in_(design_ids), PreOrder.status.in_(("active", "confirmed")))
             .group_by(PreOrder.design_id))
    qty = {did: int(q_) for did, q_ in session.execute(qty_q)}
    return {i: InterestStats.from_counts(counts[i], qty.get(i, 0)) for i in design_ids}


def feed(session: Session, buyer_id: int, *, limit: int, rng: np.random.Generator) -> list[Design]:
    """Published designs under test, ordered by Thompson sampling on their pre-order conversion."""
    get_buyer(session, buyer_id)
    designs = {d.id: d for d in session.scalars(select(Design).where(Design.status == "published"))}
    order = thompson_order(stats(session, list(designs)), rng)
    return [designs[i] for i in order[:limit]]


def event_counts(session: Session) -> dict[str, int]:
    return dict(session.execute(select(InterestEvent.kind, func.count()).group_by(InterestEvent.kind)).all())


def preorder_counts(session: Session) -> dict[str, int]:
    return dict(session.execute(select(PreOrder.status, func.count()).group_by(PreOrder.status)).all())

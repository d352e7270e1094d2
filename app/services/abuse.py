"""Screening buyers: one far outside the population is flagged to merchandisers, and weighted down.

Over the last `ScreenRules.window` (a day), for every buyer not flagged, from what they sent (counted or
not, `BuyerActivity`) and their pre-orders:
- volume: browse events sent;
- speed: browse events sent in their busiest hour;
- one design: browse events sent about a single design;
- churn: pre-orders they cancelled (over `cancel_window`, a week).
A buyer is an outlier on a measure when it is at least its floor (`ScreenRules`: well above anything one
person browsing does) and above `spread` robust standard deviations (1.4826 x MAD) over the median of the
buyers active in the window (zeros included: a measure only one buyer has is judged against the rest). The floors keep a quiet population (median and MAD near 0) from flagging
its most active honest buyer; the spread keeps a busy population (a load test, a sale) from flagging
everyone.

A flagged buyer is weighted to zero, not deleted: their events and pre-orders stay stored, but
- the impressions they confirmed are taken out of their designs' impressions (and new ones are not counted);
- their pre-orders are taken out of the demand counters (`pre_order_count`, `pieces_ordered`), which is
  what decisions and, once a design is decided, the priors of later designs learn from; `committed` (the
  pieces they promised to pay for) still counts towards the book;
- their events are left out of the interest statistics merchandisers read.
A merchandiser who knows the buyer clears the flag (`trust`): what was taken out is counted again, and
behaviour before that moment is not screened again.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.errors import Conflict, NotFound
from app.lifecycle import PreOrderState
from app.models import Buyer, BuyerActivity, Design, PreOrder, ServedImpression
from app.services.event_writer import add_impressions


@dataclass(frozen=True)
class ScreenRules:
    window: timedelta = timedelta(days=1)
    spread: float = 8.0  # robust standard deviations above the population's median
    min_events: int = 600  # volume floor: browse events sent in the window
    min_peak_hour: int = 300  # speed floor: browse events sent in one hour
    min_one_design: int = 40  # browse events sent about one design
    min_cancels: int = 3  # pre-orders cancelled within cancel_window
    cancel_window: timedelta = timedelta(days=7)


MEASURES = (("events", "min_events", "browse events sent in a day"),
            ("peak_hour", "min_peak_hour", "browse events in one hour"),
            ("one_design", "min_one_design", "browse events about one design"),
            ("cancels", "min_cancels", "pre-orders cancelled in a week"))


@dataclass(frozen=True)
class Flag:
    buyer_id: int
    reason: str


def activity(session: Session, since: datetime, cancels_since: datetime | None = None) -> dict[int, dict[str, int]]:
    """Per buyer active since `since`: events, peak_hour, one_design, cancels (see the module docstring)."""
    out: dict[int, dict[str, int]] = {}

    def put(buyer: int, key: str, n: int) -> None:
        out.setdefault(buyer, dict.fromkeys(("events", "peak_hour", "one_design", "cancels"), 0))[key] = int(n)

    since_hour = since.replace(minute=0, second=0, microsecond=0)
    recent = BuyerActivity.hour >= since_hour
    for b, n in session.execute(select(BuyerActivity.buyer_id, func.sum(BuyerActivity.sent)).where(recent)
                                .group_by(BuyerActivity.buyer_id)):
        put(b, "events", n)
    per_hour = (select(BuyerActivity.buyer_id.label("b"), func.sum(BuyerActivity.sent).label("n")).where(recent)
                .group_by(BuyerActivity.buyer_id, BuyerActivity.hour).subquery())
    for b, n in session.execute(select(per_hour.c.b, func.max(per_hour.c.n)).group_by(per_hour.c.b)):
        put(b, "peak_hour", n)
    per_design = (select(BuyerActivity.buyer_id.label("b"), func.sum(BuyerActivity.sent).label("n")).where(recent)
                  .group_by(BuyerActivity.buyer_id, BuyerActivity.design_id).subquery())
    for b, n in session.execute(select(per_design.c.b, func.max(per_design.c.n)).group_by(per_design.c.b)):
        put(b, "one_design", n)
    # a buyer's cancel uncounts the order; a drop's release keeps it counted (`interest.cancel_preorder`)
    for b, n in session.execute(select(PreOrder.buyer_id, func.count()).where(
            PreOrder.status == PreOrderState.CANCELLED, PreOrder.counted.is_(False),
            PreOrder.updated_at >= (since if cancels_since is None else cancels_since)).group_by(PreOrder.buyer_id)):
        put(b, "cancels", n)
    return out


def outliers(stats: dict[int, dict[str, int]], rules: ScreenRules) -> list[Flag]:
    """The buyers above floor and spread on some measure, with every measure that put them there."""
    if not stats:
        return []
    ids = sorted(stats)
    reasons: dict[int, list[str]] = {}
    for key, floor_name, what in MEASURES:
        values = np.array([stats[b][key] for b in ids], dtype=np.float64)  # every buyer active in the window
        median = float(np.median(values))
        mad = float(np.median(np.abs(values - median))) * 1.4826
        floor, spread = float(getattr(rules, floor_name)), median + rules.spread * mad
        for b, v in zip(ids, values):
            if v >= floor and v > spread:
                reasons.setdefault(b, []).append(f"{int(v)} {what} (population median {median:g}; flagged from "
                                                 f"{max(floor, math.floor(spread) + 1):g})")
    return [Flag(b, "; ".join(r)) for b, r in sorted(reasons.items())]


def screen(session: Session, now: datetime, rules: ScreenRules = ScreenRules()) -> list[Flag]:
    """Flag every unflagged buyer far outside the population over the last `rules.window`; returns them.
    A buyer a merchandiser trusted is screened only on what they did after that."""
    since = now - rules.window
    stats = activity(session, since, now - rules.cancel_window)
    trusted: dict[int, datetime] = dict(session.execute(select(Buyer.id, Buyer.trusted_at).where(  # type: ignore[arg-type]
        Buyer.id.in_(list(stats)), Buyer.trusted_at.is_not(None))).all()) if stats else {}
    if trusted:  # their measures again, over what came after the trust only
        for b, at in trusted.items():
            if at > now - max(rules.window, rules.cancel_window):
                stats[b] = activity_of(session, b, max(at, since), max(at, now - rules.cancel_window))
    flags = outliers(stats, rules)
    flagged = set(session.scalars(select(Buyer.id).where(Buyer.id.in_([f.buyer_id for f in flags]),
                                                         Buyer.flagged_at.is_not(None)))) if flags else set()
    out = [f for f in flags if f.buyer_id not in flagged]
    for f in out:
        flag(session, f.buyer_id, f.reason, now)
    return out


def activity_of(session: Session, buyer_id: int, since: datetime, cancels_since: datetime) -> dict[str, int]:
    """One buyer's measures since `since`, cancels since `cancels_since` (hours that began before `since`
    are left out)."""
    start = since.replace(minute=0, second=0, microsecond=0) + (timedelta(hours=1) if since.minute or since.second else timedelta())
    rows = session.execute(select(BuyerActivity.design_id, BuyerActivity.hour, BuyerActivity.sent).where(
        BuyerActivity.buyer_id == buyer_id, BuyerActivity.hour >= start)).all()
    per_hour: Counter[datetime] = Counter()
    per_design: Counter[int] = Counter()
    for d, h, n in rows:
        per_hour[h] += n
        per_design[d] += n
    cancels = session.scalar(select(func.count()).select_from(PreOrder).where(
        PreOrder.buyer_id == buyer_id, PreOrder.status == PreOrderState.CANCELLED, PreOrder.counted.is_(False),
        PreOrder.updated_at >= cancels_since)) or 0
    return {"events": sum(per_hour.values()), "peak_hour": max(per_hour.values(), default=0),
            "one_design": max(per_design.values(), default=0), "cancels": int(cancels)}


def flag(session: Session, buyer_id: int, reason: str, now: datetime) -> Buyer:
    """Flag the buyer and take what they counted out of every design's counters (module docstring)."""
    buyer = _buyer(session, buyer_id)
    buyer.flagged_at, buyer.flag_reason = now, reason[:2000]
    session.flush()
    seen = session.execute(update(ServedImpression).where(ServedImpression.buyer_id == buyer_id,
                                                          ServedImpression.counted.is_(True))
                           .values(counted=False).returning(ServedImpression.design_id)).scalars().all()
    add_impressions(session, {d: -n for d, n in Counter(seen).items()})
    orders = session.execute(update(PreOrder).where(PreOrder.buyer_id == buyer_id, PreOrder.counted.is_(True))
                             .values(counted=False).returning(PreOrder.design_id, PreOrder.quantity, PreOrder.status)).all()
    _move_demand(session, orders, -1)
    return buyer


def trust(session: Session, buyer_id: int, now: datetime) -> Buyer:
    """Clear a buyer's flag: the impressions they confirmed and their live pre-orders count again."""
    buyer = _buyer(session, buyer_id)
    if buyer.flagged_at is None:
        raise Conflict(f"buyer {buyer_id} is not flagged")
    buyer.flagged_at, buyer.flag_reason, buyer.trusted_at = None, "", now
    session.flush()
    seen = session.execute(update(ServedImpression).where(
        ServedImpression.buyer_id == buyer_id, ServedImpression.counted.is_(False),
        ServedImpression.confirmed_at.is_not(None)).values(counted=True).returning(ServedImpression.design_id)).scalars().all()
    add_impressions(session, Counter(seen))
    orders = session.execute(update(PreOrder).where(
        PreOrder.buyer_id == buyer_id, PreOrder.counted.is_(False),
        PreOrder.status.in_((PreOrderState.ACTIVE, PreOrderState.CONFIRMED)))
        .values(counted=True).returning(PreOrder.design_id, PreOrder.quantity, PreOrder.status)).all()
    _move_demand(session, orders, +1)
    return buyer


def _move_demand(session: Session, orders: Iterable[tuple[int, int, str]], sign: int) -> None:
    """Orders (design, pieces, status) into (+1) or out of (-1) the demand counters; an active one's pieces
    out of (into) the trusted part of `committed` too (`Design.untrusted`)."""
    per_design: dict[int, tuple[int, int, int]] = {}
    for d, q, status in orders:
        n, p, u = per_design.get(d, (0, 0, 0))
        per_design[d] = (n + 1, p + q, u + (q if status == PreOrderState.ACTIVE else 0))
    for d, (n, p, u) in sorted(per_design.items()):
        session.execute(update(Design).where(Design.id == d).values(
            pre_order_count=Design.pre_order_count + sign * n, pieces_ordered=Design.pieces_ordered + sign * p,
            untrusted=Design.untrusted - sign * u))


def _buyer(session: Session, buyer_id: int) -> Buyer:
    buyer = session.get(Buyer, buyer_id)
    if buyer is None:
        raise NotFound(f"buyer {buyer_id} not found")
    return buyer


def flagged(session: Session) -> list[Buyer]:
    """Flagged buyers, the most recent first (for the dashboard and `trendloom status`)."""
    return list(session.scalars(select(Buyer).where(Buyer.flagged_at.is_not(None))
                                .order_by(Buyer.flagged_at.desc(), Buyer.id)))

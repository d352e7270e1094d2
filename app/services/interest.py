"""Buyers, interest events, pre-orders that add up, and the winner/dropped decisions.

Counters on each design (impressions, pre-orders, pieces, committed) move in the same transaction as
the events and pre-orders behind them, with atomic `SET x = x + n` updates, so concurrent requests
never lose a count. A buyer's cancel takes its pre-order back out of all three pre-order counters: the
demand estimate counts only pre-orders their buyers still stand behind. A design's pre-order *book*
closes when the committed quantity reaches its production threshold: every pre-order is then confirmed
at the tier that the group total reached.

Every write that depends on the book being open (place, cancel, a decision) first takes the design
row's lock with a statement that re-checks the book, so concurrent requests are ordered design row
first, pre-orders second, and each sees what the one before it committed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import ColumnElement, bindparam, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from generation.concepts.spec import DesignSpec
from matching.demand import decide_many, prob_reach
from matching.interest import InterestStats

from app import lifecycle
from app.db import transaction
from app.errors import Conflict, Invalid, NotFound
from app.lifecycle import DesignState, PreOrderState
from app.models import BUYER_KINDS, Buyer, Design, InterestEvent, PreOrder
from app.services import abuse
from app.services.accounts import check_name
from app.services.event_writer import EventIn, Served, store_events
from app.services.feed import DemandCache
from app.services.production import claim_design
from app.settings import Settings

OPEN_STATUSES = lifecycle.BOOK_STATES  # a design whose pre-order book may be open (see `BOOK_OPEN`)


def create_buyer(session: Session, name: str, kind: str, region: str = "cn") -> Buyer:
    if kind not in BUYER_KINDS:
        raise Invalid(f"unknown buyer kind {kind!r}; allowed: {', '.join(BUYER_KINDS)}", field="kind")
    name = check_name(name, "name")
    if not name:
        raise Invalid("a buyer needs a name", field="name")
    buyer = Buyer(name=name, kind=kind, region=region)
    session.add(buyer)
    session.flush()
    return buyer


def get_buyer(session: Session, buyer_id: int) -> Buyer:
    buyer = session.get(Buyer, buyer_id)
    if buyer is None:
        raise NotFound(f"buyer {buyer_id} not found")
    return buyer


# WHERE clauses of a design whose pre-order book is open: under test or a provisional winner (won by
# probability, see `evaluate`), and not closed at the threshold.
BOOK_OPEN: tuple[ColumnElement[bool], ...] = (Design.status.in_(OPEN_STATUSES), Design.book_closed_at.is_(None))


def published_design(session: Session, design_id: int) -> Design:
    """A design buyers may see (any status but draft); NotFound otherwise."""
    design = session.get(Design, design_id)
    if design is None or design.status == DesignState.DRAFT:  # drafts are invisible to buyers
        raise NotFound(f"design {design_id} not found")
    return design


def record_events(session: Session, events: Sequence[EventIn], now: datetime, *,
                  served: Sequence[Served] = ()) -> list[int]:
    """Store browse events (view, click, favourite, inquiry) in the caller's transaction; returns their ids.
    `served`: pages served to buyers, stored first, whose impressions the events may confirm (what the
    simulator's buyers see and then act on). Which events counted: `record_counted`.

    Every event is checked first (kind, buyer, visible design), so a batch is stored whole or not at all.
    The API goes through `EventWriter` instead, which commits many requests' events together.
    """
    return [i for i, _ in record_counted(session, events, now, served=served)]


def record_counted(session: Session, events: Sequence[EventIn], now: datetime, *,
                   served: Sequence[Served] = ()) -> list[tuple[int, bool]]:
    """`record_events`, with whether each event counted (a view that confirms no served impression, a
    repeated click... is stored but counts nowhere: see `app.services.event_writer`)."""
    *pages, result = store_events(session, [*((p, now) for p in served), (events, now)])
    for r in (*pages, result):
        if isinstance(r, Exception):
            raise r
    assert not isinstance(result, Exception)
    return result


def record_served(session: Session, served: Served, now: datetime) -> list[tuple[int, bool]]:
    """Store the impressions of a page served to a buyer in the caller's transaction (`EventWriter.serve`
    does it with group commit)."""
    (result,) = store_events(session, [(served, now)])
    if isinstance(result, Exception):
        raise result
    return result


def place_preorder(session: Session, buyer_id: int, design_id: int, quantity: int, now: datetime, *,
                   idempotency_key: str | None = None, max_quantity: int = 100_000) -> tuple[PreOrder, bool]:
    """Commit `quantity` pieces at the tier reached by everyone's total; returns (pre-order, created).

    A retry with the same idempotency key returns the first pre-order and creates nothing; the same
    key with a different body is rejected. When the total reaches the production threshold the book
    closes: the design has won and every pre-order is confirmed at the final tier price.
    """
    if idempotency_key is not None:
        earlier = session.scalar(select(PreOrder).where(PreOrder.idempotency_key == idempotency_key))
        if earlier is not None:
            if (earlier.buyer_id, earlier.design_id, earlier.quantity) != (buyer_id, design_id, quantity):
                raise Invalid("idempotency key was already used for a different pre-order", field="idempotency_key")
            return earlier, False
    buyer = get_buyer(session, buyer_id)
    design = published_design(session, design_id)
    # A flagged buyer's order, and a rebook of a design its buyer cancelled an order of before, is committed
    # (the book counts it) but neither demand nor trusted by the odds and the feed: cancel-and-rebook moves
    # nothing but the book (`abuse`).
    counts = buyer.flagged_at is None and session.scalar(select(PreOrder.id).where(
        PreOrder.buyer_id == buyer_id, PreOrder.design_id == design_id, PreOrder.status == PreOrderState.CANCELLED,
        PreOrder.counted.is_(False)).limit(1)) is None
    if design.status not in OPEN_STATUSES or design.book_closed_at is not None:
        raise Conflict(f"design {design_id} is {design.status} and its pre-order book is closed")
    spec = DesignSpec.from_dict(design.spec)
    if quantity < spec.moq:
        raise Invalid(f"quantity {quantity} is below this design's minimum order of {spec.moq} pcs", field="quantity")
    if quantity > max_quantity:
        raise Invalid(f"quantity {quantity} is above the {max_quantity} pcs limit per pre-order", field="quantity")
    # The book is checked again in the UPDATE itself: concurrent requests that all read it open above
    # must not slip in after another one closed it (the row lock orders them; the WHERE re-checks).
    moved = session.execute(update(Design).where(Design.id == design_id, *BOOK_OPEN).values(
        committed=Design.committed + quantity, pieces_ordered=Design.pieces_ordered + quantity * counts,
        pre_order_count=Design.pre_order_count + int(counts), untrusted=Design.untrusted + quantity * (not counts)))
    session.refresh(design)
    if moved.rowcount != 1:
        raise Conflict(f"design {design_id} is {design.status} and its pre-order book is closed")
    order = PreOrder(buyer_id=buyer_id, design_id=design_id, quantity=quantity,
                     unit_price_cents=spec.unit_price_cents(design.committed), idempotency_key=idempotency_key,
                     status=PreOrderState.ACTIVE, counted=counts, created_at=now)
    session.add(order)
    session.add(InterestEvent(design_id=design_id, buyer_id=buyer_id, kind="pre_order", quantity=quantity, occurred_at=now,
                              counted=counts))
    try:
        session.flush()
    except IntegrityError:  # a concurrent request with the same key won the race
        raise Conflict("a pre-order with this idempotency key is being created; retry to read it") from None
    if design.committed >= (design.production_threshold or 0):
        _close_book(session, design, now)
    return order, True


def _close_book(session: Session, design: Design, now: datetime) -> None:
    """The threshold is reached: the design has won; confirm every pre-order at the final tier."""
    final = DesignSpec.from_dict(design.spec).unit_price_cents(design.committed)
    session.execute(update(PreOrder).where(PreOrder.design_id == design.id, PreOrder.status == PreOrderState.ACTIVE)
                    .values(status=PreOrderState.CONFIRMED, unit_price_cents=final))
    if design.status == DesignState.PUBLISHED:
        lifecycle.move(session, design, DesignState.WON, values={"decided_at": now}, reason="threshold reached")
    design.book_closed_at, design.p_reach = now, 1.0  # reached: no longer a probability
    design.note = (f"won with {design.committed} pcs committed (threshold {design.production_threshold}); "
                   f"every pre-order pays the tier price {final} cents")


def _drop(session: Session, design: Design, now: datetime, why: str) -> None:
    """The test ended short: release every active pre-order and stop committing pieces. The demand
    counters keep the released pre-orders: their buyers meant them, and decided designs' counters are
    the outcomes that later designs' priors learn from (`designs.demand_priors`)."""
    session.execute(update(PreOrder).where(PreOrder.design_id == design.id, PreOrder.status == PreOrderState.ACTIVE)
                    .values(status=PreOrderState.CANCELLED))
    lifecycle.move(session, design, DesignState.DROPPED, values={"decided_at": now, "committed": 0, "untrusted": 0},
                   reason=why)
    design.note = f"dropped: {why}"


def cancel_preorder(session: Session, buyer_id: int, preorder_id: int) -> PreOrder:
    """active -> cancelled while the design's pre-order book is open (under test, or a provisional
    winner whose book has not reached the threshold). The cancel takes the order's pieces back from
    `committed` and its count and pieces back from the demand counters, so a withdrawn pre-order is no
    longer demand.

    Safe under concurrency: the design row is locked first by an UPDATE that re-checks the open book,
    so a pre-order that closes the book runs either wholly before (the cancel is refused: the order is
    confirmed) or after (the total counts without this order); then the order changes only if it is
    still active, so of two cancels of one order exactly one takes its pieces back.
    """
    order = session.get(PreOrder, preorder_id)
    if order is None or order.buyer_id != buyer_id:
        raise NotFound(f"pre-order {preorder_id} not found for buyer {buyer_id}")
    claimed = claim_design(session, order.design_id, *BOOK_OPEN)
    was_counted = cancelled = False
    if claimed:  # `counted` is re-checked in the statement: a flag may have uncounted the order meanwhile
        for counted in (True, False):
            if session.execute(update(PreOrder).where(
                    PreOrder.id == preorder_id, PreOrder.buyer_id == buyer_id, PreOrder.status == PreOrderState.ACTIVE,
                    PreOrder.counted.is_(counted)).values(status=PreOrderState.CANCELLED, counted=False)
                    .execution_options(synchronize_session=False)).rowcount == 1:
                was_counted, cancelled = counted, True
                break
    if not cancelled:
        session.refresh(order)
        design = session.get(Design, order.design_id, populate_existing=True)
        assert design is not None
        raise Conflict(f"pre-order {preorder_id} can no longer be cancelled: it is {order.status} "
                       f"and the design is {design.status}"
                       + (" with its pre-order book closed" if design.book_closed_at is not None else ""))
    session.execute(update(Design).where(Design.id == order.design_id).values(
        committed=Design.committed - order.quantity,
        pieces_ordered=Design.pieces_ordered - order.quantity * was_counted,
        pre_order_count=Design.pre_order_count - int(was_counted),
        untrusted=Design.untrusted - order.quantity * (not was_counted)))
    session.refresh(order)
    return order


def buyer_preorders(session: Session, buyer_id: int) -> list[PreOrder]:
    get_buyer(session, buyer_id)
    return list(session.scalars(select(PreOrder).where(PreOrder.buyer_id == buyer_id).order_by(PreOrder.id)))


@dataclass(frozen=True)
class Rules:
    """The decision thresholds (from settings)."""

    win_probability: float = 0.9
    drop_probability: float = 0.05
    min_impressions: int = 50


def rules_of(settings: Settings) -> Rules:
    return Rules(settings.win_probability, settings.drop_probability, settings.min_impressions)


def evaluate(session: Session, cache: DemandCache, now: datetime, rng: np.random.Generator,
             rules: Rules = Rules()) -> dict[str, int]:
    """Decide every design whose book is open: won (threshold reached, or P(reach) high), dropped (test
    over short of the threshold, or P(reach) low), or keep testing. Stores P(reach) on each design;
    returns how many designs each verdict newly reached.

    A test is over when its impression budget is spent or its window has closed. P(reach) is the
    probability that the rest of the impression budget brings the missing pieces (`matching.demand`);
    none comes once the window has closed.
    A win by probability is provisional: the design is marked won but keeps its book open, so buyers
    may still pre-order and cancel, and it is re-evaluated here like a design under test until its book
    closes at the threshold; if its test ends short (or P(reach) falls below the drop level) it is
    dropped and its pre-orders released. So no design stays a winner without the pieces to make it.
    """
    cache.sync()
    a = cache.arrays()
    testing = np.flatnonzero(np.isin(a.status, OPEN_STATUSES))  # the cache holds only open books
    if len(testing) == 0:
        return {}
    now64 = np.datetime64(now, "s")
    committed = a.committed[testing]  # the trusted pieces: the cache leaves `Design.untrusted` out
    # A closed window brings no more impressions: P(reach) is then P(already there), so a design (or a
    # provisional winner) whose window closed short is dropped, never won on traffic it will not get.
    closed = a.window_end[testing] <= now64
    remaining = np.where(closed, 0, np.maximum(a.budget[testing] - a.impressions[testing], 0))
    over = remaining == 0
    p = prob_reach(a.posterior().take(testing), committed, a.threshold[testing], remaining, rng)
    outcomes = decide_many(committed, a.threshold[testing], p, a.impressions[testing], over,
                           win_prob=rules.win_probability, drop_prob=rules.drop_probability,
                           min_impressions=rules.min_impressions)
    # One statement stores every P(reach); only designs with a new verdict are loaded. The UPDATE also
    # locks each open design's row, so what is read below is current and no pre-order or cancel can
    # slip in before the verdict is committed (they wait for the row, then re-check the book).
    table = Design.__table__
    session.connection().execute(  # Core executemany, inside the session's transaction
        update(table).where(table.c.id == bindparam("did"), or_(*(table.c.status == st for st in OPEN_STATUSES)),
                            table.c.book_closed_at.is_(None)).values(p_reach=bindparam("pr")),  # no IN: executemany
        [{"did": int(i), "pr": float(pr)} for i, pr in zip(a.ids[testing], p)])
    provisional = (a.status[testing] == DesignState.WON) & (committed < a.threshold[testing])
    counts: dict[str, int] = {}
    for i, was, still_won, pr, done, outcome in zip(a.ids[testing], a.status[testing], provisional, p, over, outcomes):
        if outcome is None or (outcome == DesignState.WON and still_won):
            continue
        design = session.get(Design, int(i))
        if design is None or design.status != was or design.book_closed_at is not None:
            continue  # decided meanwhile by another request
        if outcome == DesignState.WON:
            if design.committed >= (design.production_threshold or 0):
                _close_book(session, design, now)
            elif design.status == DesignState.WON:
                continue
            else:
                lifecycle.move(session, design, DesignState.WON, values={"decided_at": now},
                               reason=f"P(reach) = {pr:.2f}")
                design.note = (f"won: P(reach {design.production_threshold} pcs) = {pr:.2f}; the pre-order "
                               f"book stays open until the threshold is reached, or the design is dropped "
                               f"if its test ends short")
        else:
            _drop(session, design, now, f"{design.committed} of {design.production_threshold} pcs, "
                  + ("test over" if done else f"P(reach) = {pr:.3f}"))
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def decide(sessions: sessionmaker[Session], cache: DemandCache, now: datetime, rng: np.random.Generator,
           rules: Rules = Rules(), screen_rules: abuse.ScreenRules = abuse.ScreenRules()) -> dict[str, int]:
    """One decision round, as the server's timer, the decide endpoint and page, and the simulator run it:
    screen the buyers first (`abuse.screen`), in a transaction of its own, so that what a newly flagged
    buyer counted is out of the counters the decisions read (the feed's cache reads committed rows), then
    `evaluate`. The verdict counts gain "flagged": how many buyers were newly flagged, when any were."""
    with transaction(sessions) as s:
        flags = abuse.screen(s, now, screen_rules)
    with transaction(sessions) as s:
        out = evaluate(s, cache, now, rng, rules)
    if flags:
        out["flagged"] = len(flags)
    return out


def stats(session: Session, design_ids: Sequence[int]) -> dict[int, InterestStats]:
    """Event counts (of buyers not flagged) and committed quantity per design."""
    counts: dict[int, dict[str, int]] = {i: {} for i in design_ids}
    q = (select(InterestEvent.design_id, InterestEvent.kind, func.count())
         .join(Buyer, Buyer.id == InterestEvent.buyer_id)  # a flagged buyer's events are weighted to zero
         .where(InterestEvent.design_id.in_(design_ids), InterestEvent.counted.is_(True), Buyer.flagged_at.is_(None))
         .group_by(InterestEvent.design_id, InterestEvent.kind))
    for did, kind, n in session.execute(q):
        counts[did][kind] = n
    committed = dict(session.execute(select(Design.id, Design.committed).where(Design.id.in_(design_ids))).all())
    return {i: InterestStats.from_counts(counts[i], committed.get(i, 0)) for i in design_ids}


def event_counts(session: Session) -> dict[str, int]:
    """Events that counted, per kind (`InterestEvent.counted`)."""
    return dict(session.execute(select(InterestEvent.kind, func.count()).where(InterestEvent.counted.is_(True))
                                .group_by(InterestEvent.kind)).all())


def preorder_counts(session: Session) -> dict[str, int]:
    return dict(session.execute(select(PreOrder.status, func.count()).group_by(PreOrder.status)).all())

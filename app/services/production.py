"""From winner to shipped goods: factory registry, matching + allocation, and the factory inbox."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import zip_longest

import numpy as np
from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from generation.concepts.spec import DesignSpec
from generation.taxonomy import Taxonomy
from matching.allocation.problem import AllocationRow
from matching.factories.constraints import Candidate, candidates
from matching.factories.estimates import EstimateRules, with_estimates
from matching.factories.orders import Order, check_orders
from matching.factories.planner import MatchPlan
from matching.factories.registry import Factory
from matching.factories.shortlist import CandidateRow

from app import lifecycle
from app.errors import Conflict, Invalid, NotFound
from app.lifecycle import LOADED, OPEN_ORDER, DesignState, OrderState, PreOrderState
from app.models import Design, FactoryOrder, FactoryRow, PreOrder, utcnow
from app.services import planning
from app.settings import FACTORY_MOQ_BY_FACILITY_TYPE, FACTORY_OUTPUT_PER_WORKER, Settings
from app.workspace import Workspace



UNMATCHED = "unmatched: "  # how the note of a winner that matching placed nowhere begins


def estimate_rules(settings: Settings) -> EstimateRules:
    """The figures behind factory estimates (`matching.factories.estimates`), from the settings."""
    return EstimateRules(settings.factory_output_per_worker, settings.factory_moq_by_facility_type,
                         settings.factory_workers_assumed, settings.factory_quality_assumed,
                         settings.factory_price_index_assumed)


# The shipped figures, for callers that plan without a workspace's settings at hand.
DEFAULT_RULES = EstimateRules(FACTORY_OUTPUT_PER_WORKER, FACTORY_MOQ_BY_FACILITY_TYPE)


def import_factories(session: Session, factories: Iterable[Factory], *, sources: Iterable[str] = ()) -> int:
    """Insert or update every factory of trendloom's own format (the caller's transaction makes it all or
    nothing); `sources` (one "file:line" per factory, optional) say where each came from."""
    n = 0
    for f, src in zip_longest(factories, sources):
        if f is None:
            break
        session.merge(FactoryRow(
            id=f.factory_id, name=f.name, country=f.country, region=f.region, city=f.city,
            categories=list(f.categories), materials=_listed(f.materials), processes=_listed(f.processes),
            moq=f.moq, capacity=f.capacity, lead_time_days=f.lead_time_days, quality=f.quality,
            price_index=f.price_index, small_batch=f.small_batch, workers=f.workers, address=f.address,
            facility_type=f.facility_type, supplies_materials=f.supplies_materials, categories_from="registry",
            sectors=[], product_types=[], parent_company="", sources=[src] if src else [],
        ))
        n += 1
    return n


def _listed(items: tuple[str, ...] | None) -> list[str] | None:
    return None if items is None else list(items)


def factory_of(row: FactoryRow, rules: EstimateRules | None = None) -> Factory:
    """The registry profile of a stored factory, with estimates (`rules`, default the shipped figures)
    for the numbers its registry did not give."""
    f = Factory(row.id, row.name, row.country, row.region, tuple(row.categories),
                None if row.materials is None else tuple(row.materials),
                None if row.processes is None else tuple(row.processes), row.moq, row.capacity, row.lead_time_days,
                row.quality, row.price_index, row.city, row.small_batch, row.workers, row.address or "",
                row.facility_type or "", bool(row.supplies_materials))
    return with_estimates([f], rules or DEFAULT_RULES)[0]


def factories(session: Session, rules: EstimateRules | None = None) -> list[Factory]:
    """The workspace's registry, unknown numbers estimated with `rules` (default the shipped figures)."""
    return [factory_of(r, rules) for r in session.scalars(select(FactoryRow).order_by(FactoryRow.id))]


def get_factory(session: Session, factory_id: str) -> FactoryRow:
    row = session.get(FactoryRow, factory_id)
    if row is None:
        raise NotFound(f"factory {factory_id!r} not found")
    return row


def capable(registry: list[Factory], taxonomy: Taxonomy, spec: DesignSpec, *, cost_share: float) -> list[Factory]:
    """Factories that could make `spec` at all (any quantity above their MOQ, free capacity ignored)."""
    req = planning.requirement_for(spec, taxonomy, quantity=10**9, cost_share=cost_share)
    return [c.factory for c in candidates(registry, req, {}) if c.feasible]


def used_capacity(session: Session, statuses: tuple[str, ...] = OPEN_ORDER) -> dict[str, int]:
    """Pieces per factory held by orders in `statuses`."""
    q = (select(FactoryOrder.factory_id, func.sum(FactoryOrder.quantity))
         .where(FactoryOrder.status.in_(statuses)).group_by(FactoryOrder.factory_id))
    return {fid: int(q_) for fid, q_ in session.execute(q)}


@dataclass
class MatchResult:
    design_id: int
    orders: list[FactoryOrder] = field(default_factory=list)
    candidates: list[CandidateRow] = field(default_factory=list)
    unmatched_reason: str = ""  # why some or all of the quantity found no factory ("" when all placed)


@dataclass(frozen=True)
class Demand:
    """A quantity of one design to offer: which batch (1 = pre-orders, 2.. = reorders) and who declined."""

    design: Design
    quantity: int
    batch: int = 1
    exclude: frozenset[str] = frozenset()


def declined_by(session: Session, design_id: int) -> frozenset[str]:
    """Factories that declined this design before (never offered it again)."""
    return frozenset(session.scalars(select(FactoryOrder.factory_id).where(
        FactoryOrder.design_id == design_id, FactoryOrder.status == OrderState.DECLINED)))


def offer(session: Session, ws: Workspace, demands: list[Demand], *, now: datetime) -> list[MatchResult]:
    """Plan every demand together (shared free capacity, `planning.plan`) and create the offered orders.

    Free capacity = capacity - pieces held by open orders (offered, accepted, in production). Each order
    gets the design's next round number; what could not be placed is in `unmatched_reason`."""
    registry = factories(session, estimate_rules(ws.settings))
    if not registry:
        return [MatchResult(d.design.id, unmatched_reason="no factories in the registry: import one first")
                for d in demands]
    used = used_capacity(session)
    free = np.array([f.plan_capacity - used.get(f.factory_id, 0) for f in registry], dtype=np.int64)
    needs = [planning.spec_need(d.design.id, DesignSpec.from_dict(d.design.spec), ws.taxonomy, quantity=d.quantity,
                                cost_share=ws.settings.cost_share, exclude=d.exclude) for d in demands]
    plan = planning.plan(ws, registry, needs, free)
    rows: dict[str, list[AllocationRow]] = {}
    for r in plan.rows():
        rows.setdefault(r.design_id, []).append(r)
    left = {u.design_id: u for u in plan.unplaced}
    results = []
    for d, need in zip(demands, needs):
        key = str(d.design.id)
        res = MatchResult(d.design.id, candidates=plan.candidates[key])
        if key in left:
            res.unmatched_reason = f"{left[key].quantity} pcs unplaced: {left[key].reason}"
        round_ = 1 + (session.scalar(select(func.max(FactoryOrder.round)).where(
            FactoryOrder.design_id == d.design.id)) or 0)
        due = (now + timedelta(days=need.requirement.due_in_days)).date()
        for a in rows.get(key, []):
            order = FactoryOrder(design_id=d.design.id, factory_id=a.factory_id, round=round_, batch=d.batch,
                                 quantity=a.quantity, unit_price_cents=a.unit_cost_cents, due_date=due,
                                 status=OrderState.OFFERED)
            session.add(order)
            res.orders.append(order)
        results.append(res)
    session.flush()
    return results


def why_none(cands: list[Candidate], category: str) -> str:
    """The commonest reasons the factories that make the category were rejected."""
    makers = [c for c in cands if f"ok: makes {category}" in c.reasons]
    if not makers:
        return f"no factory in the registry makes {category}"
    tally: dict[str, int] = {}
    for c in makers:
        for r in c.reasons:
            if r.startswith("rejected: "):
                key = r.removeprefix("rejected: ").split(" (")[0]
                tally[key] = tally.get(key, 0) + 1
    top = sorted(tally.items(), key=lambda kv: -kv[1])[:3]
    return f"none of the {len(makers)} factories making {category} qualifies: " + "; ".join(
        f"{k} ({v})" for k, v in top)


def plan_orders(session: Session, ws: Workspace, orders: list[Order], *, exact: bool,
                time_limit_s: float | None = None) -> MatchPlan:
    """Plan `orders` on the workspace's registry with the free capacity it has now (unknown capacities
    and MOQs estimated by the settings' rules); nothing is stored. Orders are checked against the
    taxonomy first (OrderDataError naming the item and the known names)."""
    checked = check_orders(orders, planning.vocabulary(ws.taxonomy), file="orders", unit="item")
    registry = factories(session, estimate_rules(ws.settings))
    if not registry:
        raise Conflict("no factories in the registry: import one first")
    used = used_capacity(session)
    free = np.array([f.plan_capacity - used.get(f.factory_id, 0) for f in registry], dtype=np.int64)
    needs = [planning.order_need(o, ws.taxonomy, cost_share=ws.settings.cost_share) for o in checked]
    return planning.plan(ws, registry, needs, free, solver="both" if exact else "heuristic", time_limit_s=time_limit_s)


def live_quantity(session: Session, design_id: int, batch: int) -> int:
    """Pieces of `batch` of the design in orders that were not declined or withdrawn (offered or later)."""
    return int(session.scalar(select(func.coalesce(func.sum(FactoryOrder.quantity), 0)).where(
        FactoryOrder.design_id == design_id, FactoryOrder.batch == batch,
        FactoryOrder.status.in_(lifecycle.LIVE_ORDER))) or 0)


def match_winners(session: Session, ws: Workspace, *, now: datetime) -> list[MatchResult]:
    """Offer every winner whose pre-order book has closed (threshold reached) to factories, all of them
    together in one joint allocation over the factories' shared free capacity. The quantity offered is
    the confirmed pre-orders minus what live orders of the first batch already hold, so a winner left
    partly unplaced (or whose decline found no taker) is offered the rest on the next run. Designs with
    orders move to `matched`; winners still filling their book wait.

    Safe under concurrent runs (and declines): each design is claimed (`claim_design`) before its
    book and its live orders are read, so a second run waits for the first to commit and then finds
    nothing left to offer. Designs are claimed in id order, so two runs cannot deadlock."""
    is_ready = (Design.status.in_((DesignState.WON, DesignState.MATCHED)), Design.book_closed_at.is_not(None))
    demands = []
    for design in list(session.scalars(select(Design).where(*is_ready).order_by(Design.id))):
        if not claim_design(session, design.id, *is_ready):
            continue  # another transaction moved it on (e.g. into production) before the claim
        session.refresh(design)
        confirmed = session.scalar(select(func.sum(PreOrder.quantity)).where(
            PreOrder.design_id == design.id, PreOrder.status == PreOrderState.CONFIRMED)) or 0
        rest = int(confirmed) - live_quantity(session, design.id, 1)
        if rest > 0:
            demands.append(Demand(design, rest, 1, declined_by(session, design.id)))
    if not demands:
        return []
    results = offer(session, ws, demands, now=now)
    for d, res in zip(demands, results):
        n = len({o.factory_id for o in res.orders})
        if res.orders:
            if d.design.status != DesignState.MATCHED:
                lifecycle.move(session, d.design, DesignState.MATCHED, reason=f"offered to {n} factories")
            d.design.note = f"offered to {n} factor{'y' if n == 1 else 'ies'}" + (
                f"; {res.unmatched_reason}" if res.unmatched_reason else "")
        else:
            d.design.note = f"{UNMATCHED}{res.unmatched_reason}"
    return results


def order_for_factory(session: Session, factory_id: str, order_id: int) -> FactoryOrder:
    """The order, if it belongs to this factory (404 otherwise, so other factories' orders do not leak)."""
    get_factory(session, factory_id)
    order = session.get(FactoryOrder, order_id)
    if order is None or order.factory_id != factory_id:
        raise NotFound(f"order {order_id} not found for factory {factory_id!r}")
    return order


def inbox(session: Session, factory_id: str, status: str | None = None) -> list[FactoryOrder]:
    get_factory(session, factory_id)
    q = select(FactoryOrder).where(FactoryOrder.factory_id == factory_id).order_by(FactoryOrder.id)
    if status is not None:
        q = q.where(FactoryOrder.status == status)
    return list(session.scalars(q))


def accept(session: Session, factory_id: str, order_id: int) -> FactoryOrder:
    """offered -> accepted, if the factory's committed load stays within its monthly capacity.

    Safe under concurrent accepts: the check and the write are one conditional UPDATE (`lifecycle.move`
    with the load as a condition), after the factory row is locked (SELECT ... FOR UPDATE on PostgreSQL,
    so a second accept waits and then sees the first one's load; SQLite runs one writer at a time, so the
    statement itself is atomic)."""
    order = order_for_factory(session, factory_id, order_id)
    lifecycle.require("order", order.id, order.status, OrderState.ACCEPTED)
    _lock_factory(session, factory_id)
    load = _committed_load(factory_id)
    capacity = select(FactoryRow.capacity).where(FactoryRow.id == factory_id).scalar_subquery()
    # A factory whose capacity the registry did not give knows it best: its accept is its word.
    fits = or_(capacity.is_(None), load + FactoryOrder.quantity <= capacity)
    if lifecycle.move(session, order, OrderState.ACCEPTED, where=[fits], values={"updated_at": utcnow()}) is None:
        factory = get_factory(session, factory_id)
        session.refresh(factory)
        now = used_capacity(session, LOADED).get(factory_id, 0)
        raise Conflict(f"accepting {order.quantity} pcs would load {factory_id} to {now + order.quantity} "
                       f"of its {factory.capacity} pcs capacity")
    return order


def decline(session: Session, ws: Workspace, factory_id: str, order_id: int, reason: str, *,
            now: datetime) -> MatchResult:
    """offered -> declined, and offer the same quantity (same batch) to other factories, never to one
    that declined this design before. When nobody takes it and no order of the design is live any more,
    the design follows its orders (`follow_design`: a first batch declined by all is a winner again,
    waiting in the merchandiser's needs-attention queue, never "matched" to nobody).

    Safe under concurrent declines, accepts and matching: the design is claimed first (`claim_design`:
    re-offers of one design run one at a time, so each sees the others' orders and takes the next round),
    then the order moves with one conditional UPDATE (`lifecycle.move`), so of two declines, or an
    accept and a decline, of one order exactly one moves it and the other gets a 409."""
    order = order_for_factory(session, factory_id, order_id)
    lifecycle.require("order", order.id, order.status, OrderState.DECLINED)
    if not reason.strip():
        raise Invalid("a decline needs a reason", field="reason")
    claim_design(session, order.design_id)
    lifecycle.move(session, order, OrderState.DECLINED, values={"decline_reason": reason.strip(),
                                                                "updated_at": utcnow()}, reason=reason.strip())
    design = session.get(Design, order.design_id)
    assert design is not None
    (res,) = offer(session, ws, [Demand(design, order.quantity, order.batch, declined_by(session, design.id))], now=now)
    if not res.orders:
        design.note = f"{order.quantity} pcs unmatched after decline by {factory_id}: {res.unmatched_reason}"
        follow_design(session, design, reason=design.note)
    return res


def update_status(session: Session, factory_id: str, order_id: int, status: str,
                  shipped_quantity: int | None = None) -> FactoryOrder:
    """accepted -> in_production -> shipped (with the shipped quantity); the design follows its orders.

    Safe under concurrent reports: the move is one conditional UPDATE from the status it leaves
    (`lifecycle.move`), so of two reports of one step (two "shipped" with different quantities, say)
    exactly one moves the order and stores its quantity, and the other gets a 409: nothing is overwritten.
    The design row is claimed first (`claim_design`), so reports on two orders of one design set its
    status one at a time."""
    order = order_for_factory(session, factory_id, order_id)
    reportable = (OrderState.IN_PRODUCTION, OrderState.SHIPPED)
    if status not in reportable:
        raise Invalid(f"status must be one of {', '.join(reportable)}, not {status}", field="status")
    if status == OrderState.SHIPPED and (shipped_quantity is None or not 0 < shipped_quantity <= order.quantity):
        raise Invalid(f"shipped_quantity must be between 1 and the ordered {order.quantity} pcs",
                      field="shipped_quantity")
    claim_design(session, order.design_id)
    values: dict[str, object] = {"updated_at": utcnow()}
    if status == OrderState.SHIPPED:
        values["shipped_quantity"] = shipped_quantity
    lifecycle.move(session, order, status, values=values, where=[FactoryOrder.factory_id == factory_id])
    design = session.get(Design, order.design_id)
    assert design is not None
    follow_design(session, design)
    return order


def follow_design(session: Session, design: Design, *, reason: str = "") -> None:
    """Move the design to the state its live orders say (`lifecycle.follow_orders`), and say so in its note;
    a design with no live order left is a winner again (its first batch placed nowhere). The design row
    must be claimed (`claim_design`)."""
    live = [(b, s) for b, s in session.execute(select(FactoryOrder.batch, FactoryOrder.status).where(
        FactoryOrder.design_id == design.id, FactoryOrder.status.in_(lifecycle.LIVE_ORDER)))]
    target = lifecycle.follow_orders(live) or DesignState.WON
    if target == design.status:
        return
    lifecycle.move(session, design, target, reason=reason)
    shipped = sum(session.scalars(select(FactoryOrder.shipped_quantity).where(
        FactoryOrder.design_id == design.id, FactoryOrder.status == OrderState.SHIPPED)))
    factories_ = len({f for f in session.scalars(select(FactoryOrder.factory_id).where(
        FactoryOrder.design_id == design.id, FactoryOrder.status.in_(lifecycle.LIVE_ORDER)))})
    if target == DesignState.SHIPPED:
        design.note = f"shipped {shipped} pcs from {factories_} factor{'y' if factories_ == 1 else 'ies'}"
    elif target == DesignState.IN_PRODUCTION:
        design.note = (f"in production at {factories_} factor{'y' if factories_ == 1 else 'ies'}"
                       + (f"; {shipped} pcs shipped so far" if shipped else ""))


def claim_design(session: Session, design_id: int, *conditions: ColumnElement[bool]) -> bool:
    """Hold the design's row until the transaction ends, if it meets `conditions`; False if it does not.

    The claim is an UPDATE that changes nothing (it keeps `updated_at`, so the buyer feed does not
    resync): on PostgreSQL it takes the row lock, so a second claimant waits for the first to commit
    and its later statements see the first one's orders; on SQLite, where reads run outside a
    transaction until the first write, it takes the database's write lock before anything is read.
    Matching and decline re-offers claim the design first, and so does a pre-order cancel
    (`interest.cancel_preorder`); a sale report that reorders holds the same row with FOR UPDATE
    (`reorders.record_sale`)."""
    return session.execute(
        update(Design).where(Design.id == design_id, *conditions).values(updated_at=Design.updated_at)
        .execution_options(synchronize_session=False)).rowcount == 1


def _lock_factory(session: Session, factory_id: str) -> None:
    """Lock the factory row until the transaction ends (FOR UPDATE on PostgreSQL; SQLite has one writer
    at a time). Every change to a factory's load or capacity takes this lock first, so a capacity change
    and an accept cannot both pass their check against the other's old value."""
    session.execute(select(FactoryRow.id).where(FactoryRow.id == factory_id).with_for_update())


def _committed_load(factory_id: str):  # noqa: ANN202 - a SQL expression
    """SQL: the pieces `factory_id` has committed to (accepted or in production)."""
    other = aliased(FactoryOrder)
    return (select(func.coalesce(func.sum(other.quantity), 0))
            .where(other.factory_id == factory_id, other.status.in_(LOADED)).scalar_subquery())


def set_capacity(session: Session, factory_id: str, capacity: int) -> FactoryRow:
    """Change a factory's monthly capacity (pieces). It may not drop below the factory's MOQ, nor below
    the pieces it has already committed to (accepted or in production).

    Safe against concurrent accepts in the same way as `accept`: the factory row is locked, then the
    check and the write are one conditional UPDATE, so the load it checks is the load it writes under."""
    factory = get_factory(session, factory_id)
    if capacity > 10**9:
        raise Invalid("capacity must be at most 1,000,000,000 pcs", field="capacity")
    _lock_factory(session, factory_id)
    load = _committed_load(factory_id)
    moved = session.execute(
        update(FactoryRow)
        .where(FactoryRow.id == factory_id, or_(FactoryRow.moq.is_(None), FactoryRow.moq <= capacity),
               load <= capacity)
        .values(capacity=capacity)
        .execution_options(synchronize_session=False)).rowcount
    session.refresh(factory)
    if moved == 0:
        now = used_capacity(session, LOADED).get(factory_id, 0)
        moq = factory.moq or 1
        raise Invalid(f"capacity must be at least {max(moq, now)} pcs: the MOQ is "
                      f"{'not known' if factory.moq is None else f'{moq} pcs'} and {now} pcs are committed",
                      field="capacity")
    return factory


def counts(session: Session) -> dict[str, int]:
    return dict(session.execute(select(FactoryOrder.status, func.count()).group_by(FactoryOrder.status)).all())

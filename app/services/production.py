"""From winner to shipped goods: factory registry, matching + allocation, and the factory inbox."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, aliased

from generation.concepts.spec import DesignSpec
from generation.taxonomy import Taxonomy
from matching.allocate import Offer, allocate
from matching.factories.constraints import Candidate, Requirement, candidates
from matching.factories.registry import Factory

from app.errors import Conflict, Invalid, NotFound
from app.models import Design, FactoryOrder, FactoryRow, PreOrder, utcnow

OPEN_ORDER = ("offered", "accepted", "in_production")  # orders that hold factory capacity
LOADED = ("accepted", "in_production")  # orders a factory has committed to


def import_factories(session: Session, factories: Iterable[Factory]) -> int:
    """Insert or update every factory (the caller's transaction makes it all or nothing)."""
    n = 0
    for f in factories:
        session.merge(FactoryRow(
            id=f.factory_id, name=f.name, country=f.country, region=f.region, city=f.city,
            categories=list(f.categories), materials=list(f.materials), processes=list(f.processes),
            moq=f.moq, capacity=f.capacity, lead_time_days=f.lead_time_days, quality=f.quality,
            price_index=f.price_index, small_batch=f.small_batch, workers=f.workers,
        ))
        n += 1
    return n


def _factory(row: FactoryRow) -> Factory:
    return Factory(row.id, row.name, row.country, row.region, tuple(row.categories), tuple(row.materials),
                   tuple(row.processes), row.moq, row.capacity, row.lead_time_days, row.quality,
                   row.price_index, row.city, row.small_batch, row.workers)


def factories(session: Session) -> list[Factory]:
    return [_factory(r) for r in session.scalars(select(FactoryRow).order_by(FactoryRow.id))]


def get_factory(session: Session, factory_id: str) -> FactoryRow:
    row = session.get(FactoryRow, factory_id)
    if row is None:
        raise NotFound(f"factory {factory_id!r} not found")
    return row


def requirement_for(spec: DesignSpec, taxonomy: Taxonomy, *, quantity: int, cost_share: float,
                    due_in_days: int | None = None) -> Requirement:
    """What making `quantity` pieces of `spec` needs; cost = `cost_share` of the largest tier's price."""
    return Requirement(
        category=spec.category,
        materials=(spec.material,),
        processes=tuple(spec.required_processes(taxonomy)),
        quantity=quantity,
        due_in_days=due_in_days if due_in_days is not None else taxonomy.category(spec.category).due_days,
        base_unit_cost_cents=int(round(spec.price_tiers[-1].unit_price_cents * cost_share)),
    )


def capable(registry: list[Factory], taxonomy: Taxonomy, spec: DesignSpec, *, cost_share: float) -> list[Factory]:
    """Factories that could make `spec` at all (any quantity above their MOQ, free capacity ignored)."""
    req = requirement_for(spec, taxonomy, quantity=10**9, cost_share=cost_share)
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
    candidates: list[Candidate] = field(default_factory=list)
    unmatched_reason: str = ""


def _offer(session: Session, taxonomy: Taxonomy, design: Design, quantity: int, *, now: datetime,
           cost_share: float, split_cost_cents: int, round_: int) -> MatchResult:
    """Allocate `quantity` of `design` across capable factories and create offered orders."""
    spec = DesignSpec.from_dict(design.spec)
    req = requirement_for(spec, taxonomy, quantity=quantity, cost_share=cost_share)
    declined = set(session.scalars(select(FactoryOrder.factory_id).where(
        FactoryOrder.design_id == design.id, FactoryOrder.status == "declined")))
    cands = candidates(factories(session), req, used_capacity(session), exclude=declined)
    feasible = [c for c in cands if c.feasible]
    result = MatchResult(design.id, candidates=cands)
    plan = allocate(quantity, [Offer(c.factory.factory_id, c.unit_cost_cents, c.factory.moq, c.max_quantity)
                               for c in feasible], split_cost_cents=split_cost_cents)
    if not plan:
        result.unmatched_reason = (
            f"no combination of the {len(feasible)} capable factories can take {quantity} pcs" if feasible
            else why_none(cands, req.category))
        return result
    due = (now + timedelta(days=req.due_in_days)).date()
    for a in plan:
        order = FactoryOrder(design_id=design.id, factory_id=a.factory_id, round=round_, quantity=a.quantity,
                             unit_price_cents=a.unit_cost_cents, due_date=due, status="offered")
        session.add(order)
        result.orders.append(order)
    session.flush()
    return result


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


def match_winners(session: Session, taxonomy: Taxonomy, *, now: datetime, cost_share: float,
                  split_cost_cents: int) -> list[MatchResult]:
    """Offer every winner whose pre-order book has closed (threshold reached) to factories;
    matched designs move to `matched`. Winners still filling their book wait."""
    results = []
    ready = select(Design).where(Design.status == "won", Design.book_closed_at.is_not(None)).order_by(Design.id)
    for design in session.scalars(ready):
        quantity = session.scalar(select(func.sum(PreOrder.quantity)).where(
            PreOrder.design_id == design.id, PreOrder.status == "confirmed")) or 0
        res = _offer(session, taxonomy, design, quantity, now=now, cost_share=cost_share,
                     split_cost_cents=split_cost_cents, round_=1)
        if res.orders:
            design.status = "matched"
            design.note = f"offered to {len(res.orders)} factor{'y' if len(res.orders) == 1 else 'ies'}"
        else:
            design.note = f"unmatched: {res.unmatched_reason}"
        results.append(res)
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

    Safe under concurrent accepts: the check and the write are one conditional UPDATE, after the
    factory row is locked (SELECT ... FOR UPDATE on PostgreSQL, so a second accept waits and then
    sees the first one's load; SQLite runs one writer at a time, so the statement itself is atomic)."""
    order = order_for_factory(session, factory_id, order_id)
    if order.status != "offered":
        raise Conflict(f"order {order_id} is {order.status}; only offered orders can be accepted")
    _lock_factory(session, factory_id)
    load = _committed_load(factory_id)
    capacity = select(FactoryRow.capacity).where(FactoryRow.id == factory_id).scalar_subquery()
    moved = session.execute(
        update(FactoryOrder)
        .where(FactoryOrder.id == order_id, FactoryOrder.status == "offered", load + FactoryOrder.quantity <= capacity)
        .values(status="accepted", updated_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount
    session.refresh(order)
    if moved == 0:
        if order.status != "offered":
            raise Conflict(f"order {order_id} is {order.status}; only offered orders can be accepted")
        factory = get_factory(session, factory_id)
        session.refresh(factory)
        now = used_capacity(session, LOADED).get(factory_id, 0)
        raise Conflict(f"accepting {order.quantity} pcs would load {factory_id} to {now + order.quantity} "
                       f"of its {factory.capacity} pcs capacity")
    return order


def decline(session: Session, taxonomy: Taxonomy, factory_id: str, order_id: int, reason: str, *,
            now: datetime, cost_share: float, split_cost_cents: int) -> MatchResult:
    """offered -> declined, and offer the same quantity to other factories (never this one again)."""
    order = order_for_factory(session, factory_id, order_id)
    if order.status != "offered":
        raise Conflict(f"order {order_id} is {order.status}; only offered orders can be declined")
    if not reason.strip():
        raise Invalid("a decline needs a reason", field="reason")
    order.status, order.decline_reason = "declined", reason.strip()
    session.flush()
    design = session.get(Design, order.design_id)
    assert design is not None
    res = _offer(session, taxonomy, design, order.quantity, now=now, cost_share=cost_share,
                 split_cost_cents=split_cost_cents, round_=order.round + 1)
    if not res.orders:
        design.note = f"{order.quantity} pcs unmatched after decline by {factory_id}: {res.unmatched_reason}"
    return res


def update_status(session: Session, factory_id: str, order_id: int, status: str,
                  shipped_quantity: int | None = None) -> FactoryOrder:
    """accepted -> in_production -> shipped (with the shipped quantity); the design follows."""
    order = order_for_factory(session, factory_id, order_id)
    allowed = {"accepted": "in_production", "in_production": "shipped"}
    if allowed.get(order.status) != status:
        raise Conflict(f"order {order_id} is {order.status}; it can move to "
                       f"{allowed.get(order.status, 'nothing further')}, not {status}")
    if status == "shipped":
        if shipped_quantity is None or not 0 < shipped_quantity <= order.quantity:
            raise Invalid(f"shipped_quantity must be between 1 and the ordered {order.quantity} pcs",
                          field="shipped_quantity")
        order.shipped_quantity = shipped_quantity
    order.status = status
    session.flush()
    design = session.get(Design, order.design_id)
    assert design is not None
    live = [o.status for o in session.scalars(select(FactoryOrder).where(
        FactoryOrder.design_id == design.id, FactoryOrder.status != "declined"))]
    if live and all(s == "shipped" for s in live):
        design.status = "shipped"
    elif any(s in ("in_production", "shipped") for s in live):
        design.status = "in_production"
    return order


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
        .where(FactoryRow.id == factory_id, FactoryRow.moq <= capacity, load <= capacity)
        .values(capacity=capacity)
        .execution_options(synchronize_session=False)).rowcount
    session.refresh(factory)
    if moved == 0:
        now = used_capacity(session, LOADED).get(factory_id, 0)
        raise Invalid(f"capacity must be at least {max(factory.moq, now)} pcs: the MOQ is {factory.moq} pcs "
                      f"and {now} pcs are committed", field="capacity")
    return factory


def counts(session: Session) -> dict[str, int]:
    return dict(session.execute(select(FactoryOrder.status, func.count()).group_by(FactoryOrder.status)).all())

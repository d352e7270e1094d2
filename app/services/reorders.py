"""Produce to sales: sell-through of shipped designs, and a reorder when it crosses the threshold.

A merchandiser (or admin) reports pieces sold of a shipped design. Sell-through = pieces sold / pieces
shipped, over every batch. When the design is fully shipped (no order of any batch still open) and its
sell-through reaches `reorder_sell_through` (default 0.7), a reorder is created for the next batch:
`reorder_multiple` (default 1.0) x the pieces sold since the previous reorder, rounded up. It goes to
the factory that shipped most of the last batch first, as one order at its unit cost, if that factory
still passes every hard constraint for it (free capacity included); otherwise it is matched to the
other factories by the joint planner, that factory excluded.

One reorder per design and batch: the `reorders` row is unique on (design, batch), the design row is
locked while a report is recorded, and once the reorder's orders exist the design is no longer fully
shipped, so crossing the threshold again (or twice at once) never creates a second reorder.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from generation.concepts.spec import DesignSpec
from matching.factories.constraints import check_factory

from app import lifecycle
from app.errors import Conflict, Invalid, NotFound
from app.lifecycle import DesignState, OrderState
from app.models import Design, FactoryOrder, FactoryRow, Reorder, Sale
from app.services import planning, production
from app.workspace import Workspace


@dataclass
class SalesResult:
    """Totals after a sales report, and the reorder (with its offered orders) it triggered, if any."""

    design_id: int
    sold: int
    shipped: int
    reorder: Reorder | None = None
    orders: list[FactoryOrder] = field(default_factory=list)

    @property
    def sell_through(self) -> float:
        return self.sold / self.shipped if self.shipped else 0.0


@dataclass
class SalesSummary:
    """A design's selling so far, as its page shows it: pieces shipped and sold over every batch, and each
    reorder with the factory orders of its batch (the factories' names in `factory_names`)."""

    sold: int
    shipped: int
    reorders: list[tuple[Reorder, list[FactoryOrder]]]
    factory_names: dict[str, str]

    @property
    def sell_through(self) -> float:
        return self.sold / self.shipped if self.shipped else 0.0

    @property
    def unsold(self) -> int:
        """Pieces shipped and not reported sold: the most the next report may add."""
        return self.shipped - self.sold


def summary(session: Session, design_id: int) -> SalesSummary:
    """Shipped, sold and reorders of a design (zeros and none before anything shipped)."""
    sold, shipped = _totals(session, design_id)
    rows = session.scalars(select(Reorder).where(Reorder.design_id == design_id).order_by(Reorder.batch)).all()
    orders = session.scalars(select(FactoryOrder).where(FactoryOrder.design_id == design_id, FactoryOrder.batch > 1)
                             .order_by(FactoryOrder.id)).all()
    return SalesSummary(sold, shipped, [(r, [o for o in orders if o.batch == r.batch]) for r in rows],
                        factory_names(session, {o.factory_id for o in orders}))


def factory_names(session: Session, factory_ids: set[str]) -> dict[str, str]:
    """Each factory's name by its id (to say who a reorder was offered to)."""
    if not factory_ids:
        return {}
    rows = session.execute(select(FactoryRow.id, FactoryRow.name).where(FactoryRow.id.in_(factory_ids)))
    return {factory_id: name for factory_id, name in rows}


def _totals(session: Session, design_id: int) -> tuple[int, int]:
    """(pieces sold, pieces shipped) of a design, all batches."""
    sold = session.scalar(select(func.coalesce(func.sum(Sale.quantity), 0)).where(Sale.design_id == design_id))
    shipped = session.scalar(select(func.coalesce(func.sum(FactoryOrder.shipped_quantity), 0)).where(
        FactoryOrder.design_id == design_id, FactoryOrder.status == OrderState.SHIPPED))
    return int(sold or 0), int(shipped or 0)


def record_sale(session: Session, ws: Workspace, design_id: int, quantity: int, *, user_id: int | None,
                now: datetime) -> SalesResult:
    """Add `quantity` pieces sold of a shipped design, then reorder if sell-through crossed the threshold.
    Refused (409) before anything shipped, and (422) if the pieces sold would exceed those shipped."""
    if quantity < 1:
        raise Invalid("quantity must be a whole number of pieces above 0", field="quantity")
    design = session.get(Design, design_id)
    if design is None:
        raise NotFound(f"design {design_id} not found")
    # One report per design at a time: the row lock on PostgreSQL; on SQLite the INSERT below takes the
    # database's write lock before the totals are read.
    session.execute(select(Design.id).where(Design.id == design_id).with_for_update())
    session.add(Sale(design_id=design_id, quantity=quantity, reported_by=user_id, reported_at=now))
    session.flush()
    sold, shipped = _totals(session, design_id)
    if shipped == 0:
        raise Conflict(f"design {design_id} has shipped nothing yet; sales are reported for shipped pieces")
    if sold > shipped:
        raise Invalid(f"{sold} pcs sold would exceed the {shipped} pcs shipped ({shipped - sold + quantity} unsold "
                      "before this report)", field="quantity")
    result = SalesResult(design_id, sold, shipped)
    _maybe_reorder(session, ws, design, result, now=now)
    return result


def _maybe_reorder(session: Session, ws: Workspace, design: Design, result: SalesResult, *, now: datetime) -> None:
    """Create the next batch's reorder when the module docstring's conditions hold."""
    st = ws.settings
    orders = list(session.scalars(select(FactoryOrder).where(FactoryOrder.design_id == design.id,
                                                             FactoryOrder.status.in_(lifecycle.LIVE_ORDER))))
    if not orders or any(o.status != OrderState.SHIPPED for o in orders) or result.sell_through < st.reorder_sell_through:
        return
    batch = max(o.batch for o in orders) + 1
    if session.scalar(select(Reorder.id).where(Reorder.design_id == design.id, Reorder.batch == batch)) is not None:
        return  # this batch's reorder was created before (it found no factory then)
    before = session.scalar(select(func.max(Reorder.sold)).where(Reorder.design_id == design.id)) or 0
    quantity = math.ceil(st.reorder_multiple * (result.sold - before))
    if quantity < 1:
        return
    reorder = Reorder(design_id=design.id, batch=batch, quantity=quantity, sold=result.sold, shipped=result.shipped,
                      created_at=now)
    session.add(reorder)
    session.flush()
    last = [o for o in orders if o.batch == batch - 1]
    first_choice = max(last, key=lambda o: (o.shipped_quantity, o.id)).factory_id
    result.orders = _offer_same_factory_first(session, ws, design, reorder, first_choice, now=now)
    result.reorder = reorder
    pct = f"{100 * result.sell_through:.0f}%"
    if result.orders:
        lifecycle.move(session, design, DesignState.MATCHED, reason=f"reorder {batch}")
        design.note = (f"reorder {batch}: {quantity} pcs offered to "
                       f"{', '.join(sorted({o.factory_id for o in result.orders}))} (sell-through {pct})")
    else:
        design.note = f"reorder {batch}: {quantity} pcs found no factory (sell-through {pct}): {reorder.note}"


def _offer_same_factory_first(session: Session, ws: Workspace, design: Design, reorder: Reorder, factory_id: str, *,
                              now: datetime) -> list[FactoryOrder]:
    """One order at `factory_id` if it still passes every hard constraint for the whole reorder, else a
    re-match among the other factories (never one that declined this design). Notes why on the reorder."""
    spec = DesignSpec.from_dict(design.spec)
    need = planning.spec_need(design.id, spec, ws.taxonomy, quantity=reorder.quantity, cost_share=ws.settings.cost_share)
    declined = production.declined_by(session, design.id)
    factory = production.factory_of(production.get_factory(session, factory_id), production.estimate_rules(ws.settings))
    free = factory.plan_capacity - production.used_capacity(session).get(factory_id, 0)
    check = check_factory(factory, need.requirement, free)
    whole = check.max_quantity >= reorder.quantity
    if check.feasible and whole and factory_id not in declined:
        round_ = 1 + (session.scalar(select(func.max(FactoryOrder.round)).where(FactoryOrder.design_id == design.id)) or 0)
        order = FactoryOrder(design_id=design.id, factory_id=factory_id, round=round_, batch=reorder.batch,
                             quantity=reorder.quantity, unit_price_cents=check.unit_cost_cents,
                             due_date=(now + timedelta(days=need.requirement.due_in_days)).date(),
                             status=OrderState.OFFERED)
        session.add(order)
        session.flush()
        reorder.note = f"offered to {factory_id}, which made the last batch"
        return [order]
    why = "; ".join(r.removeprefix("rejected: ") for r in check.reasons if r.startswith("rejected: "))
    if not why:
        why = (f"free capacity {free} pcs < {reorder.quantity} pcs" if not whole
               else "it declined this design before")
    (res,) = production.offer(session, ws, [production.Demand(design, reorder.quantity, reorder.batch,
                                                              declined | {factory_id})], now=now)
    reorder.note = f"{factory_id}, which made the last batch, cannot take it ({why}); re-matched"
    if res.unmatched_reason:
        reorder.note += f"; {res.unmatched_reason}"
    return res.orders

"""No dead ends: the merchandiser's "needs attention" queue, and what each entry offers to do about it.

An entry is a design, and one batch of it (1 = the pre-orders, 2.. = reorders), whose pieces cannot move by
themselves: the pieces the batch needs (the confirmed pre-orders; a reorder's quantity) minus those placed
(live orders: the quantity of an open order, the pieces a shipped one actually shipped) is above zero. Why:

- `declined`: every factory offered the first batch declined it and nobody else takes it;
- `below_moq`: a reorder smaller than the MOQ of every factory that could make it;
- `short`: a factory shipped fewer pieces than it was ordered;
- `unplaced`: pieces no factory could take (capacity, registry). A winner not offered yet is not an
  entry: the dashboard's "Offer winners" is its action.

The actions: `replan` (offer the missing pieces again, at least cost; the leader retries `unplaced`,
`declined` and `below_moq` entries by itself whenever the registry or free capacity changes, see
`Replanner`), `raise_to_moq` (a reorder raised to the lowest MOQ that lets a factory take it, then
re-planned), `replan` of a `short` entry (re-offer the shortfall), and `cancel` (a winner nobody makes:
its offers withdrawn, its buyers' pre-orders released with a notice). Every status change goes through
`app.lifecycle`.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from generation.concepts.spec import DesignSpec

from app import lifecycle
from app.db import transaction
from app.errors import Conflict, NotFound
from app.lifecycle import DesignState, OrderState, PreOrderState
from app.models import Design, FactoryOrder, FactoryRow, PreOrder, Reorder
from app.services import production
from app.workspace import Workspace

KINDS = ("declined", "below_moq", "short", "unplaced")
RETRIED = ("declined", "below_moq", "unplaced")  # re-planned by the leader when the registry or capacity changes
# Designs whose batches may be missing pieces: a winner whose book has closed, and every later state.
PLACING = (DesignState.WON, DesignState.MATCHED, DesignState.IN_PRODUCTION, DesignState.SHIPPED)


@dataclass(frozen=True)
class Entry:
    """One design batch that cannot move by itself: `missing` of `needed` pieces have no factory."""

    design_id: int
    name: str
    status: str
    batch: int
    kind: str
    needed: int
    missing: int
    note: str

    @property
    def actions(self) -> tuple[str, ...]:
        """What the merchandiser may do about it (the dashboard's buttons, the API's action names)."""
        if self.kind == "below_moq":
            return ("raise_to_moq", "replan")
        if self.kind == "short":
            return ("reoffer",)
        cancellable = self.batch == 1 and self.status in (DesignState.WON, DesignState.MATCHED)
        return ("replan", "cancel") if cancellable else ("replan",)


def _needed(session: Session, design_ids: list[int]) -> dict[tuple[int, int], int]:
    """Pieces each (design, batch) needs: confirmed pre-orders for batch 1, the reorder's quantity after."""
    out: dict[tuple[int, int], int] = {}
    for did, n in session.execute(select(PreOrder.design_id, func.sum(PreOrder.quantity)).where(
            PreOrder.design_id.in_(design_ids), PreOrder.status == PreOrderState.CONFIRMED)
            .group_by(PreOrder.design_id)):
        out[(did, 1)] = int(n)
    for did, batch, n in session.execute(select(Reorder.design_id, Reorder.batch, Reorder.quantity)
                                         .where(Reorder.design_id.in_(design_ids))):
        out[(did, batch)] = int(n)
    return out


def entries(session: Session, ws: Workspace | None = None, *, design_id: int | None = None) -> list[Entry]:
    """Every design batch that needs attention, oldest design first (`ws` tells a reorder below every MOQ
    from one nobody can take for another reason; without it such a reorder is `unplaced`)."""
    q = select(Design).where(Design.status.in_(PLACING), Design.book_closed_at.is_not(None)).order_by(Design.id)
    if design_id is not None:
        q = q.where(Design.id == design_id)
    designs = {d.id: d for d in session.scalars(q)}
    if not designs:
        return []
    needed = _needed(session, list(designs))
    orders: dict[tuple[int, int], list[FactoryOrder]] = defaultdict(list)
    for o in session.scalars(select(FactoryOrder).where(FactoryOrder.design_id.in_(list(designs)))):
        orders[(o.design_id, o.batch)].append(o)
    out = []
    for (did, batch), need in sorted(needed.items()):
        mine = orders.get((did, batch), [])
        live = [o for o in mine if o.status in lifecycle.LIVE_ORDER]
        placed = sum(o.shipped_quantity if o.status == OrderState.SHIPPED else o.quantity for o in live)
        missing = need - placed
        d = designs[did]
        if missing <= 0 or (batch == 1 and not mine and not d.note.startswith(production.UNMATCHED)):
            continue  # all placed, or a winner not offered yet (the dashboard's "Offer winners" does that)
        if any(o.status == OrderState.SHIPPED and o.shipped_quantity < o.quantity for o in live):
            kind, note = "short", f"{missing} of {need} pcs were not shipped"
        elif batch > 1 and ws is not None and missing < (floor := _lowest_moq(session, ws, d)):
            kind, note = "below_moq", f"reorder of {missing} pcs is below every capable factory's MOQ ({floor} pcs)"
        elif batch == 1 and not live and any(o.status == OrderState.DECLINED for o in mine):
            kind, note = "declined", f"declined by every factory offered it ({len(mine)} offers); {d.note}"
        else:
            kind, note = "unplaced", f"{missing} of {need} pcs have no factory; {d.note}"
        out.append(Entry(did, d.name, d.status, batch, kind, need, missing, note))
    return out


def count(session: Session) -> int:
    """How many entries the queue holds (`trendloom status --json`'s `needs_attention`)."""
    return len(entries(session))


def _lowest_moq(session: Session, ws: Workspace, design: Design) -> int:
    """The lowest MOQ among the factories that could make the design and did not decline it (0: none)."""
    registry = production.factories(session, production.estimate_rules(ws.settings))
    makers = production.capable(registry, ws.taxonomy, DesignSpec.from_dict(design.spec),
                                cost_share=ws.settings.cost_share)
    declined = production.declined_by(session, design.id)
    moqs = [f.plan_moq for f in makers if f.factory_id not in declined]
    return min(moqs, default=0)


def _entry(session: Session, ws: Workspace, design_id: int, batch: int | None = None) -> Entry:
    """The design's entry (of `batch`, or its first); NotFound when it has none (nothing is missing)."""
    for e in entries(session, ws, design_id=design_id):
        if batch is None or e.batch == batch:
            return e
    raise NotFound(f"design {design_id} has no batch that needs attention"
                   + (f" (batch {batch})" if batch is not None else ""))


def replan(session: Session, ws: Workspace, *, now: datetime, design_ids: list[int] | None = None,
           kinds: tuple[str, ...] = KINDS) -> list[production.MatchResult]:
    """Offer the missing pieces of every entry of `kinds` (of `design_ids`, or all) again, jointly at least
    cost, never to a factory that declined the design; each design follows its new orders. The designs are
    claimed in id order first (`production.claim_design`), so a concurrent re-plan waits and then finds
    nothing missing."""
    wanted = [e for e in entries(session, ws) if e.kind in kinds
              and (design_ids is None or e.design_id in design_ids)]
    demands = []
    for design_id in sorted({e.design_id for e in wanted}):
        production.claim_design(session, design_id)
        design = session.get(Design, design_id, populate_existing=True)
        assert design is not None
        for e in entries(session, ws, design_id=design_id):  # read again under the claim
            if e.kind in kinds:
                demands.append(production.Demand(design, e.missing, e.batch, production.declined_by(session, design_id)))
    if not demands:
        return []
    results = production.offer(session, ws, demands, now=now)
    for d, res in zip(demands, results):
        placed = sum(o.quantity for o in res.orders)
        d.design.note = (f"re-planned batch {d.batch}: {placed} of {d.quantity} pcs offered"
                         + (f"; {res.unmatched_reason}" if res.unmatched_reason else ""))
        if res.orders:
            production.follow_design(session, d.design, reason=d.design.note)
    return results


def raise_to_moq(session: Session, ws: Workspace, design_id: int, batch: int, *,
                 now: datetime) -> list[production.MatchResult]:
    """Raise a reorder below every MOQ to the lowest MOQ a capable factory takes, then offer it."""
    production.claim_design(session, design_id)
    e = _entry(session, ws, design_id, batch)
    if e.kind != "below_moq":
        raise Conflict(f"design {design_id} batch {batch} is {e.kind}, not a reorder below every MOQ")
    design = session.get(Design, design_id)
    assert design is not None
    floor = _lowest_moq(session, ws, design)
    reorder = session.scalar(select(Reorder).where(Reorder.design_id == design_id, Reorder.batch == batch))
    assert reorder is not None
    reorder.quantity += floor - e.missing
    reorder.note = f"raised from {reorder.quantity - floor + e.missing} to {reorder.quantity} pcs: the lowest MOQ"
    session.flush()
    return replan(session, ws, now=now, design_ids=[design_id], kinds=("unplaced",))


def cancel(session: Session, design_id: int, *, now: datetime, reason: str = "") -> Design:
    """A winner nobody makes is given up: won | matched -> dropped, its offered orders withdrawn
    (offered -> cancelled, the factory is told) and its buyers' pre-orders released (confirmed or active
    -> cancelled, the buyers are told). Refused (409) once a factory has accepted any of it."""
    design = session.get(Design, design_id)
    if design is None:
        raise NotFound(f"design {design_id} not found")
    production.claim_design(session, design_id)
    lifecycle.require("design", design_id, design.status, DesignState.DROPPED)
    committed = select(FactoryOrder.id).where(
        FactoryOrder.design_id == design_id,
        FactoryOrder.status.in_((*lifecycle.LOADED, OrderState.SHIPPED))).exists()
    why = reason.strip() or "no factory makes it"
    if lifecycle.move(session, design, DesignState.DROPPED, where=[~committed],
                      values={"decided_at": now, "committed": 0, "untrusted": 0}, reason=why) is None:
        raise Conflict(f"design {design_id} cannot be cancelled: a factory has accepted an order of it")
    for order in session.scalars(select(FactoryOrder).where(FactoryOrder.design_id == design_id,
                                                            FactoryOrder.status == OrderState.OFFERED)).all():
        lifecycle.move(session, order, OrderState.CANCELLED, values={"updated_at": now}, reason=why)
    released = session.execute(update(PreOrder).where(
        PreOrder.design_id == design_id, PreOrder.status.in_((PreOrderState.ACTIVE, PreOrderState.CONFIRMED)))
        .values(status=PreOrderState.CANCELLED).execution_options(synchronize_session=False)).rowcount
    design.note = f"cancelled: {why}; {released} pre-order{'' if released == 1 else 's'} released"
    return design


ACTIONS = ("replan", "reoffer", "raise_to_moq", "cancel")


def act(session: Session, ws: Workspace, design_id: int, action: str, *, batch: int = 1, now: datetime,
        reason: str = "") -> list[production.MatchResult]:
    """Do one of the actions an entry offers (`Entry.actions`: the dashboard's buttons and the API both
    come here); returns the offers it made. NotFound when the design batch is not in the queue, Conflict
    when the entry does not offer `action`."""
    e = _entry(session, ws, design_id, batch)
    if action not in e.actions:
        raise Conflict(f"design {design_id} batch {batch} is {e.kind}: its actions are {', '.join(e.actions)}, "
                       f"not {action}")
    if action == "cancel":
        cancel(session, design_id, now=now, reason=reason)
        return []
    if action == "raise_to_moq":
        return raise_to_moq(session, ws, design_id, batch, now=now)
    return replan(session, ws, now=now, design_ids=[design_id], kinds=("short",) if action == "reoffer" else RETRIED)


def registry_fingerprint(session: Session) -> str:
    """A digest of what planning depends on besides the designs: every factory's capabilities and
    capacity, and the pieces open orders hold. It changes when a re-plan could find something new."""
    h = hashlib.sha256()
    for row in session.execute(select(FactoryRow.id, FactoryRow.capacity, FactoryRow.moq, FactoryRow.categories,
                                      FactoryRow.materials, FactoryRow.processes).order_by(FactoryRow.id)):
        h.update(repr(tuple(row)).encode())
    for row in session.execute(select(FactoryOrder.factory_id, func.sum(FactoryOrder.quantity))
                               .where(FactoryOrder.status.in_(lifecycle.OPEN_ORDER))
                               .group_by(FactoryOrder.factory_id).order_by(FactoryOrder.factory_id)):
        h.update(repr(tuple(row)).encode())
    return h.hexdigest()


class Replanner:
    """The leader's background job: re-plan the queue's retried entries whenever the registry or the free
    capacity has changed since the last look (`registry_fingerprint`), and only then. The first look only
    takes the fingerprint: at start-up nothing has changed since the last plan."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self._seen: str | None = None

    def run(self, now: datetime) -> int:
        """One look; returns how many orders a re-plan offered (0 when nothing changed or nothing placed)."""
        with transaction(self.ws.sessions) as s:
            seen = registry_fingerprint(s)
            if self._seen is None or seen == self._seen:
                self._seen = seen
                return 0
            results = replan(s, self.ws, now=now, kinds=RETRIED)
            offered = sum(len(r.orders) for r in results)
        if offered:  # its own offers changed the free capacity: look from there
            with self.ws.sessions() as s:
                seen = registry_fingerprint(s)
        self._seen = seen
        return offered

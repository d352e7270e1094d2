"""The one lifecycle of a design and of a factory order: their states, the moves allowed between them, who
is told of each move, and `move`, the one function that changes a status.

Design (`DesignState`)::

    draft -> published -> won | dropped
    won -> dropped      a provisional win (by probability) whose test ended short
    won -> matched      offered to factories
    matched -> in_production -> shipped;  matched -> won: every offer declined, nothing placed
    shipped -> matched  a reorder (the next batch) offered;  it follows its orders back from there
    won | matched -> dropped: cancelled by the merchandiser (a winner nobody makes); pre-orders released

Factory order (`OrderState`)::

    offered -> accepted | declined | cancelled (withdrawn with its design);  accepted -> in_production -> shipped

`move` claims the row with one conditional UPDATE (`... SET status = :to WHERE id = :id AND status IN
(:allowed_from)`): of two concurrent moves of one row, the second finds the first's state and is refused
with `TransitionRefused` (409, with the state and the moves it allows), on SQLite and PostgreSQL alike.
Every move records a `Notice` for the audiences its edge names (`record_notice`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import ColumnElement, update
from sqlalchemy.orm import Session

from app.errors import TransitionRefused

log = logging.getLogger(__name__)


class DesignState(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    WON = "won"
    DROPPED = "dropped"
    MATCHED = "matched"
    IN_PRODUCTION = "in_production"
    SHIPPED = "shipped"


class OrderState(StrEnum):
    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    IN_PRODUCTION = "in_production"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"


class PreOrderState(StrEnum):
    ACTIVE = "active"
    CANCELLED = "cancelled"
    CONFIRMED = "confirmed"


class Audience(StrEnum):
    BUYERS = "buyers"  # the buyers holding pre-orders of the design
    MERCHANDISER = "merchandiser"
    FACTORY = "factory"  # the factory of the order (of every open order, for a design move)


@dataclass(frozen=True)
class Edge:
    """One allowed move and who is told of it."""

    source: str
    target: str
    tell: frozenset[Audience]


def _edges(pairs: Iterable[tuple[str, str, tuple[Audience, ...]]]) -> tuple[Edge, ...]:
    return tuple(Edge(a, b, frozenset(t)) for a, b, t in pairs)


B, M, F = Audience.BUYERS, Audience.MERCHANDISER, Audience.FACTORY
D, Od = DesignState, OrderState
DESIGN_EDGES = _edges([
    (D.DRAFT, D.PUBLISHED, ()),
    (D.PUBLISHED, D.WON, (B, M)),
    (D.PUBLISHED, D.DROPPED, (B, M)),
    (D.WON, D.DROPPED, (B, M)),
    (D.WON, D.MATCHED, (F,)),
    (D.MATCHED, D.WON, (M,)),  # every offer declined: a winner nobody makes yet (needs attention)
    (D.MATCHED, D.IN_PRODUCTION, (B, M)),
    (D.MATCHED, D.SHIPPED, (B, M)),  # a reorder declined by all: back to its shipped batches
    (D.MATCHED, D.DROPPED, (B, M, F)),  # cancelled: its offers withdrawn, its pre-orders released
    (D.IN_PRODUCTION, D.SHIPPED, (B, M)),
    (D.SHIPPED, D.MATCHED, (F,)),  # a reorder offered
    (D.SHIPPED, D.IN_PRODUCTION, (M,)),  # a shortfall re-offered: its batch is being made again
])
ORDER_EDGES = _edges([
    (Od.OFFERED, Od.ACCEPTED, (M,)),
    (Od.OFFERED, Od.DECLINED, (M,)),
    (Od.OFFERED, Od.CANCELLED, (F,)),
    (Od.ACCEPTED, Od.IN_PRODUCTION, (M,)),
    (Od.IN_PRODUCTION, Od.SHIPPED, (M, B)),
])
del B, M, F, D, Od

# The words each state is shown with: catalogue keys of app/web/locales (en.json, zh-CN.json).
DESIGN_WORDS = {s: f"status.{s}" for s in DesignState} | {"won_provisional": "status.won_provisional"}
# Buyers see their own words for a design's state: what it means for their pre-order, not our process.
BUYER_DESIGN_WORDS = {s: f"buyer_status.{s}" for s in DesignState} | {"won_provisional": "buyer_status.won_provisional"}
ORDER_WORDS = {s: f"order_status.{s}" for s in OrderState}
PREORDER_WORDS = {s: f"preorder_status.{s}" for s in PreOrderState}

# Designs buyers may still pre-order (while the book has not closed), and designs decided for good.
BOOK_STATES = (DesignState.PUBLISHED, DesignState.WON)
# Orders that hold a factory's capacity, and those a factory has committed to.
OPEN_ORDER = (OrderState.OFFERED, OrderState.ACCEPTED, OrderState.IN_PRODUCTION)
LOADED = (OrderState.ACCEPTED, OrderState.IN_PRODUCTION)
LIVE_ORDER = (*OPEN_ORDER, OrderState.SHIPPED)  # an order that was not declined or withdrawn


def edges_of(kind: str) -> tuple[Edge, ...]:
    return DESIGN_EDGES if kind == "design" else ORDER_EDGES


def allowed_from(kind: str, target: str) -> tuple[str, ...]:
    """The states a `kind` ("design" or "order") may move to `target` from."""
    return tuple(e.source for e in edges_of(kind) if e.target == target)


def next_states(kind: str, source: str) -> tuple[str, ...]:
    """The states a `kind` in `source` may move to."""
    return tuple(e.target for e in edges_of(kind) if e.source == source)


def audiences(kind: str, source: str, target: str) -> frozenset[Audience]:
    """Who is told of the move (empty for a move nobody needs to hear of)."""
    for e in edges_of(kind):
        if (e.source, e.target) == (source, target):
            return e.tell
    raise KeyError(f"no {kind} move {source} -> {target}")


def design_word(status: str, book_closed: bool, words: dict[str, str] = DESIGN_WORDS) -> str:
    """The catalogue key a design's status is shown with (`words`: BUYER_DESIGN_WORDS on buyer pages): a
    win whose pre-order book is still open is a provisional win ("winning"), so it never sits as "won"
    beside a P(reach) under the win level."""
    if status == DesignState.WON and not book_closed:
        return words["won_provisional"]
    return words[DesignState(status)]


def follow_orders(live: Sequence[tuple[int, str]]) -> DesignState | None:
    """The state a design in production follows from its live orders, given as (batch, status): those of
    the newest batch with live orders decide (all shipped: shipped; any in production or shipped: in
    production; else matched). None when no order is live: nothing placed, the winner waits."""
    if not live:
        return None
    newest = max(b for b, _ in live)
    states = {s for b, s in live if b == newest}
    if states == {OrderState.SHIPPED}:
        return DesignState.SHIPPED
    if states & {OrderState.IN_PRODUCTION, OrderState.SHIPPED}:
        return DesignState.IN_PRODUCTION
    return DesignState.MATCHED


@dataclass(frozen=True)
class Notice:
    """A move someone is told of: which row, from what to what, to whom, and why (free text)."""

    kind: str
    row_id: int
    source: str
    target: str
    tell: frozenset[Audience]
    reason: str = ""


NOTICES_KEY = "lifecycle.notices"


def record_notice(session: Session, notice: Notice) -> None:
    """Where a move's notice is recorded: kept with the session's transaction (`notices`), logged, and
    stored in the inboxes it goes to (`app.services.notices`), in the same transaction as the move, so a
    notice exists exactly when its move committed."""
    session.info.setdefault(NOTICES_KEY, []).append(notice)
    from app.services import notices as inbox  # a service above the lifecycle (models import this module)
    inbox.store(session, notice)
    log.info("%s %d: %s -> %s, tell %s%s", notice.kind, notice.row_id, notice.source, notice.target,
             ", ".join(sorted(notice.tell)) or "nobody", f" ({notice.reason})" if notice.reason else "")


def notices(session: Session) -> list[Notice]:
    """The notices recorded in this session so far (see `record_notice`)."""
    return list(session.info.get(NOTICES_KEY, []))


class _Row(Protocol):
    id: Any
    status: Any


def kind_of(row: object) -> str:
    return "design" if getattr(row, "__tablename__", "") == "designs" else "order"


def move(session: Session, row: _Row, to: str, *, values: Mapping[str, object] | None = None,
         where: Sequence[ColumnElement[bool]] = (), reason: str = "") -> Notice | None:
    """Move `row` (a Design or a FactoryOrder) to `to`, claiming it with one conditional UPDATE from the
    states the lifecycle allows, together with `values` (more columns to set) and only where the extra
    conditions `where` hold. Returns the notice recorded; None when the state allowed the move but a
    condition of `where` did not hold (the caller says why). Raises `TransitionRefused` (409) when the
    row's state, read after the UPDATE, does not allow the move: a concurrent move got there first."""
    kind, cls = kind_of(row), type(row)
    sources = allowed_from(kind, to)
    if not sources:
        raise KeyError(f"no {kind} state {to!r}")
    before = str(row.status)
    moved = session.execute(
        update(cls).where(cls.id == row.id, cls.status.in_(sources), *where)  # type: ignore[attr-defined]
        .values(status=to, **(values or {})).execution_options(synchronize_session=False)).rowcount
    session.refresh(row)
    if moved == 1:
        source = before if before in sources else sources[0]
        notice = Notice(kind, int(row.id), source, to, audiences(kind, source, to), reason)
        record_notice(session, notice)
        return notice
    if str(row.status) in sources:
        return None
    raise refused(kind, int(row.id), str(row.status), to)


def refused(kind: str, row_id: int, state: str, to: str) -> TransitionRefused:
    """The 409 for moving a `kind` in `state` to `to`: its state, and what it may move to instead."""
    onward = next_states(kind, state)
    sources = allowed_from(kind, to)
    return TransitionRefused(
        f"{kind} {row_id} is {state}; it can move to {', '.join(onward) or 'nothing further'}; only "
        f"{' or '.join(sources) or 'no'} {kind}s can become {to}",
        state=state, allowed=list(onward), requested=to)


def require(kind: str, row_id: int, state: str, to: str) -> None:
    """Refuse (409) up front when `state` does not allow the move to `to` (`move` checks again in SQL)."""
    if state not in allowed_from(kind, to):
        raise refused(kind, row_id, state, to)

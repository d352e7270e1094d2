"""A buyer's favourites: a toggle that records each change once, and the list of them.

Favouriting is a flip of one row (`app.models.Favourite`) made by a single conditional statement, so a
double click or two tabs cannot record it twice: making an active favourite a favourite again changes
nothing and records nothing; taking it back clears `active` (the change is recorded by its
`changed_at`). Each change to "favourite" is also the buyer's `favourite` interest event, sent through
the event writer after the row has committed (its first one per design counts as interest, later ones
are stored uncounted: `app.services.event_writer`).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.db import insert_statement, transaction
from app.models import Design, Favourite
from app.services import interest
from app.services.event_writer import EventIn, Served

if TYPE_CHECKING:
    from app.workspace import Workspace


def flip(session: Session, buyer_id: int, design_id: int, favourite: bool, now: datetime) -> bool:
    """Make design `design_id` a favourite of `buyer_id` or not; True when that changed something."""
    if favourite:
        stmt = insert_statement(session, Favourite).values(buyer_id=buyer_id, design_id=design_id, active=True,
                                                           since=now, changed_at=now)
        stmt = stmt.on_conflict_do_update(index_elements=["buyer_id", "design_id"],
                                          set_={"active": True, "since": now, "changed_at": now},
                                          where=Favourite.active.is_(False))
    else:
        stmt = (update(Favourite).where(Favourite.buyer_id == buyer_id, Favourite.design_id == design_id,
                                        Favourite.active.is_(True)).values(active=False, changed_at=now))
    # RETURNING, not rowcount: psycopg reports -1 rows for an INSERT ... ON CONFLICT
    return session.execute(stmt.returning(Favourite.design_id)).first() is not None


def set_favourite(ws: Workspace, buyer_id: int, design_id: int, favourite: bool, now: datetime) -> bool:
    """`flip` in its own transaction, then the `favourite` interest event for a change to favourite (a
    published design and an existing buyer only; NotFound otherwise). True when something changed."""
    with transaction(ws.sessions) as s:
        interest.get_buyer(s, buyer_id)  # an admin may name any buyer: one that does not exist is NotFound
        interest.published_design(s, design_id)
        changed = flip(s, buyer_id, design_id, favourite, now)
    if changed and favourite:
        ws.event_writer.serve(Served(buyer_id, (design_id,), "item"), now)
        ws.event_writer.submit([EventIn(buyer_id, design_id, "favourite")], now)
    return changed


def is_favourite(session: Session, buyer_id: int, design_id: int) -> bool:
    row = session.get(Favourite, (buyer_id, design_id))
    return row is not None and row.active


def favourite_designs(session: Session, buyer_id: int) -> list[Design]:
    """The buyer's favourite designs, the latest favourited first (only published designs can be one)."""
    return list(session.execute(select(Design).join(Favourite, Favourite.design_id == Design.id)
                           .where(Favourite.buyer_id == buyer_id, Favourite.active.is_(True))
                           .order_by(Favourite.since.desc(), Design.id.desc())).scalars().all())

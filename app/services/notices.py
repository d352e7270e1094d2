"""Each user's inbox of notices (issue 14): what the lifecycle tells buyers, factories and merchandisers
(`lifecycle.record_notice` stores them here, in the transaction of the move), an answered inquiry, and a
design published for what a buyer asked (`app.services.wants`). A buyer's and a factory's notices are
their own; merchandisers share one inbox. Opening the inbox marks its notices read."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.lifecycle import OPEN_ORDER, Audience, Notice
from app.models import Design, FactoryOrder, NoticeRow, PreOrder, User, utcnow

LIMIT = 100  # notices an inbox shows, newest first


def store(session: Session, notice: Notice) -> None:
    """The rows of one lifecycle notice: one per buyer holding a pre-order of the design, one per factory
    told (the order's, or every open order's for a design move), one for the merchandisers."""
    if notice.kind == "design":
        design_id = notice.row_id
        factories = list(session.scalars(select(FactoryOrder.factory_id).distinct().where(
            FactoryOrder.design_id == design_id, FactoryOrder.status.in_(OPEN_ORDER))))
    else:
        order = session.get(FactoryOrder, notice.row_id)
        if order is None:
            return
        design_id, factories = order.design_id, [order.factory_id]
    rows = []
    if Audience.BUYERS in notice.tell:
        rows += [NoticeRow(buyer_id=b) for b in buyers_of(session, design_id)]
    if Audience.FACTORY in notice.tell:
        rows += [NoticeRow(factory_id=f) for f in factories]
    if Audience.MERCHANDISER in notice.tell:
        rows.append(NoticeRow(staff=True))
    now = utcnow()
    for r in rows:
        r.kind, r.target, r.design_id, r.created_at = notice.kind, notice.target, design_id, now
    session.add_all(rows)


def buyers_of(session: Session, design_id: int) -> list[int]:
    """The buyers who pre-ordered `design_id` (whatever became of the pre-order)."""
    return list(session.scalars(select(PreOrder.buyer_id).distinct().where(PreOrder.design_id == design_id)))


def tell_buyers(session: Session, buyer_ids: Iterable[int], *, kind: str, design_id: int) -> None:
    """A notice of `kind` ("inquiry" answered, "want" published) to each of `buyer_ids`."""
    now = utcnow()
    session.add_all(NoticeRow(buyer_id=b, kind=kind, target="", design_id=design_id, created_at=now)
                    for b in dict.fromkeys(buyer_ids))


def _mine(user: User):  # type: ignore[no-untyped-def]
    if user.role == "buyer":
        return NoticeRow.buyer_id == user.buyer_id
    if user.role == "factory":
        return NoticeRow.factory_id == user.factory_id
    return NoticeRow.staff.is_(True)


def unread(session: Session, user: User) -> int:
    return session.scalar(select(func.count()).select_from(NoticeRow).where(_mine(user), NoticeRow.read_at.is_(None))) or 0


def inbox(session: Session, user: User) -> list[tuple[NoticeRow, Design | None]]:
    """The user's newest notices with their design, and every one of them marked read."""
    rows = list(session.scalars(select(NoticeRow).where(_mine(user)).order_by(NoticeRow.id.desc()).limit(LIMIT)))
    designs = {d.id: d for d in session.scalars(select(Design).where(Design.id.in_({r.design_id for r in rows})))}
    session.execute(update(NoticeRow).where(_mine(user), NoticeRow.read_at.is_(None)).values(read_at=utcnow()))
    return [(r, designs.get(r.design_id) if r.design_id is not None else None) for r in rows]

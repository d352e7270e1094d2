"""Concurrent cancels never push `committed` off its pre-orders, and never cancel an order that a
concurrent pre-order has just confirmed, on SQLite (WAL) and on PostgreSQL."""

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.db import make_engine, migrate, session_factory, transaction
from app.errors import Conflict
from app.models import Buyer, Design, PreOrder, utcnow
from app.services import interest
from generation.concepts.spec import DesignSpec, PriceTier

ROUNDS = 10
SPEC = DesignSpec(category="socks", color="navy", material="cotton", moq=10, name="Plain navy",
                  price_tiers=(PriceTier(1, 500), PriceTier(50, 400))).to_dict()


def _sessions(url: str) -> sessionmaker[Session]:
    engine = make_engine(url)
    migrate(engine)
    return session_factory(engine)


def _design_with_orders(sessions: sessionmaker[Session], threshold: int,
                        quantities: list[int]) -> tuple[int, list[int], int]:
    """A published design and one pre-order per quantity, each by a buyer of its own, placed through the
    service. Returns (design id, pre-order ids, id of one more buyer with no pre-order yet)."""
    now = utcnow()
    with transaction(sessions) as s:
        d = Design(name="d", category="socks", spec=SPEC, status="published", production_threshold=threshold,
                   published_at=now, window_end=now + timedelta(days=14), impression_budget=1000)
        buyers = [Buyer(name=f"b{k}", kind="shop") for k in range(len(quantities) + 1)]
        s.add_all([d, *buyers])
        s.flush()
        orders = [interest.place_preorder(s, b.id, d.id, q, now)[0].id for b, q in zip(buyers, quantities)]
        return d.id, orders, buyers[-1].id


def _cancel(sessions: sessionmaker[Session], order_id: int) -> Callable[[Session], str]:
    with sessions() as s:
        buyer_id = s.get(PreOrder, order_id).buyer_id
    return lambda s: interest.cancel_preorder(s, buyer_id, order_id).status


def _book(sessions: sessionmaker[Session], design_id: int) -> tuple[Design, dict[int, PreOrder]]:
    with sessions() as s:
        return (s.get(Design, design_id),
                {o.id: o for o in s.scalars(select(PreOrder).where(PreOrder.design_id == design_id))})


def _counted(orders: dict[int, PreOrder]) -> int:
    return sum(o.quantity for o in orders.values() if o.status in ("active", "confirmed"))


def _double_cancels(url: str, race: Callable[..., list[str]]) -> None:
    """Each round: 30 pcs by one buyer, 100 by another; that buyer cancels the 100 twice at once. Exactly
    one cancel succeeds and every counter returns to its value before the 100 were ordered (the second
    cancel used to take the 100 pcs off again: committed -70)."""
    sessions = _sessions(url)
    for _ in range(ROUNDS):
        did, (_, twice), _ = _design_with_orders(sessions, 1000, [30, 100])
        outcome = race(sessions, [_cancel(sessions, twice)] * 2, refused=(Conflict,))
        design, orders = _book(sessions, did)
        won, lost = sorted(outcome)
        assert won == "cancelled" and "can no longer be cancelled: it is cancelled" in lost, outcome
        assert (design.committed, design.pre_order_count, design.pieces_ordered) == (30, 1, 30), outcome
        assert orders[twice].status == "cancelled" and _counted(orders) == 30
    sessions.kw["bind"].dispose()


def _cancel_against_closing_preorder(url: str, race: Callable[..., list[str]]) -> None:
    """Each round: threshold 100 with 20 + 40 pcs committed; the 40 are cancelled while another buyer
    orders 50, which closes the book only if the 40 still count. Either the cancel comes first (the book
    stays open at 70 pcs) or the closing pre-order does (the 40 are confirmed and the cancel is refused):
    never a cancelled order on a won design whose total still counts it."""
    sessions = _sessions(url)
    for _ in range(ROUNDS):
        did, (_, forty), late = _design_with_orders(sessions, 100, [20, 40])
        place = lambda s: interest.place_preorder(s, late, did, 50, utcnow())[0].status  # noqa: E731
        cancelled, placed = race(sessions, [_cancel(sessions, forty), place], refused=(Conflict,))
        design, orders = _book(sessions, did)
        assert design.committed == _counted(orders), (cancelled, placed)
        if cancelled == "cancelled":
            assert placed == "active" and orders[forty].status == "cancelled"
            assert (design.status, design.book_closed_at, design.committed) == ("published", None, 70)
        else:
            assert placed == "confirmed" and "can no longer be cancelled: it is confirmed" in cancelled
            assert design.status == "won" and design.book_closed_at is not None and design.committed == 110
            assert {o.status for o in orders.values()} == {"confirmed"}
    sessions.kw["bind"].dispose()


def test_double_cancel_on_sqlite(tmp_path, race):
    _double_cancels(f"sqlite:///{tmp_path / 'db.sqlite'}", race)


def test_double_cancel_on_postgres(pg_url, race):
    _double_cancels(pg_url, race)


def test_cancel_against_book_closing_preorder_on_sqlite(tmp_path, race):
    _cancel_against_closing_preorder(f"sqlite:///{tmp_path / 'db.sqlite'}", race)


def test_cancel_against_book_closing_preorder_on_postgres(pg_url, race):
    _cancel_against_closing_preorder(pg_url, race)

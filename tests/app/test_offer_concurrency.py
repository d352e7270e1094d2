"""Declines and winner matching that run at the same moment never offer a design's pieces twice, on SQLite
(WAL) and on PostgreSQL: two declines of one order, an accept against a decline of one order, two declines
of two orders of one design, and two `match_winners` runs."""

from collections.abc import Callable, Iterator
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db import transaction
from app.errors import Conflict
from app.models import Buyer, Design, FactoryOrder, FactoryRow, PreOrder, utcnow
from app.services import production
from app.settings import Settings
from app.workspace import Workspace
from generation.concepts.pricing import price_tiers
from generation.concepts.spec import DesignSpec

Race = Callable[..., list[str]]


@pytest.fixture(params=["sqlite", "postgres"])
def ws(request, tmp_path, fake_embedder) -> Iterator[Workspace]:
    """A workspace on SQLite or on the throwaway PostgreSQL server, with three sock mills of 1,000 pcs each
    (F1 and F2 at price x1.0, F3 at x1.2)."""
    url = request.getfixturevalue("pg_url") if request.param == "postgres" else ""
    workspace = Workspace.open(Settings(home=tmp_path / "ws", database_url=url))
    try:
        with transaction(workspace.sessions) as s:
            for fid, price in (("F1", 1.0), ("F2", 1.0), ("F3", 1.2)):
                s.add(FactoryRow(id=fid, name=f"{fid} Mill", country="CN", region="Zhejiang", categories=["socks"],
                                 materials=["cotton"], processes=["knitting"], moq=50, capacity=1000,
                                 lead_time_days=10, quality=0.8, price_index=price))
        yield workspace
    finally:
        with transaction(workspace.sessions) as s:  # the PostgreSQL server is shared by the module's tests
            for table in (FactoryOrder, PreOrder, Buyer, Design, FactoryRow):
                s.query(table).delete()
        workspace.close()


def _design(ws: Workspace, confirmed: int, offers: dict[str, int], status: str = "matched") -> tuple[int, list[int]]:
    """A design whose closed book holds `confirmed` pcs of confirmed pre-orders, with one offered round-1
    order per (factory, pcs) in `offers`. Returns the design id and the order ids."""
    spec = DesignSpec(category="socks", color="navy", material="cotton", moq=24, name="Plain navy",
                      price_tiers=price_tiers(ws.taxonomy, "socks", "cotton", 0))
    with transaction(ws.sessions) as s:
        design = Design(name="d", category="socks", spec=spec.to_dict(), status=status, book_closed_at=utcnow())
        buyer = Buyer(name="shop", kind="shop")
        s.add_all([design, buyer])
        s.flush()
        s.add(PreOrder(buyer_id=buyer.id, design_id=design.id, quantity=confirmed, unit_price_cents=300,
                       status="confirmed"))
        orders = [FactoryOrder(design_id=design.id, factory_id=fid, round=1, quantity=q, unit_price_cents=100,
                               due_date=date(2030, 1, 1), status="offered") for fid, q in offers.items()]
        s.add_all(orders)
        s.flush()
        return design.id, [o.id for o in orders]


def _orders(ws: Workspace, design_id: int) -> dict[str, int]:
    """Pieces of the design's orders per status."""
    with ws.sessions() as s:
        return {st: int(q) for st, q in s.execute(
            select(FactoryOrder.status, func.sum(FactoryOrder.quantity))
            .where(FactoryOrder.design_id == design_id).group_by(FactoryOrder.status))}


def _decline(ws: Workspace, factory_id: str, order_id: int) -> Callable[[Session], str]:
    return lambda s: production.decline(s, ws, factory_id, order_id, "no free line", now=utcnow()) and "declined"


def _accept(factory_id: str, order_id: int) -> Callable[[Session], str]:
    return lambda s: production.accept(s, factory_id, order_id) and "accepted"


def test_two_declines_of_one_order_re_offer_its_pieces_once(ws: Workspace, race: Race):
    """F1's 500 pcs declined twice at once: one decline wins, the other is told the order is declined, and
    the 500 pcs are offered again once (to F2, the cheaper of the two others)."""
    for _ in range(3):
        did, (oid,) = _design(ws, 500, {"F1": 500})
        outcome = race(ws.sessions, [_decline(ws, "F1", oid)] * 2, refused=(Conflict,))
        assert sorted(outcome) == ["declined", f"refused: order {oid} is declined; it can move to nothing further; "
                                               "only offered orders can become declined"], outcome
        assert _orders(ws, did) == {"declined": 500, "offered": 500}


def test_accept_and_decline_of_one_order_let_exactly_one_win(ws: Workspace, race: Race):
    """Each round F1 accepts and declines its 500 pcs at once: exactly one wins and the other sees its
    result. Accepted: nothing is offered again. Declined: the 500 pcs are offered once elsewhere."""
    with transaction(ws.sessions) as s:
        production.set_capacity(s, "F1", 2000)  # room to accept every round's 500 pcs
    for _ in range(4):
        did, (oid,) = _design(ws, 500, {"F1": 500})
        accepted, declined = race(ws.sessions, [_accept("F1", oid), _decline(ws, "F1", oid)], refused=(Conflict,))
        if accepted == "accepted":
            assert declined == (f"refused: order {oid} is accepted; it can move to in_production; only offered "
                                "orders can become declined")
            assert _orders(ws, did) == {"accepted": 500}
        else:
            assert (accepted, declined) == (
                f"refused: order {oid} is declined; it can move to nothing further; only offered orders can "
                "become accepted", "declined")
            assert _orders(ws, did) == {"declined": 500, "offered": 500}


def test_declines_of_two_orders_of_one_design_number_their_rounds_apart(ws: Workspace, race: Race):
    """F1 and F2, each full with its own 200 pcs offer of one design, decline at once. Each re-offer can only
    go to F3, so both go there, each in its own round (2 and 3) rather than both in round 2, which the
    one-order-per-factory-and-round rule refuses."""
    with transaction(ws.sessions) as s:
        production.set_capacity(s, "F1", 200)
        production.set_capacity(s, "F2", 200)
    for _ in range(2):  # F3 (1,000 pcs) has room for both rounds' 400 pcs
        did, (o1, o2) = _design(ws, 400, {"F1": 200, "F2": 200})
        outcome = race(ws.sessions, [_decline(ws, "F1", o1), _decline(ws, "F2", o2)], refused=(Conflict,))
        assert outcome == ["declined", "declined"], outcome
        with ws.sessions() as s:
            offered = sorted(s.execute(select(FactoryOrder.factory_id, FactoryOrder.round, FactoryOrder.quantity)
                                       .where(FactoryOrder.design_id == did, FactoryOrder.status == "offered")).all())
        assert offered == [("F3", 2, 200), ("F3", 3, 200)]


def test_two_match_winner_runs_offer_a_design_once(ws: Workspace, race: Race):
    """A winner with 300 confirmed pcs and no orders, matched by two runs at once: one run offers the 300
    pcs, the other finds nothing left."""
    for _ in range(3):
        did, _ = _design(ws, 300, {}, status="won")
        outcome = race(ws.sessions, [lambda s: f"{len(production.match_winners(s, ws, now=utcnow()))} designs"] * 2,
                       refused=(Conflict,))
        assert sorted(outcome) == ["0 designs", "1 designs"], outcome
        assert _orders(ws, did) == {"offered": 300}
        with ws.sessions() as s:
            assert s.get(Design, did).status == "matched"

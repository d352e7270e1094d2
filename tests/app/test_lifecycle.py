"""The one lifecycle (issue 15): the table of moves, the 409 a refused move answers, one winner of two
concurrent moves on SQLite and PostgreSQL, and status words that no figure beside them contradicts."""

import json
from datetime import date
from functools import partial
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app import lifecycle
from app.api.main import create_app
from app.db import make_engine, migrate, session_factory, transaction
from app.errors import TransitionRefused
from app.lifecycle import DesignState, OrderState
from app.models import Design, FactoryOrder, FactoryRow, utcnow
from app.services import dashboard, interest, production
from app.settings import Settings
from matching.factories.registry import Factory

LOCALES = Path(__file__).parents[2] / "app" / "web" / "locales"
V1 = "/api/v1"


def test_the_table_says_where_each_state_may_go():
    assert lifecycle.allowed_from("order", OrderState.ACCEPTED) == (OrderState.OFFERED,)
    assert lifecycle.allowed_from("design", DesignState.DROPPED) == (
        DesignState.PUBLISHED, DesignState.WON, DesignState.MATCHED)
    assert lifecycle.next_states("order", OrderState.SHIPPED) == ()
    assert lifecycle.next_states("design", DesignState.MATCHED) == (
        DesignState.WON, DesignState.IN_PRODUCTION, DesignState.SHIPPED, DesignState.DROPPED)
    assert lifecycle.audiences("design", DesignState.MATCHED, DesignState.DROPPED) == {
        lifecycle.Audience.BUYERS, lifecycle.Audience.MERCHANDISER, lifecycle.Audience.FACTORY}
    states = {"design": set(DesignState), "order": set(OrderState)}
    for kind in states:
        for e in lifecycle.edges_of(kind):
            assert {e.source, e.target} <= states[kind] and e.source != e.target


def test_every_status_word_is_in_every_language():
    words = [*lifecycle.DESIGN_WORDS.values(), *lifecycle.ORDER_WORDS.values(), *lifecycle.PREORDER_WORDS.values()]
    for path in LOCALES.glob("*.json"):
        catalogue = json.loads(path.read_text(encoding="utf-8"))
        assert [w for w in words if w not in catalogue] == [], path.name


def test_a_win_whose_book_is_open_is_not_worded_won():
    assert lifecycle.design_word(DesignState.WON, book_closed=False) == "status.won_provisional"
    assert lifecycle.design_word(DesignState.WON, book_closed=True) == "status.won"


def mill(fid: str, capacity: int = 1000) -> Factory:
    return Factory(fid, f"{fid} Hosiery Co.", "CN", "Zhejiang", ("socks",), ("cotton", "wool"), ("knitting",), 100,
                   capacity, 10, 0.8, 1.0, city="Zhuji")


@pytest.fixture
def world(tmp_path, fake_embedder, clients_of):
    app = create_app(Settings(home=tmp_path / "ws", decide_every_s=0))
    with TestClient(app):
        clients = clients_of(app)
        with transaction(clients.ws.sessions) as s:
            production.import_factories(s, [mill("F1")])
        yield clients


def _matched(world, pieces: int = 300) -> tuple[int, int]:
    """A winner of `pieces` offered to F1: (design id, order id)."""
    merch = world.new("merchandiser")
    did = world.plain_design(merch, "socks", "wool")["id"]
    with transaction(world.ws.sessions) as s:
        buyer = interest.create_buyer(s, "shop", "shop")
        interest.place_preorder(s, buyer.id, did, pieces, utcnow())
        (res,) = production.match_winners(s, world.ws, now=utcnow())
        return did, res.orders[0].id


def test_a_move_the_state_does_not_allow_is_409_with_the_state_and_what_is_allowed(world):
    _, oid = _matched(world)
    f1 = world.factory("F1")
    assert f1.post(f"{V1}/factories/F1/orders/{oid}/accept").status_code == 200
    r = f1.post(f"{V1}/factories/F1/orders/{oid}/accept")
    assert r.status_code == 409
    body = r.json()
    assert (body["state"], body["allowed"], body["requested"]) == ("accepted", ["in_production"], "accepted")
    r = f1.post(f"{V1}/factories/F1/orders/{oid}/status", json={"status": "shipped", "shipped_quantity": 10})
    assert r.status_code == 409 and r.json()["state"] == "accepted" and r.json()["allowed"] == ["in_production"]


def _accept(order_id: int, s: Session) -> str:
    production.accept(s, "F1", order_id)
    return "accepted"


def _two_accepts_at_once(url: str, race) -> list[str]:
    engine = make_engine(url)
    migrate(engine)
    sessions = session_factory(engine)
    with transaction(sessions) as s:
        s.add(FactoryRow(id="F1", name="Mill", country="CN", region="Zhejiang", categories=["socks"],
                         materials=["cotton"], processes=["knitting"], moq=100, capacity=5000, lead_time_days=10,
                         quality=0.8, price_index=1.0))
        design = Design(name="d", category="socks", spec={}, status=DesignState.MATCHED)
        s.add(design)
        s.flush()
        order = FactoryOrder(design_id=design.id, factory_id="F1", quantity=100, unit_price_cents=100,
                             due_date=date(2030, 1, 1), status=OrderState.OFFERED)
        s.add(order)
        s.flush()
        oid = order.id
    outcome = race(sessions, [partial(_accept, oid)] * 2, refused=(TransitionRefused,))
    engine.dispose()
    return sorted(outcome)


def _one_wins(outcome: list[str]) -> None:
    assert outcome[0] == "accepted", outcome
    assert outcome[1].startswith("refused: ") and "is accepted; it can move to in_production" in outcome[1], outcome


def test_of_two_concurrent_accepts_one_wins_and_the_other_is_refused_on_sqlite(tmp_path, race):
    _one_wins(_two_accepts_at_once(f"sqlite:///{tmp_path / 'db.sqlite'}", race))


def test_of_two_concurrent_accepts_one_wins_and_the_other_is_refused_on_postgres(pg_url, race):
    _one_wins(_two_accepts_at_once(pg_url, race))


def test_a_move_records_a_notice_for_whom_its_edge_names(world):
    did, oid = _matched(world)
    with transaction(world.ws.sessions) as s:
        production.accept(s, "F1", oid)
        (notice,) = lifecycle.notices(s)
        assert (notice.kind, notice.row_id, notice.source, notice.target) == ("order", oid, "offered", "accepted")
        assert notice.tell == {lifecycle.Audience.MERCHANDISER}


def test_a_closed_book_reads_reached_not_its_last_probability(world):
    merch = world.new("merchandiser")
    did = world.plain_design(merch, "socks", "wool")["id"]
    with transaction(world.ws.sessions) as s:
        s.get(Design, did).p_reach = 0.23  # the last decision's estimate, before the pre-order that won it
        buyer = interest.create_buyer(s, "shop", "shop")
        interest.place_preorder(s, buyer.id, did, 300, utcnow())
    with world.ws.sessions() as s:
        d = s.get(Design, did)
        assert d.status == DesignState.WON and d.p_reach == 1.0
        assert dashboard.shown_counts(s)["status.won"] == 1


def test_a_shipped_design_says_shipped_not_offered(world):
    did, oid = _matched(world)
    with world.ws.sessions() as s:
        assert s.get(Design, did).note.startswith("offered to 1 factory")
    with transaction(world.ws.sessions) as s:
        production.accept(s, "F1", oid)
        production.update_status(s, "F1", oid, OrderState.IN_PRODUCTION)
        production.update_status(s, "F1", oid, OrderState.SHIPPED, 300)
    with world.ws.sessions() as s:
        d = s.get(Design, did)
        assert d.status == DesignState.SHIPPED and d.note == "shipped 300 pcs from 1 factory"


def test_a_provisional_winners_pre_order_can_still_be_cancelled_from_the_shop(world):
    from app.services import accounts

    did = world.plain_design(world.new("merchandiser"), "socks", "wool")["id"]
    with transaction(world.ws.sessions) as s:
        user = accounts.create_user(s, "shopper", "correct horse battery", "buyer")
        order, _ = interest.place_preorder(s, user.buyer_id, did, 50, utcnow())  # below the 100-piece threshold
        lifecycle.move(s, s.get(Design, did), DesignState.WON)  # won by probability: the book stays open
    c = TestClient(world.app, follow_redirects=False)
    assert c.post("/login", data={"login": "shopper", "password": "correct horse battery"},
                  headers={"Origin": "http://testserver"}).status_code == 303
    assert f'action="/shop/preorders/{order.id}/cancel"' in c.get("/shop/preorders").text

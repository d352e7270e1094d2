"""No dead ends (issue 15): every design batch that cannot move by itself is in the merchandiser's queue,
with its actions, in `trendloom status --json`, and on the dashboard."""

import json
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from app import lifecycle
from app.api.main import create_app
from app.cli import cli
from app.db import transaction
from app.errors import Conflict, TransitionRefused
from app.lifecycle import DesignState, OrderState, PreOrderState
from app.models import Design, FactoryOrder, PreOrder, Reorder, utcnow
from app.services import attention, interest, production, reorders
from app.services.status import stage_counts
from app.settings import Settings
from matching.factories.registry import Factory

PROCESSES = ("knitting", "dyeing", "printing", "embroidery")


def mill(fid: str, moq: int = 100, capacity: int = 500, price_index: float = 1.0) -> Factory:
    return Factory(fid, f"{fid} Hosiery Co.", "CN", "Zhejiang", ("socks",), ("cotton", "wool"), PROCESSES, moq,
                   capacity, 10, 0.8, price_index, city="Zhuji")


@pytest.fixture
def world(home, fake_embedder, clients_of):
    """F1 (capacity 500, price x1.0) and F2 (capacity 1,000, x1.2), both MOQ 100."""
    app = create_app(Settings(home=home, decide_every_s=0))
    with TestClient(app):
        clients = clients_of(app)
        with transaction(clients.ws.sessions) as s:
            production.import_factories(s, [mill("F1"), mill("F2", capacity=1000, price_index=1.2)])
        yield clients


def _winner(world, pieces: int) -> int:
    """A winner of `pieces` (one buyer's confirmed pre-order) offered to factories."""
    did = world.plain_design(world.new("merchandiser"), "socks", "wool")["id"]
    with transaction(world.ws.sessions) as s:
        buyer = interest.create_buyer(s, "shop", "shop")
        interest.place_preorder(s, buyer.id, did, pieces, utcnow())
        production.match_winners(s, world.ws, now=utcnow())
    return did


def _orders(world, did: int) -> list[FactoryOrder]:
    with world.ws.sessions() as s:
        return list(s.scalars(select(FactoryOrder).where(FactoryOrder.design_id == did).order_by(FactoryOrder.id)))


def _decline_all(world, did: int) -> None:
    """Every factory offered the design declines, until nobody is left to offer it to."""
    while offered := [o for o in _orders(world, did) if o.status == OrderState.OFFERED]:
        with transaction(world.ws.sessions) as s:
            production.decline(s, world.ws, offered[0].factory_id, offered[0].id, "busy", now=utcnow())


def _ship(world, did: int, shipped: dict[str, int] | None = None) -> None:
    """Accept, make and ship every offered order (the pieces in `shipped`, by factory; all by default)."""
    with transaction(world.ws.sessions) as s:
        for o in s.scalars(select(FactoryOrder).where(FactoryOrder.design_id == did,
                                                      FactoryOrder.status == OrderState.OFFERED)).all():
            production.accept(s, o.factory_id, o.id)
            production.update_status(s, o.factory_id, o.id, OrderState.IN_PRODUCTION)
            production.update_status(s, o.factory_id, o.id, OrderState.SHIPPED,
                                     (shipped or {}).get(o.factory_id, o.quantity))


def _queue(world) -> list[attention.Entry]:
    with world.ws.sessions() as s:
        return attention.entries(s, world.ws)


def test_a_winner_declined_by_every_factory_is_a_winner_again_in_the_queue(world):
    did = _winner(world, 300)
    _decline_all(world, did)
    (e,) = _queue(world)
    assert (e.design_id, e.kind, e.batch, e.missing, e.actions) == (did, "declined", 1, 300, ("replan", "cancel"))
    with world.ws.sessions() as s:
        assert s.get(Design, did).status == DesignState.WON  # no longer "matched" to nobody


def test_replan_offers_the_missing_pieces_to_a_new_factory(world):
    did = _winner(world, 300)
    _decline_all(world, did)
    with transaction(world.ws.sessions) as s:
        production.import_factories(s, [mill("F3")])
        (res,) = attention.replan(s, world.ws, now=utcnow(), design_ids=[did])
        assert [(o.factory_id, o.quantity) for o in res.orders] == [("F3", 300)]
    assert _queue(world) == []
    with world.ws.sessions() as s:
        assert s.get(Design, did).status == DesignState.MATCHED


def test_the_leaders_replanner_retries_when_the_registry_changes_and_only_then(world):
    did = _winner(world, 300)
    _decline_all(world, did)
    replanner = attention.Replanner(world.ws)
    assert replanner.run(utcnow()) == 0  # the first look only takes the registry's fingerprint
    assert replanner.run(utcnow()) == 0 and len(_queue(world)) == 1  # nothing changed: nothing tried
    with transaction(world.ws.sessions) as s:
        production.import_factories(s, [mill("F3")])
    assert replanner.run(utcnow()) == 1
    assert _queue(world) == [] and [o.factory_id for o in _orders(world, did)][-1] == "F3"


def test_cancel_withdraws_the_offers_and_releases_the_pre_orders_with_a_notice(world):
    did = _winner(world, 300)  # offered to F1, the cheaper mill
    with transaction(world.ws.sessions) as s:
        attention.cancel(s, did, now=utcnow(), reason="nobody makes it in time")
        told = {(n.kind, n.target): n.tell for n in lifecycle.notices(s)}
    assert lifecycle.Audience.BUYERS in told[("design", DesignState.DROPPED)]
    assert told[("order", OrderState.CANCELLED)] == {lifecycle.Audience.FACTORY}
    with world.ws.sessions() as s:
        d = s.get(Design, did)
        assert d.status == DesignState.DROPPED and d.committed == 0 and d.note.startswith("cancelled: nobody makes")
        assert {p.status for p in s.scalars(select(PreOrder).where(PreOrder.design_id == did))} == {
            PreOrderState.CANCELLED}
    assert [o.status for o in _orders(world, did)] == [OrderState.CANCELLED]
    assert _queue(world) == []


def test_cancel_is_refused_once_a_factory_accepted(world):
    did = _winner(world, 300)
    (order,) = _orders(world, did)
    with transaction(world.ws.sessions) as s:
        production.accept(s, "F1", order.id)
    with pytest.raises(Conflict, match="a factory has accepted an order of it"):
        with transaction(world.ws.sessions) as s:
            attention.cancel(s, did, now=utcnow())
    with transaction(world.ws.sessions) as s:
        production.update_status(s, "F1", order.id, OrderState.IN_PRODUCTION)
    with pytest.raises(TransitionRefused, match="is in_production; it can move to shipped"):
        with transaction(world.ws.sessions) as s:
            attention.cancel(s, did, now=utcnow())


def test_pieces_no_factory_has_room_for_are_unplaced(world):
    did = _winner(world, 1800)  # 1,500 pcs of capacity in all
    (e,) = _queue(world)
    assert (e.design_id, e.kind, e.missing, e.needed) == (did, "unplaced", 300, 1800)
    with world.ws.sessions() as s:
        assert s.get(Design, did).status == DesignState.MATCHED


def test_a_shipment_short_of_the_order_is_re_offered(world):
    did = _winner(world, 300)  # all at F1
    _ship(world, did, {"F1": 150})
    (e,) = _queue(world)
    assert (e.kind, e.missing, e.actions) == ("short", 150, ("reoffer",))
    with transaction(world.ws.sessions) as s:
        (res,) = attention.replan(s, world.ws, now=utcnow(), design_ids=[did], kinds=("short",))
        assert sum(o.quantity for o in res.orders) == 150
    assert _queue(world) == []
    with world.ws.sessions() as s:
        assert s.get(Design, did).status == DesignState.IN_PRODUCTION  # the shortfall is being made


def test_a_reorder_below_every_moq_waits_in_the_queue_and_can_be_raised_to_it(world):
    did = _winner(world, 300)
    _ship(world, did)
    with transaction(world.ws.sessions) as s:  # both mills now take 400 pcs at least: the 240-piece reorder is too small
        for fid in ("F1", "F2"):
            production.get_factory(s, fid).moq = 400
        res = reorders.record_sale(s, world.ws, did, 240, user_id=None, now=utcnow())
        assert res.reorder.quantity == 240 and res.orders == []
    (e,) = _queue(world)
    assert (e.kind, e.batch, e.missing, e.actions) == ("below_moq", 2, 240, ("raise_to_moq", "replan"))
    with transaction(world.ws.sessions) as s:
        (res,) = attention.raise_to_moq(s, world.ws, did, 2, now=utcnow())
        assert [(o.factory_id, o.quantity, o.batch) for o in res.orders] == [("F1", 400, 2)]
        assert s.scalar(select(Reorder.quantity).where(Reorder.design_id == did)) == 400
    assert _queue(world) == []


def test_status_json_counts_the_queue(world):
    _decline_all(world, _winner(world, 300))
    _winner(world, 1800)
    with world.ws.sessions() as s:
        assert stage_counts(s)["needs_attention"] == 2
    # the CLI opens the same workspace (TRENDLOOM_HOME) on its own
    out = CliRunner().invoke(cli, ["status", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["needs_attention"] == 2


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_the_dashboard_lists_the_queue_and_its_buttons_act(world):
    from app.services import accounts

    did = _winner(world, 300)
    _decline_all(world, did)
    with transaction(world.ws.sessions) as s:
        accounts.create_user(s, "merch", "correct horse battery", "merchandiser")
    c = TestClient(world.app, follow_redirects=False)
    assert c.post("/login", data={"login": "merch", "password": "correct horse battery"},
                  headers={"Origin": "http://testserver"}).status_code == 303
    page = c.get("/merchandiser").text
    assert f'data-attention="{did}-1" data-kind="declined"' in page
    assert f'action="/merchandiser/attention/{did}/replan"' in page and f'/merchandiser/attention/{did}/cancel"' in page
    r = c.post(f"/merchandiser/attention/{did}/cancel", data={"csrf_token": _csrf(page), "batch": 1},
               headers={"Referer": "http://testserver/merchandiser"})
    assert r.status_code == 303
    assert "data-attention" not in c.get("/merchandiser").text
    with world.ws.sessions() as s:
        assert s.get(Design, did).status == DesignState.DROPPED


def test_the_api_lists_the_queue_and_acts_on_an_entry(world):
    did = _winner(world, 300)
    _decline_all(world, did)
    merch = world.new("merchandiser")
    (entry,) = merch.get("/api/v1/merchandiser/attention").json()
    assert (entry["design_id"], entry["kind"], entry["missing"], entry["actions"]) == (did, "declined", 300,
                                                                                       ["replan", "cancel"])
    url = f"/api/v1/merchandiser/attention/{did}"
    r = merch.post(f"{url}/reoffer")
    assert r.status_code == 409 and "its actions are replan, cancel, not reoffer" in r.json()["detail"]
    assert merch.post(f"{url}/replan").json()["offered"] == []  # still nobody: the entry stays
    r = merch.post(f"{url}/cancel", params={"reason": "out of season"})
    assert r.status_code == 200 and r.json()["status"] == "dropped"
    assert merch.post(f"{url}/cancel").status_code == 404  # no longer in the queue
    assert merch.get("/api/v1/merchandiser/attention").json() == []
    assert world.new("buyer").get("/api/v1/merchandiser/attention").status_code == 403


def _merchandiser_browser(world) -> TestClient:
    from app.services import accounts

    with transaction(world.ws.sessions) as s:
        accounts.create_user(s, "merch", "correct horse battery", "merchandiser")
    c = TestClient(world.app, follow_redirects=False)
    assert c.post("/login", data={"login": "merch", "password": "correct horse battery"},
                  headers={"Origin": "http://testserver"}).status_code == 303
    return c


def test_a_provisional_win_is_counted_and_listed_as_winning_not_won(world):
    did = world.plain_design(world.new("merchandiser"), "socks", "wool")["id"]
    with transaction(world.ws.sessions) as s:
        lifecycle.move(s, s.get(Design, did), DesignState.WON)  # won by probability: its book is open
    page = _merchandiser_browser(world).get("/merchandiser").text
    chips = dict(re.findall(r'<span class="badge \w+">([^<]+)</span> (\d+)</a>', page))
    assert (chips["winning (book open)"], chips["won"]) == ("1", "0")
    assert "Offer 0 winners to factories" in page  # beside "won 0", not "won 1"
    out = CliRunner().invoke(cli, ["designs", "list", "--json"])
    assert [(d["status"], d["shown"]) for d in json.loads(out.stdout)] == [("won", "winning (book open)")]


def test_a_reorder_no_factory_takes_is_a_warning_not_a_success(world):
    did = _winner(world, 300)
    _ship(world, did)
    with transaction(world.ws.sessions) as s:
        for fid in ("F1", "F2"):
            production.get_factory(s, fid).moq = 400
    c = _merchandiser_browser(world)
    page = c.get(f"/merchandiser/designs/{did}").text
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1)
    r = c.post(f"/merchandiser/designs/{did}/sales", data={"csrf_token": _csrf(page), "quantity": "240",
                                                          "idempotency_key": key},
               headers={"Referer": f"http://testserver/merchandiser/designs/{did}"})
    assert r.status_code == 303
    flash = re.search(r'<div class="flash (\w+)"[^>]*>([^<]*)', c.get(r.headers["location"]).text)
    assert flash.group(1) == "warn" and "no factory can take it yet" in flash.group(2)


def _cancel(design_id: int, s) -> str:
    attention.cancel(s, design_id, now=utcnow())
    return "cancelled"


def _two_cancels_at_once(url: str, race) -> list[str]:
    """A winner with one confirmed pre-order and one offer open, cancelled by two merchandisers at once."""
    from datetime import date
    from functools import partial

    from app.db import make_engine, migrate, session_factory
    from app.models import Buyer, FactoryRow

    engine = make_engine(url)
    migrate(engine)
    sessions = session_factory(engine)
    with transaction(sessions) as s:
        s.add(FactoryRow(id="F1", name="Mill", country="CN", region="Zhejiang", categories=["socks"],
                         materials=["cotton"], processes=["knitting"], moq=100, capacity=5000, lead_time_days=10,
                         quality=0.8, price_index=1.0))
        buyer = Buyer(name="shop", kind="shop")
        design = Design(name="d", category="socks", spec={}, status=DesignState.MATCHED, committed=100,
                        book_closed_at=utcnow())
        s.add_all([buyer, design])
        s.flush()
        s.add_all([PreOrder(buyer_id=buyer.id, design_id=design.id, quantity=100, unit_price_cents=500,
                            status=PreOrderState.CONFIRMED),
                   FactoryOrder(design_id=design.id, factory_id="F1", quantity=100, unit_price_cents=100,
                                due_date=date(2030, 1, 1), status=OrderState.OFFERED)])
        did = design.id
    outcome = race(sessions, [partial(_cancel, did)] * 2, refused=(TransitionRefused,))
    with sessions() as s:
        assert s.get(Design, did).status == DesignState.DROPPED
        assert [o.status for o in s.scalars(select(FactoryOrder))] == [OrderState.CANCELLED]
    engine.dispose()
    return sorted(outcome)


def _one_cancel_wins(outcome: list[str]) -> None:
    assert outcome[0] == "cancelled", outcome
    assert outcome[1].startswith("refused: design ") and "is dropped; it can move to nothing further" in outcome[1]


def test_of_two_concurrent_cancels_one_wins_on_sqlite(tmp_path, race):
    _one_cancel_wins(_two_cancels_at_once(f"sqlite:///{tmp_path / 'db.sqlite'}", race))


def test_of_two_concurrent_cancels_one_wins_on_postgres(pg_url, race):
    _one_cancel_wins(_two_cancels_at_once(pg_url, race))

"""Interest counted by the server (issue 16): an impression is a design the server served to a buyer, a
view only confirms it (once per buyer, design and day), clicks and the like count once per buyer and
design, and nothing a hostile buyer sends moves another buyer's pre-order."""

from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import func, select

from app.db import transaction
from app.models import Design, InterestEvent, InterestMark, PreOrder, ServedImpression, utcnow
from app.services import designs, interest, production
from app.services.event_writer import EventIn, Served
from app.settings import Settings
from app.workspace import Workspace
from generation.concepts.pricing import price_tiers
from generation.concepts.spec import DesignSpec
from matching.factories.synthetic import make_factory_registry

NOW = utcnow()


def _design(ws, s, category="cap", color="black", material="cotton") -> int:
    spec = DesignSpec(category=category, color=color, material=material, moq=ws.taxonomy.category(category).buyer_moq,
                      price_tiers=price_tiers(ws.taxonomy, category, material, 0), name=f"{color} {material} {category}")
    d = Design(name=spec.name, category=category, spec=spec.to_dict(), images=[])
    s.add(d)
    s.flush()
    return d.id


@pytest.fixture
def ws(tmp_path):
    ws = world(tmp_path)
    yield ws
    ws.close()


def world(tmp_path) -> Workspace:
    """A workspace with two published designs (a cap, socks) and two buyers (`honest`, `hostile`)."""
    ws = Workspace.open(Settings(home=tmp_path, min_impressions=20, test_impressions=200, decide_every_s=0))
    with transaction(ws.sessions) as s:
        production.import_factories(s, make_factory_registry(240))
        ids = [_design(ws, s, *spec) for spec in (("cap", "black", "cotton"), ("socks", "navy", "cotton"))]
        designs.publish(s, ws, ids, now=NOW, require_image=False)
        ws.honest, ws.hostile = (interest.create_buyer(s, name, "shop").id for name in ("honest", "hostile"))
    ws.cap, ws.socks = ids
    return ws


def record(ws, buyer, design, kind, *, at=NOW, served=None) -> bool:
    """Whether one event counted (it is stored either way)."""
    with transaction(ws.sessions) as s:
        ((_, counted),) = interest.record_counted(s, [EventIn(buyer, design, kind)], at,
                                                  served=[Served(buyer, (design,), served)] if served else [])
        return counted


def impressions(ws, design) -> int:
    with ws.sessions() as s:
        return s.get(Design, design).impressions


def test_a_view_of_nothing_served_is_ignored(ws):
    assert not record(ws, ws.hostile, ws.cap, "view")
    assert impressions(ws, ws.cap) == 0


def test_a_served_impression_is_confirmed_once_per_buyer_design_and_day(ws):
    assert record(ws, ws.honest, ws.cap, "view", served="feed")
    assert not record(ws, ws.honest, ws.cap, "view", served="feed")  # served again, the same day
    assert not record(ws, ws.honest, ws.cap, "view", at=NOW + timedelta(minutes=5))
    assert impressions(ws, ws.cap) == 1
    tomorrow = NOW + timedelta(days=1, hours=1)
    assert not record(ws, ws.honest, ws.cap, "view", at=tomorrow)  # yesterday's is no longer confirmable
    assert record(ws, ws.honest, ws.cap, "view", at=tomorrow, served="search")
    assert impressions(ws, ws.cap) == 2


def test_clicks_favourites_and_inquiries_count_once_and_only_on_a_served_design(ws):
    assert not record(ws, ws.honest, ws.cap, "favourite")  # never served to this buyer
    record(ws, ws.honest, ws.cap, "view", served="item")
    for kind in ("click", "favourite", "inquiry"):
        assert record(ws, ws.honest, ws.cap, kind)
        assert not record(ws, ws.honest, ws.cap, kind, at=NOW + timedelta(days=3))
    with ws.sessions() as s:
        assert s.scalar(select(func.count()).select_from(InterestMark)) == 3
        kinds = s.scalars(select(InterestEvent.kind).where(InterestEvent.design_id == ws.cap,
                                                           InterestEvent.counted.is_(True))).all()
        assert sorted(kinds) == ["click", "favourite", "inquiry", "view"]
        assert s.scalar(select(func.count()).select_from(InterestEvent)) == 8  # every one sent is stored


def test_events_for_designs_not_under_test_are_ignored(ws):
    record(ws, ws.honest, ws.cap, "view", served="feed")
    with transaction(ws.sessions) as s:
        s.get(Design, ws.cap).status = "dropped"
    assert not record(ws, ws.honest, ws.cap, "click", served="item")
    with ws.sessions() as s:
        assert s.scalar(select(func.count()).select_from(ServedImpression).where(ServedImpression.page == "item")) == 0


def test_a_confirmed_page_counts_its_views_and_an_item_page_its_click(ws):
    with transaction(ws.sessions) as s:
        feed = interest.record_served(s, Served(ws.honest, (ws.cap, ws.socks), "feed", confirmed=True), NOW)
        item = interest.record_served(s, Served(ws.honest, (ws.cap,), "item", confirmed=True), NOW)
    assert [c for _, c in feed] == [True, True]
    assert [c for _, c in item] == [False, True]  # the feed already viewed the cap today: the page adds its click
    with ws.sessions() as s:
        assert sorted(s.scalars(select(InterestEvent.kind).where(InterestEvent.design_id == ws.cap,
                                                                 InterestEvent.counted.is_(True)))) == ["click", "view"]
    assert impressions(ws, ws.cap) == impressions(ws, ws.socks) == 1


def test_a_flagged_buyers_views_are_stored_but_not_counted(ws):
    from app.services import abuse

    with transaction(ws.sessions) as s:
        abuse.flag(s, ws.hostile, "test", NOW)
    assert record(ws, ws.hostile, ws.cap, "view", served="feed")
    assert impressions(ws, ws.cap) == 0


def test_one_hostile_buyer_moves_counted_impressions_only_by_pages_served_and_no_other_buyers_order(ws):
    """The issue's high finding: 1,000 views from one buyer spent a design's whole impression budget, the
    next decision dropped it and released every other buyer's pre-order."""
    with ws.sessions() as s:
        moq = s.get(Design, ws.cap).spec["moq"]
    with transaction(ws.sessions) as s:
        order, _ = interest.place_preorder(s, ws.honest, ws.cap, moq, NOW)
    flood = [EventIn(ws.hostile, ws.cap, "view")] * 1000
    with transaction(ws.sessions) as s:
        stored = interest.record_counted(s, flood, NOW, served=[Served(ws.hostile, (ws.cap,), "item")])  # one page
    assert sum(c for _, c in stored) == 1 and impressions(ws, ws.cap) == 1
    for day in range(1, 4):  # and again on later days: one impression per page served, no more
        at = NOW + timedelta(days=day)
        with transaction(ws.sessions) as s:
            interest.record_events(s, flood, at, served=[Served(ws.hostile, (ws.cap,), "feed")])
        interest.decide(ws.sessions, ws.demand_cache, at, np.random.default_rng(0), interest.rules_of(ws.settings))
    with ws.sessions() as s:
        assert s.get(Design, ws.cap).status == "published"
        assert s.get(PreOrder, order.id).status == "active"
        hostile = s.scalar(select(func.count()).select_from(ServedImpression).where(
            ServedImpression.buyer_id == ws.hostile, ServedImpression.counted.is_(True)))
        assert hostile <= 4  # the pages served to them; 0 once screening flags them


def test_the_api_counts_views_of_what_it_served_and_says_which_it_ignored(ws, clients_of):
    from fastapi.testclient import TestClient

    from app.api.main import create_app

    with TestClient(create_app(ws.settings)) as c:
        clients = clients_of(c.app)
        buyer = clients.new("buyer")
        body = {"events": [{"design_id": ws.cap, "kind": "view"}] * 50}
        r = buyer.post("/api/v1/events/batch", json=body)
        assert r.status_code == 201 and (r.json()["stored"], r.json()["counted"], r.json()["ignored"]) == (50, 0, 50)
        assert buyer.get(f"/api/v1/designs/{ws.cap}").status_code == 200  # the item page serves it
        r = buyer.post("/api/v1/events/batch", json=body)
        assert (r.json()["stored"], r.json()["counted"], r.json()["ignored"]) == (50, 1, 49)
        one = buyer.post("/api/v1/events", json={"design_id": ws.cap, "kind": "click"}).json()
        assert one["counted"] and one["id"] > r.json()["first_id"]
        again = buyer.post("/api/v1/events", json={"design_id": ws.cap, "kind": "click"}).json()
        assert not again["counted"] and again["id"] > one["id"]  # stored as sent, counted nowhere
    assert impressions(ws, ws.cap) == 1


def test_every_event_endpoint_is_rate_limited_per_buyer_with_retry_after(tmp_path, clients_of):
    from fastapi.testclient import TestClient

    from app.api.main import create_app

    settings = Settings(home=tmp_path, event_limit_per_minute=10, page_limit_per_minute=3, order_limit_per_hour=2,
                        decide_every_s=0)
    with TestClient(create_app(settings)) as c:
        with transaction(c.app.state.workspace.sessions) as s:
            production.import_factories(s, make_factory_registry(60))
        clients = clients_of(c.app)
        merch, buyer, other = clients.new("merchandiser"), clients.new("buyer"), clients.new("buyer")
        d = clients.plain_design(merch)
        batch = {"events": [{"design_id": d["id"], "kind": "view"}] * 10}
        assert buyer.post("/api/v1/events/batch", json=batch).status_code == 201
        r = buyer.post("/api/v1/events", json={"design_id": d["id"], "kind": "view"})
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
        assert other.post("/api/v1/events", json={"design_id": d["id"], "kind": "view"}).status_code == 201  # per buyer
        too_big = {"events": [{"design_id": d["id"], "kind": "view"}] * 11}
        assert other.post("/api/v1/events/batch", json=too_big).status_code == 422  # can never be admitted
        for _ in range(3):
            assert buyer.get(f"/api/v1/designs/{d['id']}").status_code == 200
        assert buyer.get(f"/api/v1/designs/{d['id']}").status_code == 429
        assert buyer.get(f"/api/v1/buyers/{buyer.user['buyer_id']}/feed").status_code == 429
        assert buyer.get("/api/v1/search", params={"q": "socks"}).status_code == 429
        order = {"design_id": d["id"], "quantity": d["spec"]["moq"]}
        first = buyer.post("/api/v1/preorders", json=order)
        assert first.status_code == 201
        assert buyer.post(f"/api/v1/buyers/{buyer.user['buyer_id']}/preorders/{first.json()['id']}/cancel").status_code == 200
        r = buyer.post("/api/v1/preorders", json=order)
        assert r.status_code == 429 and "Retry-After" in r.headers

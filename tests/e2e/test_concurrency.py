"""Concurrency against the real server (uvicorn, SQLite in WAL mode): parallel pre-orders never
double-count and never slip into a closed book; parallel retries of one idempotency key create one
pre-order; parallel accepts never load a factory beyond its capacity."""

import sqlite3
import threading
from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy import select

from app.db import transaction
from app.models import FactoryOrder, FactoryRow, utcnow
from app.server_process import api_server
from app.services import accounts
from app.settings import Settings
from app.workspace import Workspace

N_BUYERS = 16


@pytest.fixture(scope="module")
def served(module_market_factory):
    """(market, base URL): two published designs, N_BUYERS buyers, one server for the module."""
    m = module_market_factory(n_buyers=N_BUYERS, categories=(("socks", "cotton"), ("tote-bag", "canvas")))
    with api_server(m.home, env={"TRENDLOOM_DECIDE_EVERY_S": "0"}) as url:
        yield m, url


def _parallel(calls) -> list[httpx.Response]:
    """Run every `call()` in its own thread, released together; the responses in call order."""
    start = threading.Barrier(len(calls))
    out: list = [None] * len(calls)

    def run(i: int) -> None:
        start.wait()
        try:
            out[i] = calls[i]()
        except httpx.HTTPError as exc:  # recorded, so the test says what went wrong
            out[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(isinstance(r, httpx.Response) for r in out), [r for r in out if not isinstance(r, httpx.Response)]
    return out


def _post(url: str, token: str, path: str, body=None, headers=None):
    def call() -> httpx.Response:
        return httpx.post(f"{url}{path}", json=body, timeout=60,
                          headers={"Authorization": f"Bearer {token}", **(headers or {})})
    return call


def test_parallel_preorders_add_up_exactly_and_stop_at_the_closed_book(served):
    m, url = served
    design = m.designs[0]
    calls = [_post(url, token, "/api/v1/preorders", {"design_id": design["id"], "quantity": design["moq"]})
             for _, token in m.buyers for _ in range(3)]
    responses = _parallel(calls)
    codes = [r.status_code for r in responses]
    assert set(codes) <= {201, 409}, [r.text for r in responses if r.status_code not in (201, 409)]
    made = [r.json() for r in responses if r.status_code == 201]
    db = sqlite3.connect(m.home / "trendloom.db")
    rows = db.execute("SELECT id, quantity, status, unit_price_cents FROM pre_orders WHERE design_id = ?",
                      (design["id"],)).fetchall()
    committed, count, pieces, status = db.execute(
        "SELECT committed, pre_order_count, pieces_ordered, status FROM designs WHERE id = ?", (design["id"],)).fetchone()
    assert sorted(r[0] for r in rows) == sorted(p["id"] for p in made)  # every 201 is stored, nothing else is
    assert count == len(rows) and pieces == sum(r[1] for r in rows)
    assert committed == sum(r[1] for r in rows if r[2] in ("active", "confirmed"))
    assert N_BUYERS * 3 * design["moq"] >= design["threshold"]  # enough asked to close the book
    # the book closed at the threshold: the pre-order that crossed it was the last one accepted
    assert status == "won" and design["threshold"] <= committed < design["threshold"] + design["moq"]
    assert {r[2] for r in rows} == {"confirmed"} and len({r[3] for r in rows}) == 1  # one final tier price
    assert 409 in codes


def test_parallel_retries_of_one_key_make_one_preorder(served):
    m, url = served
    design = m.designs[1]
    buyer_id, token = m.buyers[0]
    body = {"design_id": design["id"], "quantity": design["moq"]}
    responses = _parallel([_post(url, token, "/api/v1/preorders", body, {"Idempotency-Key": "retry-me"})] * 8)
    settled = _post(url, token, "/api/v1/preorders", body, {"Idempotency-Key": "retry-me"})()
    assert {r.status_code for r in responses} <= {201, 409}, [r.text for r in responses]
    ids = {r.json()["id"] for r in responses if r.status_code == 201}
    assert len(ids) == 1 and settled.json()["id"] in ids
    db = sqlite3.connect(m.home / "trendloom.db")
    assert db.execute("SELECT count(*) FROM pre_orders WHERE buyer_id = ? AND design_id = ?",
                      (buyer_id, design["id"])).fetchone() == (1,)
    assert db.execute("SELECT committed FROM designs WHERE id = ?", (design["id"],)).fetchone() == (design["moq"],)


def test_parallel_accepts_never_exceed_capacity(served):
    m, url = served
    ws = Workspace.open(Settings(home=m.home))
    with transaction(ws.sessions) as s:
        factory = s.scalars(select(FactoryRow).order_by(FactoryRow.id)).first()
        quantity = factory.moq
        factory.capacity = quantity * 5 // 2  # room for two of the six offers
        for round_ in range(1, 7):
            s.add(FactoryOrder(design_id=m.designs[0]["id"], factory_id=factory.id, round=100 + round_,
                               quantity=quantity, unit_price_cents=100, due_date=date(2030, 1, 1), status="offered"))
        user = accounts.create_user(s, "mill", "not the point", "factory", factory_id=factory.id)
        token = accounts.issue_token(s, user, utcnow(), timedelta(hours=1))
        fid, capacity = factory.id, factory.capacity
        order_ids = list(s.scalars(select(FactoryOrder.id).where(FactoryOrder.factory_id == fid)))
    ws.close()
    responses = _parallel([_post(url, token, f"/api/v1/factories/{fid}/orders/{oid}/accept") for oid in order_ids])
    assert {r.status_code for r in responses} <= {200, 409}, [r.text for r in responses]
    db = sqlite3.connect(m.home / "trendloom.db")
    (load,) = db.execute("SELECT coalesce(sum(quantity), 0) FROM factory_orders WHERE factory_id = ? AND status = 'accepted'",
                         (fid,)).fetchone()
    assert load <= capacity
    assert sum(r.status_code == 200 for r in responses) == 2 == load // quantity

"""Winners allocated jointly over shared capacity (known answer), the plan endpoint for the merchandiser,
and produce to sales: sell-through reports, one reorder per batch, same factory first."""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.api.main import create_app
from app.db import transaction
from app.models import Design, FactoryOrder, Reorder, utcnow
from app.services import interest, planning, production
from app.settings import Settings
from generation.concepts.spec import DesignSpec
from matching.factories.registry import Factory

V1 = "/api/v1"
PROCESSES = ("knitting", "dyeing", "printing", "embroidery")


def mill(fid: str, moq: int, capacity: int, price_index: float) -> Factory:
    return Factory(fid, f"{fid} Hosiery Co.", "CN", "Zhejiang", ("socks",), ("cotton", "wool"), PROCESSES, moq,
                   capacity, 10, 0.8, price_index, city="Zhuji")


@pytest.fixture
def world(tmp_path, fake_embedder, clients_of):
    """F1 (capacity 500, price x1.0) and F2 (capacity 1,000, x1.2), both MOQ 100; S = 20,000 cents."""
    app = create_app(Settings(home=tmp_path / "ws", decide_every_s=0, split_cost_cents=20_000))
    with TestClient(app):
        clients = clients_of(app)
        with transaction(clients.ws.sessions) as s:
            production.import_factories(s, [mill("F1", 100, 500, 1.0), mill("F2", 100, 1000, 1.2)])
        yield clients


def _winner(clients, merch, material: str, pieces: int) -> int:
    design = clients.plain_design(merch, "socks", material)
    with transaction(clients.ws.sessions) as s:
        buyer = interest.create_buyer(s, f"shop {material}", "shop")
        interest.place_preorder(s, buyer.id, design["id"], pieces, utcnow())
        assert s.get(Design, design["id"]).status == "won"
    return design["id"]


def _unit_base(ws, design_id: int) -> int:
    with ws.sessions() as s:
        spec = DesignSpec.from_dict(s.get(Design, design_id).spec)
    return planning.requirement_for(spec, ws.taxonomy, quantity=1, cost_share=ws.settings.cost_share).base_unit_cost_cents


def test_winners_share_capacity_in_one_joint_allocation(world):
    """A (cotton, 400 pcs, base cost 127) and B (wool, 300 pcs, base 204) both want F1, which holds 500.
    At F2 (x1.2) A costs 152 and B 245. A at F1, B at F2: 50,800 + 73,500 = 124,300; B at F1, A at F2:
    61,200 + 60,800 = 122,000; each + 2S. A split that fills F1 (B 300 + A 100 there, A 300 at F2) costs
    119,500 + 3S = 179,500. Optimum 162,000: B -> F1, A -> F2. Offering one design at a time (A first, as
    the old per-design matching did) would have put A on F1 and paid 2,300 more."""
    ws = world.ws
    merch = world.new("merchandiser")
    a, b = _winner(world, merch, "cotton", 400), _winner(world, merch, "wool", 300)
    assert (_unit_base(ws, a), _unit_base(ws, b)) == (127, 204)
    with transaction(ws.sessions) as s:
        results = production.match_winners(s, ws, now=utcnow())
        got = sorted((r.design_id, o.factory_id, o.quantity, o.unit_price_cents) for r in results for o in r.orders)
        assert got == [(a, "F2", 400, 152), (b, "F1", 300, 204)]
        assert all(r.unmatched_reason == "" for r in results)
        assert {s.get(Design, a).status, s.get(Design, b).status} == {"matched"}
        kept = [c for c in next(r for r in results if r.design_id == a).candidates if c.kept]
        assert {c.factory_id for c in kept} == {"F1", "F2"} and all("score" in c.reasons[-1] for c in kept)
    with transaction(ws.sessions) as s:  # a second run finds nothing left to offer
        assert production.match_winners(s, ws, now=utcnow()) == []


def test_plan_endpoint_checks_orders_and_answers_a_plan(world):
    merch = world.new("merchandiser")
    order = {"design_id": "X", "category": "socks", "materials": ["wool"], "processes": ["knitting"],
             "quantity": 300, "due_in_days": 20, "base_unit_cost_cents": 200}
    r = merch.post(f"{V1}/merchandiser/match/plan", json={"orders": [order, {**order, "design_id": "Y",
                                                                              "category": "rockets"}]})
    assert r.status_code == 422 and "orders, item 2: unknown category 'rockets'; known: cap, cleaning-cloth" in r.json()["detail"]
    r = merch.post(f"{V1}/merchandiser/match/plan", json={"orders": [{**order, "materials": ["kryptonite"]}]})
    assert r.status_code == 422 and "unknown materials ['kryptonite']; known: " in r.json()["detail"]
    assert "wool" in r.json()["detail"]
    for bad in (0, -3, 2.5, "7"):
        r = merch.post(f"{V1}/merchandiser/match/plan", json={"orders": [{**order, "quantity": bad}]})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == "quantity", bad
    r = merch.post(f"{V1}/merchandiser/match/plan", json={"orders": [order, order]})
    assert r.status_code == 422 and "design_id 'X' repeats item 1" in r.json()["detail"]
    big = {**order, "design_id": "Z", "quantity": 2000}
    r = merch.post(f"{V1}/merchandiser/match/plan", json={"orders": [order, big], "exact": True})
    assert r.status_code == 200, r.text
    plan = r.json()
    # 2,300 pcs want 1,500 pcs of capacity: 800 stay unplaced whatever the plan, at P = 2 x 240 + S + 1 =
    # 20,481 per piece for X and Z alike. Filling F1 (200 a piece) and F2 (240) costs 100,000 + 240,000 =
    # 340,000 whichever design's pieces go there, so the lanes decide: Z alone on both (2S) beats X 300 +
    # Z 200 at F1 and Z 1,000 at F2 (3S). Optimum: 340,000 + 2S + 800 x 20,481; X is left out whole.
    assert sorted((x["design_id"], x["factory_id"], x["quantity"]) for x in plan["rows"]) == [
        ("Z", "F1", 500), ("Z", "F2", 1000)]
    assert plan["objective_cents"] == 340_000 + 2 * 20_000 + 800 * 20_481
    assert plan["method"] == "exact" and plan["gap_heuristic_vs_exact"] is not None
    left = {u["design_id"]: u for u in plan["unplaced"]}
    assert {d: u["quantity"] for d, u in left.items()} == {"X": 300, "Z": 500}
    assert all(u["reason"].startswith("capacity: the 2 qualifying factories have") for u in left.values())
    assert {c["factory_id"]: c["kept"] for c in plan["candidates"]["X"]} == {"F1": True, "F2": True}
    assert world.new("buyer").post(f"{V1}/merchandiser/match/plan", json={"orders": [order]}).status_code == 403


def _ship_all(ws, design_id: int) -> None:
    with transaction(ws.sessions) as s:
        for o in s.scalars(select(FactoryOrder).where(FactoryOrder.design_id == design_id,
                                                      FactoryOrder.status == "offered")).all():
            production.accept(s, o.factory_id, o.id)
            production.update_status(s, o.factory_id, o.id, "in_production")
            production.update_status(s, o.factory_id, o.id, "shipped", o.quantity)


def test_sell_through_reorders_once_at_the_same_factory_first(world):
    ws = world.ws
    merch = world.new("merchandiser")
    a, b = _winner(world, merch, "cotton", 400), _winner(world, merch, "wool", 300)
    with transaction(ws.sessions) as s:
        production.match_winners(s, ws, now=utcnow())
    sales = lambda d, q, **kw: merch.post(f"{V1}/merchandiser/designs/{d}/sales", json={"quantity": q}, **kw)  # noqa: E731
    assert sales(b, 10).status_code == 409  # nothing shipped yet
    _ship_all(ws, b)
    r = sales(b, 200)  # 200 / 300 = 0.67 < 0.7
    assert r.status_code == 201 and r.json()["reorder"] is None and r.json()["sell_through"] == pytest.approx(0.6667)
    r = sales(b, 10, headers={"Idempotency-Key": "s-1"})  # 210 / 300 = 0.7: reorder 210 pcs to F1, which made it
    out = r.json()
    assert out["reorder"]["batch"] == 2 and out["reorder"]["quantity"] == 210
    assert [(o["factory_id"], o["quantity"], o["batch"], o["status"]) for o in out["orders"]] == [("F1", 210, 2, "offered")]
    again = sales(b, 10, headers={"Idempotency-Key": "s-1"})
    assert again.json() == out and again.headers["Idempotent-Replayed"] == "true"
    r = sales(b, 20)  # crossing again: the reorder is not shipped yet, so no second one
    assert r.status_code == 201 and r.json()["reorder"] is None and r.json()["sold"] == 230
    assert sales(b, 71).status_code == 422  # 301 sold > 300 shipped
    # A was made at F2; F2 is now down to 200 pcs a month, too little for A's 280-piece reorder: re-matched to F1
    _ship_all(ws, a)
    with transaction(ws.sessions) as s:
        production.set_capacity(s, "F2", 200)
    out = sales(a, 280).json()
    assert out["reorder"]["quantity"] == 280 and [o["factory_id"] for o in out["orders"]] == ["F1"]
    assert out["reorder"]["note"] == "F2, which made the last batch, cannot take it (free capacity 200 pcs < 280 pcs); re-matched"
    with ws.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Reorder)) == 2
        assert s.get(Design, a).status == "matched" and "reorder 2: 280 pcs offered to F1" in s.get(Design, a).note


def test_a_reorder_no_factory_takes_is_reported_once(world):
    ws = world.ws
    merch = world.new("merchandiser")
    b = _winner(world, merch, "wool", 300)
    with transaction(ws.sessions) as s:
        production.match_winners(s, ws, now=utcnow())
    _ship_all(ws, b)
    with transaction(ws.sessions) as s:  # both mills now take 1,000 pcs at least: the reorder is too small
        for fid in ("F1", "F2"):
            production.get_factory(s, fid).moq = 1000
    url = f"{V1}/merchandiser/designs/{b}/sales"
    out = merch.post(url, json={"quantity": 240}).json()
    assert out["orders"] == [] and out["reorder"]["quantity"] == 240
    assert "MOQ 1000 > 240 pcs ordered" in out["reorder"]["note"] and "MOQ: the 2 factories" in out["reorder"]["note"]
    assert merch.post(url, json={"quantity": 30}).json()["reorder"] is None  # crossing again: still one reorder
    with ws.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Reorder)) == 1
        assert s.get(Design, b).note.startswith("reorder 2: 240 pcs found no factory (sell-through 80%)")

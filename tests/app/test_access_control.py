"""Access control: every role tries every other role's endpoints and other users' objects.

Refusals are 401 (not signed in), 403 (another role's endpoint) or 404 (another buyer's or factory's
object, answered exactly as an id that does not exist); a refused request changes nothing, and no
error body carries another user's data or a stack trace.
"""

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.api.auth import CSRF_HEADER, SESSION_COOKIE
from app.api.main import create_app
from app.db import transaction
from app.models import ApiToken, Buyer, Design, FactoryOrder, FactoryRow, InterestEvent, PreOrder, User, utcnow
from app.services import accounts, production
from app.settings import Settings
from matching.factories.synthetic import make_factory_registry

V1 = "/api/v1"
SECRET_NAME = "Alpha Secret Boutique"
ROLES = ("anonymous", "merchandiser", "buyer", "factory", "admin")
SIGNED_IN = frozenset(ROLES) - {"anonymous"}


def who_may(method: str, path: str) -> frozenset[str]:
    """The roles allowed on each API route; an unlisted route fails the test, so new ones get listed."""
    if path in ("/healthz", f"{V1}/auth/token") and method != "DELETE":
        return frozenset(ROLES)
    if path in (f"{V1}/auth/token", f"{V1}/me", f"{V1}/search", f"{V1}/designs/{{design_id}}",
                f"{V1}/designs/{{design_id}}/images/{{index}}", f"{V1}/designs/{{design_id}}/variants"):
        return SIGNED_IN
    if path.startswith(f"{V1}/merchandiser/") or path == f"{V1}/status":
        return frozenset({"merchandiser", "admin"})
    if path.startswith(f"{V1}/factories/"):
        return frozenset({"factory", "admin"})
    if path in (f"{V1}/users", f"{V1}/users/{{login}}/{{action}}") or (method, path) == ("POST", f"{V1}/buyers"):
        return frozenset({"admin"})
    if path.startswith(f"{V1}/buyers/") or path in (f"{V1}/preorders", f"{V1}/events", f"{V1}/events/batch",
                                                     f"{V1}/designs/{{design_id}}/variant-requests"):
        return frozenset({"buyer", "admin"})
    raise AssertionError(f"{method} {path} is not classified: add it to who_may")


@pytest.fixture(scope="module")
def world(tmp_path_factory, clients_of):
    """Two buyers (A has pre-orders), a won design matched to factory F, another factory G, a draft."""
    app = create_app(Settings(home=tmp_path_factory.mktemp("acl"), decide_every_s=0))
    with TestClient(app) as anonymous:
        clients = clients_of(app)
        ws = clients.ws
        with transaction(ws.sessions) as s:
            production.import_factories(s, make_factory_registry(240))
        merch, admin = clients.new("merchandiser"), clients.new("admin")
        a = clients.new("buyer", display_name=SECRET_NAME)
        b = clients.new("buyer")
        won = clients.plain_design(merch, "socks")
        open_design = clients.plain_design(merch, "tote-bag", "canvas")
        draft = clients.plain_design(merch, "cap", "cotton", publish=False)
        assert a.post(f"{V1}/preorders", json={"design_id": won["id"], "quantity": won["production_threshold"]}).status_code == 201
        pending = a.post(f"{V1}/preorders", json={"design_id": open_design["id"], "quantity": open_design["spec"]["moq"]})
        assert pending.json()["status"] == "active"
        with transaction(ws.sessions) as s:
            (res,) = [r for r in production.match_winners(s, ws, now=utcnow()) if r.design_id == won["id"]]
            order = res.orders[0]
            other = next(c.factory_id for c in res.candidates if c.factory_id != order.factory_id)
        f, g = clients.factory(order.factory_id), clients.factory(other)
        params = {"buyer_id": a.user["buyer_id"], "preorder_id": pending.json()["id"], "design_id": won["id"],
                  "index": 0, "factory_id": order.factory_id, "order_id": order.id, "series": "color_sage_green",
                  "login": a.user["login"], "action": "disable"}
        yield {"app": app, "ws": ws, "anonymous": anonymous, "merchandiser": merch, "admin": admin, "buyer": b,
               "a": a, "factory": g, "f": f, "params": params, "draft": draft, "order": order}


def _state(ws) -> dict:
    """Everything a refused request could have changed."""
    with ws.sessions() as s:
        def by_status(model):
            return dict(s.execute(select(model.status, func.count()).group_by(model.status)).all())
        return {"designs": by_status(Design), "pre_orders": by_status(PreOrder), "orders": by_status(FactoryOrder),
                "events": s.scalar(select(func.count()).select_from(InterestEvent)),
                "users": s.scalar(select(func.count()).select_from(User)),
                "tokens": s.scalar(select(func.count()).select_from(ApiToken)),
                "buyers": s.scalar(select(func.count()).select_from(Buyer)),
                "images": sorted((d.id, tuple(d.images)) for d in s.scalars(select(Design)))}


def _assert_clean(r, *, extra: tuple[str, ...] = ()) -> None:
    """No stack trace, no other buyer's data, and a plain message."""
    text = r.text
    for leak in ("Traceback", 'File "', "sqlalchemy", "SELECT ", SECRET_NAME, *extra):
        assert leak not in text, (r.request.url, text)
    assert isinstance(r.json()["detail"], str)


def test_every_role_is_refused_every_other_roles_endpoints(world):
    routes = [(m.upper(), path) for path, ops in world["app"].openapi()["paths"].items() for m in ops]
    assert len(routes) >= 28
    before = _state(world["ws"])
    refused = 0
    for method, path in routes:
        allowed = who_may(method, path)
        url = re.sub(r"\{(\w+)\}", lambda m: str(world["params"][m.group(1)]), path)
        for role in ROLES:
            if role in allowed:
                continue
            r = world[role].request(method, url, json={} if method in ("POST", "PUT", "PATCH") else None)
            expected = 401 if role == "anonymous" else 403
            assert r.status_code == expected, (role, method, path, r.status_code, r.text)
            _assert_clean(r)
            refused += 1
    assert refused > 60
    assert _state(world["ws"]) == before


def test_users_cannot_reach_each_others_objects(world):
    b, g, p = world["buyer"], world["factory"], world["params"]
    a_buyer, a_order, fid, oid = p["buyer_id"], p["preorder_id"], p["factory_id"], p["order_id"]
    own_b, own_g = b.user["buyer_id"], g.user["factory_id"]
    before = _state(world["ws"])
    attempts = [
        (b, "GET", f"/buyers/{a_buyer}", None),
        (b, "GET", f"/buyers/{a_buyer}/feed", None),
        (b, "GET", f"/buyers/{a_buyer}/preorders", None),
        (b, "POST", f"/buyers/{a_buyer}/preorders/{a_order}/cancel", None),
        (b, "POST", f"/buyers/{own_b}/preorders/{a_order}/cancel", None),  # own path, A's pre-order
        (b, "POST", "/preorders", {"buyer_id": a_buyer, "design_id": p["design_id"], "quantity": 50}),
        (b, "POST", "/events", {"buyer_id": a_buyer, "design_id": p["design_id"], "kind": "favourite"}),
        (b, "POST", "/events/batch", {"events": [{"design_id": p["design_id"], "kind": "view"},
                                                 {"buyer_id": a_buyer, "design_id": p["design_id"], "kind": "view"}]}),
        (b, "GET", f"/designs/{world['draft']['id']}", None),  # drafts are the merchandisers'
        (b, "GET", f"/designs/{world['draft']['id']}/images/0", None),
        (g, "GET", f"/factories/{fid}/inbox", None),
        (g, "POST", f"/factories/{fid}/orders/{oid}/accept", None),
        (g, "POST", f"/factories/{fid}/orders/{oid}/decline", {"reason": "not mine"}),
        (g, "POST", f"/factories/{fid}/orders/{oid}/status", {"status": "in_production"}),
        (g, "POST", f"/factories/{own_g}/orders/{oid}/accept", None),  # own path, F's order
        (g, "POST", f"/factories/{own_g}/orders/{oid}/decline", {"reason": "not mine"}),
    ]
    for client, method, url, body in attempts:
        r = client.request(method, f"{V1}{url}", json=body)
        assert r.status_code == 404, (url, r.status_code, r.text)
        _assert_clean(r, extra=(str(world["order"].quantity) + " pcs",))
    # another buyer's id is answered exactly like an id that does not exist
    mine, missing = (b.get(f"{V1}/buyers/{i}/preorders").json()["detail"] for i in (a_buyer, 10**9))
    assert mine.replace(str(a_buyer), "N") == missing.replace(str(10**9), "N")
    assert _state(world["ws"]) == before


def test_each_sees_only_their_own(world):
    a, b, p = world["a"], world["buyer"], world["params"]
    assert {o["buyer_id"] for o in a.get(f"{V1}/buyers/{p['buyer_id']}/preorders").json()} == {p["buyer_id"]}
    assert b.get(f"{V1}/buyers/{b.user['buyer_id']}/preorders").json() == []
    detail = b.get(f"{V1}/designs/{p['design_id']}").json()
    assert detail["interest"] is None  # merchandisers' statistics are not for buyers
    assert world["merchandiser"].get(f"{V1}/merchandiser/designs/{p['design_id']}").json()["interest"]
    inbox = world["f"].get(f"{V1}/factories/{p['factory_id']}/inbox").json()
    assert inbox and {i["order"]["factory_id"] for i in inbox} == {p["factory_id"]}
    assert world["factory"].get(f"{V1}/factories/{world['factory'].user['factory_id']}/inbox").json() == []


def test_buyers_and_factories_never_see_a_designs_internal_note(world):
    """The note names the factories (the threshold's, the ones offered or declining) and the odds of winning:
    a buyer could go straight to the supplier, a factory would see its competitors' orders."""
    p, ws = world["params"], world["ws"]
    with ws.sessions() as s:
        factories = [t for row in s.execute(select(FactoryRow.id, FactoryRow.name)) for t in row]
        notes = {d.id: d.note for d in s.scalars(select(Design).where(Design.status != "draft"))}
    assert all(notes.values()) and any("MOQ of" in n for n in notes.values())  # there is something to leak
    a, f, g = world["a"], world["f"], world["factory"]
    answers = [a.get(f"{V1}/designs/{i}") for i in notes] + [g.get(f"{V1}/designs/{i}") for i in notes] + [
        a.get(f"{V1}/search", params={"q": "navy cotton"}), a.get(f"{V1}/buyers/{p['buyer_id']}/feed"),
        f.get(f"{V1}/factories/{p['factory_id']}/inbox")]
    designs = []
    for r in answers:
        assert r.status_code == 200, (r.request.url, r.text)
        body = r.json()
        designs += [body] if isinstance(body, dict) else [x.get("design", x) for x in body]
        own = p["factory_id"] if "/inbox" in str(r.request.url) else None  # the inbox names its own factory
        leaks = [x for x in (*factories, "MOQ of", "P(reach") if x != own and x in r.text]
        assert not leaks, (r.request.url, leaks, r.text)
    assert len(designs) > len(notes) and all(d["note"] is None for d in designs)
    # the merchandisers (and admins) still read it, through their own and the shared endpoints
    for staff in (world["merchandiser"], world["admin"]):
        for i, note in notes.items():
            assert staff.get(f"{V1}/merchandiser/designs/{i}").json()["note"] == note
            assert staff.get(f"{V1}/designs/{i}").json()["note"] == note


def test_a_browser_session_needs_the_csrf_token_for_api_writes(world):
    ws, p = world["ws"], world["params"]
    with transaction(ws.sessions) as s:
        sid, row = accounts.create_session(s, accounts.get_user(s, world["a"].user["id"]), utcnow(),
                                           timedelta(hours=1))
        csrf = row.csrf_token
    browser = TestClient(world["app"], cookies={SESSION_COOKIE: sid})
    body = {"design_id": world["params"]["design_id"], "kind": "favourite"}
    assert browser.get(f"{V1}/buyers/{p['buyer_id']}/preorders").status_code == 200  # reads need no token
    before = _state(ws)
    r = browser.post(f"{V1}/events", json=body)  # what a forged cross-site request looks like
    assert r.status_code == 403 and "CSRF" in r.json()["detail"]
    assert browser.post(f"{V1}/events", json=body, headers={CSRF_HEADER: "guess"}).status_code == 403
    assert _state(ws) == before
    assert browser.post(f"{V1}/events", json=body, headers={CSRF_HEADER: csrf}).status_code == 201


def test_bad_and_expired_tokens_are_401(world):
    ws = world["ws"]
    with transaction(ws.sessions) as s:
        user = accounts.get_user(s, world["a"].user["id"])
        expired = accounts.issue_token(s, user, utcnow(), timedelta(seconds=-1))
    for header in (f"Bearer {expired}", "Bearer tl_nonsense", "Basic YTpi", "Bearer"):
        r = TestClient(world["app"]).get(f"{V1}/me", headers={"Authorization": header})
        assert r.status_code in (401, 403) and "tl_" not in r.text, (header, r.text)
        _assert_clean(r)
    r = world["anonymous"].post(f"{V1}/auth/token", json={"login": world["a"].user["login"], "password": "wrong!!!"})
    assert r.status_code == 401 and r.json()["detail"] == "wrong login or password"

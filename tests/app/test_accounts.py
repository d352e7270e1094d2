"""Accounts: password hashing, tokens and sessions (service), and the FastAPI auth dependencies."""

from datetime import timedelta
from typing import Annotated

import pytest
from fastapi import Depends, FastAPI, Form, Request
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from app.api.auth import (CSRF_FIELD, CSRF_HEADER, SESSION_COOKIE, CurrentAuth, CurrentUser, OptionalAuth,
                          login_response, logout_response, require_role)
from app.api.deps import SessionDep, WorkspaceDep
from app.cli import cli
from app.db import transaction
from app.errors import Conflict, Invalid, NotFound, Unauthenticated, install_error_handlers
from app.models import ApiToken, Buyer, User, WebSession, utcnow
from app.services import accounts, production
from app.settings import Settings
from app.workspace import Workspace
from matching.factories.registry import Factory

PASSWORD = "correct horse battery"
MILL = Factory("F1", "Mill", "CN", "Zhejiang", ("socks",), ("cotton",), ("knitting",), moq=100, capacity=1000,
               lead_time_days=10, quality=0.8, price_index=1.0)


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    ws = Workspace.open(Settings(home=tmp_path_factory.mktemp("accounts")))
    with transaction(ws.sessions) as s:
        production.import_factories(s, [MILL])
        for role in ("merchandiser", "buyer", "admin"):
            accounts.create_user(s, role, PASSWORD, role)
        accounts.create_user(s, "factory", PASSWORD, "factory", factory_id="F1")
    yield ws
    ws.close()


def test_passwords_are_argon2_hashed_and_checked(ws):
    with transaction(ws.sessions) as s:
        user = accounts.authenticate(s, "  Merchandiser ", PASSWORD)  # logins are case-insensitive
        assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
        for login, password in (("merchandiser", "wrong password"), ("nobody", PASSWORD)):
            with pytest.raises(Unauthenticated, match="^wrong login or password$"):
                accounts.authenticate(s, login, password)


@pytest.mark.parametrize("login, password, role, extra, error", [
    ("x", PASSWORD, "buyer", {}, Invalid),                       # login too short
    ("has space", PASSWORD, "buyer", {}, Invalid),
    ("newbie", "short", "buyer", {}, Invalid),                     # password too short
    ("newbie", PASSWORD, "pirate", {}, Invalid),                   # unknown role
    ("newbie", PASSWORD, "factory", {}, Invalid),                  # a factory user needs a factory
    ("newbie", PASSWORD, "factory", {"factory_id": "NOPE"}, NotFound),
    ("newbie", PASSWORD, "merchandiser", {"buyer_id": 1}, Invalid),
    ("newbie", PASSWORD, "buyer", {"language": "fr"}, Invalid),
    ("BUYER", PASSWORD, "buyer", {}, Conflict),                    # taken, whatever the case
    ("factory2", PASSWORD, "factory", {"factory_id": "F1"}, Conflict),  # the factory has a user
])
def test_bad_accounts_are_refused(ws, login, password, role, extra, error):
    with pytest.raises(error), transaction(ws.sessions) as s:
        accounts.create_user(s, login, password, role, **extra)


def test_a_buyer_user_gets_a_buyer_of_their_own(ws):
    with transaction(ws.sessions) as s:
        user = accounts.create_user(s, "shop.owner@example.com", PASSWORD, "buyer", display_name="Shop",
                                    buyer_kind="live_streamer")
        buyer = s.get(Buyer, user.buyer_id)
        assert buyer.name == "Shop" and buyer.kind == "live_streamer"


def test_tokens_are_stored_hashed_and_expire(ws):
    now = utcnow()
    with transaction(ws.sessions) as s:
        user = accounts.authenticate(s, "buyer", PASSWORD)
        token = accounts.issue_token(s, user, now, timedelta(days=1))
        assert accounts.user_for_token(s, token, now).id == user.id
        assert s.scalar(select(ApiToken).where(ApiToken.token_hash == token)) is None  # never in clear
        with pytest.raises(Unauthenticated):
            accounts.user_for_token(s, token, now + timedelta(days=1, seconds=1))
        with pytest.raises(Unauthenticated):
            accounts.user_for_token(s, token + "x", now)
        accounts.revoke_token(s, token)
        with pytest.raises(Unauthenticated):
            accounts.user_for_token(s, token, now)


def test_sessions_expire_and_end_and_a_new_password_ends_them_all(ws):
    now = utcnow()
    with transaction(ws.sessions) as s:
        user = accounts.authenticate(s, "admin", PASSWORD)
        sid, row = accounts.create_session(s, user, now, timedelta(hours=1))
        assert s.get(WebSession, sid) is None and accounts.session_for(s, sid, now).user_id == user.id
        with pytest.raises(Unauthenticated):
            accounts.session_for(s, sid, now + timedelta(hours=2))
        accounts.delete_session(s, sid)
        with pytest.raises(Unauthenticated):
            accounts.session_for(s, sid, now)
        sid, _ = accounts.create_session(s, user, now, timedelta(hours=1))
        token = accounts.issue_token(s, user, now, timedelta(days=1))
        accounts.set_password(s, user, PASSWORD)
        with pytest.raises(Unauthenticated):
            accounts.session_for(s, sid, now)
        with pytest.raises(Unauthenticated):
            accounts.user_for_token(s, token, now)


@pytest.fixture(scope="module")
def client(ws):
    """A small app with one route per kind of protection, over the real dependencies."""
    app = FastAPI()
    install_error_handlers(app)
    app.state.workspace = ws

    @app.post("/login")
    def login(session: SessionDep, w: WorkspaceDep, login: Annotated[str, Form()], password: Annotated[str, Form()]):
        return login_response(session, w.settings, accounts.authenticate(session, login, password), redirect_to="/me")

    @app.post("/logout")
    def logout(request: Request, session: SessionDep, _: CurrentAuth):
        return logout_response(session, request, redirect_to="/login")

    @app.get("/me")
    def me(user: CurrentUser) -> dict:
        return {"login": user.login}

    @app.get("/maybe")
    def maybe(auth: OptionalAuth) -> dict:
        return {"login": auth.user.login if auth else None, "csrf": auth.csrf_token if auth else None}

    @app.post("/act")
    def act(auth: CurrentAuth, note: Annotated[str, Form()] = "") -> dict:
        return {"via": auth.via, "note": note}

    @app.get("/merch", dependencies=[Depends(require_role("merchandiser"))])
    def merch() -> dict:
        return {"ok": True}

    with TestClient(app) as c:
        yield c


def _token(ws, login):
    with transaction(ws.sessions) as s:
        return accounts.issue_token(s, accounts.authenticate(s, login, PASSWORD), utcnow(), timedelta(hours=1))


def test_bearer_tokens_and_roles(ws, client):
    r = client.get("/me")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert client.get("/me", headers={"Authorization": "Bearer nonsense"}).status_code == 401
    for login, merch in (("merchandiser", 200), ("admin", 200), ("buyer", 403), ("factory", 403)):
        auth = {"Authorization": f"Bearer {_token(ws, login)}"}
        assert client.get("/me", headers=auth).json() == {"login": login}
        r = client.get("/merch", headers=auth)
        assert r.status_code == merch and (merch == 200 or "merchandiser" in r.json()["detail"])
        assert client.post("/act", headers=auth).json()["via"] == "token"  # no CSRF for bearer tokens


def test_cookie_sessions_need_the_csrf_token_on_unsafe_requests(ws, client):
    client.cookies.clear()
    r = client.post("/login", data={"login": "buyer", "password": "wrong"}, follow_redirects=False)
    assert r.status_code == 401 and SESSION_COOKIE not in r.cookies
    r = client.post("/login", data={"login": "buyer", "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/me"
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert client.get("/me").json() == {"login": "buyer"}
    csrf = client.get("/maybe").json()["csrf"]
    assert csrf
    assert client.post("/act").status_code == 403  # a cross-site form post would look like this
    assert client.post("/act", data={CSRF_FIELD: "forged"}).status_code == 403
    assert client.post("/act", headers={CSRF_HEADER: csrf}).json()["via"] == "cookie"
    assert client.post("/act", data={CSRF_FIELD: csrf, "note": "hi"}).json() == {"via": "cookie", "note": "hi"}
    assert client.get("/merch").status_code == 403
    r = client.post("/logout", data={CSRF_FIELD: csrf}, follow_redirects=False)
    assert r.status_code == 303
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, r.request.headers["cookie"].split("=", 1)[1])  # the old cookie replayed
    assert client.get("/me").status_code == 401 and client.get("/maybe").json()["login"] is None
    client.cookies.clear()


runner = CliRunner()


def test_cli_creates_users_with_the_password_from_stdin(home):
    r = runner.invoke(cli, ["users", "create", "--login", "root", "--role", "admin", "--password-stdin"],
                      input=PASSWORD + "\n")
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli, ["users", "create", "--login", "b", "--role", "admin", "--password-stdin"], input="x\n")
    assert r.exit_code == 1 and "login" in r.output
    ws = Workspace.open(Settings())
    with transaction(ws.sessions) as s:
        assert accounts.authenticate(s, "root", PASSWORD).role == "admin"
        assert s.scalar(select(User.login).where(User.login == "b")) is None
    ws.close()
    assert "root" in runner.invoke(cli, ["users", "list"]).output

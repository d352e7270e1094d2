"""An admin takes access away (issue 16): disable, enable, revoke and reset from the command line, the API
and the accounts page, each ending every token and session at once; passwords and display names that
cannot be abused."""

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.api.main import create_app
from app.cli import cli
from app.db import transaction
from app.errors import Invalid, Unauthenticated
from app.models import utcnow
from app.services import accounts
from app.settings import Settings
from app.workspace import Workspace

PASSWORD = "correct horse battery"
SAME_SITE = {"Origin": "http://testserver"}


@pytest.fixture
def site(tmp_path):
    app = create_app(Settings(home=tmp_path, decide_every_s=0))
    with TestClient(app):
        with transaction(app.state.workspace.sessions) as s:
            for login, role in (("root", "admin"), ("root2", "admin"), ("merch", "merchandiser"), ("shop", "buyer")):
                accounts.create_user(s, login, PASSWORD, role)
        yield app


def signed_in(app, login: str) -> tuple[TestClient, TestClient]:
    """(API client with a bearer token, browser with a session) of `login`."""
    api = TestClient(app)
    token = api.post("/api/v1/auth/token", json={"login": login, "password": PASSWORD}).json()["access_token"]
    api.headers["Authorization"] = f"Bearer {token}"
    web = TestClient(app, follow_redirects=False)
    assert web.post("/login", data={"login": login, "password": PASSWORD}, headers=SAME_SITE).status_code == 303
    return api, web


def still_in(api: TestClient, web: TestClient) -> tuple[int, int]:
    return api.get("/api/v1/me").status_code, web.get("/merchandiser").status_code


@pytest.mark.parametrize("action", ["disable", "revoke", "reset-password"])
def test_an_admin_ends_every_token_and_session_of_an_account_at_once(site, action):
    admin, _ = signed_in(site, "root")
    api, web = signed_in(site, "merch")
    api2, web2 = signed_in(site, "merch")  # a second device
    assert still_in(api, web) == (200, 200)
    r = admin.post(f"/api/v1/users/MERCH/{action}")
    assert r.status_code == 200 and r.json()["ended"] == 4, r.text
    for a, w in ((api, web), (api2, web2)):
        code, page = still_in(a, w)
        assert code == 401 and page == 303  # the page sends the browser to sign in
    sign_in = TestClient(site).post("/api/v1/auth/token", json={"login": "merch", "password": PASSWORD})
    if action == "disable":
        assert sign_in.status_code == 401 and "disabled" in sign_in.json()["detail"]
        assert admin.post("/api/v1/users/merch/enable").json()["user"]["disabled_at"] is None
        assert TestClient(site).post("/api/v1/auth/token", json={"login": "merch", "password": PASSWORD}).status_code == 201
    elif action == "revoke":
        assert sign_in.status_code == 201  # the password stays
    else:
        new = r.json()["password"]
        assert sign_in.status_code == 401 and len(new) >= 16
        assert TestClient(site).post("/api/v1/auth/token", json={"login": "merch", "password": new}).status_code == 201


def test_only_admins_act_on_accounts_and_not_on_their_own(site):
    admin, _ = signed_in(site, "root")
    merch, _ = signed_in(site, "merch")
    assert merch.post("/api/v1/users/shop/disable").status_code == 403
    assert admin.post("/api/v1/users/root/disable").status_code == 409
    assert admin.post("/api/v1/users/nobody/disable").status_code == 404
    assert admin.post("/api/v1/users/shop/explode").status_code == 422


def test_the_accounts_page_disables_resets_and_shows_the_new_password_once(site):
    _, web = signed_in(site, "root")
    api, _ = signed_in(site, "shop")
    page = web.get("/admin/users")
    assert page.status_code == 200 and "shop" in page.text and "/admin/users" in web.get("/merchandiser").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    with transaction(site.state.workspace.sessions) as s:
        shop_id = accounts.user_by_login(s, "shop").id
    r = web.post(f"/admin/users/{shop_id}/disable", data={"csrf_token": token}, headers={"Referer": "http://testserver/admin/users"})
    assert r.status_code == 303 and api.get("/api/v1/me").status_code == 401
    assert "Disabled" in web.get("/admin/users").text
    r = web.post(f"/admin/users/{shop_id}/reset-password", data={"csrf_token": token})
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    new = re.search(r'<code class="secret">([^<]+)</code>', r.text).group(1)
    with transaction(site.state.workspace.sessions) as s:
        with pytest.raises(Unauthenticated, match="disabled"):  # a reset does not enable
            accounts.authenticate(s, "shop", new)
    _, merch_web = signed_in(site, "merch")
    assert merch_web.get("/admin/users").status_code == 403


def test_the_command_line_disables_enables_revokes_and_resets(home):
    ws = Workspace.open(Settings())
    with transaction(ws.sessions) as s:
        user = accounts.create_user(s, "shop", PASSWORD, "buyer")
        accounts.create_session(s, user, utcnow(), timedelta(hours=1))
    ws.close()
    runner = CliRunner()
    r = runner.invoke(cli, ["users", "disable", "SHOP"])
    assert r.exit_code == 0 and "ended 1 sessions and tokens" in r.output
    assert runner.invoke(cli, ["users", "enable", "shop"]).exit_code == 0
    assert runner.invoke(cli, ["users", "revoke", "shop"]).exit_code == 0
    r = runner.invoke(cli, ["users", "reset-password", "shop"])
    new = r.output.split(": ")[-1].strip()
    assert r.exit_code == 0 and len(new) >= 16
    assert runner.invoke(cli, ["users", "disable", "nobody"]).exit_code == 1
    ws = Workspace.open(Settings())
    with transaction(ws.sessions) as s:
        assert accounts.authenticate(s, "shop", new).login == "shop"
    ws.close()


@pytest.mark.parametrize("password, why", [
    ("short1!", "10 to 1024 characters"),
    ("shop-owner", "not be the login"),
    ("          ", "one character repeated"),
    ("aaaaaaaaaaaaaaaa", "one character repeated"),
    ("password123", "too easy to guess"),
    ("0123456789", "too easy to guess"),
])
def test_weak_passwords_are_refused(password, why, tmp_path):
    with pytest.raises(Invalid, match=why):
        accounts.check_password(password, "shop-owner")


def test_a_strong_password_passes():
    accounts.check_password("correct horse battery", "shop")


@pytest.mark.parametrize("name", ["Evil\u202eeciovni", "zero\u200bwidth", "bell\x07", "new\nline", "bom\ufeff",
                                  "iso\u2066late", "lone \ud800"])
def test_display_names_with_control_bidi_or_zero_width_characters_are_refused(name):
    with pytest.raises(Invalid, match="control, bidi or zero-width"):
        accounts.check_name(name)


def test_a_plain_name_in_any_script_passes():
    assert accounts.check_name("  杭州小店 Café  ") == "杭州小店 Café"


def test_the_api_refuses_such_names_and_passwords_for_users_and_buyers(site):
    admin, _ = signed_in(site, "root")
    r = admin.post("/api/v1/users", json={"login": "new1", "password": PASSWORD, "role": "buyer",
                                           "display_name": "a\u202eb"})
    assert r.status_code == 422 and r.json()["field"] == "display_name"
    r = admin.post("/api/v1/users", json={"login": "new1", "password": "new1new1new1", "role": "buyer"})
    assert r.status_code == 422 and r.json()["field"] == "password"
    r = admin.post("/api/v1/buyers", json={"name": "x\u200by", "kind": "shop"})
    assert r.status_code == 422 and r.json()["field"] == "name"

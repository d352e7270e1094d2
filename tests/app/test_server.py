"""The API as a user runs it: a uvicorn process on 127.0.0.1 over a fresh workspace."""

import httpx

from app.db import transaction
from app.server_process import api_server
from app.services import accounts
from app.settings import Settings
from app.workspace import Workspace

PASSWORD = "correct horse battery"


def test_server_starts_on_a_fresh_workspace_and_serves_its_docs(tmp_path):
    ws = Workspace.open(Settings(home=tmp_path / "ws"))
    with transaction(ws.sessions) as s:
        accounts.create_user(s, "admin", PASSWORD, "admin")
        accounts.create_user(s, "shop", PASSWORD, "buyer")
    ws.close()
    with api_server(tmp_path / "ws", env={"TRENDLOOM_DECIDE_EVERY_S": "1"}) as url:
        assert httpx.get(f"{url}/healthz").json() == {"status": "ok"}
        assert httpx.get(f"{url}/docs").status_code == 200
        paths = httpx.get(f"{url}/openapi.json").json()["paths"]
        assert {"/api/v1/search", "/api/v1/buyers/{buyer_id}/feed", "/api/v1/events/batch", "/api/v1/auth/token"} <= set(paths)
        assert httpx.get(f"{url}/api/v1/status").status_code == 401
        tokens = {login: httpx.post(f"{url}/api/v1/auth/token", json={"login": login, "password": PASSWORD}).json()
                  for login in ("admin", "shop")}
        admin = {"Authorization": f"Bearer {tokens['admin']['access_token']}"}
        shop = {"Authorization": f"Bearer {tokens['shop']['access_token']}"}
        assert httpx.get(f"{url}/api/v1/status", headers=admin).json()["designs"] == {}
        buyer = tokens["shop"]["user"]["buyer_id"]
        assert httpx.get(f"{url}/api/v1/buyers/{buyer}/feed", headers=shop).json() == []
        assert httpx.get(f"{url}/api/v1/search", params={"q": "navy socks"}, headers=shop).json() == []
        assert httpx.delete(f"{url}/api/v1/auth/token", headers=shop).status_code == 204
        assert httpx.get(f"{url}/api/v1/me", headers=shop).status_code == 401  # signed out
    assert (tmp_path / "ws" / "trendloom.db").is_file()

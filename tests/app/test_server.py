"""The API as a user runs it: a uvicorn process on 127.0.0.1 over a fresh workspace."""

import httpx

from app.server_process import api_server


def test_server_starts_on_a_fresh_workspace_and_serves_its_docs(tmp_path):
    with api_server(tmp_path / "ws", env={"TRENDLOOM_DECIDE_EVERY_S": "1"}) as url:
        assert httpx.get(f"{url}/healthz").json() == {"status": "ok"}
        assert httpx.get(f"{url}/docs").status_code == 200
        paths = httpx.get(f"{url}/openapi.json").json()["paths"]
        assert {"/api/v1/search", "/api/v1/buyers/{buyer_id}/feed", "/api/v1/events/batch"} <= set(paths)
        assert httpx.get(f"{url}/api/v1/status").json()["designs"] == {}
        buyer = httpx.post(f"{url}/api/v1/buyers", json={"name": "b", "kind": "shop"}).json()["id"]
        assert httpx.get(f"{url}/api/v1/buyers/{buyer}/feed").json() == []
        assert httpx.get(f"{url}/api/v1/search", params={"q": "navy socks"}).json() == []
    assert (tmp_path / "ws" / "trendloom.db").is_file()

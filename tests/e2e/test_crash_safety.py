"""Crash safety: SIGKILL the real server in the middle of a burst of events and pre-orders, restart it,
and find every request that was answered 2xx stored, the counters in step, and the database intact."""

import signal
import sqlite3
import threading
import time

import httpx

from app.server_process import spawn_api

ENV = {"TRENDLOOM_DECIDE_EVERY_S": "0"}
KINDS = ("view", "view", "click", "favourite", "inquiry")


def test_a_killed_server_loses_no_acknowledged_write(market_factory):
    m = market_factory(n_buyers=8, categories=(("socks", "cotton"), ("tote-bag", "canvas")))
    design_ids = [d["id"] for d in m.designs]
    acked_events: list[int] = []  # ids of single events answered 201 (stored whether they counted or not)
    acked_batches: list[tuple[int, int]] = []  # (first id, count) of batches answered 201
    acked_preorders: list[int] = []
    server_errors: list[str] = []
    lock, stop = threading.Lock(), threading.Event()

    def burst(k: int, token: str) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=url, headers=headers, timeout=10) as c:
            for design in design_ids:  # served to this buyer: its views and clicks can count
                c.get(f"/api/v1/designs/{design}")
            n = 0
            while not stop.is_set():
                n += 1
                design = design_ids[n % 2]
                try:
                    if n % 10 == 0:
                        body = {"events": [{"design_id": design, "kind": KINDS[j % 5]} for j in range(20)]}
                        r = c.post("/api/v1/events/batch", json=body)
                        if r.status_code == 201:
                            with lock:
                                acked_batches.append((r.json()["first_id"], r.json()["stored"]))
                    elif n % 25 == 3:
                        r = c.post("/api/v1/preorders", json={"design_id": design_ids[1], "quantity": m.designs[1]["moq"]})
                        if r.status_code == 201:
                            with lock:
                                acked_preorders.append(r.json()["id"])
                    else:
                        r = c.post("/api/v1/events", json={"design_id": design, "kind": KINDS[n % 5]})
                        if r.status_code == 201:
                            with lock:
                                acked_events.append(r.json()["id"])
                    if r.status_code >= 500:
                        with lock:
                            server_errors.append(r.text)
                except httpx.HTTPError:
                    return  # the server is gone

    proc, url = spawn_api(m.home, env=ENV)
    try:
        threads = [threading.Thread(target=burst, args=(k, token)) for k, (_, token) in enumerate(m.buyers)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 60
        while len(acked_events) < 300 and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)  # mid-burst: requests are in flight and being committed
        proc.wait(timeout=30)
    finally:
        stop.set()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    for t in threads:
        t.join(timeout=30)
    assert proc.returncode == -signal.SIGKILL and len(acked_events) >= 300 and acked_batches and acked_preorders
    assert server_errors == []

    proc, url = spawn_api(m.home, env=ENV)  # it starts again on the same files
    try:
        r = httpx.get(f"{url}/api/v1/status", headers={"Authorization": f"Bearer {m.admin}"})
        assert r.status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)

    db = sqlite3.connect(m.home / "trendloom.db")
    assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    stored = {i for (i,) in db.execute("SELECT id FROM interest_events")}
    assert set(acked_events) <= stored
    for first, count in acked_batches:  # one writer thread stores a batch as consecutive rows
        assert set(range(first, first + count)) <= stored
    assert set(acked_preorders) <= {i for (i,) in db.execute("SELECT id FROM pre_orders")}
    for design in design_ids:  # counters moved in the same transactions as the rows behind them
        views = db.execute("SELECT count(*) FROM interest_events WHERE design_id = ? AND kind = 'view' AND counted",
                           (design,)).fetchone()
        placed = db.execute("SELECT count(*), coalesce(sum(quantity), 0) FROM pre_orders WHERE design_id = ?", (design,)).fetchone()
        assert db.execute("SELECT impressions FROM designs WHERE id = ?", (design,)).fetchone() == views
        assert db.execute("SELECT pre_order_count, pieces_ordered FROM designs WHERE id = ?", (design,)).fetchone() == placed

"""Event ingest under load through the real HTTP API (uvicorn on 127.0.0.1, SQLite in WAL mode).

    .venv/bin/python scripts/load_events.py [--seconds 20] [--clients 16] [--batch 50]

Builds a workspace with published designs and buyers, starts `uvicorn` in a subprocess, and sends
interest events from `--clients` threads for `--seconds` seconds: first one event per request
(`POST /api/v1/events`), then `--batch` events per request (`POST /api/v1/events/batch`, as apps
send analytics). Reports events/s, request latency p50/p99, and checks that every acknowledged
(2xx) event is in the database afterwards. Traffic goes to 127.0.0.1 only and stops by itself.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

from app.db import transaction
from app.models import utcnow
from app.sample import write_sample
from app.server_process import admin_token, api_server
from app.services import production, trends
from app.settings import Settings
from app.simulator import BuyerSimulator
from app.workspace import Workspace
from generation.trends.io import read_wide_csv
from matching.factories.registry import read_factories_csv


def build_workspace(home: Path, designs: int, buyers: int) -> tuple[list[int], list[int]]:
    ws = Workspace.open(Settings(home=home))
    sample = write_sample(ws.taxonomy, home / "sample")
    with transaction(ws.sessions) as s:
        trends.ingest_frame(s, read_wide_csv(sample.trends), ws.taxonomy, source="sample")
        production.import_factories(s, read_factories_csv(sample.factories))
    sim = BuyerSimulator(ws, seed=0)
    design_ids = sim.create_designs(designs, utcnow())
    buyer_ids = [b.id for b in sim.ensure_buyers(buyers)]
    ws.close()
    return design_ids, buyer_ids


def hammer(url: str, token: str, seconds: float, clients: int, make_body, path: str) -> dict[str, object]:
    """`clients` threads POST bodies for `seconds`; returns counts and latencies."""
    stop = time.perf_counter() + seconds
    lat: list[float] = []
    acked = [0]
    errors: dict[str, int] = {}
    lock = threading.Lock()

    def worker(k: int) -> None:
        rng = np.random.default_rng(k)
        with httpx.Client(base_url=url, timeout=30, headers={"Authorization": f"Bearer {token}"}) as c:
            while time.perf_counter() < stop:
                body, n = make_body(rng)
                t0 = time.perf_counter()
                try:
                    r = c.post(path, json=body)
                    code = str(r.status_code)
                except httpx.HTTPError as exc:
                    code = type(exc).__name__
                dt = time.perf_counter() - t0
                with lock:
                    lat.append(dt)
                    if code.startswith("2"):
                        acked[0] += n
                    else:
                        errors[code] = errors.get(code, 0) + 1

    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    ms = np.array(lat) * 1000
    return {"requests": len(lat), "events_acknowledged": acked[0], "events_per_s": round(acked[0] / wall, 1),
            "p50_ms": round(float(np.percentile(ms, 50)), 1), "p99_ms": round(float(np.percentile(ms, 99)), 1),
            "errors": errors}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--designs", type=int, default=100)
    ap.add_argument("--buyers", type=int, default=200)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        design_ids, buyer_ids = build_workspace(home, args.designs, args.buyers)
        token = admin_token(home)  # an admin may post events for every buyer
        with api_server(home, env={"TRENDLOOM_DECIDE_EVERY_S": "0"}) as url:
            kinds = ["view"] * 6 + ["click", "click", "favourite", "inquiry"]

            def one(rng):
                return {"buyer_id": int(rng.choice(buyer_ids)), "design_id": int(rng.choice(design_ids)),
                        "kind": kinds[int(rng.integers(len(kinds)))]}, 1

            def batch(rng):
                return {"events": [one(rng)[0] for _ in range(args.batch)]}, args.batch

            single = hammer(url, token, args.seconds, args.clients, one, "/api/v1/events")
            batched = hammer(url, token, args.seconds, args.clients, batch, "/api/v1/events/batch")
        stored = sqlite3.connect(home / "trendloom.db").execute("SELECT count(*) FROM interest_events").fetchone()[0]
        acked = single["events_acknowledged"] + batched["events_acknowledged"]
        print(json.dumps({"single_event_requests": single, f"batches_of_{args.batch}": batched,
                          "acknowledged": acked, "stored": stored, "lost": acked - stored,
                          "batch_speedup": round(batched["events_per_s"] / max(single["events_per_s"], 1e-9), 1),
                          "setup": vars(args)}, indent=1))


if __name__ == "__main__":
    main()

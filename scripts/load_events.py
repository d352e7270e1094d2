"""Event ingest under load through the real HTTP API (uvicorn on 127.0.0.1, SQLite in WAL mode).

    .venv/bin/python scripts/load_events.py [--seconds 20] [--rate 2500] [--batch 20] [--clients 16] [--single]

Builds a workspace with published designs and buyers, starts `uvicorn` in a subprocess, and sends
interest events as `--batch` events per request (`POST /api/v1/events/batch`, as analytics SDKs
flush a small batch every few seconds), in two phases of `--seconds`:

1. **open loop** at `--rate` events/s: requests arrive as a Poisson process (many independent apps),
   whatever the server's answers; each request's latency counts from its scheduled start, so a
   server that falls behind shows it (no coordinated omission). This is the sustained-rate figure.
2. **closed loop** with `--clients` threads that send the next request as soon as the last one is
   answered: the saturation throughput, where latency is queueing (clients / throughput).

`--single` adds a closed-loop phase of one event per request (`POST /api/v1/events`). Bodies are
made before each phase, so the client threads, which share the machine, spend little CPU. Reports
events/s, request latency p50/p99/max, the load average, and checks that every acknowledged (2xx)
event is in the database afterwards. Traffic goes to 127.0.0.1 only and stops by itself.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import queue
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


class _Tally:
    """Latencies and outcomes of the requests of one phase, from several threads."""

    def __init__(self, per_body: int) -> None:
        self.per_body, self.lat, self.acked, self.errors = per_body, [], 0, {}
        self._lock = threading.Lock()

    def send(self, c: httpx.Client, path: str, body: bytes, since: float) -> None:
        """POST `body`; the latency counts from `since` (the send time, or the scheduled time)."""
        try:
            code = str(c.post(path, content=body, headers={"Content-Type": "application/json"}).status_code)
        except httpx.HTTPError as exc:
            code = type(exc).__name__
        dt = time.perf_counter() - since
        with self._lock:
            self.lat.append(dt)
            if code.startswith("2"):
                self.acked += self.per_body
            else:
                self.errors[code] = self.errors.get(code, 0) + 1

    def summary(self, wall: float) -> dict[str, object]:
        ms = np.array(self.lat) * 1000
        return {"requests": len(self.lat), "events_acknowledged": self.acked, "events_per_s": round(self.acked / wall, 1),
                "p50_ms": round(float(np.percentile(ms, 50)), 1), "p99_ms": round(float(np.percentile(ms, 99)), 1),
                "max_ms": round(float(ms.max()), 1), "errors": self.errors, "load_average": os.getloadavg()}


def _run_threads(threads: list[threading.Thread]) -> None:
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def closed_loop(url: str, token: str, seconds: float, clients: int, bodies: list[bytes], per_body: int,
                path: str) -> dict[str, object]:
    """`clients` threads each send the next body as soon as the last one is answered."""
    stop = time.perf_counter() + seconds
    tally = _Tally(per_body)

    def worker(k: int) -> None:
        with httpx.Client(base_url=url, timeout=30, headers={"Authorization": f"Bearer {token}"}) as c:
            i = k
            while time.perf_counter() < stop:
                tally.send(c, path, bodies[i % len(bodies)], time.perf_counter())
                i += clients

    t0 = time.perf_counter()
    _run_threads([threading.Thread(target=worker, args=(k,)) for k in range(clients)])
    return tally.summary(time.perf_counter() - t0)


def open_loop(url: str, token: str, seconds: float, rate: float, bodies: list[bytes], per_body: int, path: str,
              connections: int = 32) -> dict[str, object]:
    """Requests scheduled as a Poisson process of `rate / per_body` per second, sent by up to
    `connections` threads; latency runs from each request's scheduled time. Each connection first
    sends one untimed request (connection set-up and the server's first statements are not counted)."""
    rng = np.random.default_rng(1)
    starts = np.cumsum(rng.exponential(per_body / rate, size=int(seconds * rate / per_body * 1.5) + 10))
    starts = starts[starts < seconds]
    todo: queue.Queue[tuple[int, float] | None] = queue.Queue()
    tally = _Tally(per_body)

    warm = _Tally(per_body)
    ready = threading.Barrier(connections + 1)

    def worker() -> None:
        with httpx.Client(base_url=url, timeout=30, headers={"Authorization": f"Bearer {token}"}) as c:
            warm.send(c, path, bodies[0], time.perf_counter())
            ready.wait()
            while (item := todo.get()) is not None:
                tally.send(c, path, bodies[item[0] % len(bodies)], item[1])

    def schedule() -> None:
        nonlocal t0
        ready.wait()
        t0 = time.perf_counter()
        for i, at in enumerate(starts):
            delay = t0 + at - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            todo.put((i, t0 + at))
        for _ in range(connections):
            todo.put(None)

    t0 = time.perf_counter()
    _run_threads([threading.Thread(target=worker) for _ in range(connections)] + [threading.Thread(target=schedule)])
    return {"offered_events_per_s": rate, "untimed_events_acknowledged": warm.acked,
            **tally.summary(time.perf_counter() - t0)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--rate", type=float, default=2500, help="open-loop phase: events/s offered")
    ap.add_argument("--batch", type=int, default=20, help="events per request (analytics SDKs flush 20-30)")
    ap.add_argument("--clients", type=int, default=16, help="closed-loop phase: concurrent clients")
    ap.add_argument("--single", action="store_true", help="also a closed-loop phase of one event per request")
    ap.add_argument("--designs", type=int, default=100)
    ap.add_argument("--buyers", type=int, default=200)
    args = ap.parse_args()
    load_start = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        design_ids, buyer_ids = build_workspace(home, args.designs, args.buyers)
        token = admin_token(home)  # an admin may post events for every buyer
        rng = np.random.default_rng(0)
        kinds = ["view"] * 6 + ["click", "click", "favourite", "inquiry"]

        def events(n: int) -> list[dict[str, object]]:
            return [{"buyer_id": int(rng.choice(buyer_ids)), "design_id": int(rng.choice(design_ids)),
                     "kind": kinds[int(rng.integers(len(kinds)))]} for _ in range(n)]

        batches = [json.dumps({"events": events(args.batch)}).encode() for _ in range(2000)]
        # The client threads must not pause either: building the workspace imported torch and the app
        # (~570,000 objects), and a full collection over them stalled every sender for 100-300 ms.
        gc.collect()
        gc.freeze()
        report: dict[str, object] = {}
        with api_server(home) as url:  # the decision loop runs, as in service (every 60 s by default)
            path = "/api/v1/events/batch"
            report[f"open_loop_batches_of_{args.batch}"] = open_loop(url, token, args.seconds, args.rate, batches,
                                                                     args.batch, path)
            report[f"closed_loop_batches_of_{args.batch}"] = closed_loop(url, token, args.seconds, args.clients,
                                                                         batches, args.batch, path)
            if args.single:
                singles = [json.dumps(e).encode() for e in events(5000)]
                report["closed_loop_single_events"] = closed_loop(url, token, args.seconds, args.clients, singles, 1,
                                                                  "/api/v1/events")
        stored = sqlite3.connect(home / "trendloom.db").execute("SELECT count(*) FROM interest_events").fetchone()[0]
        acked = sum(int(phase["events_acknowledged"]) + int(phase.get("untimed_events_acknowledged", 0))  # type: ignore[attr-defined]
                    for phase in report.values())
        print(json.dumps({**report, "acknowledged": acked, "stored": stored, "lost": acked - stored,
                          "load_average_start": load_start, "setup": vars(args)}, indent=1))


if __name__ == "__main__":
    main()

"""Event ingest under load through the real HTTP API (uvicorn on 127.0.0.1; SQLite in WAL mode, or PostgreSQL).

    .venv/bin/python scripts/load_events.py [--seconds 20] [--rate 2500] [--batch 20] [--clients 16] [--single]
                                            [--database postgres --workers 2 [--kill-worker-at 10]] [--no-closed]

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
request's events are in the database afterwards: its answer's `first_id` row holds its first event, and
a batch is stored all or nothing. Traffic goes to 127.0.0.1 only and stops by itself.

`--database postgres` starts a throwaway PostgreSQL server (Debian's `postgresql`, default fsync) and
serves it with `--workers` uvicorn workers; `--kill-worker-at S` SIGKILLs the leading worker (the one
holding the background jobs' advisory lock) S seconds into the open loop, reports which worker leads
afterwards (uvicorn starts a new worker in its place), and the same no-loss check covers the requests
the killed worker had answered.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import queue
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np
from sqlalchemy import create_engine, text

from app.db import transaction
from app.leader import APPLICATION_NAME, LOCK_KEY
from app.models import utcnow
from app.sample import write_sample
from app.server_process import admin_token, spawn_api, throwaway_postgres, worker_pids
from app.services import production, trends
from app.settings import Settings
from app.simulator import BuyerSimulator
from app.workspace import Workspace
from generation.trends.io import read_wide_csv
from matching.factories.registry import read_factories_csv


def build_workspace(home: Path, designs: int, buyers: int, database_url: str | None) -> tuple[list[int], list[int]]:
    ws = Workspace.open(Settings(home=home, database_url=database_url))
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
        self.receipts: list[tuple[int, int]] = []  # (body index, first_id) of each acknowledged batch
        self._lock = threading.Lock()

    def send(self, c: httpx.Client, path: str, body: bytes, since: float, index: int = -1) -> None:
        """POST `body`; the latency counts from `since` (the send time, or the scheduled time)."""
        first_id = None
        try:
            r = c.post(path, content=body, headers={"Content-Type": "application/json"})
            code = str(r.status_code)
            if code.startswith("2") and path.endswith("/batch"):
                first_id = r.json()["first_id"]
        except httpx.HTTPError as exc:
            code = type(exc).__name__
        dt = time.perf_counter() - since
        with self._lock:
            self.lat.append(dt)
            if code.startswith("2"):
                self.acked += self.per_body
                if first_id is not None:
                    self.receipts.append((index, first_id))
            else:
                self.errors[code] = self.errors.get(code, 0) + 1

    def summary(self, wall: float) -> dict[str, object]:
        ms = np.array(self.lat) * 1000
        return {"receipts": self.receipts, "requests": len(self.lat), "events_acknowledged": self.acked, "events_per_s": round(self.acked / wall, 1),
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
                tally.send(c, path, bodies[i % len(bodies)], time.perf_counter(), i % len(bodies))
                i += clients

    t0 = time.perf_counter()
    _run_threads([threading.Thread(target=worker, args=(k,)) for k in range(clients)])
    return tally.summary(time.perf_counter() - t0)


def open_loop(url: str, token: str, seconds: float, rate: float, bodies: list[bytes], per_body: int, path: str,
              connections: int = 32, at: tuple[float, Callable[[], None]] | None = None) -> dict[str, object]:
    """Requests scheduled as a Poisson process of `rate / per_body` per second, sent by up to
    `connections` threads; latency runs from each request's scheduled time. Each connection first
    sends one untimed request (connection set-up and the server's first statements are not counted).
    `at` = (seconds, action): the action runs that far into the phase (e.g. a worker is killed)."""
    rng = np.random.default_rng(1)
    starts = np.cumsum(rng.exponential(per_body / rate, size=int(seconds * rate / per_body * 1.5) + 10))
    starts = starts[starts < seconds]
    todo: queue.Queue[tuple[int, float] | None] = queue.Queue()
    tally = _Tally(per_body)

    warm = _Tally(per_body)
    ready = threading.Barrier(connections + 1)

    def worker() -> None:
        with httpx.Client(base_url=url, timeout=30, headers={"Authorization": f"Bearer {token}"}) as c:
            warm.send(c, path, bodies[0], time.perf_counter(), 0)
            ready.wait()
            while (item := todo.get()) is not None:
                tally.send(c, path, bodies[item[0] % len(bodies)], item[1], item[0] % len(bodies))

    def schedule() -> None:
        nonlocal t0
        ready.wait()
        t0 = time.perf_counter()
        if at is not None:
            timer = threading.Timer(at[0], at[1])
            timer.start()
        for i, start in enumerate(starts):
            delay = t0 + start - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            todo.put((i, t0 + start))
        for _ in range(connections):
            todo.put(None)

    t0 = time.perf_counter()
    _run_threads([threading.Thread(target=worker) for _ in range(connections)] + [threading.Thread(target=schedule)])
    out = tally.summary(time.perf_counter() - t0)
    return {"offered_events_per_s": rate, "untimed_events_acknowledged": warm.acked, "untimed_errors": warm.errors,
            **out, "receipts": out["receipts"] + warm.receipts}


def leader_pid(url: str) -> int | None:
    """The process id of the API worker holding the background jobs' lock (from its application_name)."""
    with create_engine(url).connect() as conn:
        name = conn.execute(text(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = :hi AND l.objid = :lo"),
            {"hi": LOCK_KEY >> 32, "lo": LOCK_KEY & 0xFFFFFFFF}).scalar()
    return int(name.rsplit(" ", 1)[1]) if name and name.startswith(APPLICATION_NAME) else None


def check_receipts(db_url: str, receipts: list[tuple[int, int]], bodies: list[bytes]) -> dict[str, int]:
    """Each acknowledged batch's `first_id` row must hold the batch's first event (a batch commits whole)."""
    engine = create_engine(db_url)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT count(*) FROM interest_events")).scalar()
        rows = {}
        ids = sorted({fid for _, fid in receipts})
        for k in range(0, len(ids), 5000):
            part = ids[k:k + 5000]
            q = text("SELECT id, buyer_id, design_id, kind FROM interest_events WHERE id IN (" + ",".join(map(str, part)) + ")")
            rows.update({r[0]: tuple(r[1:]) for r in conn.execute(q)})
    engine.dispose()
    lost = 0
    for index, fid in receipts:
        first = json.loads(bodies[index])["events"][0]
        lost += rows.get(fid) != (first["buyer_id"], first["design_id"], first["kind"])
    return {"stored_events": int(stored or 0), "acknowledged_batches": len(receipts), "acknowledged_batches_lost": lost}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--rate", type=float, default=2500, help="open-loop phase: events/s offered")
    ap.add_argument("--batch", type=int, default=20, help="events per request (analytics SDKs flush 20-30)")
    ap.add_argument("--clients", type=int, default=16, help="closed-loop phase: concurrent clients")
    ap.add_argument("--single", action="store_true", help="also a closed-loop phase of one event per request")
    ap.add_argument("--no-closed", action="store_true", help="skip the closed-loop (saturation) phase")
    ap.add_argument("--designs", type=int, default=100)
    ap.add_argument("--buyers", type=int, default=200)
    ap.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    ap.add_argument("--workers", type=int, default=1, help="uvicorn workers (more than 1: --database postgres)")
    ap.add_argument("--kill-worker-at", type=float, default=None, metavar="S",
                    help="postgres: SIGKILL the leading worker S seconds into the open loop")
    ap.add_argument("--decide-every-s", type=float, default=60, help="the server's decision period")
    args = ap.parse_args()
    if args.workers > 1 and args.database != "postgres":
        ap.error("--workers above 1 needs --database postgres")
    load_start = os.getloadavg()
    with contextlib.ExitStack() as stack:
        home = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        db_url = None
        if args.database == "postgres":
            pg_dir = Path(tempfile.mkdtemp(prefix="trendloom-pg-"))  # not under a root-only folder
            stack.callback(shutil.rmtree, pg_dir, ignore_errors=True)
            db_url = stack.enter_context(throwaway_postgres(pg_dir))
        design_ids, buyer_ids = build_workspace(home, args.designs, args.buyers, db_url)
        token = admin_token(home, database_url=db_url)  # an admin may post events for every buyer
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
        env = {"TRENDLOOM_DECIDE_EVERY_S": str(args.decide_every_s), **({"DATABASE_URL": db_url} if db_url else {})}
        proc, url = spawn_api(home, env=env, workers=args.workers)
        try:  # the decision loop runs, as in service
            path = "/api/v1/events/batch"
            kill = None
            if args.kill_worker_at is not None:
                if db_url is None:
                    ap.error("--kill-worker-at needs --database postgres")
                workers_before = sorted(worker_pids(proc.pid))
                deadline = time.monotonic() + 30  # the first election runs a couple of seconds after start-up
                while leader_pid(db_url) is None and time.monotonic() < deadline:
                    time.sleep(0.5)
                killed: dict[str, object] = {"workers_before": workers_before, "leader_before": leader_pid(db_url)}

                def kill_leader() -> None:
                    victim = leader_pid(db_url) or workers_before[0]
                    os.kill(victim, signal.SIGKILL)
                    killed["killed"] = victim
                    killed["killed_at_s"] = args.kill_worker_at

                kill = (args.kill_worker_at, kill_leader)
            report[f"open_loop_batches_of_{args.batch}"] = open_loop(url, token, args.seconds, args.rate, batches,
                                                                     args.batch, path, at=kill)
            if kill is not None:
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline and leader_pid(db_url) in (None, killed["killed"]):
                    time.sleep(0.5)
                killed["leader_after"] = leader_pid(db_url)
                killed["workers_after"] = sorted(worker_pids(proc.pid))
                report["killed_worker"] = killed
            if not args.no_closed:
                report[f"closed_loop_batches_of_{args.batch}"] = closed_loop(url, token, args.seconds, args.clients,
                                                                             batches, args.batch, path)
            if args.single:
                singles = [json.dumps(e).encode() for e in events(5000)]
                report["closed_loop_single_events"] = closed_loop(url, token, args.seconds, args.clients, singles, 1,
                                                                  "/api/v1/events")
        finally:
            if proc.poll() is None:  # a worker uvicorn is still starting finishes its start-up first
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=300)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        receipts = [r for phase in report.values() for r in phase.pop("receipts", [])]  # type: ignore[attr-defined]
        check = check_receipts(db_url or f"sqlite:///{home / 'trendloom.db'}", receipts, batches)
        print(json.dumps({**report, **check, "load_average_start": load_start, "setup": vars(args)}, indent=1))


if __name__ == "__main__":
    main()

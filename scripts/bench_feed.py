"""Feed latency with many published designs, through the real HTTP API, vs a feed without the cache.

    .venv/bin/python scripts/bench_feed.py [--designs 100000] [--requests 500] [--ingest-rate 2000]

Fills a workspace with `--designs` published designs (embeddings synthesised around a few hundred real
MiniLM spec embeddings, so they cluster like real ones; random counters and thresholds) and buyers
with a history of events, starts uvicorn on 127.0.0.1, and times `GET /api/v1/buyers/{id}/feed`.
Two comparisons in the same run: the obvious implementation without the in-memory demand cache (read
every open design's counters from the database on each request, then rank the same way), and, in this
process, `feed_ids` scoring only candidates (as the API does) against scoring every design (a mat-vec
over all embeddings per request), with BLAS on one thread as in the server. The load average is
printed at the start and the end.

`--ingest-rate R` then times the feed again while `scripts/load_events.py`'s open-loop sender posts
R events/s (batches of 20 `view`s, Poisson arrivals) into the same server: every commit moves some
designs' counters, so each feed request first patches the cache's arrays.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np
from sqlalchemy import insert, select
from threadpoolctl import threadpool_limits

from app.db import transaction
from app.models import Buyer, Design, InterestEvent, utcnow
from app.server_process import admin_token, api_server
from app.services.feed import DemandArrays, buyer_vector, feed_ids, index_nearest, prior_of
from app.settings import Settings
from app.workspace import Workspace
from generation.concepts.composer import describe
from generation.concepts.pricing import price_tiers
from generation.concepts.spec import DesignSpec
from matching.demand import posterior
from matching.exposure import rank_feed

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load_events import open_loop  # noqa: E402  (the same open-loop sender as the ingest benchmark)


def fill(ws: Workspace, n: int, buyers: int, rng: np.random.Generator) -> None:
    tx = ws.taxonomy
    cats = list(tx.categories)
    base_specs = []
    for _ in range(400):
        c = cats[int(rng.integers(len(cats)))]
        pick = lambda kind: tx.allowed(kind, c)[int(rng.integers(len(tx.allowed(kind, c))))]  # noqa: E731
        spec = DesignSpec(category=c, color=pick("color"), material=(m := pick("material")), pattern=pick("pattern"),
                          price_tiers=price_tiers(tx, c, m, 0), moq=tx.category(c).buyer_moq)
        base_specs.append(spec)
    base = ws.embedder.encode([s.text() for s in base_specs])
    now = utcnow()
    rows = []
    for i in range(n):
        j = int(rng.integers(len(base)))
        v = base[j] + 0.15 * rng.standard_normal(base.shape[1]).astype(np.float32) / np.sqrt(base.shape[1])
        v /= np.linalg.norm(v)
        spec = base_specs[j]
        name, _ = describe(spec, tx)
        imps = int(rng.integers(0, 500))
        orders = int(rng.binomial(imps, 0.01))
        rows.append({"name": name, "category": spec.category, "status": "published", "spec": spec.to_dict(),
                     "images": [], "production_threshold": int(rng.choice([50, 100, 200, 300])),
                     "published_at": now, "window_end": now.replace(year=now.year + 1), "note": "",
                     "impressions": imps, "pre_order_count": orders, "pieces_ordered": orders * spec.moq * 2,
                     "committed": orders * spec.moq * 2, "embedding": v.astype(np.float32).tobytes(),
                     "impression_budget": 1000,
                     "created_at": now, "updated_at": now})
    with transaction(ws.sessions) as s:
        for k in range(0, n, 5000):
            s.execute(insert(Design), rows[k:k + 5000])
        s.execute(insert(Buyer), [{"name": f"b{i}", "kind": "shop", "region": "cn", "created_at": now} for i in range(buyers)])
        ids = s.scalars(select(Design.id)).all()
        s.execute(insert(InterestEvent), [{"design_id": int(rng.choice(ids)), "buyer_id": 1 + int(rng.integers(buyers)),
                                            "kind": ["click", "favourite", "inquiry"][int(rng.integers(3))],
                                            "occurred_at": now} for _ in range(buyers * 20)])


class _Arrays:
    """The two fields of `DemandArrays` that `buyer_vector` reads (ids sorted)."""

    def __init__(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        self.ids, self.vectors = ids, vectors

    positions = DemandArrays.positions


def in_process(ws: Workspace, buyers: int, requests: int, rng: np.random.Generator) -> dict[str, float]:
    """`feed_ids` with candidates (as the API) and over every design, alternating, in this process."""
    cache, nearest = ws.demand_cache, index_nearest(ws)
    cache.sync()
    times: dict[str, list[float]] = {"candidates": [], "all_designs": []}
    with ws.sessions() as s:
        for r in range(requests + 10):
            b = 1 + int(rng.integers(buyers))
            for name, near in (("candidates", nearest), ("all_designs", None)):
                t = time.perf_counter()
                feed_ids(s, cache, b, k=20, policy="threshold", relevance_weight=0.3, rng=rng, nearest=near)
                if r >= 10:  # the first ones build the arrays and the order
                    times[name].append(time.perf_counter() - t)
    out = {}
    for name, ts in times.items():
        ms = np.array(ts) * 1000
        out[f"{name}_p50_ms"], out[f"{name}_p95_ms"] = round(float(np.percentile(ms, 50)), 2), round(float(np.percentile(ms, 95)), 2)
    out["speedup_p50"] = round(out["all_designs_p50_ms"] / out["candidates_p50_ms"], 1)
    return out


def uncached_feed(ws: Workspace, buyer_id: int, k: int, rng: np.random.Generator) -> list[int]:
    """The baseline: everything read from the database on every request."""
    with ws.sessions() as s:
        rows = s.execute(select(Design.id, Design.prior, Design.impressions, Design.pre_order_count,
                                Design.pieces_ordered, Design.production_threshold, Design.committed, Design.embedding,
                                Design.impression_budget)
                         .where(Design.status == "published").order_by(Design.id)).all()
        ids = np.array([r[0] for r in rows])
        vecs = np.stack([np.frombuffer(r[7], dtype=np.float32) for r in rows])
        post = posterior([prior_of(Design(prior=r[1])) for r in rows], np.array([r[2] for r in rows]),
                         np.array([r[3] for r in rows]), np.array([r[4] for r in rows]))
        need = np.maximum(np.array([r[5] - r[6] for r in rows]), 1)
        budget = np.array([r[8] or 1000 for r in rows])
        u = buyer_vector(s, _Arrays(ids, vecs), buyer_id, utcnow())  # type: ignore[arg-type]
        order = rank_feed("threshold", post, rng, k=k, need=need, target=np.array([r[5] for r in rows]) / budget,
                          impressions=np.array([r[2] for r in rows]), relevance=vecs @ u if u is not None else None)
        return [int(i) for i in ids[order]]


def timed_feeds(c: httpx.Client, n: int, buyers: int, rng: np.random.Generator,
                until: threading.Event | None = None) -> list[float]:
    """Seconds per `GET /buyers/{id}/feed?limit=20` for `n` requests (fewer if `until` is set first)."""
    lat = []
    for _ in range(n):
        if until is not None and until.is_set():
            break
        t = time.perf_counter()
        r = c.get(f"/api/v1/buyers/{1 + int(rng.integers(buyers))}/feed", params={"limit": 20})
        lat.append(time.perf_counter() - t)
        assert r.status_code == 200 and len(r.json()) == 20, r.text[:200]
    return lat


def feed_under_ingest(c: httpx.Client, url: str, token: str, args: argparse.Namespace,
                      rng: np.random.Generator) -> dict[str, object]:
    """The feed timed while an open-loop sender posts `args.ingest_rate` view events/s to the server."""
    batches = [json.dumps({"events": [{"buyer_id": 1 + int(rng.integers(args.buyers)),
                                       "design_id": 1 + int(rng.integers(args.designs)), "kind": "view"}
                                      for _ in range(20)]}).encode() for _ in range(2000)]
    seconds = 2 + args.requests * 0.06  # long enough for the feed requests at up to 60 ms each
    done, ingest = threading.Event(), {}

    def send() -> None:
        ingest.update(open_loop(url, token, seconds, args.ingest_rate, batches, 20, "/api/v1/events/batch"))
        done.set()

    sender = threading.Thread(target=send)
    sender.start()
    time.sleep(2)  # the sender's connections are warm and its arrivals under way
    lat = np.array(timed_feeds(c, args.requests, args.buyers, rng, until=done)) * 1000
    sender.join()
    return {"feed_requests": len(lat), "feed_http_p50_ms": round(float(np.percentile(lat, 50)), 1),
            "feed_http_p95_ms": round(float(np.percentile(lat, 95)), 1), "feed_http_max_ms": round(float(lat.max()), 1),
            "ingest": {k: ingest[k] for k in ("offered_events_per_s", "events_per_s", "p50_ms", "p99_ms", "max_ms", "errors")}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--designs", type=int, default=100_000)
    ap.add_argument("--buyers", type=int, default=1000)
    ap.add_argument("--requests", type=int, default=500)
    ap.add_argument("--baseline-requests", type=int, default=30)
    ap.add_argument("--in-process-requests", type=int, default=200)
    ap.add_argument("--ingest-rate", type=float, default=0, help="also time the feed under this many events/s")
    args = ap.parse_args()
    load_start = os.getloadavg()
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        ws = Workspace.open(Settings(home=home))
        t0 = time.perf_counter()
        fill(ws, args.designs, args.buyers, rng)
        fill_s = time.perf_counter() - t0
        base = []
        for _ in range(args.baseline_requests):
            t = time.perf_counter()
            uncached_feed(ws, 1 + int(rng.integers(args.buyers)), 20, rng)
            base.append(time.perf_counter() - t)
        with threadpool_limits(1, user_api="blas"):
            inproc = in_process(ws, args.buyers, args.in_process_requests, rng)
        ws.close()
        token = admin_token(home)  # an admin may read every buyer's feed
        gc.collect()  # this process's long-lived objects out of the collector: no pauses in the timed clients
        gc.freeze()
        t0 = time.perf_counter()
        with api_server(home, env={"TRENDLOOM_DECIDE_EVERY_S": "0"}) as url:
            startup_s = time.perf_counter() - t0
            with httpx.Client(base_url=url, timeout=30, headers={"Authorization": f"Bearer {token}"}) as c:
                for _ in range(20):  # warm-up
                    c.get(f"/api/v1/buyers/{1 + int(rng.integers(args.buyers))}/feed")
                lat = timed_feeds(c, args.requests, args.buyers, rng)
                under: dict[str, object] = {}
                if args.ingest_rate:
                    under = feed_under_ingest(c, url, token, args, rng)
    ms, base_ms = np.array(lat) * 1000, np.array(base) * 1000
    print(json.dumps({
        "designs": args.designs, "fill_s": round(fill_s, 1), "server_startup_s": round(startup_s, 1),
        "feed_http_p50_ms": round(float(np.percentile(ms, 50)), 1), "feed_http_p95_ms": round(float(np.percentile(ms, 95)), 1),
        "uncached_p50_ms": round(float(np.percentile(base_ms, 50)), 1), "uncached_p95_ms": round(float(np.percentile(base_ms, 95)), 1),
        "speedup_p50": round(float(np.percentile(base_ms, 50) / np.percentile(ms, 50)), 1),
        "in_process_feed_ids": inproc, "under_ingest": under,
        "load_average_start": load_start, "load_average_end": os.getloadavg(),
        "setup": vars(args)}, indent=1))


if __name__ == "__main__":
    main()

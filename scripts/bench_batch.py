"""Batch work in-process vs on Ray: embedding catalogue titles and forecasting series.

    .venv/bin/python scripts/bench_batch.py embed --titles 100000 --run inprocess|ray1|ray2 [--json OUT]
    .venv/bin/python scripts/bench_batch.py forecast --series 10000 --run inprocess|ray1|ray2 [--json OUT]

One variant per run, so each stays a few minutes and the machine is measured in the same state: `inprocess`
(this process, torch and BLAS with their default threads), `ray1` / `ray2` (a local Ray cluster with 1 or 2
CPUs, one task at a time per CPU, each task single-threaded as Ray sets it). The titles are the sample
catalogue's (`app.sample.write_catalog_csv`: two in three in Chinese, the rest English with seller filler);
the series are `generation.trends.suite`'s five families, 261 weeks each. Prints seconds (the Ray cluster's
start apart; model loading in the workers included), items per second, the load average, and a SHA-256 of the
output, which must be the same for every variant.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from app.batch import embed_texts, executor
from app.sample import write_catalog_csv
from generation.taxonomy import load_taxonomy
from generation.trends.forecast import forecast_frame
from generation.trends.frame import TrendFrame
from generation.trends.suite import FAMILIES, make_family
from generation.trends.synthetic import make_trend_sample


def titles(n: int) -> list[str]:
    tx = load_taxonomy()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "catalog.csv"
        write_catalog_csv(tx, make_trend_sample(tx), path, n=n)
        with path.open(encoding="utf-8") as fh:
            return [row["name"] for row in csv.DictReader(fh)]


def series(n: int) -> TrendFrame:
    parts = [make_family(f, n_series=n // len(FAMILIES) + (i < n % len(FAMILIES)), seed=7) for i, f in enumerate(FAMILIES)]
    return TrendFrame(parts[0].weeks, tuple(name for p in parts for name in p.names),
                      np.concatenate([p.values for p in parts], axis=1))


def digest(*arrays: np.ndarray) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("job", choices=("embed", "forecast"))
    ap.add_argument("--run", choices=("inprocess", "ray1", "ray2"), required=True)
    ap.add_argument("--titles", type=int, default=100_000)
    ap.add_argument("--series", type=int, default=10_000)
    ap.add_argument("--json", type=Path, default=None, help="append the result here as one JSON line")
    args = ap.parse_args()
    work = titles(args.titles) if args.job == "embed" else series(args.series)
    address, workers = (None, None) if args.run == "inprocess" else ("local", int(args.run[-1]))
    load_start = os.getloadavg()
    t0 = time.perf_counter()
    with executor(address, workers=workers) as ex:
        started = time.perf_counter()
        if args.job == "embed":
            out = embed_texts(ex, "", work)  # type: ignore[arg-type]
            n, sha = len(work), digest(out)
        else:
            fc = forecast_frame(work, 52, map_blocks=ex.map)  # type: ignore[arg-type]
            n, sha = len(fc.names), digest(fc.mean, fc.lower, fc.upper)
        seconds = time.perf_counter() - started
    result = {"job": args.job, "run": args.run, "items": n, "seconds": round(seconds, 1),
              "items_per_s": round(n / seconds, 1), "cluster_start_s": round(started - t0, 1), "sha256": sha,
              "load_average_start": [round(x, 2) for x in load_start],
              "load_average_end": [round(x, 2) for x in os.getloadavg()], "cpus": os.cpu_count()}
    print(json.dumps(result))
    if args.json is not None:
        with args.json.open("a") as fh:
            fh.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()

"""Time every stage of the loop on a fresh workspace and print the figures (for BENCHMARKS.md).

    .venv/bin/python scripts/time_loop.py [--buyers 150] [--days 14] [--designs 12]

Runs the same service code as `trendloom demo`, in a temporary folder, and reports seconds per stage,
plus the event throughput of the simulated buyers.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from app.db import transaction
from app.models import utcnow
from app.sample import write_sample
from app.services import designs, production, trends
from app.settings import Settings
from app.simulator import BuyerSimulator
from app.workspace import Workspace
from generation.trends.io import read_wide_csv
from matching.factories.registry import read_factories_csv


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--buyers", type=int, default=150)
    ap.add_argument("--days", type=int, default=14)
    ap.add_argument("--designs", type=int, default=12)
    args = ap.parse_args()
    times: dict[str, float] = {}

    def timed(name: str, fn):  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        out = fn()
        times[name] = round(time.perf_counter() - t0, 3)
        return out

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(home=Path(tmp))
        ws = timed("open workspace (migrate)", lambda: Workspace.open(settings))
        files = timed("sample data", lambda: write_sample(ws.taxonomy, Path(tmp) / "sample"))
        frame = read_wide_csv(files.trends)
        with transaction(ws.sessions) as s:
            timed("trend ingest + signals", lambda: trends.ingest_frame(s, frame, ws.taxonomy, source="sample"))
            facts = read_factories_csv(files.factories, known_categories=ws.taxonomy.categories)
            timed("factory import", lambda: production.import_factories(s, facts))
        with transaction(ws.sessions) as s:
            made = timed("generate designs + images",
                         lambda: designs.generate(s, ws.taxonomy, ws.images, settings.images_dir, n=args.designs,
                                                  cost_share=settings.cost_share))
            timed("publish (embed + index + priors)", lambda: designs.publish(s, ws, [d.id for d in made], now=utcnow()))
        sim = BuyerSimulator(ws, seed=0)
        report = timed("simulate buyers", lambda: sim.run(buyers=args.buyers, days=args.days, start=utcnow()))
        with transaction(ws.sessions) as s:
            timed("match winners", lambda: production.match_winners(s, ws, now=utcnow()))
        ws.close()
    n_events = sum(report.events.values()) + report.pre_orders
    print(json.dumps({
        "seconds": times,
        "designs": args.designs,
        "seconds_per_design_image": round(times["generate designs + images"] / args.designs, 4),
        "simulated_events": n_events,
        "events_per_second_in_simulation": round(n_events / times["simulate buyers"], 1),
    }, indent=1))


if __name__ == "__main__":
    main()

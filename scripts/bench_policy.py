"""Exposure policy benchmark: impressions needed to know the winners, per policy vs uniform.

    .venv/bin/python scripts/bench_policy.py [--seeds 10] [--designs 200] [--buyers 2000] [--days 14] [--ray local]

For every seed, the same workspace (sample trends + factory registry), the same synthetic designs and
the same simulated buyers (tastes and hidden appeal drawn from the seed) are run once per policy
through the real services (`trendloom simulate`). Every design is tested with the same impression budget. The baseline
(first variant, `uniform+fixed`) is the traditional test: even exposure, each design shown for its
whole budget, winners = designs that reached their threshold. The headline is, per variant, the
median over seeds of (impressions it used to decide every design) / (the baseline's), next to its
winner precision and recall against the truth; the target is <= 0.5 at no loss of precision.
With `--ray ADDRESS` (`local`: a cluster on this machine) the runs are Ray tasks, one per (seed, variant);
each run is seeded, so the results are those of the in-process runs (only `seconds` differs).
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import select

from app.attacks import make_attackers
from app.batch import executor
from app.db import transaction
from app.models import Design, utcnow
from app.sample import write_sample
from app.services import production, trends
from app.settings import Settings
from app.simulator import BuyerSimulator
from app.workspace import Workspace
from generation.taxonomy import load_taxonomy
from generation.trends.io import read_wide_csv
from matching.factories.registry import read_factories_csv


def one_run(sample: Path, seed: int, variant: str, args: argparse.Namespace,
            attacks: Sequence[str] = (), snapshot: bool = False) -> dict[str, object]:
    """One simulated test of `args.designs` designs; `attacks` adds hostile buyers (`app.attacks`) among the
    honest ones; `snapshot` adds every design's final status and counters ("designs")."""
    policy, _, horizon = variant.partition("+")
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace.open(Settings(home=Path(tmp), exposure_policy=policy, test_impressions=args.budget))
        with transaction(ws.sessions) as s:
            trends.ingest_frame(s, read_wide_csv(sample / "trends.csv"), ws.taxonomy, source="sample")
            production.import_factories(s, read_factories_csv(sample / "factories.csv"))
        sim = BuyerSimulator(ws, seed=seed)
        start = utcnow()
        sim.create_designs(args.designs, start)
        t0 = time.perf_counter()
        report = sim.run(buyers=args.buyers, days=args.days, start=start, visit_rate=args.visit_rate, policy=policy,
                         fixed_horizon=horizon == "fixed", attackers=make_attackers(list(attacks), seed))
        out = report.summary()
        if snapshot:
            with ws.sessions() as s:
                out["designs"] = {d.id: {"status": d.status, "impressions": d.impressions, "pre_orders": d.pre_order_count,
                                         "pieces": d.pieces_ordered, "committed": d.committed, "p_reach": d.p_reach}
                                  for d in s.scalars(select(Design).where(Design.id.in_(list(report.true_pieces))))}
            out["true_winners"] = sorted(report.true_winners)
        out["policy"] = variant
        out["seconds"] = round(time.perf_counter() - t0, 1)
        out["seed"] = seed
        ws.close()
        return out


def run_job(sample: Path, args: argparse.Namespace, job: tuple[int, str]) -> dict[str, object]:
    return one_run(sample, job[0], job[1], args)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--designs", type=int, default=200)
    ap.add_argument("--buyers", type=int, default=2000)
    ap.add_argument("--days", type=int, default=40, help="upper bound; a run stops once every design is decided")
    ap.add_argument("--budget", type=int, default=250, help="impressions each design is tested with at most")
    ap.add_argument("--visit-rate", type=float, default=0.2)
    ap.add_argument("--out", type=Path, default=Path("var/bench_policy.jsonl"))
    ap.add_argument("--ray", default=None, metavar="ADDRESS", help="run each (seed, policy) as a Ray task ('local': "
                    "start a cluster here; a remote cluster's workers must see the sample folder's path)")
    ap.add_argument("--policies", default="uniform+fixed,threshold,thompson,uniform",
                    help="policy[+fixed]; '+fixed' = no early decisions (the traditional test)")
    args = ap.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    policies = args.policies.split(",")
    results: dict[str, list[dict[str, object]]] = {p: [] for p in policies}
    with tempfile.TemporaryDirectory() as tmp, args.out.open("w") as log, executor(args.ray) as ex:
        sample = Path(tmp)
        write_sample(load_taxonomy(), sample)
        jobs = [(seed, policy) for seed in range(args.seeds) for policy in policies]
        # in-process: one run at a time, logged as it ends; on Ray: all at once, logged when all are done
        runs = (map(functools.partial(run_job, sample, args), jobs) if args.ray is None
                else iter(ex.map(functools.partial(run_job, sample, args), jobs)))
        for (seed, policy), r in zip(jobs, runs):
            log.write(json.dumps(r) + "\n")
            log.flush()
            results[policy].append(r)
            print(f"seed {seed} {policy:>8}: k={r['k']} impressions={r['impressions']} "
                  f"to-90%={r['impressions_to_90pct_precision']} final precision={r['precision_at_k']:.2f} "
                  f"recall={r['recall_at_k']:.2f} ({r['seconds']} s)", file=sys.stderr)

    def med(policy: str, key: str) -> float | None:
        vals = [r[key] for r in results[policy]]
        if any(v is None for v in vals):  # never reached: count it as the whole run
            vals = [r[key] if r[key] is not None else r["impressions"] for r in results[policy]]
        return statistics.median(vals)  # type: ignore[arg-type]

    summary: dict[str, object] = {p: {
        "median_impressions": med(p, "impressions"),
        "median_final_precision": statistics.median(r["precision_at_k"] for r in results[p]),
        "median_final_recall": statistics.median(r["recall_at_k"] for r in results[p]),
        "median_impressions_to_90pct_ranking_precision": med(p, "impressions_to_90pct_precision"),
        "runs_reaching_90pct": sum(r["impressions_to_90pct_precision"] is not None for r in results[p]),
    } for p in results}
    base = policies[0]
    for p in policies[1:]:
        ratios = [r["impressions"] / b["impressions"] for r, b in zip(results[p], results[base])]
        summary[f"{p}_vs_{base}"] = {
            "median_impression_ratio": round(statistics.median(ratios), 3),
            "median_precision_difference": round(statistics.median(
                r["precision_at_k"] - b["precision_at_k"] for r, b in zip(results[p], results[base])), 3),
        }
    summary["setup"] = vars(args) | {"out": str(args.out)}
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()

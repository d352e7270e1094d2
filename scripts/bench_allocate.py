"""Benchmark the joint allocation (for BENCHMARKS.md): the heuristic against HiGHS's MILP and a proven bound.

    .venv/bin/python scripts/bench_allocate.py [--sizes 1000x5000,10000x50000] [--milp-seconds 60]

Each instance: `make_factory_registry(F)` (synthetic belts), `make_requirements(D)` (recipes the belts
offer, log-normal quantities around 1,500 pcs) and `busy_capacity(free_share)` (each factory has a
random share of its monthly capacity free, mean 15%, so cheap factories are contested). Lanes: every
feasible (design, factory) pair by the hard constraints, pruned to `--lanes` per design.

Reported per size: seconds to build the lanes and to solve; the objective; the heuristic's lower bound
(LP + pricing over EVERY feasible lane, so it bounds the unpruned optimum too) and its gap; how many
designs use 1, 2, 3+ factories; pieces unplaced. At sizes up to `--milp-max-designs`, the obvious
alternative, HiGHS's MILP on all feasible lanes (no pruning), runs with a time limit in the same run:
its best plan, its proven bound and the heuristic's gap to its best plan.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import time

import numpy as np

from matching.allocation import solve_exact, solve_heuristic
from matching.factories.synthetic import make_factory_registry
from matching.factories.synthetic_orders import busy_capacity, make_requirements
from matching.factories.table import FactoryTable


def run(n_designs: int, n_factories: int, *, lanes: int, pricing_rounds: int, free_share: float,
        milp_seconds: float, milp_max_designs: int, seed: int) -> dict[str, object]:
    """One instance: heuristic figures, and the MILP's where the instance is small enough."""
    factories = make_factory_registry(n_factories, seed=seed, unique_names=False)
    reqs = make_requirements(n_designs, seed=seed + 1)
    free = busy_capacity(factories, free_share=free_share, seed=seed + 2)
    ids = [f"D{i}" for i in range(n_designs)]
    t0 = time.perf_counter()
    table = FactoryTable(factories)
    problem = table.problem(ids, reqs, free, max_lanes=lanes)
    build_s = time.perf_counter() - t0
    heur = solve_heuristic(problem, lanes=table.lane_source(reqs, free), max_pricing_rounds=pricing_rounds)
    assert heur.problem.violations(heur.x) == []
    per_design = np.bincount(heur.problem.lane_design[heur.x > 0], minlength=n_designs)
    out: dict[str, object] = {
        "designs": n_designs, "factories": n_factories, "lanes_per_design": lanes, "lanes": problem.n_lanes,
        "demand_pcs": int(problem.quantity.sum()), "free_capacity_pcs": int(free.sum()),
        "build_s": round(build_s, 2), "heuristic_s": round(heur.seconds, 2), "total_s": round(build_s + heur.seconds, 2),
        "objective": heur.objective, "lower_bound": round(heur.lower_bound), "gap_to_bound": round(heur.gap, 5),
        "factories_per_design": {"0": int((per_design == 0).sum()), "1": int((per_design == 1).sum()),
                                 "2": int((per_design == 2).sum()), "3+": int((per_design >= 3).sum())},
        "unplaced_pcs": int(sum(q for _, q in heur.unplaced())),
        "unplaceable_pcs": int(problem.quantity[problem.unplaced_cost == 0].sum()),
        "stats": heur.stats,
    }
    if n_designs <= milp_max_designs:
        full = table.problem(ids, reqs, free, max_lanes=None)
        exact = solve_exact(full, time_limit_s=milp_seconds)
        out["milp"] = {"lanes": full.n_lanes, "seconds": round(exact.seconds, 1), "status": exact.stats["status"],
                       "objective": exact.objective, "bound": round(exact.lower_bound),
                       "own_gap": round(exact.gap, 5),
                       "heuristic_vs_milp_best": round((heur.objective - exact.objective) / exact.objective, 5)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000x5000,10000x50000", help="DESIGNSxFACTORIES, comma-separated")
    ap.add_argument("--lanes", type=int, default=0, help="lanes per design (0: 32 up to 2,000 designs, 16 above)")
    ap.add_argument("--pricing-rounds", type=int, default=-1, help="-1: 2 up to 2,000 designs, 1 above")
    ap.add_argument("--free-share", type=float, default=0.15)
    ap.add_argument("--milp-seconds", type=float, default=60.0)
    ap.add_argument("--milp-max-designs", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    report: dict[str, object] = {"date": datetime.date.today().isoformat(), "machine": platform.platform(),
                                 "cpus": os.cpu_count(), "load_average": os.getloadavg(), "runs": []}
    for size in args.sizes.split(","):
        d, f = (int(v) for v in size.lower().split("x"))
        big = d > 2000
        res = run(d, f, lanes=args.lanes or (16 if big else 32),
                  pricing_rounds=args.pricing_rounds if args.pricing_rounds >= 0 else (1 if big else 2),
                  free_share=args.free_share, milp_seconds=args.milp_seconds,
                  milp_max_designs=args.milp_max_designs, seed=args.seed)
        res["load_average_after"] = os.getloadavg()
        report["runs"].append(res)  # type: ignore[union-attr]
        print(json.dumps(res), flush=True)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()

"""Where does the exact MILP stop being quick? Joint allocations of growing size on the 240-factory registry.

    .venv/bin/python scripts/bench_milp_size.py [--designs 50,150,300,600] [--seconds 60]

Each instance: `make_factory_registry(240)`, `make_requirements(D, median_quantity=800)` and
`busy_capacity(free_share=0.3)` (contested capacity, as when many winners close at once), every feasible
lane kept. Reported: lanes, the MILP's seconds and status (HiGHS, `--seconds` limit), the heuristic's
seconds and its objective relative to the MILP's best plan. Sets `TRENDLOOM_EXACT_MAX_LANES` and
`TRENDLOOM_EXACT_TIME_LIMIT_S` (BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import time

from matching.allocation import solve_exact, solve_heuristic
from matching.factories.synthetic import make_factory_registry
from matching.factories.synthetic_orders import busy_capacity, make_requirements
from matching.factories.table import FactoryTable


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--designs", default="50,150,300,600")
    ap.add_argument("--seconds", type=float, default=60.0)
    args = ap.parse_args()
    print(json.dumps({"date": datetime.date.today().isoformat(), "machine": platform.platform(),
                      "load_average": os.getloadavg()}))
    factories = make_factory_registry(240, seed=0)
    table = FactoryTable(factories)
    free = busy_capacity(factories, free_share=0.3, seed=2)
    for n in (int(d) for d in args.designs.split(",")):
        reqs = make_requirements(n, seed=1, median_quantity=800)
        problem = table.problem([f"D{i}" for i in range(n)], reqs, free, max_lanes=None)
        t0 = time.perf_counter()
        exact = solve_exact(problem, time_limit_s=args.seconds)
        milp_s = time.perf_counter() - t0
        heur = solve_heuristic(problem)
        print(json.dumps({"designs": n, "lanes": problem.n_lanes, "milp_s": round(milp_s, 2),
                          "milp_status": exact.stats["status"], "milp_own_gap": round(exact.gap, 5),
                          "heuristic_s": round(heur.seconds, 3),
                          "heuristic_vs_milp": round((heur.objective - exact.objective) / exact.objective, 5)}),
              flush=True)
    print(json.dumps({"load_average_after": os.getloadavg()}))


if __name__ == "__main__":
    main()

"""How large must the capability shortlist be? Recall of the top-K against the exhaustive hard-constraint filter.

    .venv/bin/python scripts/capability_recall.py [--factories 240,2000] [--designs 500] [--ks 8,16,32,48,64,96]

For each registry size: `make_factory_registry(F)` (synthetic belts), `make_requirements(D)` (recipes
the belts offer), every factory's capability text and every design's text (a short description plus
its category and materials, `design_text`) embedded with the shipped MiniLM. For each K:
* recall: |top-K and feasible| / |feasible|, averaged over designs with at least one feasible factory,
  where feasible = the hard constraints (recipe, lead time, MOQ; full capacity) over the WHOLE registry;
* any: the share of those designs with at least one feasible factory in the top-K;
* cheapest: the share whose cheapest feasible factory (lowest price_index) is in the top-K;
* cost: the mean ratio of the cheapest unit cost in the top-K to the cheapest overall (1.0 = no loss).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import time

import numpy as np

from matching.embeddings import TextEmbedder
from matching.factories.capability import CapabilityIndex
from matching.factories.orders import design_text
from matching.factories.synthetic import make_factory_registry
from matching.factories.synthetic_orders import make_requirements
from matching.factories.table import FactoryTable


def run(n_factories: int, n_designs: int, ks: list[int], embedder: TextEmbedder, seed: int) -> dict[str, object]:
    """Recall figures of one registry size for every K."""
    factories = make_factory_registry(n_factories, seed=seed, unique_names=False)
    reqs = make_requirements(n_designs, seed=seed + 1)
    t0 = time.perf_counter()
    index = CapabilityIndex.build(factories, embedder.encode, embedder=embedder.name)
    embed_s = time.perf_counter() - t0
    texts = [design_text(f"{r.materials[0].replace('-', ' ')} {r.category.replace('-', ' ')}", r.category,
                         r.materials, r.processes) for r in reqs]
    positions, _ = index.top_k(embedder.encode(texts), max(ks))
    table = FactoryTable(factories)
    out: dict[str, object] = {"factories": n_factories, "designs": n_designs, "embed_factories_s": round(embed_s, 1)}
    feasible = [np.flatnonzero(table.feasible(r, table.capacity)) for r in reqs]
    has = [i for i, f in enumerate(feasible) if f.size]
    out["designs_with_a_feasible_factory"] = len(has)
    out["feasible_per_design_median"] = float(np.median([feasible[i].size for i in has])) if has else 0.0
    for k in ks:
        recall, anyone, cheapest, cost = [], [], [], []
        for i in has:
            top = positions[i, :k]
            inside = np.isin(feasible[i], top)
            recall.append(inside.mean())
            anyone.append(inside.any())
            price = table.price_index[feasible[i]]
            cheapest.append(bool(inside[np.argmin(price)]))
            cost.append(price[inside].min() / price.min() if inside.any() else np.inf)
        out[f"k={k}"] = {"recall": round(float(np.mean(recall)), 4), "any": round(float(np.mean(anyone)), 4),
                         "cheapest": round(float(np.mean(cheapest)), 4),
                         "cost_ratio": round(float(np.mean(np.minimum(cost, 10))), 4)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--factories", default="240,1000,2000")
    ap.add_argument("--designs", type=int, default=500)
    ap.add_argument("--ks", default="16,32,64,72,100,300,600")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    embedder = TextEmbedder.from_pretrained()
    ks = [int(k) for k in args.ks.split(",")]
    report: dict[str, object] = {"date": datetime.date.today().isoformat(), "machine": platform.platform(),
                                 "cpus": os.cpu_count(), "load_average": os.getloadavg(), "runs": []}
    for f in args.factories.split(","):
        res = run(int(f), args.designs, ks, embedder, args.seed)
        print(json.dumps(res), flush=True)
        report["runs"].append(res)  # type: ignore[union-attr]
    report["load_average_after"] = os.getloadavg()
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()

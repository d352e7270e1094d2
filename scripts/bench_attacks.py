"""Attack simulation: what scripted hostile buyers move, next to the same run without them.

    .venv/bin/python scripts/bench_attacks.py [--seeds 3] [--designs 200] [--buyers 2000] [--attacks flood,fan,churn,all]

For every seed, the same workspace, designs and honest buyers as `scripts/bench_policy.py` (whose
`one_run` this reuses) are run: once as the traditional test (`uniform+fixed`, the baseline of the
impressions ratio), once with the default policy and honest buyers only, and once more per attack with
hostile buyers among them (`app.attacks`: `flood`, `fan`, `churn`; `all` = the three together). Reported
per attack, as the median over seeds of attack run minus honest run: winner precision and the
impressions ratio (target: within 0.02), and for the attacked design its counted impressions, live
pre-orders, P(reach) and verdict; what each hostile buyer sent, what was refused (429) or ignored, what
counted, whether and when it was flagged, and how many of its actions changed an honest buyer's pre-order.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

from bench_policy import one_run

from app.sample import write_sample
from generation.taxonomy import load_taxonomy


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--designs", type=int, default=200)
    ap.add_argument("--buyers", type=int, default=2000)
    ap.add_argument("--days", type=int, default=40)
    ap.add_argument("--budget", type=int, default=250)
    ap.add_argument("--visit-rate", type=float, default=0.2)
    ap.add_argument("--policy", default="threshold")
    ap.add_argument("--attacks", default="flood,fan,churn,all")
    ap.add_argument("--out", type=Path, default=Path("var/bench_attacks.jsonl"))
    args = ap.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    attacks = {a: (["flood", "fan", "churn"] if a == "all" else [a]) for a in args.attacks.split(",")}
    rows: dict[str, list[dict[str, object]]] = {a: [] for a in attacks}
    with tempfile.TemporaryDirectory() as tmp, args.out.open("w") as log:
        sample = Path(tmp)
        write_sample(load_taxonomy(), sample)
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            base = one_run(sample, seed, "uniform+fixed", args)
            honest = one_run(sample, seed, args.policy, args, snapshot=True)
            log.write(json.dumps({"seed": seed, "run": "baseline", **_light(base)}) + "\n")
            log.write(json.dumps({"seed": seed, "run": "honest", **_light(honest)}) + "\n")
            for name, hostile in attacks.items():
                attacked = one_run(sample, seed, args.policy, args, hostile, snapshot=True)
                row = compare(base, honest, attacked)
                log.write(json.dumps({"seed": seed, "run": name, **row}) + "\n")
                log.flush()
                rows[name].append(row)
                print(f"seed {seed} {name:>5}: precision {row['precision_diff']:+.3f}, impressions ratio "
                      f"{row['ratio_diff']:+.3f}, flagged {row['flagged']}", file=sys.stderr)
    summary = {name: summarise(rs) for name, rs in rows.items()}
    summary["setup"] = vars(args) | {"out": str(args.out)}
    print(json.dumps(summary, indent=1, default=str))


def _light(run: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in run.items() if k not in ("timeline", "designs")}


def compare(base: dict, honest: dict, attacked: dict) -> dict[str, object]:
    """The attack run against the honest run of the same seed."""
    ratio_h = honest["impressions"] / base["impressions"]
    ratio_a = attacked["impressions"] / base["impressions"]
    targets = {}
    for a in attacked["attacks"]:
        aimed = a.get("attacked") or ([a["target"]] if a.get("target") is not None else [])
        if not aimed:
            continue
        t = aimed[-1]
        h, x = honest["designs"][t], attacked["designs"][t]
        targets[a["kind"]] = {"design": t, "designs_aimed_at": len(aimed), "true_winner": t in honest["true_winners"],
                              **{f"{k}_honest": h[k] for k in ("status", "impressions", "pre_orders", "committed", "p_reach")},
                              **{f"{k}_attacked": x[k] for k in ("status", "impressions", "pre_orders", "committed", "p_reach")},
                              **_moved(honest["designs"], attacked["designs"], aimed, prefix="aimed_")}
    changed = sum(1 for d in honest["designs"] if honest["designs"][d]["status"] != attacked["designs"][d]["status"])
    return {"precision_honest": honest["precision_at_k"], "precision_attacked": attacked["precision_at_k"],
            "precision_diff": attacked["precision_at_k"] - honest["precision_at_k"],
            "ratio_honest": ratio_h, "ratio_attacked": ratio_a, "ratio_diff": ratio_a - ratio_h,
            "verdicts_differing": changed, **_moved(honest["designs"], attacked["designs"], list(honest["designs"])),
            "targets": targets, "attackers": attacked["attacks"],
            "flagged": {a["kind"]: a["flagged"] for a in attacked["attacks"]},
            "honest_buyers_flagged": sum(1 for b in attacked["flagged"]
                                         if int(b) not in {a["buyer_id"] for a in attacked["attacks"]})}


def _moved(honest: dict, attacked: dict, ids: list, *, prefix: str = "") -> dict[str, object]:
    """Over the designs `ids`: how many changed verdict, and the largest change of each counter and P(reach)."""
    out: dict[str, object] = {f"{prefix}verdicts_changed": sum(honest[d]["status"] != attacked[d]["status"] for d in ids)}
    for k in ("impressions", "pre_orders", "committed"):
        out[f"{prefix}max_abs_{k}_diff"] = max((abs(attacked[d][k] - honest[d][k]) for d in ids), default=0)
    out[f"{prefix}max_abs_p_reach_diff"] = round(max((abs((attacked[d]["p_reach"] or 0) - (honest[d]["p_reach"] or 0))
                                                      for d in ids), default=0.0), 4)
    return out


def summarise(rows: list[dict]) -> dict[str, object]:
    med = lambda key: round(statistics.median(r[key] for r in rows), 4)  # noqa: E731
    return {"seeds": len(rows), "median_precision_diff": med("precision_diff"), "median_ratio_diff": med("ratio_diff"),
            "max_abs_precision_diff": round(max(abs(r["precision_diff"]) for r in rows), 4),
            "max_abs_ratio_diff": round(max(abs(r["ratio_diff"]) for r in rows), 4),
            "median_verdicts_differing": med("verdicts_differing"),
            **{f"max_{k}": max(r.get(k, 0) for r in rows) for k in ("max_abs_impressions_diff", "max_abs_pre_orders_diff",
                                                                    "max_abs_committed_diff", "max_abs_p_reach_diff")},
            "honest_buyers_flagged": sum(r["honest_buyers_flagged"] for r in rows),
            "honest_orders_changed_by_an_attack_action": sum(a.get("honest_orders_changed", 0)
                                                             for r in rows for a in r["attackers"])}


if __name__ == "__main__":
    main()

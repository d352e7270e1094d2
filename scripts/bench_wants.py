"""Trend-only composing against trend + unmet demand, over one simulated season with the same seeds (issue 18).

    .venv/bin/python scripts/bench_wants.py [--seeds 3] [--buyers 300] [--designs 12] [--days 10] [--share 0.5]

For every seed, the same workspace (sample trends + factory registry) and the same simulated buyers. A
share of the buyers (`--share`) carry a latent want: a (category, colour, material) they would pre-order
gladly, drawn with a Zipf weight from a few combinations the factories can make but the trend series do not
favour (what no trend report sees). Before the season every buyer with a want searches once for it in their
own words, English or Chinese (taxonomy words and synonyms, with filler such as "有没有" or "cute"),
through the real storefront search (`storefront.browse`), which records what its first page lacked
(`app.services.wants`). Then `designs.generate` composes `--designs` designs in two arms:

- `trends`: the wants table emptied first, so only the trend series compose;
- `trends+wants`: as the service runs it (up to half the batch answers the top wants, `designs.WANT_SHARE`).

Each arm's designs are published and tested by the same buyers for the same days (`BuyerSimulator`, its
tastes and hidden appeal drawn from the seed, plus `WANT_BONUS` utility on a design that has everything
a buyer wants). Reported per arm: the share of buyers' wants a published design serves, pre-ordered
pieces per published design, and the winner rate (designs decided `won` per published design); and the
ratios of the second arm to the first. Target: >= 1.3x pieces per published design.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sqlalchemy import select

from app.db import transaction
from app.lifecycle import DesignState
from app.models import Design, WantSignal, utcnow
from app.sample import write_sample
from app.services import designs, feed, interest, production, storefront, trends
from app.settings import Settings
from app.simulator import BuyerSimulator
from app.workspace import Workspace
from generation.concepts.pricing import price_tiers
from generation.concepts.spec import DesignSpec
from generation.taxonomy import load_taxonomy
from generation.trends.io import read_wide_csv
from matching.factories.registry import read_factories_csv

WANT_BONUS = 2.5  # utility a buyer adds to a design with everything they want (the simulator's tastes are ~N(0, 0.5))
HIDDEN = 6  # combinations the wants are drawn from
EN_FILLER = ("", "cute ", "new ", "looking for ", "any ")
ZH_FILLER = ("", "有没有", "求", "新款", "想要")


class WantingBuyers(BuyerSimulator):
    """The simulator's buyers, some with a latent want (`wants`: buyer id -> (category, colour, material))."""

    def __init__(self, ws: Workspace, *, seed: int, wants: dict[int, tuple[str, str, str]]) -> None:
        super().__init__(ws, seed=seed)
        self.wants = wants

    def _utility(self, buyer_id: int, design_id: int, spec: DesignSpec) -> float:
        u = super()._utility(buyer_id, design_id, spec)
        return u + WANT_BONUS * (self.wants.get(buyer_id) == (spec.category, spec.color, spec.material))


def hidden_combinations(ws: Workspace, rng: np.random.Generator) -> list[tuple[str, str, str]]:
    """`HIDDEN` (category, colour, material) some factory makes that no rising series of the sample points to."""
    tx = ws.taxonomy
    with ws.sessions() as s:
        registry = production.factories(s)
        rising = {(r.category, r.kind, r.attribute) for r, g in trends.signals(s) if g.direction == "rising"}
    out: list[tuple[str, str, str]] = []
    categories = sorted(tx.categories)
    while len(out) < HIDDEN:
        c = categories[int(rng.integers(len(categories)))]
        colors, materials = tx.allowed("color", c), tx.allowed("material", c)
        color, material = colors[int(rng.integers(len(colors)))], materials[int(rng.integers(len(materials)))]
        if (c, "color", color) in rising or (c, "material", material) in rising or (c, color, material) in out:
            continue
        spec = DesignSpec(category=c, color=color, material=material, price_tiers=price_tiers(tx, c, material, 0))
        if production.capable(registry, tx, spec, cost_share=ws.settings.cost_share):
            out.append((c, color, material))
    return out


def words_for(ws: Workspace, want: tuple[str, str, str], rng: np.random.Generator) -> str:
    """A buyer's own words for a want: Chinese two times in three, taxonomy names or synonyms, filler."""
    tx = ws.taxonomy
    category, color, material = want
    parts = [tx.attributes["color"][color], tx.attributes["material"][material], tx.categories[category]]
    if rng.random() < 2 / 3:
        pick = [p.zh for p in parts]
        return ZH_FILLER[int(rng.integers(len(ZH_FILLER)))] + "".join(pick)
    names = [p.name.replace("-", " ") for p in parts]
    en_synonyms = [[w for w in p.synonyms if w.isascii()] for p in parts]
    pick = [syn[int(rng.integers(len(syn)))] if syn and rng.random() < 0.3 else name for name, syn in zip(names, en_synonyms)]
    return EN_FILLER[int(rng.integers(len(EN_FILLER)))] + " ".join(pick)


def one_arm(sample: Path, seed: int, arm: str, args: argparse.Namespace) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace.open(Settings(home=Path(tmp), image_backend="flat", test_impressions=args.budget))
        with transaction(ws.sessions) as s:
            trends.ingest_frame(s, read_wide_csv(sample / "trends.csv"), ws.taxonomy, source="sample")
            production.import_factories(s, read_factories_csv(sample / "factories.csv"))
        rng = np.random.default_rng([seed, 18])
        hidden = hidden_combinations(ws, rng)
        zipf = 1 / np.arange(1, HIDDEN + 1)
        start = utcnow()
        sim = WantingBuyers(ws, seed=seed, wants={})
        people = sim.ensure_buyers(args.buyers)
        for b in people:
            if rng.random() < args.share:
                sim.wants[b.id] = hidden[int(rng.choice(HIDDEN, p=zipf / zipf.sum()))]
        # every buyer with a want searches once for it, in their own words
        texts = {b: words_for(ws, w, rng) for b, w in sim.wants.items()}
        for b, text in texts.items():
            with transaction(ws.sessions) as s:
                storefront.browse(s, ws, b, q=text, filters=feed.Filters(), page_size=8)
        with transaction(ws.sessions) as s:
            read = s.query(WantSignal).count()
            if arm == "trends":
                s.query(WantSignal).delete()
        with transaction(ws.sessions) as s:
            made = designs.generate(s, ws.taxonomy, ws.images, ws.settings.images_dir, n=args.designs, seed=seed,
                                    cost_share=ws.settings.cost_share, ws=ws)
            designs.publish(s, ws, [d.id for d in made], now=start, require_image=False)
            specs = [designs.spec_of(d) for d in made]
        t0 = time.perf_counter()
        report = sim.run(buyers=args.buyers, days=args.days, start=start, visit_rate=args.visit_rate)
        offered = {(sp.category, sp.color, sp.material) for sp in specs}
        with ws.sessions() as s:
            won = sum(1 for d in s.scalars(select(Design).where(Design.id.in_([d.id for d in made])))
                      if d.status not in (DesignState.DRAFT, DesignState.PUBLISHED, DesignState.DROPPED))
        ws.close()
        return {"seed": seed, "arm": arm, "designs": len(specs), "answering_wants": sum(bool(sp.asked_for) for sp in specs),
                "buyers_with_wants": len(sim.wants), "searches_recorded": read,
                "wants_served": sum(w in offered for w in sim.wants.values()) / max(1, len(sim.wants)),
                "pieces": report.pieces, "pieces_per_design": report.pieces / max(1, len(specs)),
                "winner_rate": won / max(1, len(specs)), "seconds": round(time.perf_counter() - t0, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--buyers", type=int, default=300)
    ap.add_argument("--designs", type=int, default=12)
    ap.add_argument("--days", type=int, default=10)
    ap.add_argument("--budget", type=int, default=400, help="impressions each design is tested for")
    ap.add_argument("--visit-rate", type=float, default=0.5)
    ap.add_argument("--share", type=float, default=0.5, help="share of buyers with a latent want")
    ap.add_argument("--first-seed", type=int, default=100, help="seeds first_seed.. (not those the tests use)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sample = Path(tmp) / "sample"
        write_sample(load_taxonomy(), sample, seed=7)
        rows = []
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            for arm in ("trends", "trends+wants"):
                rows.append(one_arm(sample, seed, arm, args))
                print(json.dumps(rows[-1], ensure_ascii=False), flush=True)
    by = {arm: [r for r in rows if r["arm"] == arm] for arm in ("trends", "trends+wants")}
    for key in ("wants_served", "pieces_per_design", "winner_rate"):
        a = statistics.mean(float(r[key]) for r in by["trends"])
        b = statistics.mean(float(r[key]) for r in by["trends+wants"])
        print(f"{key}: trends {a:.3f}  trends+wants {b:.3f}  ratio {b / a if a else float('inf'):.2f}", file=sys.stderr)


if __name__ == "__main__":
    main()

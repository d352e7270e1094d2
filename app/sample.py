"""`trendloom sample`: write a complete set of sample inputs with their ground truth."""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np

from generation.taxonomy import Taxonomy
from generation.trends.frame import SeriesName
from generation.trends.io import write_wide_csv
from generation.trends.synthetic import TrendSample, make_social_posts, make_trend_sample
from matching.factories.csv_safe import safe_row
from matching.factories.registry import write_factories_csv
from matching.factories.synthetic import make_factory_registry


@dataclass(frozen=True)
class SampleFiles:
    trends: Path
    ground_truth: Path
    posts: Path
    factories: Path
    catalog: Path


def write_sample(taxonomy: Taxonomy, out: Path, *, weeks: int = 156, n_factories: int = 240,
                 n_posts: int = 4000, seed: int = 0) -> SampleFiles:
    """Trend series (wide CSV) + their planted movers, social posts (JSONL) and a factory registry (CSV)."""
    out.mkdir(parents=True, exist_ok=True)
    files = SampleFiles(out / "trends.csv", out / "trends_ground_truth.json", out / "posts.jsonl", out / "factories.csv",
                        out / "catalog.csv")
    sample = make_trend_sample(taxonomy, weeks=weeks, seed=seed)
    write_wide_csv(sample.frame, files.trends)
    files.ground_truth.write_text(json.dumps(sample.ground_truth(), indent=1), encoding="utf-8")
    with files.posts.open("w", encoding="utf-8") as fh:
        for post in make_social_posts(taxonomy, sample, n=n_posts, seed=seed):
            fh.write(json.dumps(post, ensure_ascii=False) + "\n")
    write_factories_csv(make_factory_registry(n_factories, seed=seed), files.factories)
    write_catalog_csv(taxonomy, sample, files.catalog, seed=seed)
    return files


# title filler a seller adds, in both languages: the catalogue is read through it, not around it
_ZH_FILLER = ("2025新款", "韩版", "百搭", "ins风", "【包邮】", "厂家直销", "一件代发", "")
_EN_FILLER = ("New Season", "Basic", "Essential", "Everyday", "")


def write_catalog_csv(taxonomy: Taxonomy, sample: TrendSample, path: Path, *, n: int = 300, seed: int = 0) -> None:
    """A merchandiser's catalogue (`id,name,description,price_cents,launch_date,units_sold`) as people write
    it: no attribute columns, titles in Chinese (two in three) or English with seller filler, so the
    import has to read category, colour, material and pattern from the words. An item's units sold follow
    a fixed appeal of its colour and material, and how their series stood in its launch week (the
    sample's planted movers), so the catalogue's sales carry the signal `catalog backtest` looks for."""
    rng = np.random.default_rng(seed + 7)
    frame = sample.frame
    level = {(sn.category, sn.kind, sn.attribute): frame.values[:, j]
             for j, name in enumerate(frame.names) if (sn := SeriesName.split(name)) is not None}
    categories = sorted(taxonomy.categories)
    # what this merchandiser's buyers like, whatever the trend: items alike in colour and material sell alike
    appeal = {k: {a: float(rng.normal(0, 0.6)) for a in taxonomy.attributes[k]} for k in ("color", "material")}
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "name", "description", "price_cents", "launch_date", "units_sold"])
        for i in range(n):
            cat = categories[int(rng.integers(len(categories)))]
            pick = {k: str(rng.choice(taxonomy.allowed(k, cat))) for k in ("color", "material", "pattern")}
            week = int(rng.integers(52, len(frame.weeks) - 4))
            pull = sum(float(level.get((cat, k, a), np.ones(1))[min(week, len(frame.weeks) - 1)] /
                             max(1e-9, float(np.mean(level.get((cat, k, a), np.ones(1)))))) for k, a in pick.items())
            taste = sum(appeal[k][a] for k, a in pick.items() if k != "pattern")
            units = int(rng.poisson(40 * math.exp(taste + 0.8 * (pull / 3 - 1)) * rng.lognormal(0, 0.3)))
            if rng.random() < 2 / 3:
                words = [taxonomy.attribute(k, a).zh for k, a in pick.items() if not (k == "pattern" and a == "solid")]
                name = " ".join(x for x in (str(rng.choice(_ZH_FILLER)), "".join(words) + taxonomy.categories[cat].zh) if x)
            else:
                words = [a.replace("-", " ") for k, a in pick.items() if not (k == "pattern" and a == "solid")]
                name = " ".join(x for x in (str(rng.choice(_EN_FILLER)), *(wd.title() for wd in words),
                                            cat.replace("-", " ").title()) if x)
            price = taxonomy.categories[cat].base_price_cents * int(rng.integers(80, 130)) // 100
            w.writerow(safe_row([f"SKU-{i + 1:04d}", name, "", price, (frame.weeks[week] + timedelta(days=3)).isoformat(), units]))

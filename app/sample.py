"""`trendloom sample`: write a complete set of sample inputs with their ground truth."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from generation.taxonomy import Taxonomy
from generation.trends.io import write_wide_csv
from generation.trends.synthetic import make_social_posts, make_trend_sample
from matching.factories.registry import write_factories_csv
from matching.factories.synthetic import make_factory_registry


@dataclass(frozen=True)
class SampleFiles:
    trends: Path
    ground_truth: Path
    posts: Path
    factories: Path


def write_sample(taxonomy: Taxonomy, out: Path, *, weeks: int = 156, n_factories: int = 240,
                 n_posts: int = 4000, seed: int = 0) -> SampleFiles:
    """Trend series (wide CSV) + their planted movers, social posts (JSONL) and a factory registry (CSV)."""
    out.mkdir(parents=True, exist_ok=True)
    files = SampleFiles(out / "trends.csv", out / "trends_ground_truth.json", out / "posts.jsonl", out / "factories.csv")
    sample = make_trend_sample(taxonomy, weeks=weeks, seed=seed)
    write_wide_csv(sample.frame, files.trends)
    files.ground_truth.write_text(json.dumps(sample.ground_truth(), indent=1), encoding="utf-8")
    with files.posts.open("w", encoding="utf-8") as fh:
        for post in make_social_posts(taxonomy, sample, n=n_posts, seed=seed):
            fh.write(json.dumps(post, ensure_ascii=False) + "\n")
    write_factories_csv(make_factory_registry(n_factories, seed=seed), files.factories)
    return files

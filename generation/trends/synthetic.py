"""Synthetic trend data with a known answer: weekly attribute shares and social posts.

Each series is the weekly share of a category's posts that mention an attribute. It has a base level,
a yearly season (warm materials peak in winter, light ones in summer, others at a random phase), an
AR(1) wobble, Poisson sampling noise (so small shares hit zero), and for a planted few a genuine rise
or fade over the last ~40 weeks. The planted ones are returned as ground truth so tests and
benchmarks can check that the analysis finds them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from generation.taxonomy import ATTRIBUTE_KINDS, Taxonomy
from generation.trends.frame import SeriesName, TrendFrame

WARM = {"wool", "cashmere", "fleece", "corduroy", "burgundy", "camel", "brown", "forest-green", "check"}
LIGHT = {"linen", "silk", "white", "sky-blue", "butter-yellow", "coral", "floral", "tie-dye", "cropped"}


@dataclass
class TrendSample:
    frame: TrendFrame
    rising: list[str] = field(default_factory=list)  # planted series names
    fading: list[str] = field(default_factory=list)
    factors: dict[str, float] = field(default_factory=dict)  # planted level multiplier at the end

    def ground_truth(self) -> dict[str, object]:
        return {"rising": self.rising, "fading": self.fading, "final_level_factor": self.factors}


def all_series_names(taxonomy: Taxonomy, region: str = "cn", segment: str = "all") -> list[SeriesName]:
    """Every (category, attribute) pair the taxonomy allows, as series names."""
    out = []
    for category in taxonomy.categories:
        for kind in ATTRIBUTE_KINDS:
            for attr in taxonomy.allowed(kind, category):
                out.append(SeriesName(region, segment, category, kind, attr))
    return out


def make_trend_sample(taxonomy: Taxonomy, *, weeks: int = 156, end: date = date(2026, 11, 16),
                      n_rising: int = 24, n_fading: int = 12, posts_per_week: int = 3000,
                      seed: int = 0) -> TrendSample:
    """Generate `weeks` weekly values ending on `end` for every taxonomy series, with planted movers."""
    if weeks < 104:
        raise ValueError(f"weeks must be at least 104 (two seasons), got {weeks}")
    rng = np.random.default_rng(seed)
    names = all_series_names(taxonomy)
    n = len(names)
    t = np.arange(weeks, dtype=np.float64)
    week_of_year = np.array([(end - timedelta(weeks=weeks - 1 - i)).isocalendar()[1] for i in range(weeks)])

    # Planted movers: never solid/black/white (too generic to be a trend); distinct series.
    candidates = [i for i, s in enumerate(names) if s.attribute not in ("solid", "black", "white")]
    picked = rng.choice(candidates, size=n_rising + n_fading, replace=False)
    rising_idx, fading_idx = set(picked[:n_rising].tolist()), set(picked[n_rising:].tolist())

    values = np.empty((weeks, n))
    factors: dict[str, float] = {}
    onset = weeks - 40 + rng.integers(-6, 7, size=n)  # when a planted move starts
    for i, s in enumerate(names):
        base = math.exp(rng.normal(math.log(0.02), 1.0))
        if s.attribute in WARM:
            peak = 2.0  # early January
        elif s.attribute in LIGHT:
            peak = 28.0  # mid July
        else:
            peak = rng.uniform(0, 52)
        amp = rng.uniform(0.15, 0.6) if (s.attribute in WARM or s.attribute in LIGHT) else rng.uniform(0.0, 0.3)
        season = np.exp(amp * np.cos(2 * math.pi * (week_of_year - peak) / 52.0))
        level = np.ones(weeks)
        if i in rising_idx or i in fading_idx:
            final = rng.uniform(1.8, 3.0) if i in rising_idx else rng.uniform(0.3, 0.55)
            ramp = 1.0 / (1.0 + np.exp(-(t - onset[i] - 12) / 4.0))  # logistic over ~25 weeks
            level = np.exp(math.log(final) * ramp)
            factors[str(s)] = round(final, 3)
        wobble = np.zeros(weeks)
        for k in range(1, weeks):
            wobble[k] = 0.7 * wobble[k - 1] + rng.normal(0, 0.06)
        share = np.clip(base * season * level * np.exp(wobble), 0, 0.9)
        volume = posts_per_week * rng.uniform(0.1, 1.5)  # some categories are niche
        totals = rng.poisson(volume, size=weeks).clip(min=1)
        values[:, i] = rng.poisson(totals * share) / totals

    weeks_t = tuple(end - timedelta(weeks=weeks - 1 - i) for i in range(weeks))
    frame = TrendFrame(weeks_t, tuple(str(s) for s in names), values)
    return TrendSample(
        frame,
        rising=sorted(str(names[i]) for i in rising_idx),
        fading=sorted(str(names[i]) for i in fading_idx),
        factors=factors,
    )


_EN_TEMPLATES = (
    "obsessed with this {color} {material} {category} 😍",
    "{pattern} {category} in {color} is everywhere this season",
    "just ordered a {silhouette} {category}, {material} feels amazing",
    "anyone else loving this {color} {category} with {detail}?",
    "new haul: {color} {pattern} {category}",
)
_ZH_TEMPLATES = (
    "今年超火的{color}{category}，{material}质感很好",
    "求同款{pattern}{category}！",
    "{color}{material}{category}真的好看",
)
REGIONS_FOR_POSTS = ("cn", "cn", "cn", "sea", "eu", "us")


def make_social_posts(taxonomy: Taxonomy, sample: TrendSample, *, n: int = 4000, seed: int = 0) -> list[dict[str, object]]:
    """Posts whose attribute mentions follow the sample's series (rising series get more posts late)."""
    rng = np.random.default_rng(seed)
    frame = sample.frame
    parsed: list[SeriesName] = []
    by_cat: dict[str, list[int]] = {}
    for i, n_ in enumerate(frame.names):
        sn = SeriesName.split(n_)
        if sn is None:  # only when a category of the taxonomy has a '_' in it
            raise ValueError(f"series name {n_!r} does not split into region_segment_category_kind_attribute")
        parsed.append(sn)
        by_cat.setdefault(sn.category, []).append(i)
    cats = sorted(by_cat)
    posts = []
    for _ in range(n):
        w = int(rng.integers(0, len(frame.weeks)))
        cat = cats[int(rng.integers(0, len(cats)))]
        picks: dict[str, str] = {}
        for kind in ATTRIBUTE_KINDS:
            idx = [i for i in by_cat[cat] if parsed[i].kind == kind]
            if not idx:
                continue
            p = frame.values[w, idx] + 1e-6
            picks[kind] = parsed[idx[int(rng.choice(len(idx), p=p / p.sum()))]].attribute
        zh = rng.random() < 0.35
        tpl_set = _ZH_TEMPLATES if zh else _EN_TEMPLATES
        tpl = tpl_set[int(rng.integers(0, len(tpl_set)))]

        def word(kind: str) -> str:
            name = picks.get(kind, "")
            if zh and name:
                return taxonomy.attribute(kind, name).zh
            return name.replace("-", " ")

        category = taxonomy.categories[cat].zh if zh else cat.replace("-", " ")
        text = tpl.format(category=category, **{k: word(k) for k in ATTRIBUTE_KINDS})
        day = frame.weeks[w] + timedelta(days=int(rng.integers(0, 7)), hours=int(rng.integers(0, 24)))
        posts.append({
            "text": text,
            "timestamp": f"{day.isoformat()}T{int(rng.integers(0, 24)):02d}:{int(rng.integers(0, 60)):02d}:00Z",
            "engagement": int(rng.lognormal(3.0, 1.2)),
            "region": REGIONS_FOR_POSTS[int(rng.integers(0, len(REGIONS_FOR_POSTS)))],
        })
    posts.sort(key=lambda p: str(p["timestamp"]))
    return posts

"""Which attributes go together: co-occurrence in posts and correlation of series.

**Posts.** Within one category, among the posts that mention at least one attribute, a pair (a, b)
is scored by its lift, n_ab * n / (n_a * n_b): how much more often the two are mentioned together
than if they were independent. The score is a shrunk log lift, log((n_ab + 1) / (e_ab + 1)) with
e_ab = n_a * n_b / n the count expected under independence, so a pair seen once or twice does not
get an extreme score. Its approximate 95% interval uses the Poisson standard error of both counts,
sqrt(1 / (n_ab + 1) + 1 / (e_ab + 1)). A pair *goes together* when the interval is above 0 and is
*incompatible* when it is below log(1/2): seen together at most half as often as chance, with
enough posts to say so. Two attributes of the same kind (two materials) are alternatives, not
incompatible: a design has one of each kind, except details.

**Series.** Within one region, segment and category, two attribute series are correlated on their
year-on-year log changes, log((y_t + c) / (y_{t-52} + c)), which removes the shared yearly season;
the 95% interval is Fisher's z. Attributes of different kinds whose demand moves in opposite
directions (the interval entirely below -0.5) are substitutes: buyers who want one turn away from
the other, so a design should not combine them.

`Compatibility` answers "may these two attributes share a design?" for `ConceptComposer`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from generation.trends.frame import SeriesName, TrendFrame
from generation.trends.mapping import PostMatch, Target

AVOID_LOG_LIFT = math.log(0.5)
AVOID_CORRELATION = -0.5


@dataclass(frozen=True)
class Pair:
    """Two attributes of one category and how strongly they go together (`score` > 0: together)."""

    category: str
    a: Target  # (kind, name)
    b: Target
    score: float  # shrunk log lift (posts) or correlation (series)
    lo: float  # approximate 95% interval on the score
    hi: float
    support: int  # posts mentioning both, or weeks correlated
    source: str  # "posts" | "series"

    @property
    def verdict(self) -> str:
        """"together", "avoid" or "neutral". Two attributes of one kind (other than details) are
        alternatives - a design has one colour - so they are never "avoid", however rarely paired."""
        if self.lo > 0:
            return "together"
        cut = AVOID_LOG_LIFT if self.source == "posts" else AVOID_CORRELATION
        if self.hi < cut and (self.a[0] != self.b[0] or self.a[0] == "detail"):
            return "avoid"
        return "neutral"


def post_pairs(matches: Sequence[PostMatch], *, min_posts: int = 20) -> list[Pair]:
    """Every attribute pair of each category with at least `min_posts` posts, strongest first."""
    by_cat: dict[str, list[set[Target]]] = {}
    for m in matches:
        if m.category is not None and m.attributes:
            by_cat.setdefault(m.category, []).append(set(m.pairs()))
    out: list[Pair] = []
    for category, posts in by_cat.items():
        n = len(posts)
        if n < min_posts:
            continue
        single: dict[Target, int] = {}
        joint: dict[tuple[Target, Target], int] = {}
        for attrs in posts:
            for t in attrs:
                single[t] = single.get(t, 0) + 1
            for a, b in combinations(sorted(attrs), 2):
                joint[(a, b)] = joint.get((a, b), 0) + 1
        for a, b in combinations(sorted(single), 2):
            n_ab = joint.get((a, b), 0)
            e_ab = single[a] * single[b] / n
            score = math.log((n_ab + 1) / (e_ab + 1))
            se = math.sqrt(1 / (n_ab + 1) + 1 / (e_ab + 1))
            out.append(Pair(category, a, b, score, score - 1.96 * se, score + 1.96 * se, n_ab, "posts"))
    out.sort(key=lambda p: p.score, reverse=True)
    return out


def series_pairs(frame: TrendFrame, *, min_abs: float = 0.3) -> list[Pair]:
    """Correlated attribute series of each region/segment/category with |r| >= `min_abs`.

    Needs at least 52 + 10 weeks (10 year-on-year changes); returns [] for a shorter frame.
    Series whose names do not follow the convention, or that never change, are skipped."""
    y = frame.values
    n = y.shape[0]
    if n < 52 + 10:
        return []
    groups: dict[tuple[str, str, str], list[int]] = {}
    parsed: dict[int, SeriesName] = {}
    for j, name in enumerate(frame.names):
        sn = SeriesName.split(name)
        if sn is not None:
            parsed[j] = sn
            groups.setdefault((sn.region, sn.segment, sn.category), []).append(j)
    c = np.maximum(0.1 * y.mean(axis=0), 1e-9)
    d = np.log((y[52:] + c) / (y[:-52] + c))  # (n - 52, S) year-on-year log change
    m = d.shape[0]
    half = 1.96 / math.sqrt(max(m - 3, 1))
    out: list[Pair] = []
    for (_, _, category), cols in groups.items():
        cols = [j for j in cols if d[:, j].std() > 0]
        if len(cols) < 2:
            continue
        r = np.corrcoef(d[:, cols], rowvar=False)
        for i, k in zip(*np.triu_indices(len(cols), 1)):
            rho = float(np.clip(r[i, k], -0.999999, 0.999999))
            if abs(rho) < min_abs:
                continue
            z = math.atanh(rho)
            a, b = parsed[cols[i]], parsed[cols[k]]
            out.append(Pair(category, (a.kind, a.attribute), (b.kind, b.attribute), rho, math.tanh(z - half),
                            math.tanh(z + half), m, "series"))
    out.sort(key=lambda p: p.score, reverse=True)
    return out


class Compatibility:
    """May two attributes share a design of a category? No, if some evidence says "avoid"."""

    def __init__(self, pairs: Iterable[Pair]) -> None:
        self.avoid: dict[tuple[str, Target, Target], Pair] = {}
        for p in pairs:
            if p.verdict == "avoid":
                self.avoid[(p.category, *sorted((p.a, p.b)))] = p  # type: ignore[arg-type]

    def incompatible(self, category: str, a: Target, b: Target) -> bool:
        return (category, *sorted((a, b))) in self.avoid

    def __len__(self) -> int:
        return len(self.avoid)

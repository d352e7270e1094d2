"""Candidates for one design: its top-K capability matches, the hard constraints, and a score.

Each candidate row says whether the factory was kept and why (or why not): its capability similarity
and rank, every hard-constraint check from `check_factory`, and for a kept factory its score with the
parts that make it up.

Score (in [0, 1]; higher is better), over the kept candidates of one design:

    score = 0.4 fit + 0.3 quality + 0.2 price + 0.1 region

* fit = (s - s_K) / (s_1 - s_K): the capability similarity s scaled within the shortlist, 1 for the
  closest match and 0 for the K-th (raw MiniLM cosines sit in a narrow band, so only the order and
  spread within one design's shortlist carry meaning);
* quality = the registry's quality in [0, 1];
* price = (cheapest kept price_index) / (this price_index): 1 for the cheapest, less for dearer ones;
* region = 1 if the factory's region or country is one of the preferred regions given, else 0 (with
  no preference the term is 0 for all and changes no order).

Ranking: kept factories known to qualify come first (by score), then those kept only by assumption
(undisclosed materials, processes or lead time, estimated MOQ or capacity; by score; their reasons say
what is assumed), then the rejected ones. Quality and price of a factory that does not disclose them
are the estimates (`estimates.py`).

Weights (`ScoreWeights`) were set by judgement, not fitted: nothing here observes outcomes yet. Cost
already decides the allocation (the objective counts price_index through the unit cost), so the score
orders what a person reads and reviews: fit first (does the factory really do this kind of product),
then quality (the registry's only signal of how well), price (counted again only as a tie-breaker
among similar factories) and region last (a preference, never a constraint).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

from matching.factories.constraints import Requirement, check_factory
from matching.factories.table import FactoryTable


@dataclass(frozen=True)
class ScoreWeights:
    """Weights of the candidate score (module docstring); they need not add up to 1."""

    fit: float = 0.4
    quality: float = 0.3
    price: float = 0.2
    region: float = 0.1


@dataclass(frozen=True)
class CandidateRow:
    """One shortlisted factory for one design: kept or not, why, and (kept) its score and cost."""

    factory_id: str
    rank: int  # 1 = the most similar capability text
    similarity: float  # cosine of the design text and the capability text
    kept: bool
    score: float  # 0 for a rejected factory
    unit_cost_cents: int
    max_quantity: int  # pieces it could take now: min(free capacity, quantity)
    reasons: tuple[str, ...]
    assumptions: tuple[str, ...] = ()  # what a kept factory qualifies by assumption (empty: known to qualify)


def shortlist(table: FactoryTable, req: Requirement, positions: np.ndarray, similarity: np.ndarray,
              free: np.ndarray, *, exclude: Collection[str] = (), weights: ScoreWeights = ScoreWeights(),
              regions: Collection[str] = ()) -> list[CandidateRow]:
    """Rows for the factories at registry `positions` (the design's top-K, best first, -1 = none): kept
    ones known to qualify by score, best first, then kept ones that qualify by assumption by score, then
    the rejected ones by similarity."""
    ok = positions >= 0
    positions, similarity = positions[ok], similarity[ok]
    k = len(positions)
    checks: list[tuple[bool, int, int, tuple[str, ...], tuple[str, ...]]] = []
    for p in positions:
        f = table.factories[p]
        if f.factory_id in exclude:
            checks.append((False, 0, 0, ("rejected: declined this design before",), ()))
        else:
            c = check_factory(f, req, int(free[p]))
            checks.append((c.feasible, c.unit_cost_cents, c.max_quantity, c.reasons, c.assumptions))
    kept = np.array([c[0] for c in checks], dtype=bool)
    span = float(similarity[0] - similarity[-1]) if k else 0.0
    fit = (similarity - similarity[-1]) / span if span > 0 else np.ones(k)
    cheapest = float(table.price_index[positions[kept]].min()) if kept.any() else 1.0
    rows = []
    for i, p in enumerate(positions):
        f = table.factories[p]
        feasible, unit, most, reasons, assumed = checks[i]
        head = f"{'ok' if feasible else 'info'}: capability match {similarity[i]:.2f} (rank {i + 1} of {k})"
        score = 0.0
        if feasible:
            parts = {"fit": float(fit[i]), "quality": f.plan_quality, "price": cheapest / f.plan_price_index,
                     "region": 1.0 if (f.region in regions or f.country in regions) else 0.0}
            score = sum(getattr(weights, name) * v for name, v in parts.items())
            reasons = (*reasons, "score {:.3f} = ".format(score) + " + ".join(
                f"{getattr(weights, name):g} x {name} {v:.2f}" for name, v in parts.items()))
        rows.append(CandidateRow(f.factory_id, i + 1, float(similarity[i]), feasible, round(score, 4), unit, most,
                                 (head, *reasons), assumed if feasible else ()))
    return sorted(rows, key=lambda r: (not r.kept, bool(r.assumptions), -r.score, r.rank))


def _factories(n: int) -> str:
    return f"{n} factory" if n == 1 else f"{n} factories"


def why_none_qualifies(table: FactoryTable, req: Requirement, free: np.ndarray, *, exclude: Collection[str] = (),
                       shortlisted: Sequence[int] = (), k: int | None = None) -> str:
    """Why no factory of the whole registry (not only the shortlist) can take `req`: the first hard
    constraint, in the order category, material supplier, material, process, lead time, MOQ, declines,
    capacity, that leaves no factory standing. '' when some factory qualifies and is in the shortlist.
    Undisclosed facts count as met, as in `check_factory`."""
    listed = table.has("category", req.category)
    if not listed.any():
        return f"no factory makes {req.category}"
    cat = listed & ~table.supplier
    if not cat.any():
        return (f"only material or component suppliers list {req.category} ({_factories(int(listed.sum()))}): "
                "they take no finished-goods orders")
    n = int(cat.sum())
    for kind, names in (("material", req.materials), ("process", req.processes)):
        for name in names:
            if not (cat & table.has(kind, name)).any():
                return f"{kind} {name} unavailable: none of the {_factories(n)} making {req.category} has it"
    stand = table.makers(req)
    if not stand.any():
        return (f"no factory making {req.category} has {', '.join(req.materials)} and "
                f"{', '.join(req.processes)} together")
    steps = (
        (table.meets_due(req.due_in_days),
         lambda s: f"lead time: the {_factories(int(s.sum()))} that can make it need at least "
                   f"{int(table.lead_time[s].min())} days, due in {req.due_in_days}"),
        (table.moq <= req.quantity,
         lambda s: f"MOQ: the {_factories(int(s.sum()))} that can make it in time need at least "
                   f"{int(table.moq[s].min())} pcs, {req.quantity} ordered"),
        (~np.isin(np.array(table.ids), list(exclude)),
         lambda s: f"declined: all {_factories(int(s.sum()))} that can take it declined this design"),
        (free >= table.moq,
         lambda s: f"capacity: none of the {_factories(int(s.sum()))} that can take it has free capacity for "
                   f"its MOQ (most free {int(max(free[s].max(), 0))} pcs)"),
    )
    for passes, reason in steps:
        if not (stand & passes).any():
            return reason(stand)
        stand = stand & passes
    listed = np.zeros(len(table), dtype=bool)
    at = np.asarray(shortlisted, dtype=np.int64)
    listed[at[at >= 0]] = True
    if not (stand & listed).any():
        return (f"shortlist: the {_factories(int(stand.sum()))} that qualify are not among the top "
                f"{k or len(shortlisted)} capability matches")
    return ""

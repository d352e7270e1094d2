"""Plan production for many designs at once: shortlist factories per design, then allocate jointly.

For every design: its text is embedded, its K most similar factories (`CapabilityIndex`) are checked
against the hard constraints and scored (`shortlist.py`), and the kept ones become its lanes, at unit
cost = base cost x price_index. All designs are then allocated together over the factories' shared
free capacity (`matching.allocation`: the objective with split cost S and the unplaced-demand penalty).
Demand left over is reported per design with the reason from the constraints, never dropped.

Solvers: "exact" (HiGHS MILP), "heuristic" (LP relaxation + MOQ dive + repair, with its proven
bound), "both" (both run; the exact plan is used and the heuristic's gap to it is reported), or
"auto" (the service's choice): the heuristic always, then the MILP too when the problem has at most
`exact_max_lanes` lanes, stopped after `time_limit_s`; the cheaper plan is used. With contested
capacity the MILP can need minutes from about 1,000 lanes (BENCHMARKS.md, `scripts/bench_milp_size.py`),
so a request never waits on it for long; when it finds no plan in time, `stats["exact"]` says so and the heuristic's plan stands.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from matching.allocation.exact import solve_exact
from matching.allocation.heuristic import solve_heuristic
from matching.allocation.problem import Allocation, AllocationProblem, AllocationRow, Unplaced
from matching.errors import AllocationError
from matching.factories.capability import CapabilityIndex, Embed, registry_fingerprint
from matching.factories.constraints import Requirement
from matching.factories.registry import Factory
from matching.factories.shortlist import CandidateRow, ScoreWeights, shortlist, why_none_qualifies
from matching.factories.table import FactoryTable

Solver = Literal["auto", "exact", "heuristic", "both"]
SOLVERS: tuple[str, ...] = ("auto", "exact", "heuristic", "both")
SHORTLIST_MIN = 64  # K = max(SHORTLIST_MIN, SHORTLIST_SHARE x factories): recall >= 0.95 of the exhaustive
SHORTLIST_SHARE = 0.3  # filter on the synthetic registry (scripts/capability_recall.py, BENCHMARKS.md)


def shortlist_size(n_factories: int, *, minimum: int = SHORTLIST_MIN, share: float = SHORTLIST_SHARE) -> int:
    """K for a registry of `n_factories`: at least `minimum`, else `share` of the registry (rounded up)."""
    if minimum < 1 or not 0 < share <= 1:
        raise AllocationError(f"shortlist minimum must be >= 1 and share in (0, 1], got {minimum}, {share}")
    return min(n_factories, max(minimum, int(np.ceil(share * n_factories))))


@dataclass(frozen=True)
class Need:
    """One design to plan: what it needs, its text for capability matching, factories never to use."""

    design_id: str
    requirement: Requirement
    text: str
    exclude: frozenset[str] = frozenset()


@dataclass
class MatchPlan:
    """The allocation used, the candidates behind it, and what could not be placed (with reasons)."""

    allocation: Allocation
    candidates: dict[str, list[CandidateRow]]
    unplaced: list[Unplaced]
    heuristic: Allocation | None = None
    exact: Allocation | None = None
    stats: dict[str, float | int | str] = field(default_factory=dict)

    @property
    def objective(self) -> int:
        return self.allocation.objective

    def rows(self) -> list[AllocationRow]:
        return self.allocation.rows()

    @property
    def heuristic_gap(self) -> float | None:
        """(heuristic - exact) / exact objective when both ran, else None."""
        if self.heuristic is None or self.exact is None or self.exact.objective <= 0:
            return None
        return (self.heuristic.objective - self.exact.objective) / self.exact.objective


def plan_production(needs: Sequence[Need], factories: Sequence[Factory], capability: CapabilityIndex, embed: Embed,
                    free: np.ndarray, *,
                    k: int | None = None, split_cost_cents: int = 5_000, solver: Solver = "auto",
                    exact_max_lanes: int = 2_000, time_limit_s: float | None = 5.0,
                    weights: ScoreWeights = ScoreWeights(), regions: Collection[str] = ()) -> MatchPlan:
    """Shortlist (K = `k`, default `shortlist_size`), check, score and jointly allocate `needs` over
    `factories` as they are now (MOQ, capacity, lead time...) with `free` pieces of capacity each (see
    the module docstring). `capability` must have been built from the same registry (same ids and
    capability texts, in order: its fingerprint is checked); only its similarities are used."""
    if solver not in SOLVERS:
        raise AllocationError(f"unknown solver {solver!r}; allowed: {', '.join(SOLVERS)}")
    if not needs:
        raise AllocationError("nothing to plan: no designs given")
    if registry_fingerprint(factories) != capability.fingerprint:
        raise AllocationError("the capability index was built from another factory registry: rebuild it")
    table = FactoryTable(factories)
    free = np.asarray(free, dtype=np.int64)
    if free.shape != (len(table),):
        raise AllocationError(f"free capacity has shape {free.shape}, expected ({len(table)},)")
    k = k if k is not None else shortlist_size(len(table))
    positions, sims = capability.top_k(embed([n.text for n in needs]), k)
    candidates: dict[str, list[CandidateRow]] = {}
    lane_d: list[int] = []
    lane_f: list[int] = []
    lane_c: list[int] = []
    for d, need in enumerate(needs):
        rows = shortlist(table, need.requirement, positions[d], sims[d], free, exclude=need.exclude,
                         weights=weights, regions=regions)
        candidates[need.design_id] = rows
        for r in rows:
            if r.kept:
                lane_d.append(d)
                lane_f.append(table.position[r.factory_id])
                lane_c.append(r.unit_cost_cents)
    problem = AllocationProblem([n.design_id for n in needs], [n.requirement.quantity for n in needs], table.ids,
                                table.moq, np.maximum(free, 0), np.array(lane_d, dtype=np.int64),
                                np.array(lane_f, dtype=np.int64), np.array(lane_c, dtype=np.int64),
                                split_cost_cents=split_cost_cents)
    stats: dict[str, float | int | str] = {"designs": len(needs), "lanes": problem.n_lanes, "k": int(positions.shape[1])}
    heuristic = solve_heuristic(problem) if solver in ("heuristic", "both", "auto") else None
    exact = None
    if solver in ("exact", "both"):
        exact = solve_exact(problem, time_limit_s=time_limit_s)
    elif solver == "auto" and problem.n_lanes <= exact_max_lanes:
        try:
            exact = solve_exact(problem, time_limit_s=time_limit_s)
        except AllocationError as exc:  # no MILP plan within the time limit: recorded, the heuristic's stands
            stats["exact"] = str(exc)
    plans = [a for a in (exact, heuristic) if a is not None]
    used = min(plans, key=lambda a: a.objective) if solver == "auto" else plans[0]
    unplaced = _unplaced(needs, used, table, free, positions, k)
    return MatchPlan(used, candidates, unplaced, heuristic, exact, stats)


def _unplaced(needs: Sequence[Need], a: Allocation, table: FactoryTable, free: np.ndarray, positions: np.ndarray,
              k: int) -> list[Unplaced]:
    """Each design with pieces left over, and why: the constraint no factory passes when it had no lane;
    otherwise what the rest of the plan left its qualifying factories (capacity or MOQ)."""
    p = a.problem
    load = np.bincount(p.lane_factory, weights=a.x, minlength=p.n_factories).astype(np.int64)
    starts = p.lane_starts()
    out = []
    for d, left in a.unplaced():
        need = needs[d]
        lanes = np.arange(starts[d], starts[d + 1])
        if lanes.size == 0:
            reason = why_none_qualifies(table, need.requirement, free, exclude=need.exclude,
                                        shortlisted=positions[d], k=k) or "no factory qualifies"
        else:
            f = p.lane_factory[lanes]
            room = np.maximum(p.capacity[f] - load[f] + a.x[lanes], 0)
            usable = room >= p.lane_moq[lanes]
            if int(room[usable].sum()) < p.quantity[d]:
                reason = (f"capacity: the {lanes.size} qualifying factories have {int(room.sum())} pcs free "
                          f"after the rest of the plan, {left} pcs short")
            else:
                reason = (f"MOQ: the {left} pcs left are below the MOQ of every qualifying factory with room "
                          f"(smallest MOQ {int(p.lane_moq[lanes].min())} pcs)")
        out.append(Unplaced(need.design_id, left, reason))
    return out

"""Allocation for large instances: LP relaxation with lane pricing, then an LP dive that honours MOQs.

1. **Lower bound with pricing.** The LP relaxation (exact.py) is solved on the lanes given. When a
   `pricer` is given (e.g. `FactoryTable.pricer`, which knows every feasible lane, not only the
   cheapest few per design), it returns the lanes left out whose reduced cost
   c_p + S / U_p - pi_d - mu_f is negative, they are added, and the LP is solved again, until no
   lane can improve it, or `max_pricing_rounds` have passed. For any duals (pi, mu <= 0),
       LP value + sum over the lanes left out of U_p * min(0, rc_p)
   is a lower bound on the LP over EVERY feasible lane (weak Lagrangian duality), so on the optimum
   of the unpruned problem; it equals the LP value once no lane prices in. The reported gap is
   therefore against the unpruned problem: pruning lanes per design costs nothing in the bound.
2. **Dive.** The LP optimum is a vertex of a transportation polytope, so its quantities are whole
   pieces; what it can break is MOQs (a lane with 0 < x < m_f) and it under-counts the fixed cost S of
   a split. Designs whose LP plan keeps every MOQ are fixed as they are. The rest get the LP again on
   the capacity that is left, with their sub-MOQ lanes banned, and so on until every plan keeps its
   MOQs (at most `max_dive` rounds; what is still open then is filled greedily).
3. **Greedy fill and single-source repair.** A design with pieces still unplaced gets its cheapest
   lanes with room, each at least its MOQ; then a split design moves to one factory when one of its
   lanes with room can take it all for less.

The result carries the lower bound of step 1, so `Allocation.gap` is proven, not estimated.
"""

from __future__ import annotations

import time
from typing import Protocol

import numpy as np

from matching.allocation.exact import LpSolution, solve_lp
from matching.allocation.problem import Allocation, AllocationProblem

Lanes = tuple[np.ndarray, np.ndarray, np.ndarray]  # design positions, factory positions, unit costs
EPS = 1e-6


class LaneSource(Protocol):
    """Knows every feasible lane of a problem whose lanes were pruned (e.g. `FactoryTable.lane_source`)."""

    def price(self, problem: AllocationProblem, lp: LpSolution) -> tuple[Lanes, float]:
        """Lanes `problem` lacks with negative reduced cost rc_p (the most negative few per design), and
        sum(U_p * rc_p) over ALL of them (<= 0)."""

    def with_room(self, problem: AllocationProblem, designs: np.ndarray, free: np.ndarray) -> Lanes:
        """Lanes `problem` lacks for `designs` at the cheapest factories with `free` room for their MOQ."""


def solve_heuristic(problem: AllocationProblem, *, lanes: LaneSource | None = None, max_pricing_rounds: int = 2,
                    max_dive: int = 8) -> Allocation:
    """An allocation of `problem` (grown from `lanes`) with a proven lower bound; see the module docstring."""
    t0 = time.perf_counter()
    stats: dict[str, float | int | str] = {"pricing_rounds": 0, "lanes_priced_in": 0}
    lp = solve_lp(problem)
    bound = lp.value
    for round_ in range(max_pricing_rounds + 1 if lanes is not None else 0):
        (d, f, c), shortfall = lanes.price(problem, lp)  # type: ignore[union-attr]
        bound = lp.value + shortfall  # Lagrangian bound over every feasible lane (module docstring)
        if len(d) == 0 or round_ == max_pricing_rounds:
            break
        problem = problem.with_lanes(d, f, c)
        lp = solve_lp(problem)
        stats["pricing_rounds"] = round_ + 1
        stats["lanes_priced_in"] = int(stats["lanes_priced_in"]) + len(d)
    stats["lp_seconds"] = round(time.perf_counter() - t0, 3)
    problem, x = _dive(problem, lp, max_dive, stats, lanes)
    _place_one_by_one(problem, x)
    _greedy_fill(problem, x)
    stats["single_sourced"] = _single_source(problem, x)
    return Allocation(problem, x, "heuristic", bound, time.perf_counter() - t0, stats)


def _whole(values: np.ndarray) -> np.ndarray:
    """Whole pieces from LP values (rounded down past a tolerance, so no capacity is ever exceeded)."""
    return np.floor(values + EPS).astype(np.int64)


def _dive(problem: AllocationProblem, lp: LpSolution, max_dive: int, stats: dict[str, float | int | str],
          lanes: LaneSource | None) -> tuple[AllocationProblem, np.ndarray]:
    """Fix the designs whose LP plan keeps every MOQ; re-solve the rest with their sub-MOQ lanes banned.
    After the first round the open designs also get lanes at the cheapest factories with room left."""
    p = problem
    x = np.zeros(p.n_lanes, dtype=np.int64)
    free = p.capacity.copy()
    allowed = np.ones(p.n_lanes, dtype=bool)
    open_designs = np.arange(p.n_designs)
    sub, sub_lanes, lane_x = p, np.arange(p.n_lanes), _whole(lp.x)
    for round_ in range(max_dive + 1):
        bad = (lane_x > 0) & (lane_x < sub.lane_moq)
        bad_sub_designs = np.unique(sub.lane_design[bad])
        good = np.ones(sub.n_designs, dtype=bool)
        good[bad_sub_designs] = False
        take = good[sub.lane_design] & (lane_x > 0)
        x[sub_lanes[take]] = lane_x[take]
        np.subtract.at(free, sub.lane_factory[take], lane_x[take])
        allowed[sub_lanes[bad]] = False
        open_designs = open_designs[bad_sub_designs]
        stats["dive_rounds"] = round_
        if open_designs.size == 0 or round_ == max_dive:
            break
        if round_ == 0 and lanes is not None:
            grown = p.with_lanes(*lanes.with_room(p, open_designs, free))
            old = _lane_positions(grown, p, np.arange(p.n_designs))
            x_new, allowed_new = np.zeros(grown.n_lanes, dtype=np.int64), np.ones(grown.n_lanes, dtype=bool)
            x_new[old], allowed_new[old] = x, allowed
            p, x, allowed = grown, x_new, allowed_new
            stats["lanes_with_room"] = p.n_lanes - len(old)
        lane_mask = allowed & np.isin(p.lane_design, open_designs)
        sub = p.restricted(open_designs, lane_mask, free)
        sub_lanes = _lane_positions(p, sub, open_designs)
        lane_x = _whole(solve_lp(sub).x)
    stats["left_to_greedy"] = int(open_designs.size)
    return p, x


def _lane_positions(p: AllocationProblem, sub: AllocationProblem, designs: np.ndarray) -> np.ndarray:
    """For each lane of `sub` (a restriction of `p` to `designs`), its position in `p`."""
    key = p.lane_design * p.n_factories + p.lane_factory
    order = np.argsort(key)
    want = designs[sub.lane_design] * p.n_factories + sub.lane_factory
    return order[np.searchsorted(key, want, sorter=order)]


def _place_one_by_one(p: AllocationProblem, x: np.ndarray) -> None:
    """Designs with pieces unplaced, most unplaced first, are planned again from scratch on the capacity
    left: the best plan of one or two factories for the whole quantity (every pair is tried, the
    cheaper lane taking all it can while leaving the other its MOQ) replaces the current plan when it
    costs less, counting P_d for every piece still unplaced."""
    load = np.bincount(p.lane_factory, weights=x, minlength=p.n_factories).astype(np.int64)
    placed = np.bincount(p.lane_design, weights=x, minlength=p.n_designs).astype(np.int64)
    starts = p.lane_starts()
    todo = np.flatnonzero(placed < p.quantity)
    for d in todo[np.argsort(-(p.quantity[todo] - placed[todo]), kind="stable")]:
        lanes = np.arange(starts[d], starts[d + 1])
        q, used = int(p.quantity[d]), x[lanes] > 0
        now = (int((p.lane_cost[lanes] * x[lanes]).sum()) + p.split_cost_cents * int(used.sum())
               + int(p.unplaced_cost[d]) * (q - int(placed[d])))
        room = np.minimum(p.capacity[p.lane_factory[lanes]] - load[p.lane_factory[lanes]] + x[lanes], q)
        ok = room >= p.lane_moq[lanes]
        lanes, room = lanes[ok], room[ok]
        if lanes.size == 0:
            continue
        c, m = p.lane_cost[lanes], p.lane_moq[lanes]
        single = np.where(room >= q, c * q + p.split_cost_cents, np.inf)
        xi = np.minimum(room[:, None], q - m[None, :])  # (i, j): i takes all it can, leaving j its MOQ
        xj = q - xi
        pair_ok = (xi >= m[:, None]) & (xj <= room[None, :]) & (xj >= m[None, :])
        np.fill_diagonal(pair_ok, False)
        pair = np.where(pair_ok, c[:, None] * xi + c[None, :] * xj + 2 * p.split_cost_cents, np.inf)
        best_single, best_pair = int(np.argmin(single)), int(np.argmin(pair))
        if single[best_single] <= pair.flat[best_pair] and single[best_single] < now:
            plan = [(lanes[best_single], q)]
        elif pair.flat[best_pair] < now:
            i, j = divmod(best_pair, lanes.size)
            plan = [(lanes[i], int(xi[i, j])), (lanes[j], int(xj[i, j]))]
        else:
            continue  # its plan stands; the greedy fill adds what it can
        mine = np.arange(starts[d], starts[d + 1])
        np.subtract.at(load, p.lane_factory[mine], x[mine])
        x[mine] = 0
        for lane, qty in plan:
            x[lane] = qty
            load[p.lane_factory[lane]] += qty
        placed[d] = q


def _greedy_fill(p: AllocationProblem, x: np.ndarray) -> None:
    """Place what is left of each design on its cheapest lanes with room, each lane 0 or >= its MOQ."""
    load = np.bincount(p.lane_factory, weights=x, minlength=p.n_factories).astype(np.int64)
    placed = np.bincount(p.lane_design, weights=x, minlength=p.n_designs).astype(np.int64)
    starts = p.lane_starts()
    for d in np.flatnonzero(placed < p.quantity):
        left = int(p.quantity[d] - placed[d])
        for i in range(starts[d], starts[d + 1]):  # cheapest first
            f = p.lane_factory[i]
            room = min(int(p.capacity[f] - load[f]), int(p.lane_upper[i] - x[i]), left)
            if room <= 0 or (x[i] == 0 and room < p.lane_moq[i]):
                continue
            x[i] += room
            load[f] += room
            left -= room
            if left == 0:
                break


def _single_source(p: AllocationProblem, x: np.ndarray) -> int:
    """Move split designs to one factory where one of their lanes has room for all of it at a lower cost."""
    load = np.bincount(p.lane_factory, weights=x, minlength=p.n_factories).astype(np.int64)
    starts = p.lane_starts()
    used_per_design = np.bincount(p.lane_design[x > 0], minlength=p.n_designs)
    moved = 0
    for d in np.flatnonzero(used_per_design > 1):
        lanes = np.arange(starts[d], starts[d + 1])
        total = int(x[lanes].sum())
        now = int((p.lane_cost[lanes] * x[lanes]).sum()) + p.split_cost_cents * int((x[lanes] > 0).sum())
        room = p.capacity[p.lane_factory[lanes]] - load[p.lane_factory[lanes]] + x[lanes]
        fits = (room >= total) & (p.lane_upper[lanes] >= total) & (p.lane_moq[lanes] <= total)
        if not fits.any():
            continue
        cost = np.where(fits, p.lane_cost[lanes] * total + p.split_cost_cents, np.iinfo(np.int64).max)
        best = int(np.argmin(cost))
        if cost[best] < now:
            np.subtract.at(load, p.lane_factory[lanes], x[lanes])
            x[lanes] = 0
            x[lanes[best]] = total
            load[p.lane_factory[lanes[best]]] += total
            moved += 1
    return moved

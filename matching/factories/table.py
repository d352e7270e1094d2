"""The factory registry as columns, for checking thousands of designs against tens of thousands of factories.

`check_factory` (constraints.py) explains one (factory, requirement) pair in words; `FactoryTable`
applies the same hard constraints to every factory at once with numpy, for building allocation
problems at scale. A test checks that both agree on random registries.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from matching.allocation.exact import LpSolution
from matching.allocation.heuristic import Lanes
from matching.allocation.problem import AllocationProblem
from matching.errors import AllocationError
from matching.factories.constraints import Requirement
from matching.factories.registry import Factory


class FactoryTable:
    """Columns of a registry: a capability matrix (factory x category/material/process) and numbers.

    Unknown facts are assumed, as in `check_factory`: a factory whose materials (processes) are not
    disclosed has every material (process), one whose lead time is not disclosed meets every due date,
    and MOQ, capacity and price are the planning values (`Factory.plan_*`: known, else estimated).
    `uncertain` marks the factories that qualify for anything only by some such assumption."""

    def __init__(self, factories: Sequence[Factory]) -> None:
        self.factories = list(factories)
        self.ids = [f.factory_id for f in self.factories]
        self.position = {fid: i for i, fid in enumerate(self.ids)}
        vocab = sorted({("category", c) for f in self.factories for c in f.categories}
                       | {("material", m) for f in self.factories for m in f.materials or ()}
                       | {("process", p) for f in self.factories for p in f.processes or ()})
        self._column = {key: j for j, key in enumerate(vocab)}
        self.capable = np.zeros((len(self.factories), len(vocab)), dtype=bool)  # (F, V)
        for i, f in enumerate(self.factories):
            cols = ([self._column["category", c] for c in f.categories]
                    + [self._column["material", m] for m in f.materials or ()]
                    + [self._column["process", p] for p in f.processes or ()])
            self.capable[i, cols] = True
        fs = self.factories
        self.supplier = np.array([f.supplies_materials for f in fs], dtype=bool)  # (F,) material/component suppliers
        self._unknown = {"material": np.array([f.materials is None for f in fs], dtype=bool),
                         "process": np.array([f.processes is None for f in fs], dtype=bool)}
        self.lead_unknown = np.array([f.lead_time_days is None for f in fs], dtype=bool)
        estimated = np.array([f.estimate is not None for f in fs], dtype=bool)
        self.uncertain = self._unknown["material"] | self._unknown["process"] | self.lead_unknown | estimated
        # known values as given; unknown ones from the estimate (plan_* raises where there is none)
        self.moq = np.array([f.plan_moq if f.moq is None else f.moq for f in fs], dtype=np.int64)
        self.capacity = np.array([f.plan_capacity if f.capacity is None else f.capacity for f in fs], dtype=np.int64)
        self.lead_time = np.array([f.lead_time_days or 0 for f in fs], dtype=np.int64)
        self.price_index = np.array([f.plan_price_index if f.price_index is None else f.price_index for f in fs],
                                    dtype=np.float64)
        self._makers: dict[tuple[str, tuple[str, ...], tuple[str, ...]], np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.factories)

    def meets_due(self, due_in_days: int) -> np.ndarray:
        """(F,) bool: lead time within `due_in_days`, or not disclosed (assumed)."""
        return self.lead_unknown | (self.lead_time <= due_in_days)

    def free_capacity(self, used: Mapping[str, int]) -> np.ndarray:
        """(F,) capacity minus the pieces already committed per factory id."""
        free = self.capacity.copy()
        for fid, q in used.items():
            if fid in self.position:
                free[self.position[fid]] -= q
        return free

    def has(self, kind: str, name: str) -> np.ndarray:
        """(F,) bool: the factories whose registry lists `name` among their `kind`s (category, material,
        process), or does not disclose that kind (materials, processes: assumed)."""
        j = self._column.get((kind, name))
        listed = np.zeros(len(self), dtype=bool) if j is None else self.capable[:, j]
        return listed | self._unknown[kind] if kind in self._unknown else listed

    def makers(self, req: Requirement) -> np.ndarray:
        """(F,) bool: not a material supplier, makes the category, works every material and has every
        process, known or assumed (cached per recipe)."""
        key = (req.category, tuple(sorted(req.materials)), tuple(sorted(req.processes)))
        if key not in self._makers:
            ok = self.has("category", req.category) & ~self.supplier
            for kind, names in (("material", key[1]), ("process", key[2])):
                for name in names:
                    ok = ok & self.has(kind, name)
            self._makers[key] = ok
        return self._makers[key]

    def feasible(self, req: Requirement, free_capacity: np.ndarray) -> np.ndarray:
        """(F,) bool: every hard constraint of `check_factory` holds (recipe, lead time, MOQ, free capacity)."""
        return (self.makers(req) & self.meets_due(req.due_in_days) & (self.moq <= req.quantity)
                & (free_capacity >= self.moq))

    def unit_costs(self, req: Requirement, rows: np.ndarray) -> np.ndarray:
        """Unit cost in cents at factories `rows`: the base cost x price_index, rounded, at least 1 cent."""
        return np.maximum(1, np.rint(req.base_unit_cost_cents * self.price_index[rows])).astype(np.int64)

    def lane_source(self, requirements: Sequence[Requirement], free_capacity: np.ndarray, *,
                    per_design: int = 8, with_room: int = 16) -> TableLanes:
        """Every feasible lane of `problem(..., requirements, free_capacity)`, for `solve_heuristic`."""
        return TableLanes(self, list(requirements), free_capacity, per_design, with_room)

    def problem(self, design_ids: Sequence[str], requirements: Sequence[Requirement], free_capacity: np.ndarray,
                *, max_lanes: int | None = 32, split_cost_cents: int = 5_000) -> AllocationProblem:
        """The joint allocation problem of `requirements` over this registry.

        Each design keeps at most `max_lanes` lanes (None keeps all). Cheapest-first alone would give
        every design of a recipe the same few factories, which cannot hold them all. So designs are first
        placed greedily (largest first, each on its cheapest factory with room for all of it), and a design
        keeps its max_lanes/4 cheapest lanes plus the lanes around the cost rank where the greedy placed
        it: where the contest for capacity is decided. Pruning can only raise the optimum; the pricer
        and the bound in `solve_heuristic` account for every lane left out (BENCHMARKS.md)."""
        if len(design_ids) != len(requirements):
            raise AllocationError(f"{len(design_ids)} design ids for {len(requirements)} requirements")
        if max_lanes is not None and max_lanes < 4:
            raise AllocationError(f"max_lanes must be >= 4 or None, got {max_lanes}")
        lanes: list[tuple[np.ndarray, np.ndarray]] = [(np.zeros(0, np.int64), np.zeros(0, np.int64))] * len(requirements)
        room = np.maximum(free_capacity, 0).copy()
        for d in sorted(range(len(requirements)), key=lambda i: -requirements[i].quantity):
            req = requirements[d]
            rows = np.flatnonzero(self.feasible(req, free_capacity))
            cost = self.unit_costs(req, rows)
            if max_lanes is not None and rows.size > max_lanes:
                order = np.argsort(cost, kind="stable")
                rows, cost = rows[order], cost[order]
                fits = np.flatnonzero(room[rows] >= req.quantity)
                at = int(fits[0]) if fits.size else rows.size - 1
                if fits.size:
                    room[rows[at]] -= req.quantity
                cheap, around = max_lanes // 4, max_lanes - max_lanes // 4
                lo = min(max(cheap, at - around // 3), rows.size - around)
                keep = np.r_[np.arange(cheap), np.arange(lo, lo + around)]
                rows, cost = rows[keep], cost[keep]
            lanes[d] = (rows, cost)
        lane_d = [np.full(rows.size, d, dtype=np.int64) for d, (rows, _) in enumerate(lanes)]
        lane_f, lane_c = [rows for rows, _ in lanes], [cost for _, cost in lanes]

        def cat(parts: list[np.ndarray]) -> np.ndarray:
            return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

        return AllocationProblem(design_ids, [r.quantity for r in requirements], self.ids, self.moq,
                                 np.maximum(free_capacity, 0), cat(lane_d), cat(lane_f), cat(lane_c),
                                 split_cost_cents=split_cost_cents)


class TableLanes:
    """A `LaneSource` (heuristic.py) over a `FactoryTable`: prices and adds the lanes pruning left out."""

    def __init__(self, table: FactoryTable, requirements: list[Requirement], free_capacity: np.ndarray,
                 per_design: int, with_room: int) -> None:
        self.table, self.requirements, self.free = table, requirements, free_capacity
        self.per_design, self.room_lanes = per_design, with_room

    def _feasible(self, d: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        req = self.requirements[d]
        rows = np.flatnonzero(self.table.feasible(req, self.free))
        return rows, self.table.unit_costs(req, rows), np.minimum(self.free[rows], req.quantity)

    def price(self, problem: AllocationProblem, lp: LpSolution) -> tuple[Lanes, float]:
        """Lanes with reduced cost c + S/U - pi_d - mu_f < 0 that `problem` lacks, and sum(U * rc) over them."""
        starts = problem.lane_starts()
        out: list[tuple[int, np.ndarray, np.ndarray]] = []
        shortfall = 0.0
        for d in range(len(self.requirements)):
            rows, cost, upper = self._feasible(d)
            rc = cost + problem.split_cost_cents / np.maximum(upper, 1) - lp.design_dual[d] - lp.factory_dual[rows]
            new = (rc < -1e-6) & (upper >= self.table.moq[rows])
            if not new.any():
                continue
            new &= ~np.isin(rows, problem.lane_factory[starts[d]:starts[d + 1]])
            idx = np.flatnonzero(new)
            shortfall += float((upper[idx] * rc[idx]).sum())
            if idx.size > self.per_design:
                idx = idx[np.argpartition(rc[idx], self.per_design - 1)[:self.per_design]]
            out.append((d, rows[idx], cost[idx]))
        return _lanes(out), shortfall

    def with_room(self, problem: AllocationProblem, designs: np.ndarray, free: np.ndarray) -> Lanes:
        """For each of `designs`, the cheapest factories it lacks whose `free` room takes its MOQ."""
        starts = problem.lane_starts()
        out: list[tuple[int, np.ndarray, np.ndarray]] = []
        for d in designs:
            rows, cost, _ = self._feasible(int(d))
            ok = (np.minimum(free[rows], self.requirements[d].quantity) >= self.table.moq[rows])
            ok &= ~np.isin(rows, problem.lane_factory[starts[d]:starts[d + 1]])
            idx = np.flatnonzero(ok)
            if idx.size > self.room_lanes:
                idx = idx[np.argpartition(cost[idx], self.room_lanes - 1)[:self.room_lanes]]
            out.append((int(d), rows[idx], cost[idx]))
        return _lanes(out)


def _lanes(parts: list[tuple[int, np.ndarray, np.ndarray]]) -> Lanes:
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    return (np.concatenate([np.full(len(rows), d, dtype=np.int64) for d, rows, _ in parts]),
            np.concatenate([rows for _, rows, _ in parts]).astype(np.int64),
            np.concatenate([cost for _, _, cost in parts]).astype(np.int64))

"""The joint allocation problem: every winning design's quantity across factories with shared capacity.

Data (all integers: pieces and cents)
-------------------------------------
* designs d with a quantity Q_d;
* factories f with an MOQ m_f (per design) and a free capacity C_f (shared by all designs);
* lanes p = (d, f): the pairs that passed the hard constraints, each with a unit cost c_p.
  U_p = min(C_f, Q_d) is the most lane p can carry; lanes with U_p < m_f cannot be used and are dropped.

Objective (documented in the README)
------------------------------------
    minimise   sum_p c_p x_p  +  S sum_p y_p  +  sum_d P_d u_d
    subject to sum_{p of d} x_p + u_d = Q_d                 (every piece placed or reported unplaced)
               sum_{p at f} x_p      <= C_f                 (shared capacity)
               m_f y_p <= x_p <= U_p y_p,  y_p in {0, 1}    (a lane carries 0 or at least the MOQ)
               x_p, u_d >= 0 integer

S is the fixed cost of each factory a design uses, so a split must save more than S per extra factory.
P_d, the cost of a piece left unplaced, is 2 * (the design's dearest lane) + S + 1: placing a piece
is never cheaper than making it at the design's dearest factory. It is not infinite: rather than
move a whole design to a much dearer factory, the model may leave a few of its pieces out (they are
reported as unplaced). Pass `unplaced_cost` to change it (one larger than any placement could cost
makes a design all-or-nothing). A design with no lanes
at all has P_d = 0: nothing can be decided for it, and a constant penalty would only make every gap
look smaller.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from matching.errors import AllocationError


@dataclass(frozen=True)
class AllocationRow:
    """One assignment: `quantity` pieces of a design to a factory, with what it costs."""

    design_id: str
    factory_id: str
    quantity: int
    unit_cost_cents: int

    @property
    def total_cost_cents(self) -> int:
        return self.quantity * self.unit_cost_cents


@dataclass(frozen=True)
class Unplaced:
    """Demand that no factory could take, with the reason."""

    design_id: str
    quantity: int
    reason: str


class AllocationProblem:
    """Arrays describing one joint allocation (see the module docstring for the model).

    Build with `AllocationProblem(design_ids, quantity, factory_ids, moq, capacity, lane_design,
    lane_factory, lane_cost, split_cost_cents=S)`, where lane_design / lane_factory are positions into
    the design and factory lists. Lanes that can never be used (U_p < m_f) are dropped here."""

    def __init__(self, design_ids: Sequence[str], quantity: Sequence[int] | np.ndarray,
                 factory_ids: Sequence[str], moq: Sequence[int] | np.ndarray, capacity: Sequence[int] | np.ndarray,
                 lane_design: Sequence[int] | np.ndarray, lane_factory: Sequence[int] | np.ndarray,
                 lane_cost: Sequence[int] | np.ndarray, *, split_cost_cents: int = 5_000,
                 unplaced_cost: Sequence[int] | np.ndarray | None = None) -> None:
        self.design_ids, self.factory_ids = list(design_ids), list(factory_ids)
        self.quantity = _ints(quantity, "quantity", 1)
        self.moq, self.capacity = _ints(moq, "moq", 1), _ints(capacity, "capacity", 0)
        d, f, c = _ints(lane_design, "lane_design", 0), _ints(lane_factory, "lane_factory", 0), _ints(lane_cost, "lane_cost", 1)
        if len(self.quantity) != len(self.design_ids):
            raise AllocationError(f"{len(self.design_ids)} design ids but {len(self.quantity)} quantities")
        if not len(self.moq) == len(self.capacity) == len(self.factory_ids):
            raise AllocationError(f"{len(self.factory_ids)} factory ids, {len(self.moq)} MOQs, {len(self.capacity)} capacities")
        if not len(d) == len(f) == len(c):
            raise AllocationError(f"lane arrays differ in length: {len(d)}, {len(f)}, {len(c)}")
        if len(d) and (d.max() >= len(self.design_ids) or f.max() >= len(self.factory_ids)):
            raise AllocationError("a lane points past the design or factory list")
        if split_cost_cents < 0:
            raise AllocationError(f"split_cost_cents must be >= 0, got {split_cost_cents}")
        if len(d) and np.unique(d * len(self.factory_ids) + f).size != len(d):
            raise AllocationError("a (design, factory) lane is given twice")
        upper = np.minimum(self.capacity[f], self.quantity[d])
        usable = upper >= self.moq[f]
        order = np.lexsort((c[usable], d[usable]))  # lanes grouped by design, cheapest first
        self.lane_design, self.lane_factory = d[usable][order], f[usable][order]
        self.lane_cost, self.lane_upper = c[usable][order], upper[usable][order]
        self.lane_moq = self.moq[self.lane_factory]
        self.split_cost_cents = int(split_cost_cents)
        dearest = np.zeros(len(self.design_ids), dtype=np.int64)
        np.maximum.at(dearest, self.lane_design, self.lane_cost)
        has_lanes = np.bincount(self.lane_design, minlength=len(self.design_ids)) > 0
        # P_d, cents per piece; 0 for a design no factory can make (nothing to decide, so no cost to count)
        self.unplaced_cost = np.where(has_lanes, 2 * dearest + self.split_cost_cents + 1, 0)
        if unplaced_cost is not None:
            self.unplaced_cost = _ints(unplaced_cost, "unplaced_cost", 0)
            if len(self.unplaced_cost) != len(self.design_ids):
                raise AllocationError(f"{len(self.design_ids)} designs but {len(self.unplaced_cost)} unplaced costs")
        self.dropped_lanes = int((~usable).sum())

    @property
    def n_designs(self) -> int:
        return len(self.design_ids)

    @property
    def n_factories(self) -> int:
        return len(self.factory_ids)

    @property
    def n_lanes(self) -> int:
        return len(self.lane_cost)

    def with_lanes(self, lane_design: np.ndarray, lane_factory: np.ndarray, lane_cost: np.ndarray) -> AllocationProblem:
        """The same problem with more lanes (positions into the same design and factory lists)."""
        return AllocationProblem(self.design_ids, self.quantity, self.factory_ids, self.moq, self.capacity,
                                 np.concatenate([self.lane_design, lane_design]),
                                 np.concatenate([self.lane_factory, lane_factory]),
                                 np.concatenate([self.lane_cost, lane_cost]), split_cost_cents=self.split_cost_cents,
                                 unplaced_cost=self.unplaced_cost)

    def restricted(self, designs: np.ndarray, lanes: np.ndarray, capacity: np.ndarray,
                   quantity: np.ndarray | None = None) -> AllocationProblem:
        """A smaller problem over `designs` (positions), only `lanes` (a lane mask), with `capacity` per
        factory and optionally other quantities; its designs are numbered 0.. in the order given."""
        renumber = np.full(self.n_designs, -1, dtype=np.int64)
        renumber[designs] = np.arange(len(designs))
        keep = lanes & (renumber[self.lane_design] >= 0)
        q = self.quantity[designs] if quantity is None else quantity
        return AllocationProblem([self.design_ids[d] for d in designs], q, self.factory_ids, self.moq, capacity,
                                 renumber[self.lane_design[keep]], self.lane_factory[keep], self.lane_cost[keep],
                                 split_cost_cents=self.split_cost_cents, unplaced_cost=self.unplaced_cost[designs])

    def lane_starts(self) -> np.ndarray:
        """(n_designs + 1,) offsets: design d's lanes are lane_starts[d]:lane_starts[d + 1] (cheapest first)."""
        return np.searchsorted(self.lane_design, np.arange(self.n_designs + 1))

    def objective(self, x: np.ndarray) -> int:
        """The objective (cents) of lane quantities `x`: cost + S per lane used + P_d per piece unplaced."""
        placed = np.bincount(self.lane_design, weights=x, minlength=self.n_designs).astype(np.int64)
        return int((self.lane_cost * x).sum() + self.split_cost_cents * int((x > 0).sum())
                   + (self.unplaced_cost * (self.quantity - placed)).sum())

    def violations(self, x: np.ndarray) -> list[str]:
        """Every constraint that lane quantities `x` break (empty when feasible); tests and solvers check with it."""
        out = []
        x = np.asarray(x, dtype=np.int64)
        used = x > 0
        if (x < 0).any():
            out.append(f"{int((x < 0).sum())} negative lane quantities")
        if (x[used] < self.lane_moq[used]).any():
            out.append(f"{int((x[used] < self.lane_moq[used]).sum())} lanes below the factory's MOQ")
        if (x > self.lane_upper).any():
            out.append(f"{int((x > self.lane_upper).sum())} lanes above min(capacity, quantity)")
        placed = np.bincount(self.lane_design, weights=x, minlength=self.n_designs)
        if (placed > self.quantity).any():
            out.append(f"{int((placed > self.quantity).sum())} designs given more than their quantity")
        load = np.bincount(self.lane_factory, weights=x, minlength=self.n_factories)
        if (load > self.capacity).any():
            out.append(f"{int((load > self.capacity).sum())} factories loaded above their capacity")
        return out


@dataclass
class Allocation:
    """A solution: lane quantities, the objective, a lower bound on the optimum and how it was found."""

    problem: AllocationProblem
    x: np.ndarray  # (n_lanes,) int64 pieces per lane
    method: str  # "exact" or "heuristic"
    lower_bound: float  # no allocation of these lanes costs less (MILP dual bound or LP relaxation)
    seconds: float
    stats: dict[str, float | int | str] = field(default_factory=dict)

    @property
    def objective(self) -> int:
        return self.problem.objective(self.x)

    @property
    def gap(self) -> float:
        """(objective - lower bound) / lower bound: how far from optimal this allocation can at most be."""
        return max(0.0, (self.objective - self.lower_bound) / self.lower_bound) if self.lower_bound > 0 else 0.0

    def rows(self) -> list[AllocationRow]:
        """One row per lane used, in design then cost order."""
        p = self.problem
        return [AllocationRow(p.design_ids[p.lane_design[i]], p.factory_ids[p.lane_factory[i]], int(self.x[i]),
                              int(p.lane_cost[i])) for i in np.flatnonzero(self.x > 0)]

    def placed(self) -> np.ndarray:
        """(n_designs,) pieces placed per design."""
        return np.bincount(self.problem.lane_design, weights=self.x, minlength=self.problem.n_designs).astype(np.int64)

    def unplaced(self) -> list[tuple[int, int]]:
        """(design position, pieces) for every design with demand left over."""
        left = self.problem.quantity - self.placed()
        return [(int(d), int(left[d])) for d in np.flatnonzero(left > 0)]


def _ints(values: Sequence[int] | np.ndarray, what: str, minimum: int) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise AllocationError(f"{what} must be a 1-D sequence, got shape {arr.shape}")
    if arr.size and arr.dtype.kind not in "iu":
        raise AllocationError(f"{what} must be whole numbers, got dtype {arr.dtype}")
    arr = arr.astype(np.int64)
    if arr.size and arr.min() < minimum:
        raise AllocationError(f"{what} must be >= {minimum}, got {int(arr.min())}")
    return arr

"""Allocate a design's quantity across feasible factories at least total cost.

Mixed-integer programme (solved exactly by HiGHS through `scipy.optimize.milp`):

    minimise    sum_f  c_f * x_f  +  S * y_f
    subject to  sum_f x_f = Q
                moq_f * y_f <= x_f <= cap_f * y_f,   y_f in {0, 1},  x_f >= 0 integer

`c_f` is the factory's unit cost (cents), `S` a fixed cost per factory used (so fewer splits are
preferred unless splitting saves more than S), `cap_f` what it can take now. An assignment is
either 0 or at least the factory's MOQ.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from matching.errors import AllocationError


@dataclass(frozen=True)
class Offer:
    factory_id: str
    unit_cost_cents: int
    moq: int
    max_quantity: int


@dataclass(frozen=True)
class Assignment:
    factory_id: str
    quantity: int
    unit_cost_cents: int

    @property
    def total_cost_cents(self) -> int:
        return self.quantity * self.unit_cost_cents


def allocate(quantity: int, offers: Sequence[Offer], *, split_cost_cents: int = 5_000) -> list[Assignment]:
    """Least-cost assignment of `quantity` pieces; [] when no combination of offers can take it all."""
    if quantity <= 0:
        raise AllocationError(f"quantity must be a positive number of pieces, got {quantity}")
    usable = [o for o in offers if o.max_quantity >= o.moq and o.max_quantity > 0]
    if not usable or sum(o.max_quantity for o in usable) < quantity:
        return []
    n = len(usable)
    cost = np.array([o.unit_cost_cents for o in usable] + [split_cost_cents] * n, dtype=float)
    moq = np.array([o.moq for o in usable], dtype=float)
    cap = np.array([min(o.max_quantity, quantity) for o in usable], dtype=float)
    eye = np.eye(n)
    constraints = [
        LinearConstraint(np.concatenate([np.ones(n), np.zeros(n)])[None, :], quantity, quantity),
        LinearConstraint(np.hstack([eye, -np.diag(moq)]), 0, np.inf),  # x >= moq * y
        LinearConstraint(np.hstack([eye, -np.diag(cap)]), -np.inf, 0),  # x <= cap * y
    ]
    res = milp(cost, constraints=constraints, integrality=np.ones(2 * n),
               bounds=Bounds(np.zeros(2 * n), np.concatenate([cap, np.ones(n)])))
    if res.x is None:  # infeasible: MOQs cannot be combined into exactly `quantity`
        return []
    x = np.round(res.x[:n]).astype(int)
    return [Assignment(o.factory_id, int(q), o.unit_cost_cents) for o, q in zip(usable, x) if q > 0]

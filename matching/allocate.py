"""Allocate ONE design's quantity across feasible factories at least total cost, all or nothing.

The joint model of `matching.allocation` (problem.py) with a single design, solved exactly: minimise
sum_f c_f x_f + S y_f subject to sum_f x_f = Q and m_f y_f <= x_f <= cap_f y_f. Used when a decline
re-offers one order's quantity; `matching.allocation` allocates many designs at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from matching.allocation.exact import solve_exact
from matching.allocation.problem import AllocationProblem, AllocationRow
from matching.errors import AllocationError

Assignment = AllocationRow


@dataclass(frozen=True)
class Offer:
    factory_id: str
    unit_cost_cents: int
    moq: int
    max_quantity: int


def allocate(quantity: int, offers: Sequence[Offer], *, split_cost_cents: int = 5_000) -> list[AllocationRow]:
    """Least-cost assignment of `quantity` pieces; [] when no combination of offers can take it all."""
    if quantity <= 0:
        raise AllocationError(f"quantity must be a positive number of pieces, got {quantity}")
    usable = [o for o in offers if o.max_quantity >= o.moq and o.max_quantity > 0]
    if not usable or sum(o.max_quantity for o in usable) < quantity:
        return []
    problem = AllocationProblem(["design"], [quantity], [o.factory_id for o in usable], [o.moq for o in usable],
                                [o.max_quantity for o in usable], [0] * len(usable), list(range(len(usable))),
                                [o.unit_cost_cents for o in usable], split_cost_cents=split_cost_cents,
                                unplaced_cost=[quantity * max(o.unit_cost_cents for o in usable)
                                               + split_cost_cents * len(usable) + 1])  # more than any placement
    result = solve_exact(problem)
    return result.rows() if not result.unplaced() else []

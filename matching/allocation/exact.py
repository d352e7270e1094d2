"""Exact allocation (mixed-integer programme, HiGHS through `scipy.optimize.milp`) and its LP lower bound.

The MILP is the model in `problem.py` as written. Its LP relaxation is a transportation problem: with
y_p relaxed to [0, 1] the cheapest y_p is x_p / U_p, so lane p costs c_p + S / U_p per piece and the
MOQ rows fall away (m_f <= U_p). Every feasible allocation costs at least the LP optimum, so the LP
value is a lower bound any allocation's gap can be measured against. It is exact for a design served
by one factory (c_p * Q + S * Q / Q = c_p * Q + S), so it is tight when splits are rare.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse import coo_matrix, csr_matrix, hstack, vstack

from matching.allocation.problem import Allocation, AllocationProblem
from matching.errors import AllocationError


def _assignment_rows(problem: AllocationProblem, n_cols: int) -> tuple[csr_matrix, csr_matrix, np.ndarray]:
    """Demand rows (x + u = Q) and capacity rows (sum x <= C, factories with lanes only), over columns
    [x (n_lanes) | other (n_cols - n_lanes - n_designs) | u (n_designs)]; returns the factory rows used."""
    p, n = problem, problem.n_lanes
    lanes = np.arange(n)
    u_cols = n_cols - p.n_designs + np.arange(p.n_designs)
    demand = coo_matrix((np.ones(n + p.n_designs), (np.concatenate([p.lane_design, np.arange(p.n_designs)]),
                                                    np.concatenate([lanes, u_cols]))), shape=(p.n_designs, n_cols))
    used_factories, row_of = np.unique(p.lane_factory, return_inverse=True)
    capacity = coo_matrix((np.ones(n), (row_of, lanes)), shape=(len(used_factories), n_cols))
    return demand.tocsr(), capacity.tocsr(), used_factories


@dataclass(frozen=True)
class LpSolution:
    """The LP relaxation's optimum: its value (a lower bound), lane quantities and the duals for pricing."""

    value: float
    x: np.ndarray  # (n_lanes,) a vertex of the transportation polytope: whole numbers up to tolerance
    design_dual: np.ndarray  # (n_designs,) pi_d: what one more piece of design d would cost
    factory_dual: np.ndarray  # (n_factories,) mu_f <= 0: what one more piece of capacity at f would save


def solve_lp(problem: AllocationProblem) -> LpSolution:
    """Solve the LP relaxation (dual simplex, so the answer is a vertex; see the module docstring)."""
    p, n = problem, problem.n_lanes
    cost = np.concatenate([p.lane_cost + p.split_cost_cents / np.maximum(p.lane_upper, 1), p.unplaced_cost])
    demand, capacity, factories = _assignment_rows(p, n + p.n_designs)
    bounds = np.stack([np.zeros(n + p.n_designs), np.concatenate([p.lane_upper, p.quantity])], axis=1)
    res = linprog(cost, A_ub=capacity if len(factories) else None, b_ub=p.capacity[factories] if len(factories) else None,
                  A_eq=demand, b_eq=p.quantity, bounds=bounds, method="highs-ds")
    if res.status != 0:
        raise AllocationError(f"the LP relaxation did not solve: {res.message}")
    factory_dual = np.zeros(p.n_factories)
    if len(factories):
        factory_dual[factories] = res.ineqlin.marginals
    return LpSolution(float(res.fun), res.x[:n], np.asarray(res.eqlin.marginals), factory_dual)


def solve_exact(problem: AllocationProblem, *, time_limit_s: float | None = None,
                mip_rel_gap: float = 1e-6) -> Allocation:
    """The least-cost allocation by MILP. With a time limit HiGHS may stop early: the result then holds
    its best allocation and its proven lower bound (`gap` > 0, `stats["status"]` says so).
    Raises AllocationError when the limit passes before any allocation is found."""
    t0 = time.perf_counter()
    p, n, nd = problem, problem.n_lanes, problem.n_designs
    if n == 0:  # nothing can be placed: all demand is unplaced, and that is optimal
        return Allocation(p, np.zeros(0, dtype=np.int64), "exact", float(p.objective(np.zeros(0))), 0.0,
                          {"status": "optimal"})
    n_cols = 2 * n + nd
    demand, capacity, factories = _assignment_rows(p, n_cols)
    eye = coo_matrix((np.ones(n), (np.arange(n), np.arange(n))), shape=(n, n))
    link_lo = hstack([eye, coo_matrix((-p.lane_moq.astype(float), (np.arange(n), np.arange(n))), shape=(n, n)),
                      csr_matrix((n, nd))])  # x - m y >= 0
    link_hi = hstack([eye, coo_matrix((-p.lane_upper.astype(float), (np.arange(n), np.arange(n))), shape=(n, n)),
                      csr_matrix((n, nd))])  # x - U y <= 0
    a = vstack([demand, capacity, link_lo, link_hi]).tocsr()
    lo = np.concatenate([p.quantity, np.full(len(factories), -np.inf), np.zeros(n), np.full(n, -np.inf)])
    hi = np.concatenate([p.quantity, p.capacity[factories], np.full(n, np.inf), np.zeros(n)])
    cost = np.concatenate([p.lane_cost, np.full(n, float(p.split_cost_cents)), p.unplaced_cost]).astype(float)
    integrality = np.concatenate([np.zeros(n), np.ones(n), np.zeros(nd)])  # x continuous: see below
    bounds = Bounds(np.zeros(n_cols), np.concatenate([p.lane_upper, np.ones(n), p.quantity]).astype(float))
    options: dict[str, float | bool] = {"mip_rel_gap": mip_rel_gap, "disp": False}
    if time_limit_s is not None:
        options["time_limit"] = float(time_limit_s)
    res = milp(cost, constraints=LinearConstraint(a, lo, hi), integrality=integrality, bounds=bounds, options=options)
    if res.x is None:
        raise AllocationError(f"the MILP found no allocation ({res.message})")
    x = np.round(res.x[:n]).astype(np.int64)
    bad = p.violations(x)
    if bad:  # HiGHS's integrality tolerance let a value through that rounds to an infeasible plan
        raise AllocationError("the MILP's solution breaks constraints after rounding: " + "; ".join(bad))
    bound = float(res.mip_dual_bound) if res.mip_dual_bound is not None else float(res.fun)
    return Allocation(p, x, "exact", min(bound, float(p.objective(x))), time.perf_counter() - t0,
                      {"status": "optimal" if res.status == 0 else "time limit", "nodes": int(res.mip_node_count or 0)})

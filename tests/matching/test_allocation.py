"""Joint allocation with shared capacity: known answers worked by hand, and the heuristic against the exact MILP."""

import numpy as np
import pytest

from matching.allocation import AllocationProblem, solve_exact, solve_heuristic, solve_lp
from matching.errors import AllocationError
from matching.factories.constraints import check_factory
from matching.factories.synthetic import make_factory_registry
from matching.factories.synthetic_orders import busy_capacity, make_requirements
from matching.factories.table import FactoryTable


def two_designs(moq: int = 100, split: int = 0) -> AllocationProblem:
    """A and B, 300 pcs each. F1: cap 400, A costs 10, B 12. F2: cap 1000, A costs 11, B 20."""
    return AllocationProblem(["A", "B"], [300, 300], ["F1", "F2"], [moq, moq], [400, 1000],
                             [0, 0, 1, 1], [0, 1, 0, 1], [10, 11, 12, 20], split_cost_cents=split)


def plan(a) -> list[tuple[str, str, int]]:
    return sorted((r.design_id, r.factory_id, r.quantity) for r in a.rows())


def test_shared_capacity_goes_to_the_design_that_saves_most():
    """Both designs want F1 (600 pcs > 400). With a pcs of A and b of B at F1 and the rest at F2:
    cost = 10a + 12b + 11(300 - a) + 20(300 - b) = 9300 - a - 8b, with a + b <= 400, a, b <= 300.
    B saves 8 per piece at F1, A only 1: b = 300, a = 100, cost 9300 - 100 - 2400 = 6800."""
    a = solve_exact(two_designs())
    assert plan(a) == [("A", "F1", 100), ("A", "F2", 200), ("B", "F1", 300)]
    assert a.objective == 6800 and a.gap == pytest.approx(0, abs=1e-9)
    assert sum(r.total_cost_cents for r in a.rows()) == 6800


def test_split_cost_prefers_whole_designs():
    """S = 500 per lane: the plan above costs 6800 + 3 x 500 = 8300; A all at F2 and B all at F1 cost
    3300 + 3600 + 2 x 500 = 7900; any other split also pays a third lane. Optimum 7900."""
    a = solve_exact(two_designs(split=500))
    assert plan(a) == [("A", "F2", 300), ("B", "F1", 300)] and a.objective == 7900


def test_moq_makes_a_small_remainder_impossible():
    """MOQ 150: a in {0} u [150, 300], b likewise, a + b <= 400. Max a + 8b: b = 300 forces a <= 100,
    so a = 0 (2400); b = 250, a = 150 gives 2150. Optimum: B 300 at F1, A 300 at F2, 9300 - 2400 = 6900."""
    a = solve_exact(two_designs(moq=150))
    assert plan(a) == [("A", "F2", 300), ("B", "F1", 300)] and a.objective == 6900


def test_demand_no_factory_can_take_is_reported_and_charged():
    """A (300 pcs) can only go to F1, capacity 200: 200 placed at 10 = 2000, 100 unplaced at
    P = 2 x 10 + S + 1 = 21 each = 2100; total 4100. B has no lanes: unplaced, P = 0."""
    p = AllocationProblem(["A", "B"], [300, 50], ["F1"], [100], [200], [0], [0], [10], split_cost_cents=0)
    a = solve_exact(p)
    assert plan(a) == [("A", "F1", 200)] and a.unplaced() == [(0, 100), (1, 50)]
    assert a.objective == 4100 and p.unplaced_cost.tolist() == [21, 0]


def test_lp_bound_is_exact_for_single_sourcing():
    """The LP charges S x / U per lane, so one factory taking a whole design costs c Q + S exactly."""
    p = AllocationProblem(["A"], [300], ["F1"], [100], [1000], [0], [0], [10], split_cost_cents=700)
    assert solve_lp(p).value == pytest.approx(3000 + 700)


def test_bad_problems_are_refused():
    with pytest.raises(AllocationError, match="quantity must be >= 1"):
        AllocationProblem(["A"], [0], ["F1"], [1], [10], [0], [0], [5])
    with pytest.raises(AllocationError, match="given twice"):
        AllocationProblem(["A"], [5], ["F1"], [1], [10], [0, 0], [0, 0], [5, 6])


@pytest.fixture(scope="module")
def instance():
    factories = make_factory_registry(300, seed=4, unique_names=False)
    reqs = make_requirements(40, seed=5, median_quantity=800)
    free = busy_capacity(factories, free_share=0.2, seed=6)
    table = FactoryTable(factories)
    return table, reqs, free, table.problem([f"D{i}" for i in range(len(reqs))], reqs, free, max_lanes=8)


def test_heuristic_is_feasible_and_within_its_proven_bound_of_the_exact_optimum(instance):
    table, reqs, free, problem = instance
    full = table.problem([f"D{i}" for i in range(len(reqs))], reqs, free, max_lanes=None)
    exact = solve_exact(full, time_limit_s=60)
    heur = solve_heuristic(problem, lanes=table.lane_source(reqs, free))
    assert heur.problem.violations(heur.x) == [] and exact.problem.violations(exact.x) == []
    # the heuristic's bound holds for the unpruned problem, and no plan beats the optimum
    assert heur.lower_bound <= exact.objective + 1e-6
    assert heur.objective >= exact.lower_bound - 1e-6
    assert heur.gap < 0.05


def test_table_agrees_with_check_factory(instance):
    table, reqs, free, _ = instance
    for req in reqs[:10]:
        mask = table.feasible(req, free)
        for i, f in enumerate(table.factories):
            c = check_factory(f, req, int(free[i]))
            assert c.feasible == mask[i], (f.factory_id, c.reasons)
            if c.feasible:
                assert table.unit_costs(req, np.array([i]))[0] == c.unit_cost_cents

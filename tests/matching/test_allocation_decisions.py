"""The allocation's decisions, one at a time: the problem's arrays, objective and checks, and small
instances worked by hand where one step of the heuristic (pricing round, dive, re-plan, greedy fill,
single-source repair) makes the answer, with the step's stats counter checked."""

import numpy as np
import pytest

from matching.allocation import AllocationProblem, solve_exact, solve_heuristic, solve_lp
from matching.allocation.heuristic import _whole
from matching.allocation.problem import Allocation, AllocationRow
from matching.errors import AllocationError


def plan(a) -> list[tuple[str, str, int]]:
    return sorted((r.design_id, r.factory_id, r.quantity) for r in a.rows())


class Script:
    """A `LaneSource` that answers from a script: `price` returns the next (lanes, shortfall) each call,
    `with_room` the lanes given for it; it records how often it was asked."""

    def __init__(self, prices=(), room=((), (), ())):
        self.prices, self.room, self.calls = list(prices), room, []

    def price(self, problem, lp):
        self.calls.append(("price", problem.n_lanes, lp.value))
        (d, f, c), shortfall = self.prices.pop(0) if self.prices else (((), (), ()), 0.0)
        return (np.array(d, dtype=np.int64), np.array(f, dtype=np.int64), np.array(c, dtype=np.int64)), shortfall

    def with_room(self, problem, designs, free):
        self.calls.append(("with_room", designs.tolist(), free.tolist()))
        d, f, c = self.room
        return np.array(d, dtype=np.int64), np.array(f, dtype=np.int64), np.array(c, dtype=np.int64)


# --- the problem -------------------------------------------------------------------------------------------


def test_a_lane_whose_capacity_is_exactly_the_moq_is_kept():
    p = AllocationProblem(["A"], [300], ["F1"], [100], [100], [0], [0], [10])
    assert p.n_lanes == 1 and p.lane_upper.tolist() == [100] and p.dropped_lanes == 0


def test_a_lane_whose_capacity_is_below_the_moq_is_dropped():
    p = AllocationProblem(["A"], [300], ["F1"], [100], [99], [0], [0], [10])
    assert p.n_lanes == 0 and p.dropped_lanes == 1


def test_a_lane_for_less_than_the_moq_is_dropped():
    p = AllocationProblem(["A", "B"], [99, 100], ["F1"], [100], [1000], [0, 1], [0, 0], [10, 10])
    assert p.lane_design.tolist() == [1] and p.dropped_lanes == 1


def test_lanes_are_grouped_by_design_cheapest_first():
    p = AllocationProblem(["A", "B"], [10, 10], ["F1", "F2", "F3"], [1, 1, 1], [50, 50, 50],
                          [1, 0, 1, 0, 1], [0, 1, 1, 2, 2], [7, 9, 5, 3, 6])
    assert list(zip(p.lane_design.tolist(), p.lane_factory.tolist(), p.lane_cost.tolist())) == [
        (0, 2, 3), (0, 1, 9), (1, 1, 5), (1, 2, 6), (1, 0, 7)]
    assert p.lane_starts().tolist() == [0, 2, 5]


def test_lane_upper_is_the_smaller_of_capacity_and_quantity_and_moq_follows_the_factory():
    p = AllocationProblem(["A", "B"], [300, 40], ["F1", "F2"], [5, 20], [100, 1000], [0, 0, 1], [0, 1, 1], [1, 2, 3])
    assert p.lane_upper.tolist() == [100, 300, 40] and p.lane_moq.tolist() == [5, 20, 20]


def test_counts():
    p = AllocationProblem(["A", "B"], [10, 10], ["F1", "F2", "F3"], [1, 1, 1], [50, 50, 50], [0, 1], [0, 2], [1, 1])
    assert (p.n_designs, p.n_factories, p.n_lanes) == (2, 3, 2)


def test_unplaced_cost_is_twice_the_dearest_lane_plus_split_plus_one():
    p = AllocationProblem(["A", "B"], [10, 10], ["F1", "F2"], [1, 1], [50, 50], [0, 0], [0, 1], [7, 9],
                          split_cost_cents=100)
    assert p.unplaced_cost.tolist() == [2 * 9 + 100 + 1, 0]  # B has no lanes: nothing to decide


def test_the_default_split_cost_is_50_euros():
    p = AllocationProblem(["A"], [10], ["F1"], [1], [50], [0], [0], [7])
    assert p.split_cost_cents == 5_000 and p.unplaced_cost.tolist() == [2 * 7 + 5_000 + 1]


def test_an_unplaced_cost_may_be_given():
    p = AllocationProblem(["A", "B"], [10, 10], ["F1"], [1], [50], [0], [0], [7], unplaced_cost=[3, 4])
    assert p.unplaced_cost.tolist() == [3, 4]


@pytest.mark.parametrize("kwargs, message", [
    (dict(quantity=[0]), "quantity must be >= 1, got 0"),
    (dict(moq=[0]), "moq must be >= 1, got 0"),
    (dict(capacity=[-1]), "capacity must be >= 0, got -1"),
    (dict(lane_cost=[0]), "lane_cost must be >= 1, got 0"),
    (dict(lane_design=[-1]), "lane_design must be >= 0, got -1"),
    (dict(lane_factory=[-1]), "lane_factory must be >= 0, got -1"),
    (dict(quantity=[1.5]), "quantity must be whole numbers, got dtype float64"),
    (dict(quantity=[[1]]), r"quantity must be a 1-D sequence, got shape \(1, 1\)"),
    (dict(quantity=[1, 2]), "1 design ids but 2 quantities"),
    (dict(capacity=[5, 5]), "1 factory ids, 1 MOQs, 2 capacities"),
    (dict(moq=[1, 1]), "1 factory ids, 2 MOQs, 1 capacities"),
    (dict(lane_cost=[1, 2]), "lane arrays differ in length: 1, 1, 2"),
    (dict(lane_factory=[0, 0], lane_cost=[1, 1]), "lane arrays differ in length: 1, 2, 2"),
    (dict(lane_design=[1]), "a lane points past the design or factory list"),
    (dict(lane_factory=[1]), "a lane points past the design or factory list"),
    (dict(split_cost_cents=-1), "split_cost_cents must be >= 0, got -1"),
    (dict(lane_design=[0, 0], lane_factory=[0, 0], lane_cost=[1, 2]), "given twice"),
    (dict(unplaced_cost=[1, 2]), "1 designs but 2 unplaced costs"),
    (dict(unplaced_cost=[-1]), "unplaced_cost must be >= 0, got -1"),
])
def test_bad_problems_are_refused(kwargs, message):
    args = dict(design_ids=["A"], quantity=[10], factory_ids=["F1"], moq=[1], capacity=[10], lane_design=[0],
                lane_factory=[0], lane_cost=[5])
    args.update(kwargs)
    with pytest.raises(AllocationError, match=message):
        AllocationProblem(**args)


def test_zero_capacity_and_zero_split_cost_are_allowed():
    p = AllocationProblem(["A"], [10], ["F1", "F2"], [1, 1], [0, 10], [0, 0], [0, 1], [5, 6], split_cost_cents=0)
    assert p.lane_factory.tolist() == [1] and p.split_cost_cents == 0


def test_two_lanes_of_one_design_at_two_factories_are_not_twice_the_same():
    p = AllocationProblem(["A", "B"], [10, 10], ["F1", "F2"], [1, 1], [10, 10], [0, 1], [1, 0], [5, 5])
    assert p.n_lanes == 2


def test_objective_by_hand():
    """A (300): 200 at 10 + 50 at 12, 2 lanes x S 100, 50 unplaced x P (2 x 12 + 100 + 1 = 125)."""
    p = AllocationProblem(["A"], [300], ["F1", "F2"], [10, 10], [1000, 1000], [0, 0], [0, 1], [10, 12],
                          split_cost_cents=100)
    assert p.objective(np.array([200, 50])) == 2000 + 600 + 200 + 50 * 125
    assert p.objective(np.array([300, 0])) == 3000 + 100


VIOLATION_P = AllocationProblem(["A", "B"], [100, 100], ["F1", "F2"], [20, 20], [150, 150], [0, 0, 1], [0, 1, 0],
                                [1, 1, 1])  # lanes: A-F1, A-F2, B-F1


def test_a_feasible_plan_breaks_nothing():
    assert VIOLATION_P.violations(np.array([80, 20, 70])) == []


@pytest.mark.parametrize("x, message", [
    ([-1, 20, 50], "1 negative lane quantities"),
    ([80, 19, 50], "1 lanes below the factory's MOQ"),
    ([101, 0, 20], "1 lanes above min(capacity, quantity)"),
    ([80, 30, 20], "1 designs given more than their quantity"),
    ([100, 0, 100], "1 factories loaded above their capacity"),
])
def test_each_broken_constraint_is_named(x, message):
    assert message in VIOLATION_P.violations(np.array(x))


def test_a_lane_of_one_piece_is_used_and_under_its_moq():
    assert VIOLATION_P.violations(np.array([80, 1, 50])) == ["1 lanes below the factory's MOQ"]


def test_exactly_the_limits_break_nothing():
    """MOQ exactly, the lane's upper bound exactly, the quantity exactly, the capacity exactly."""
    assert VIOLATION_P.violations(np.array([100, 0, 50])) == []
    assert VIOLATION_P.violations(np.array([80, 20, 20])) == []
    assert VIOLATION_P.violations(np.array([50, 50, 100])) == []


def test_with_lanes_keeps_split_and_unplaced_costs():
    p = AllocationProblem(["A"], [10], ["F1", "F2"], [1, 1], [10, 10], [0], [0], [5], split_cost_cents=7,
                          unplaced_cost=[3])
    q = p.with_lanes(np.array([0]), np.array([1]), np.array([4]))
    assert q.lane_factory.tolist() == [1, 0] and q.split_cost_cents == 7 and q.unplaced_cost.tolist() == [3]


def test_restricted_renumbers_designs_and_takes_the_capacity_given():
    p = AllocationProblem(["A", "B", "C"], [10, 20, 30], ["F1", "F2"], [1, 1], [100, 100], [0, 1, 2, 2], [0, 0, 0, 1],
                          [5, 6, 7, 8], split_cost_cents=3, unplaced_cost=[1, 2, 3])
    lanes = np.array([True, True, True, False])
    r = p.restricted(np.array([2, 1]), lanes, np.array([15, 40]))
    assert r.design_ids == ["C", "B"] and r.quantity.tolist() == [30, 20] and r.capacity.tolist() == [15, 40]
    assert list(zip(r.lane_design.tolist(), r.lane_factory.tolist())) == [(0, 0), (1, 0)]
    assert r.lane_upper.tolist() == [15, 15] and r.unplaced_cost.tolist() == [3, 2] and r.split_cost_cents == 3


def test_restricted_takes_other_quantities_when_given():
    p = AllocationProblem(["A", "B"], [10, 20], ["F1"], [1], [100], [0, 1], [0, 0], [5, 6])
    assert p.restricted(np.array([1]), np.ones(2, dtype=bool), p.capacity, np.array([4])).quantity.tolist() == [4]


def test_an_allocation_reads_its_rows_placed_and_unplaced():
    p = AllocationProblem(["A", "B"], [300, 50], ["F1", "F2"], [10, 10], [1000, 1000], [0, 0, 1], [0, 1, 1],
                          [10, 12, 9], split_cost_cents=0)
    a = Allocation(p, np.array([200, 0, 50]), "exact", 2000.0, 0.1)
    assert a.rows() == [AllocationRow("A", "F1", 200, 10), AllocationRow("B", "F2", 50, 9)]
    assert a.rows()[0].total_cost_cents == 2000
    assert a.placed().tolist() == [200, 50] and a.unplaced() == [(0, 100)]
    assert a.objective == p.objective(np.array([200, 0, 50]))


def test_gap_is_relative_to_the_lower_bound():
    p = AllocationProblem(["A"], [10], ["F1"], [1], [10], [0], [0], [10], split_cost_cents=0)
    assert Allocation(p, np.array([10]), "x", 80.0, 0.0).gap == pytest.approx(0.25)
    assert Allocation(p, np.array([10]), "x", 120.0, 0.0).gap == 0.0  # never negative
    assert Allocation(p, np.array([10]), "x", 0.0, 0.0).gap == 0.0  # no bound, no gap


# --- the heuristic, step by step ---------------------------------------------------------------------------


def test_an_lp_that_keeps_every_moq_is_the_answer():
    """Shared F1 (400 pcs): B saves 8 a piece there, A 1: B 300 and A 100 at F1, A 200 at F2 (optimum 6800)."""
    p = AllocationProblem(["A", "B"], [300, 300], ["F1", "F2"], [100, 100], [400, 1000], [0, 0, 1, 1], [0, 1, 0, 1],
                          [10, 11, 12, 20], split_cost_cents=0)
    a = solve_heuristic(p)
    assert plan(a) == [("A", "F1", 100), ("A", "F2", 200), ("B", "F1", 300)] and a.objective == 6800
    assert (a.stats["dive_rounds"], a.stats["left_to_greedy"], a.stats["single_sourced"]) == (0, 0, 0)
    assert a.lower_bound == pytest.approx(6800) and a.method == "heuristic"
    assert 0 <= a.stats["lp_seconds"] <= a.seconds + 0.001 and a.seconds < 60


def test_without_a_lane_source_there_is_no_pricing():
    p = AllocationProblem(["A"], [300], ["F1"], [10], [1000], [0], [0], [12], split_cost_cents=0)
    a = solve_heuristic(p)
    assert (a.stats["pricing_rounds"], a.stats["lanes_priced_in"]) == (0, 0) and a.lower_bound == pytest.approx(3600)
    assert "lp_seconds" in a.stats


# A (300): F1 cap 250 MOQ 100 at 10, F2 MOQ 100 at 12, F3 MOQ 10 at 13. The LP gives F1 250 + F2 50: F2 is
# under its MOQ. Banned, the LP again: F1 250 + F3 50 = 3150, the optimum (F1 200 + F2 100 costs 3200).
DIVE = AllocationProblem(["A"], [300], ["F1", "F2", "F3"], [100, 100, 10], [250, 1000, 1000], [0, 0, 0], [0, 1, 2],
                         [10, 12, 13], split_cost_cents=0)


def test_the_lp_breaks_an_moq_in_the_dive_instance():
    assert solve_lp(DIVE).x.tolist() == pytest.approx([250, 50, 0])


def test_the_dive_bans_a_sub_moq_lane_and_solves_again():
    a = solve_heuristic(DIVE)
    assert plan(a) == [("A", "F1", 250), ("A", "F3", 50)] and a.objective == 3150 == solve_exact(DIVE).objective
    assert (a.stats["dive_rounds"], a.stats["left_to_greedy"]) == (1, 0)


def test_without_dive_rounds_the_design_is_left_to_the_re_plan():
    """max_dive 0: A is left open. The re-plan tries every single factory and pair: F2 alone 3600; F1 250 (all it
    can, leaving F3 its MOQ) + F3 50 = 3150; F1 200 + F2 100 = 3200. The pair F1 + F3 wins."""
    a = solve_heuristic(DIVE, max_dive=0)
    assert plan(a) == [("A", "F1", 250), ("A", "F3", 50)]
    assert (a.stats["dive_rounds"], a.stats["left_to_greedy"]) == (0, 1)


def test_the_re_plan_takes_a_single_factory_when_it_is_cheapest():
    """max_dive 0 and S = 200: F2 alone 3600 + 200 = 3800; F1 250 + F3 50 = 3150 + 400 = 3550; F1 200 + F2 100
    = 3600. The pair still wins; with S = 500, F2 alone (4100) beats F1 + F3 (4150)."""
    p = AllocationProblem(["A"], [300], ["F1", "F2", "F3"], [100, 100, 10], [250, 1000, 1000], [0, 0, 0], [0, 1, 2],
                          [10, 12, 13], split_cost_cents=500)
    a = solve_heuristic(p, max_dive=0)
    assert plan(a) == [("A", "F2", 300)] and a.objective == 4100


def test_default_dive_is_eight_rounds():
    """A (300): F0 (cap 250, MOQ 1) at 10, F1..F9 (MOQ 100) at 11..19, F10 (MOQ 1) at 50. Each LP puts the last 50
    pcs on the cheapest lane not yet banned, under its MOQ: round r bans F_r. After the default 8 rounds A is still
    open (the re-plan then takes F0 200 + F1 100); a ninth round reaches F10 (F0 250 + F10 50 = 5000), which the
    single-source repair then moves to F1 alone (3300)."""
    n = 11
    p = AllocationProblem(["A"], [300], [f"F{i}" for i in range(n)], [1] + [100] * 9 + [1], [250] + [1000] * 10,
                          [0] * n, list(range(n)), [10, *range(11, 20), 50], split_cost_cents=0)
    a = solve_heuristic(p)
    assert (a.stats["dive_rounds"], a.stats["left_to_greedy"]) == (8, 1)
    assert plan(a) == [("A", "F0", 200), ("A", "F1", 100)]
    a9 = solve_heuristic(p, max_dive=9)
    assert (a9.stats["dive_rounds"], a9.stats["left_to_greedy"]) == (9, 0)
    assert plan(a9) == [("A", "F1", 300)] and a9.stats["single_sourced"] == 1


def test_the_dive_stops_after_max_dive_rounds():
    """A (300): F1 (cap 250) at 10, F2 and F3 (MOQ 100) at 11 and 12, F4 (MOQ 10) at 13. The LP puts 50 on F2, then
    on F3, then on F4. One round leaves A to the re-plan (F1 200 + F2 100 = 3100); two reach F1 250 + F4 50."""
    p = AllocationProblem(["A"], [300], ["F1", "F2", "F3", "F4"], [100, 100, 100, 10],
                          [250, 280, 290, 1000], [0, 0, 0, 0], [0, 1, 2, 3], [10, 11, 12, 13], split_cost_cents=0)
    a1 = solve_heuristic(p, max_dive=1)
    assert (a1.stats["dive_rounds"], a1.stats["left_to_greedy"]) == (1, 1)
    assert plan(a1) == [("A", "F1", 200), ("A", "F2", 100)]
    a2 = solve_heuristic(p, max_dive=2)
    assert (a2.stats["dive_rounds"], a2.stats["left_to_greedy"]) == (2, 0)
    assert plan(a2) == [("A", "F1", 250), ("A", "F4", 50)]


# A (300, P 15 a piece): F1 cap 250 at 10, F2 MOQ 100 at 20. The LP leaves 50 unplaced (15 < 20): F1 250 and
# 50 x 15 = 3250. The re-plan's best, F1 200 + F2 100 = 4000, is dearer and must not replace it; the greedy
# fill cannot put 50 pcs on F2 (MOQ 100).
DEARER = AllocationProblem(["A"], [300], ["F1", "F2"], [10, 100], [250, 1000], [0, 0], [0, 1], [10, 20],
                           split_cost_cents=0, unplaced_cost=[15])


def test_the_re_plan_keeps_a_plan_cheaper_than_its_best():
    a = solve_heuristic(DEARER)
    assert plan(a) == [("A", "F1", 250)] and a.objective == 3250 == solve_exact(DEARER).objective
    assert a.unplaced() == [(0, 50)]


def test_the_re_plan_replaces_a_plan_that_costs_more():
    """P 25: 3250 becomes 2500 + 50 x 25 = 3750, and F1 200 + F2 100 = 4000 still does not pay; P 40: 4500, it does."""
    keep = AllocationProblem(["A"], [300], ["F1", "F2"], [10, 100], [250, 1000], [0, 0], [0, 1], [10, 20],
                             split_cost_cents=0, unplaced_cost=[25])
    take = AllocationProblem(["A"], [300], ["F1", "F2"], [10, 100], [250, 1000], [0, 0], [0, 1], [10, 20],
                             split_cost_cents=0, unplaced_cost=[40])
    assert plan(solve_heuristic(keep)) == [("A", "F1", 250)]
    assert plan(solve_heuristic(take)) == [("A", "F1", 200), ("A", "F2", 100)]


def test_the_re_plan_counts_the_split_cost_of_its_pair():
    """P 40, S 600: the plan F1 250 costs 2500 + 600 + 50 x 40 = 5100; F1 200 + F2 100 = 4000 + 1200 = 5200: kept.
    (P is given, so it does not grow with S.)"""
    p = AllocationProblem(["A"], [300], ["F1", "F2"], [10, 100], [250, 1000], [0, 0], [0, 1], [10, 20],
                          split_cost_cents=600, unplaced_cost=[40])
    assert plan(solve_heuristic(p)) == [("A", "F1", 250)]


# A (300): F1, F2 (cap 100, MOQ 10, at 20, 22), F3 (cap 100, MOQ 50, at 24), F4 (cap 100, MOQ 10, at 30).
# B (60) is far cheaper at F3 (10) than at F5 (100). The LP: B 60 at F3, A 100 + 100 + 40 at F3 (under
# the MOQ 50) + 60 at F4. With max_dive 0 A is left open; no one or two factories hold 300 pcs, so the
# re-plan passes, and the greedy fill takes F1 100, F2 100, skips F3 (40 pcs of room < MOQ 50), F4 100.
GREEDY = AllocationProblem(["A", "B"], [300, 60], ["F1", "F2", "F3", "F4", "F5"], [10, 10, 50, 10, 10],
                           [100, 100, 100, 100, 1000], [0, 0, 0, 0, 1, 1], [0, 1, 2, 3, 2, 4],
                           [20, 22, 24, 30, 10, 100], split_cost_cents=0)


def test_the_greedy_fill_places_what_no_one_or_two_factories_can():
    a = solve_heuristic(GREEDY, max_dive=0)
    assert plan(a) == [("A", "F1", 100), ("A", "F2", 100), ("A", "F4", 100), ("B", "F3", 60)]
    assert (a.stats["dive_rounds"], a.stats["left_to_greedy"]) == (0, 1) and a.problem.violations(a.x) == []


def test_the_greedy_fill_leaves_out_what_no_lane_can_take_at_its_moq():
    """A 330: after F1, F2, F4 (300) the last 30 pcs fit nowhere (F3 has 40 pcs of room, MOQ 50)."""
    p = AllocationProblem(["A", "B"], [330, 60], ["F1", "F2", "F3", "F4", "F5"], [10, 10, 50, 10, 10],
                          [100, 100, 100, 100, 1000], [0, 0, 0, 0, 1, 1], [0, 1, 2, 3, 2, 4],
                          [20, 22, 24, 30, 10, 100], split_cost_cents=0)
    a = solve_heuristic(p, max_dive=0)
    assert a.problem.violations(a.x) == [] and a.placed().tolist()[1] == 60
    assert dict(((r.design_id, r.factory_id), r.quantity) for r in a.rows()).get(("A", "F3")) is None


def test_the_greedy_fill_places_everything_when_placing_costs_nothing_extra():
    """P = 0: the LP places nothing (leaving pieces out is free) and no re-plan beats 0; the greedy fill still
    puts each design on its cheapest lanes with room: F1 100, then F2 (room 200 < MOQ 250) is skipped, F3 200.
    (F2 alone, 300 x 13 = 3900, is dearer than 1000 + 2400: no single-source move.)"""
    p = AllocationProblem(["A"], [300], ["F1", "F2", "F3"], [10, 250, 10], [100, 1000, 1000], [0, 0, 0], [0, 1, 2],
                          [10, 13, 12], split_cost_cents=0, unplaced_cost=[0])
    a = solve_heuristic(p)
    assert plan(a) == [("A", "F1", 100), ("A", "F3", 200)]


def test_the_greedy_fill_opens_no_lane_below_its_moq():
    """P = 0 again; A 105: F1 takes its 100, and the last 5 pcs are below F2's MOQ 10: they stay out."""
    p = AllocationProblem(["A"], [105], ["F1", "F2"], [10, 10], [100, 1000], [0, 0], [0, 1], [10, 12],
                          split_cost_cents=0, unplaced_cost=[0])
    a = solve_heuristic(p)
    assert plan(a) == [("A", "F1", 100)] and a.unplaced() == [(0, 5)]


# A (300), S = 500: F1 (cap 250) at 10, F2 at 11, MOQ 10. The LP charges S / U a piece (F1 12, F2 12.67): F1 250
# + F2 50 = 2500 + 550 + 2 x 500 = 4050. F2 alone: 3300 + 500 = 3800. The repair moves A to F2.
SPLIT = AllocationProblem(["A"], [300], ["F1", "F2"], [10, 10], [250, 1000], [0, 0], [0, 1], [10, 11],
                          split_cost_cents=500)


def test_the_single_source_repair_moves_a_split_to_one_cheaper_factory():
    a = solve_heuristic(SPLIT)
    assert plan(a) == [("A", "F2", 300)] and a.objective == 3800 == solve_exact(SPLIT).objective
    assert a.stats["single_sourced"] == 1


def test_the_single_source_repair_keeps_a_split_that_is_cheaper():
    """S = 100: the split costs 3050 + 200 = 3250 < F2 alone 3400: it stays."""
    p = AllocationProblem(["A"], [300], ["F1", "F2"], [10, 10], [250, 1000], [0, 0], [0, 1], [10, 11],
                          split_cost_cents=100)
    a = solve_heuristic(p)
    assert plan(a) == [("A", "F1", 250), ("A", "F2", 50)] and a.stats["single_sourced"] == 0


def test_the_single_source_repair_needs_room_for_all_of_it():
    """F2 has only 299 pcs of room: it cannot take all 300."""
    p = AllocationProblem(["A"], [300], ["F1", "F2"], [10, 10], [250, 299], [0, 0], [0, 1], [10, 11],
                          split_cost_cents=500)
    a = solve_heuristic(p)
    assert a.stats["single_sourced"] == 0 and len(a.rows()) == 2


def test_the_single_source_repair_counts_room_left_by_other_designs():
    """B (100) takes F2's cheap capacity first (F2 at 1 for B): F2 keeps 250 of 350, too little for all of A."""
    p = AllocationProblem(["A", "B"], [300, 100], ["F1", "F2"], [10, 10], [250, 350], [0, 0, 1, 1], [0, 1, 1, 0],
                          [10, 11, 1, 90], split_cost_cents=500)
    a = solve_heuristic(p)
    assert ("B", "F2", 100) in plan(a) and a.problem.violations(a.x) == []
    assert a.stats["single_sourced"] == 0


def test_the_single_source_repair_moves_exactly_when_it_saves():
    """S = 250: the split costs 3050 + 500 = 3550, F2 alone 3300 + 250 = 3550: a tie is not a saving."""
    p = AllocationProblem(["A"], [300], ["F1", "F2"], [10, 10], [250, 1000], [0, 0], [0, 1], [10, 11],
                          split_cost_cents=250)
    a = solve_heuristic(p)
    assert a.stats["single_sourced"] == 0 and len(a.rows()) == 2


def test_the_single_source_repair_moves_only_split_designs():
    """A (300): F1 (cap 300) at 10, F2 at 12. B (350): F1 at 1, F3 (MOQ 350) at 5. The LP gives F1 to B (it saves
    4 a piece there, A 2): B F1 300 + F3 50 (under the MOQ), A F2 300. With max_dive 0 B is re-planned alone on F3,
    which frees F1; A, not split, is not moved there (A F2 + B F3 = 5350, where A F1 + B F3 would be 4750)."""
    p = AllocationProblem(["A", "B"], [300, 350], ["F1", "F2", "F3"], [10, 10, 350], [300, 1000, 1000],
                          [0, 0, 1, 1], [0, 1, 0, 2], [10, 12, 1, 5], split_cost_cents=0)
    a = solve_heuristic(p, max_dive=0)
    assert plan(a) == [("A", "F2", 300), ("B", "F3", 350)] and a.objective == 5350
    assert a.stats["single_sourced"] == 0


def test_a_single_source_move_takes_the_room_it_uses():
    """S = 500. A and B (300 each) split in the LP: A F1 250 + F3 50, B F2 250 + F3 50 (F3 cap 400). A moves to F3
    (3300 + 500 < 4050); F3 then has 100 pcs of room left for B, which stays split."""
    p = AllocationProblem(["A", "B"], [300, 300], ["F1", "F2", "F3"], [10, 10, 10], [250, 250, 400],
                          [0, 0, 1, 1], [0, 2, 1, 2], [10, 11, 10, 11], split_cost_cents=500)
    a = solve_heuristic(p)
    assert plan(a) == [("A", "F3", 300), ("B", "F2", 250), ("B", "F3", 50)] and a.problem.violations(a.x) == []
    assert a.stats["single_sourced"] == 1 and a.objective == 7850 == solve_exact(p).objective


# --- pricing -----------------------------------------------------------------------------------------------


# A (300) knows only F1 (at 12); the lane source knows F2 (10), F3 (9), F4 (8).
PRICED = AllocationProblem(["A"], [300], ["F1", "F2", "F3", "F4"], [10] * 4, [1000] * 4, [0], [0], [12],
                           split_cost_cents=0)


def test_a_priced_in_lane_is_used_and_counted():
    src = Script(prices=[(([0], [1], [10]), -600.0)])
    a = solve_heuristic(PRICED, lanes=src)
    assert plan(a) == [("A", "F2", 300)]
    assert (a.stats["pricing_rounds"], a.stats["lanes_priced_in"]) == (1, 1)
    assert [c[0] for c in src.calls] == ["price", "price"]  # the second finds nothing more


def test_the_bound_is_the_last_lp_plus_the_shortfall():
    src = Script(prices=[(([0], [1], [10]), -600.0), (((), (), ()), -50.0)])
    a = solve_heuristic(PRICED, lanes=src)
    assert a.lower_bound == pytest.approx(3000 - 50)


def test_pricing_stops_after_max_rounds_and_keeps_the_shortfall_in_the_bound():
    """Rounds 1 and 2 add F2 and F3; the third answer (F4) is not added: the bound is 2700 - 300."""
    src = Script(prices=[(([0], [1], [10]), -600.0), (([0], [2], [9]), -300.0), (([0], [3], [8]), -300.0)])
    a = solve_heuristic(PRICED, lanes=src)
    assert plan(a) == [("A", "F3", 300)] and a.lower_bound == pytest.approx(2700 - 300)
    assert (a.stats["pricing_rounds"], a.stats["lanes_priced_in"]) == (2, 2)
    assert len([c for c in src.calls if c[0] == "price"]) == 3


def test_max_pricing_rounds_is_a_parameter():
    src = Script(prices=[(([0], [1], [10]), -600.0), (([0], [2], [9]), -300.0)])
    a = solve_heuristic(PRICED, lanes=src, max_pricing_rounds=1)
    assert plan(a) == [("A", "F2", 300)] and a.lower_bound == pytest.approx(3000 - 300)
    assert (a.stats["pricing_rounds"], a.stats["lanes_priced_in"]) == (1, 1)


def test_lanes_priced_in_add_up_over_rounds():
    src = Script(prices=[(([0, 0], [1, 2], [10, 11]), -600.0), (([0], [3], [8]), -300.0)])
    a = solve_heuristic(PRICED, lanes=src)
    assert (a.stats["pricing_rounds"], a.stats["lanes_priced_in"]) == (2, 3) and plan(a) == [("A", "F4", 300)]


def test_nothing_to_price_in_leaves_the_lp_bound():
    a = solve_heuristic(PRICED, lanes=Script())
    assert plan(a) == [("A", "F1", 300)] and a.lower_bound == pytest.approx(3600)
    assert (a.stats["pricing_rounds"], a.stats["lanes_priced_in"]) == (0, 0)


def test_the_dive_asks_for_lanes_with_room_once_for_the_open_designs():
    """DIVE without F3, which only the lane source knows: banned F2, A gets F3 from `with_room`: 3150, not the
    3200 of F1 200 + F2 100."""
    p = AllocationProblem(["A"], [300], ["F1", "F2", "F3"], [100, 100, 10], [250, 1000, 1000], [0, 0], [0, 1],
                          [10, 12], split_cost_cents=0)
    src = Script(room=([0], [2], [13]))
    a = solve_heuristic(p, lanes=src)
    assert plan(a) == [("A", "F1", 250), ("A", "F3", 50)] and a.stats["lanes_with_room"] == 1
    assert [c for c in src.calls if c[0] == "with_room"] == [("with_room", [0], [250, 1000, 1000])]
    assert plan(solve_heuristic(p)) == [("A", "F1", 200), ("A", "F2", 100)]


def test_lanes_with_room_keep_what_the_dive_fixed():
    """B (100, alone at F2, keeps its MOQ) is fixed in round 0; A is open and grows a lane: B keeps its plan."""
    p = AllocationProblem(["A", "B"], [300, 100], ["F1", "F2", "F3"], [100, 100, 10], [250, 1000, 1000],
                          [0, 0, 1], [0, 1, 1], [10, 12, 5], split_cost_cents=0)
    src = Script(room=([0], [2], [13]))
    a = solve_heuristic(p, lanes=src)
    assert plan(a) == [("A", "F1", 250), ("A", "F3", 50), ("B", "F2", 100)]
    assert src.calls[-1] == ("with_room", [0], [250, 900, 1000])


def test_whole_pieces_round_down_past_a_tolerance():
    assert _whole(np.array([2.9999999, 3.2, 1e-9, 4.0])).tolist() == [3, 3, 0, 4]

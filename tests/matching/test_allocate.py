import pytest

from matching.allocate import Offer, allocate
from matching.errors import AllocationError


def test_cheapest_single_factory_when_it_can_take_everything():
    plan = allocate(500, [Offer("A", 100, 100, 1000), Offer("B", 90, 100, 1000)], split_cost_cents=0)
    assert [(a.factory_id, a.quantity) for a in plan] == [("B", 500)]
    assert plan[0].total_cost_cents == 45_000


def test_split_by_hand():
    # Cheap B can take only 300; the rest must go to A. Optimum: B 300 @ 90 + A 200 @ 100 = 47,000.
    plan = allocate(500, [Offer("A", 100, 100, 1000), Offer("B", 90, 100, 300)], split_cost_cents=1_000)
    assert sorted((a.factory_id, a.quantity) for a in plan) == [("A", 200), ("B", 300)]


def test_split_cost_prefers_fewer_factories():
    # Splitting saves 300 x 10 = 3,000 cents; a split cost of 5,000 makes one factory cheaper overall.
    offers = [Offer("A", 100, 100, 1000), Offer("B", 90, 100, 300)]
    assert [(a.factory_id, a.quantity) for a in allocate(500, offers, split_cost_cents=5_000)] == [("A", 500)]


def test_moq_is_all_or_nothing():
    # C is cheapest and can take all 450 alone.
    offers = [Offer("C", 50, 400, 450), Offer("D", 80, 100, 450)]
    plan = allocate(450, offers, split_cost_cents=0)
    assert sorted((a.factory_id, a.quantity) for a in plan) == [("C", 450)]
    # C capped at 420 cannot take 450 alone; C 350 + D 100 puts C below its MOQ of 400, and C 400 + D 50
    # puts D below its MOQ of 100. The only feasible plan is D alone.
    plan = allocate(450, [Offer("C", 50, 400, 420), Offer("D", 80, 100, 450)], split_cost_cents=0)
    assert sorted((a.factory_id, a.quantity) for a in plan) == [("D", 450)]


def test_infeasible_and_bad_input():
    assert allocate(1000, [Offer("A", 100, 100, 500)]) == []
    assert allocate(50, [Offer("A", 100, 100, 500)]) == []  # below the MOQ
    with pytest.raises(AllocationError, match="positive"):
        allocate(0, [Offer("A", 100, 100, 500)])

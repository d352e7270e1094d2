"""Which factory may make a design, and in which order a person reads them, one decision at a time: each
hard constraint at its exact boundary, what is assumed when the registry is silent, the shortlist score
by hand, and the registry-wide reason when nothing qualifies."""

import numpy as np
import pytest

from matching.factories.constraints import Candidate, Requirement, assumptions, candidates, check_factory
from matching.factories.registry import Estimate, Factory
from matching.factories.shortlist import CandidateRow, ScoreWeights, shortlist, why_none_qualifies
from matching.factories.table import FactoryTable

REQ = Requirement("socks", ("cotton",), ("knitting",), quantity=600, due_in_days=20, base_unit_cost_cents=100)


def factory(fid="F1", **kw) -> Factory:
    args = dict(factory_id=fid, name=f"{fid} Co.", country="CN", region="Zhejiang", categories=("socks",),
                materials=("cotton", "nylon"), processes=("knitting", "printing"), moq=200, capacity=5000,
                lead_time_days=15, quality=0.7, price_index=0.8)
    args.update(kw)
    return Factory(**args)


def reasons(c) -> str:
    return " | ".join(c.reasons)


# --- check_factory: each rule at its boundary ---------------------------------------------------------------


def test_a_factory_that_meets_everything_qualifies_and_says_so():
    c = check_factory(factory(), REQ, free_capacity=5000)
    assert c.feasible and c.known and c.assumptions == ()
    assert c.reasons == ("ok: makes socks", "ok: works cotton", "ok: has knitting", "ok: lead time 15 d <= due 20 d",
                         "ok: MOQ 200 <= 600 pcs", "ok: free capacity 5000 pcs")


def test_free_capacity_exactly_the_moq_qualifies():
    assert check_factory(factory(), REQ, free_capacity=200).feasible


def test_free_capacity_one_below_the_moq_is_rejected():
    c = check_factory(factory(), REQ, free_capacity=199)
    assert not c.feasible and "rejected: free capacity 199 < MOQ 200" in c.reasons


def test_lead_time_exactly_the_due_date_qualifies():
    assert check_factory(factory(lead_time_days=20), REQ, 5000).feasible


def test_lead_time_one_day_past_the_due_date_is_rejected():
    c = check_factory(factory(lead_time_days=21), REQ, 5000)
    assert not c.feasible and "rejected: lead time 21 d > due 20 d" in c.reasons


def test_an_moq_exactly_the_quantity_qualifies():
    assert check_factory(factory(moq=600), REQ, 5000).feasible


def test_an_moq_above_the_quantity_is_rejected():
    c = check_factory(factory(moq=601), REQ, 5000)
    assert not c.feasible and "rejected: MOQ 601 > 600 pcs ordered" in c.reasons


def test_another_category_is_rejected_naming_what_it_makes():
    c = check_factory(factory(categories=("tights", "gloves")), REQ, 5000)
    assert not c.feasible and c.reasons[0] == "rejected: does not make socks (makes tights, gloves)"


def test_a_factory_listing_no_category_of_ours_makes_nothing_we_sell():
    assert check_factory(factory(categories=()), REQ, 5000).reasons[0] == "rejected: does not make socks (makes nothing we sell)"


def test_a_missing_material_is_rejected_naming_only_what_is_missing():
    req = Requirement("socks", ("cotton", "silk", "wool"), ("knitting",), 600, 20, 100)
    c = check_factory(factory(), req, 5000)
    assert not c.feasible and "rejected: does not work silk, wool" in c.reasons


def test_every_material_present_is_ok():
    req = Requirement("socks", ("cotton", "nylon"), ("knitting",), 600, 20, 100)
    assert "ok: works cotton, nylon" in check_factory(factory(), req, 5000).reasons


def test_a_missing_process_is_rejected_naming_only_what_is_missing():
    req = Requirement("socks", ("cotton",), ("knitting", "dyeing"), 600, 20, 100)
    c = check_factory(factory(), req, 5000)
    assert not c.feasible and "rejected: lacks process dyeing" in c.reasons
    assert "ok: has knitting, printing" in check_factory(factory(), Requirement(
        "socks", ("cotton",), ("knitting", "printing"), 600, 20, 100), 5000).reasons


def test_one_failed_rule_is_enough_to_reject():
    for bad in (dict(categories=("tights",)), dict(materials=("nylon",)), dict(processes=("printing",)),
                dict(lead_time_days=30), dict(moq=700)):
        assert not check_factory(factory(**bad), REQ, 5000).feasible, bad


def test_a_failed_rule_is_not_undone_by_later_ones():
    c = check_factory(factory(categories=("tights",)), REQ, 5000)
    assert not c.feasible and c.reasons[1:] == ("ok: works cotton", "ok: has knitting", "ok: lead time 15 d <= due 20 d",
                                                "ok: MOQ 200 <= 600 pcs", "ok: free capacity 5000 pcs")


def test_a_material_supplier_never_gets_a_finished_goods_order():
    c = check_factory(factory(supplies_materials=True, facility_type="yarn spinning"), REQ, 5000)
    assert not c.feasible
    assert c.reasons[0] == "rejected: a material or component supplier (yarn spinning): no finished-goods orders"


def test_a_material_supplier_without_a_facility_type_says_how_it_was_known():
    c = check_factory(factory(supplies_materials=True), REQ, 5000)
    assert c.reasons[0] == "rejected: a material or component supplier (by its facility type): no finished-goods orders"


def test_unit_cost_is_the_base_times_the_price_index_rounded():
    assert check_factory(factory(price_index=0.8), REQ, 5000).unit_cost_cents == 80
    req = Requirement("socks", ("cotton",), ("knitting",), 600, 20, 333)
    assert check_factory(factory(price_index=1.1), req, 5000).unit_cost_cents == 366  # 366.3


def test_unit_cost_rounds_to_the_nearest_cent():
    req = Requirement("socks", ("cotton",), ("knitting",), 600, 20, 7)
    assert check_factory(factory(price_index=0.5), req, 5000).unit_cost_cents == 4  # 3.5 -> 4
    assert check_factory(factory(price_index=0.9), req, 5000).unit_cost_cents == 6  # 6.3 -> 6


def test_unit_cost_is_at_least_one_cent():
    req = Requirement("socks", ("cotton",), ("knitting",), 600, 20, 1)
    assert check_factory(factory(price_index=0.3), req, 5000).unit_cost_cents == 1


def test_max_quantity_is_the_smaller_of_free_capacity_and_the_order():
    assert check_factory(factory(), REQ, 5000).max_quantity == 600
    assert check_factory(factory(), REQ, 450).max_quantity == 450


def test_max_quantity_is_never_negative():
    assert check_factory(factory(), REQ, -30).max_quantity == 0


# --- what is assumed where the registry is silent -------------------------------------------------------------


def test_undisclosed_materials_pass_as_an_assumption():
    c = check_factory(factory(materials=None), REQ, 5000)
    assert c.feasible and not c.known and c.assumptions == ("materials not disclosed",)
    assert "assumed: materials not disclosed" in c.reasons and not any("works" in r for r in c.reasons)


def test_undisclosed_processes_pass_as_an_assumption():
    c = check_factory(factory(processes=None), REQ, 5000)
    assert c.feasible and c.assumptions == ("processes not disclosed",)


def test_nothing_is_assumed_about_materials_a_design_does_not_need():
    req = Requirement("socks", (), (), 600, 20, 100)
    assert assumptions(factory(materials=None, processes=None), req) == ()


def test_an_undisclosed_lead_time_is_assumed_to_meet_the_due_date():
    c = check_factory(factory(lead_time_days=None), REQ, 5000)
    assert c.feasible and c.assumptions == ("lead time not disclosed (assumed to meet the due date, 20 d)",)
    assert not any("lead time 1" in r for r in c.reasons)


def test_estimated_numbers_are_named_as_estimates():
    est = Estimate(moq=300, capacity=900, quality=0.5, price_index=1.2, notes=("MOQ estimated 300 pcs (knitting)",))
    f = factory(moq=None, capacity=None, estimate=est)
    c = check_factory(f, REQ, 900)
    assert c.feasible and c.assumptions == ("MOQ estimated 300 pcs (knitting)",)
    assert "ok: MOQ 300 (estimated) <= 600 pcs" in c.reasons and "ok: free capacity 900 pcs (estimated)" in c.reasons
    assert c.unit_cost_cents == 80  # the registry's price index is known


def test_an_estimated_price_index_sets_the_unit_cost():
    est = Estimate(moq=300, capacity=900, quality=0.5, price_index=1.2)
    assert check_factory(factory(price_index=None, estimate=est), REQ, 5000).unit_cost_cents == 120


def test_known_means_feasible_with_nothing_assumed():
    f = factory()
    assert Candidate(f, True, 10, 1).known and not Candidate(f, False, 10, 1).known
    assert not Candidate(f, True, 10, 1, assumptions=("x",)).known


# --- candidates ------------------------------------------------------------------------------------------------


def test_a_declined_factory_is_rejected_as_declined():
    (c,) = candidates([factory()], REQ, {}, exclude={"F1"})
    assert (c.feasible, c.max_quantity, c.unit_cost_cents, c.reasons) == (False, 0, 0, ("rejected: declined this design before",))


def test_committed_pieces_come_off_the_capacity():
    (c,) = candidates([factory(capacity=1000)], REQ, {"F1": 700})
    assert c.feasible and c.max_quantity == 300


def test_capacity_left_exactly_the_moq_still_qualifies():
    ok, full = candidates([factory(capacity=1000), factory("F2", capacity=1000)], REQ, {"F1": 800, "F2": 801})
    assert ok.feasible and not full.feasible


def test_candidates_keep_the_registry_order_and_other_factories_are_not_excluded():
    out = candidates([factory("F1"), factory("F2")], REQ, {}, exclude=["F2"])
    assert [c.factory.factory_id for c in out] == ["F1", "F2"] and [c.feasible for c in out] == [True, False]


# --- shortlist -----------------------------------------------------------------------------------------------

# A: quality 0.9, index 1.0, region Zhejiang; B: quality 0.5, index 1.25, country VN; C: tights only (rejected).
A = factory("A", quality=0.9, price_index=1.0)
B = factory("B", quality=0.5, price_index=1.25, country="VN", region="Dong Nai")
C = factory("C", categories=("tights",), price_index=0.5)
TABLE = FactoryTable([A, B, C])
FREE = TABLE.capacity.copy()


def rows(positions=(0, 1, 2), sims=(0.9, 0.5, 0.1), **kw) -> list[CandidateRow]:
    return shortlist(TABLE, REQ, np.array(positions), np.array(sims), FREE, **kw)


def by_id(out) -> dict[str, CandidateRow]:
    return {r.factory_id: r for r in out}


def test_shortlist_score_by_hand():
    """fit A 1, B (0.5 - 0.1) / 0.8 = 0.5; price A 1.0 / 1.0, B 1.0 / 1.25 (C, rejected, is cheaper but not counted).
    A: 0.4 + 0.3 x 0.9 + 0.2 = 0.87; B: 0.4 x 0.5 + 0.3 x 0.5 + 0.2 x 0.8 = 0.51."""
    got = by_id(rows())
    assert (got["A"].score, got["B"].score, got["C"].score) == (0.87, 0.51, 0.0)


def test_the_region_term_counts_a_region_or_a_country():
    got = by_id(rows(regions={"VN"}))
    assert (got["A"].score, got["B"].score) == (0.87, 0.61)
    assert by_id(rows(regions={"Zhejiang"}))["A"].score == 0.97


def test_score_weights_are_parameters():
    got = by_id(rows(weights=ScoreWeights(fit=0.0, quality=1.0, price=0.0, region=0.0)))
    assert (got["A"].score, got["B"].score) == (0.9, 0.5)
    assert ScoreWeights() == ScoreWeights(0.4, 0.3, 0.2, 0.1)


def test_the_score_is_explained_part_by_part():
    row = by_id(rows())["B"]
    assert row.reasons[-1] == "score 0.510 = 0.4 x fit 0.50 + 0.3 x quality 0.50 + 0.2 x price 0.80 + 0.1 x region 0.00"


def test_equal_similarities_fit_every_factory_fully():
    got = by_id(rows(positions=(0, 1), sims=(0.5, 0.5)))
    assert (got["A"].score, got["B"].score) == (0.87, 0.71)  # B: 0.4 + 0.15 + 0.16


def test_kept_rows_come_first_by_score_then_rejected_by_rank():
    out = rows(positions=(2, 1, 0), sims=(0.9, 0.5, 0.1))
    assert [(r.factory_id, r.kept, r.rank) for r in out] == [("B", True, 2), ("A", True, 3), ("C", False, 1)]


def test_a_row_says_its_match_and_rank():
    got = by_id(rows())
    assert got["A"].reasons[0] == "ok: capability match 0.90 (rank 1 of 3)"
    assert got["C"].reasons[0] == "info: capability match 0.10 (rank 3 of 3)"
    assert (got["A"].similarity, got["A"].unit_cost_cents, got["A"].max_quantity) == (0.9, 100, 600)


def test_empty_slots_of_the_top_k_are_skipped():
    out = rows(positions=(1, -1, 0, -1), sims=(0.9, 0.0, 0.5, 0.0))
    assert [(r.factory_id, r.rank) for r in out] == [("B", 1), ("A", 2)]
    assert by_id(out)["A"].reasons[0].endswith("(rank 2 of 2)")


def test_no_candidates_no_rows():
    assert rows(positions=(-1,), sims=(0.0,)) == []


def test_a_declined_factory_is_listed_as_rejected():
    got = by_id(rows(exclude={"A"}))
    assert not got["A"].kept and got["A"].score == 0.0 and "rejected: declined this design before" in got["A"].reasons
    assert (got["A"].unit_cost_cents, got["A"].max_quantity, got["A"].assumptions) == (0, 0, ())
    assert got["B"].score == pytest.approx(0.4 * 0.5 + 0.3 * 0.5 + 0.2 * 1.0, abs=1e-4)  # B is the cheapest kept now


def test_no_kept_factory_scores_nothing():
    out = shortlist(TABLE, REQ, np.array([2]), np.array([0.9]), FREE)
    assert [(r.factory_id, r.kept, r.score) for r in out] == [("C", False, 0.0)]


def test_a_factory_kept_by_assumption_comes_after_those_known_to_qualify():
    table = FactoryTable([factory("K", quality=0.1, price_index=1.0), factory("U", materials=None, quality=1.0,
                                                                              price_index=1.0)])
    out = shortlist(table, REQ, np.array([1, 0]), np.array([0.9, 0.1]), table.capacity.copy())
    assert [(r.factory_id, r.assumptions) for r in out] == [("K", ()), ("U", ("materials not disclosed",))]
    assert out[1].score > out[0].score


def test_a_rejected_row_carries_no_assumptions():
    table = FactoryTable([factory("U", materials=None, lead_time_days=None, moq=900)])
    (row,) = shortlist(table, REQ, np.array([0]), np.array([0.9]), table.capacity.copy())
    assert not row.kept and row.assumptions == ()


def test_score_is_rounded_to_four_places():
    a = factory("A", quality=0.123456, price_index=1.0)
    table = FactoryTable([a])
    (row,) = shortlist(table, REQ, np.array([0]), np.array([0.9]), table.capacity.copy())
    assert row.score == round(0.4 + 0.3 * 0.123456 + 0.2, 4)


# --- why_none_qualifies ----------------------------------------------------------------------------------------


def why(factories, req=REQ, free=None, **kw) -> str:
    table = FactoryTable(factories)
    return why_none_qualifies(table, req, table.capacity.copy() if free is None else np.array(free), **kw)


def test_nobody_makes_the_category():
    assert why([factory(categories=("tights",))]) == "no factory makes socks"


def test_only_suppliers_list_the_category():
    assert why([factory(supplies_materials=True), factory("F2", supplies_materials=True)]) == (
        "only material or component suppliers list socks (2 factories): they take no finished-goods orders")


def test_a_material_nobody_works():
    req = Requirement("socks", ("silk",), ("knitting",), 600, 20, 100)
    assert why([factory()], req) == "material silk unavailable: none of the 1 factory making socks has it"


def test_a_process_nobody_has():
    req = Requirement("socks", ("cotton",), ("dyeing",), 600, 20, 100)
    assert why([factory(), factory("F2")], req) == "process dyeing unavailable: none of the 2 factories making socks has it"


def test_material_and_process_never_together():
    req = Requirement("socks", ("silk",), ("dyeing",), 600, 20, 100)
    fs = [factory(materials=("silk",)), factory("F2", processes=("dyeing",))]
    assert why(fs, req) == "no factory making socks has silk and dyeing together"


def test_every_maker_too_slow():
    assert why([factory(lead_time_days=25), factory("F2", lead_time_days=21)]) == (
        "lead time: the 2 factories that can make it need at least 21 days, due in 20")


def test_a_maker_exactly_on_time_is_not_too_slow():
    assert why([factory(lead_time_days=20)], shortlisted=[0]) == ""


def test_every_maker_needs_more_than_is_ordered():
    assert why([factory(moq=700), factory("F2", moq=650)]) == (
        "MOQ: the 2 factories that can make it in time need at least 650 pcs, 600 ordered")


def test_an_moq_exactly_the_order_is_enough():
    assert why([factory(moq=600)], shortlisted=[0]) == ""


def test_every_maker_declined():
    assert why([factory()], exclude={"F1"}) == "declined: all 1 factory that can take it declined this design"


def test_no_maker_has_room_for_its_moq():
    assert why([factory(), factory("F2")], free=[150, -20]) == (
        "capacity: none of the 2 factories that can take it has free capacity for its MOQ (most free 150 pcs)")


def test_most_free_capacity_is_never_negative():
    assert why([factory()], free=[-20]).endswith("(most free 0 pcs)")


def test_room_exactly_the_moq_is_enough():
    assert why([factory()], free=[200], shortlisted=[0]) == ""


def test_qualifying_factories_outside_the_shortlist():
    fs = [factory(categories=("tights",)), factory("F2")]
    assert why(fs, shortlisted=[0, -1], k=64) == "shortlist: the 1 factory that qualify are not among the top 64 capability matches"
    assert why(fs, shortlisted=[0]).endswith("not among the top 1 capability matches")


def test_a_qualifying_factory_in_the_shortlist_leaves_nothing_to_explain():
    assert why([factory(categories=("tights",)), factory("F2")], shortlisted=[1]) == ""


def test_the_first_failing_step_is_the_reason():
    """Too slow AND too big an MOQ: the lead time, checked first, is named."""
    assert why([factory(lead_time_days=30, moq=900)]).startswith("lead time:")


def test_each_step_counts_only_who_passed_the_one_before():
    """F1 is too slow, F2 on time with an MOQ too large: 'the 1 factory that can make it in time'."""
    assert why([factory(lead_time_days=30), factory("F2", moq=700)]) == (
        "MOQ: the 1 factory that can make it in time need at least 700 pcs, 600 ordered")


def test_undisclosed_facts_count_as_met():
    assert why([factory(materials=None, processes=None, lead_time_days=None)], shortlisted=[0]) == ""

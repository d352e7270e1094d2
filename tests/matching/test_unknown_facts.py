"""Unknown is not "no": estimates worked by hand, assumptions in the reasons, factories known to qualify
ranked first, material suppliers never given finished goods, the table agreeing with `check_factory`."""

from dataclasses import replace

import numpy as np
import pytest

from matching.errors import MatchingError
from matching.factories.constraints import Requirement, check_factory
from matching.factories.estimates import EstimateRules, estimate, with_estimates
from matching.factories.registry import Factory
from matching.factories.shortlist import shortlist, why_none_qualifies
from matching.factories.table import FactoryTable

RULES = EstimateRules({"dress": 250, "t-shirt": 600, "socks": 4000, "default": 300},
                      {"default": 500, "sewing": 300, "small batch": 50, "sample": 60})
REQ = Requirement("dress", ("cotton",), ("weaving", "cut-and-sew"), quantity=1_000, due_in_days=30,
                  base_unit_cost_cents=1_000)
KNOWN = Factory("K", "Known Dress Co.", "CN", "Guangdong", ("dress",), ("cotton",), ("weaving", "cut-and-sew"),
                moq=300, capacity=20_000, lead_time_days=25, quality=0.4, price_index=1.1)
REGISTRY_ONLY = Factory("R", "Listed Garment Ltd", "BD", "", ("t-shirt", "dress", "hoodie"), None, None, None, None,
                        None, None, None, workers=690, facility_type="Final Product Assembly | Sewing")


def test_capacity_from_workers_and_moq_from_facility_type_by_hand():
    """690 workers x 250 pcs/worker/month (dress, the slowest of t-shirt 600, dress 250, hoodie -> default 300)
    = 172,500; "sewing" is in the facility type -> MOQ 300; quality and price level assumed."""
    e = estimate(REGISTRY_ONLY, RULES)
    assert (e.capacity, e.moq, e.quality, e.price_index) == (172_500, 300, 0.5, 1.0)
    assert e.notes == ("capacity estimated from 690 workers x 250 pcs/worker/month (dress)",
                       "MOQ estimated 300 pcs (facility type 'Final Product Assembly | Sewing')",
                       "quality not known (0.50 assumed)", "price level not known (1.00 x the usual cost assumed)")
    bare = estimate(replace(REGISTRY_ONLY, workers=None, facility_type="", categories=("socks",)), RULES)
    assert (bare.capacity, bare.moq) == (400_000, 500)  # 100 workers assumed x 4,000; the default MOQ
    assert bare.notes[0].startswith("capacity estimated from an assumed 100 workers (number of workers not given)")
    assert bare.notes[1] == "MOQ estimated 500 pcs (default; facility type not given)"
    tiny = estimate(replace(REGISTRY_ONLY, capacity=200), RULES)
    assert tiny.moq == 200 and "lowered to the capacity 200" in tiny.notes[0]  # an MOQ never above the capacity


def test_the_longest_facility_word_sets_the_moq():
    assert RULES.moq_for("Small batch sewing workshop") == (50, "small batch")
    assert RULES.moq_for("sample room") == (60, "sample")
    assert RULES.moq_for("Final Product Assembly") == (500, None)


def test_rules_need_defaults_and_sensible_figures():
    with pytest.raises(MatchingError, match="needs a 'default' entry"):
        EstimateRules({"dress": 250}, {"default": 500})
    with pytest.raises(MatchingError, match="whole numbers >= 1"):
        EstimateRules({"default": 0}, {"default": 500})


def test_planning_values_are_the_known_facts_else_the_estimate():
    f, = with_estimates([REGISTRY_ONLY], RULES)
    assert (f.plan_capacity, f.plan_moq, f.plan_quality, f.plan_price_index) == (172_500, 300, 0.5, 1.0)
    assert f.capacity is None and f.estimated == ("moq", "capacity", "quality", "price_index")
    assert with_estimates([KNOWN], RULES)[0] is KNOWN  # nothing unknown: nothing estimated
    with pytest.raises(MatchingError, match="capacity is not known and was not estimated"):
        _ = REGISTRY_ONLY.plan_capacity


def test_undisclosed_facts_pass_as_assumptions_and_say_so():
    f, = with_estimates([REGISTRY_ONLY], RULES)
    c = check_factory(f, REQ, f.plan_capacity)
    assert c.feasible and not c.known
    assert c.assumptions[:3] == ("materials not disclosed", "processes not disclosed",
                                 "lead time not disclosed (assumed to meet the due date, 30 d)")
    text = " | ".join(c.reasons)
    assert "ok: MOQ 300 (estimated) <= 1000 pcs" in text and "free capacity 172500 pcs (estimated)" in text
    assert "assumed: capacity estimated from 690 workers" in text and "assumed: materials not disclosed" in text
    assert c.unit_cost_cents == 1_000  # the usual cost: price level assumed 1.0
    k = check_factory(KNOWN, REQ, 20_000)
    assert k.known and k.assumptions == ()


def test_a_material_supplier_never_qualifies_for_finished_goods():
    mill = replace(KNOWN, factory_id="M", supplies_materials=True, facility_type="Textile or Material Production")
    c = check_factory(mill, REQ, 20_000)
    assert not c.feasible
    assert c.reasons[0] == ("rejected: a material or component supplier (Textile or Material Production): "
                            "no finished-goods orders")
    table = FactoryTable([mill])
    assert not table.feasible(REQ, table.capacity).any()
    assert why_none_qualifies(table, REQ, table.capacity).startswith("only material or component suppliers list dress")


def test_factories_known_to_qualify_rank_above_those_kept_by_assumption():
    """R would score higher (fit 1.0 as the closest match, price 1.0 vs K's 1.1) but qualifies only by
    assumption, so K, known to qualify, is first."""
    registry = with_estimates([REGISTRY_ONLY, KNOWN], RULES)
    table = FactoryTable(registry)
    rows = shortlist(table, REQ, np.array([0, 1]), np.array([0.9, 0.5]), table.capacity.copy())
    assert [r.factory_id for r in rows] == ["K", "R"]
    assert rows[0].kept and rows[0].assumptions == ()
    assert rows[1].kept and rows[1].score > rows[0].score and "materials not disclosed" in rows[1].assumptions


def test_the_table_agrees_with_check_factory_when_facts_are_unknown():
    rng = np.random.default_rng(3)
    cats, mats, procs = ("dress", "t-shirt"), ("cotton", "linen"), ("weaving", "cut-and-sew", "knitting")
    base = []
    for i in range(60):
        pick = (lambda pool: tuple(p for p in pool if rng.random() < 0.6))
        unknown = (lambda: rng.random() < 0.4)
        base.append(Factory(
            f"F{i}", f"F{i}", "CN", "", pick(cats), None if unknown() else pick(mats), None if unknown() else pick(procs),
            None if unknown() else int(rng.integers(50, 2_000)), None if unknown() else int(rng.integers(2_000, 50_000)),
            None if unknown() else int(rng.integers(10, 60)), None, None if unknown() else 1.0,
            workers=int(rng.integers(5, 200)) if rng.random() < 0.5 else None, supplies_materials=bool(rng.random() < 0.1)))
    registry = with_estimates(base, RULES)
    table = FactoryTable(registry)
    free = table.capacity - rng.integers(0, 2_000, len(registry))
    seen = np.zeros(len(registry), dtype=bool)
    for req in (replace(REQ, quantity=3_000, due_in_days=60), REQ,
                replace(REQ, category="t-shirt", materials=("linen",), processes=("knitting",), quantity=600, due_in_days=40)):
        by_table = table.feasible(req, free)
        by_check = np.array([check_factory(f, req, int(free[i])).feasible for i, f in enumerate(registry)])
        assert (by_table == by_check).all()
        seen |= by_table
    assert 0 < seen.sum() < len(registry)

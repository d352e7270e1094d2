"""Capability matching: the factory index (built, saved, refused for another registry), shortlist rows with
their reasons and score, the registry-wide reason when nothing qualifies, and the planner's top-K."""

import numpy as np
import pytest

from matching.embeddings import TextEmbedder
from matching.errors import AllocationError, IndexManifestError, OrderDataError
from matching.factories.capability import CapabilityIndex
from matching.factories.constraints import Requirement
from matching.factories.orders import Order, Vocabulary, check_orders, design_text
from matching.factories.planner import Need, plan_production, shortlist_size
from matching.factories.registry import Factory
from matching.factories.shortlist import ScoreWeights, shortlist, why_none_qualifies
from matching.factories.synthetic import make_factory_registry
from matching.factories.table import FactoryTable

SOCKS = Factory("S1", "Zhuji Sock Co.", "CN", "Zhejiang", ("socks",), ("cotton", "nylon"), ("knitting",),
                100, 1000, 10, 0.9, 1.0, city="Zhuji")
SOCKS_DEAR = Factory("S2", "Haining Hosiery", "VN", "Dong Nai", ("socks", "tights"), ("cotton",), ("knitting", "dyeing"),
                     200, 500, 12, 0.5, 1.25, city="Bien Hoa")
TUMBLERS = Factory("T1", "Yongkang Drinkware", "CN", "Zhejiang", ("tumbler",), ("stainless-steel",),
                   ("stamping", "welding", "printing"), 300, 5000, 40, 0.7, 0.9, city="Yongkang")
REGISTRY = [SOCKS, SOCKS_DEAR, TUMBLERS]
REQ = Requirement("socks", ("cotton",), ("knitting",), 300, 20, 100)


def test_index_round_trip_and_registry_fingerprint(tmp_path, fake_embedder):
    fake = fake_embedder
    index = CapabilityIndex.build(REGISTRY, fake.encode, embedder=fake.name)
    index.save(tmp_path)
    again = CapabilityIndex.load(tmp_path, REGISTRY, embedder=fake.name, dim=fake.dim)
    q = fake.encode([design_text("cotton crew socks", "socks", ["cotton"])])
    assert np.array_equal(again.top_k(q, 3)[0], index.top_k(q, 3)[0])
    assert index.top_k(q, 3)[0][0, -1] == 2  # the tumbler maker is the least similar
    moved = [SOCKS, SOCKS_DEAR, Factory(**{**TUMBLERS.__dict__, "capacity": 1})]  # capacity is no capability
    assert CapabilityIndex.load(tmp_path, moved, embedder=fake.name, dim=fake.dim).fingerprint == index.fingerprint
    retooled = [SOCKS, SOCKS_DEAR, Factory(**{**TUMBLERS.__dict__, "categories": ("tumbler", "phone-case")})]
    with pytest.raises(IndexManifestError, match="another factory registry"):
        CapabilityIndex.load(tmp_path, retooled, embedder=fake.name, dim=fake.dim)
    with pytest.raises(IndexManifestError):
        CapabilityIndex.load(tmp_path, REGISTRY, embedder="another-model", dim=fake.dim)


def test_shortlist_rows_say_why_and_score_by_hand():
    """Kept: S1 and S2. fit scales similarity within the shortlist: S1 (0.9) -> 1, T1 (0.1) -> 0, S2 (0.5)
    -> 0.5. price = cheapest kept index / own: S1 1.0, S2 1.0 / 1.25 = 0.8. Region "VN" matches S2 only.
    S1: 0.4 x 1 + 0.3 x 0.9 + 0.2 x 1 + 0.1 x 0 = 0.87; S2: 0.4 x 0.5 + 0.3 x 0.5 + 0.2 x 0.8 + 0.1 x 1 = 0.61."""
    table = FactoryTable(REGISTRY)
    rows = shortlist(table, REQ, np.array([0, 1, 2]), np.array([0.9, 0.5, 0.1]), table.capacity.copy(),
                     weights=ScoreWeights(), regions={"VN"})
    assert [(r.factory_id, r.kept, r.score) for r in rows] == [("S1", True, 0.87), ("S2", True, 0.61), ("T1", False, 0.0)]
    assert rows[1].unit_cost_cents == 125 and rows[1].max_quantity == 300
    assert rows[1].reasons[0] == "ok: capability match 0.50 (rank 2 of 3)"
    assert "MOQ 200 <= 300 pcs" in " ".join(rows[1].reasons) and rows[1].reasons[-1].startswith("score 0.610 = 0.4 x fit 0.50")
    assert "rejected: does not make socks (makes tumbler)" in rows[2].reasons
    declined = shortlist(table, REQ, np.array([0, 1]), np.array([0.9, 0.5]), table.capacity.copy(), exclude={"S1"})
    assert [(r.factory_id, r.kept) for r in declined] == [("S2", True), ("S1", False)]
    assert declined[1].reasons[1] == "rejected: declined this design before"


@pytest.mark.parametrize("req, free, exclude, reason", [
    (Requirement("cap", ("cotton",), ("embroidery",), 300, 20, 100), None, (), "no factory makes cap"),
    (Requirement("socks", ("wool",), ("knitting",), 300, 20, 100), None, (),
     "material wool unavailable: none of the 2 factories making socks has it"),
    (Requirement("socks", ("nylon",), ("knitting", "dyeing"), 300, 20, 100), None, (),
     "no factory making socks has nylon and knitting, dyeing together"),
    (Requirement("socks", ("cotton",), ("knitting",), 300, 9, 100), None, (),
     "lead time: the 2 factories that can make it need at least 10 days, due in 9"),
    (Requirement("socks", ("cotton",), ("knitting",), 50, 20, 100), None, (),
     "MOQ: the 2 factories that can make it in time need at least 100 pcs, 50 ordered"),
    (REQ, None, ("S1", "S2"), "declined: all 2 factories that can take it declined this design"),
    (REQ, [99, 150, 5000], (), "capacity: none of the 2 factories that can take it has free capacity for its MOQ (most free 150 pcs)"),
    (REQ, None, (), ""),
])
def test_why_nothing_qualifies_names_the_first_constraint_that_empties_the_registry(req, free, exclude, reason):
    table = FactoryTable(REGISTRY)
    free = table.capacity.copy() if free is None else np.array(free)
    assert why_none_qualifies(table, req, free, exclude=exclude, shortlisted=[0, 1, 2]) == reason
    if reason == "":
        assert why_none_qualifies(table, req, free, shortlisted=[2], k=1) == (
            "shortlist: the 2 factories that qualify are not among the top 1 capability matches")


def test_orders_are_checked_against_the_vocabulary():
    vocab = Vocabulary(frozenset({"socks"}), frozenset({"cotton"}), frozenset({"knitting"}))
    ok = Order("A", "socks", ("cotton",), ("knitting",), 10, 20)
    assert check_orders([ok], vocab) == [ok]
    with pytest.raises(OrderDataError, match=r"orders, item 2: unknown processes \['sewing'\]; known: knitting"):
        check_orders([ok, Order("B", "socks", ("cotton",), ("sewing",), 10, 20)], vocab, unit="item")
    with pytest.raises(OrderDataError, match="line 3: quantity must be a whole number of pieces above 0, got 0"):
        check_orders([ok, Order("B", "socks", ("cotton",), (), 0, 20)], vocab, lines=[2, 3])


def test_planner_shortlists_top_k_then_allocates(fake_embedder):
    """K = 2 of 3: the tumbler maker is never considered; the socks go to S1 (cheaper, room for all)."""
    fake = fake_embedder
    index = CapabilityIndex.build(REGISTRY, fake.encode, embedder=fake.name)
    need = Need("D1", REQ, design_text("cotton socks", "socks", ["cotton"]))
    plan = plan_production([need], REGISTRY, index, fake.encode, np.array([1000, 500, 5000]), k=2, solver="both")
    assert {c.factory_id for c in plan.candidates["D1"]} == {"S1", "S2"}
    assert [(r.factory_id, r.quantity, r.unit_cost_cents) for r in plan.rows()] == [("S1", 300, 100)]
    assert plan.objective == 300 * 100 + 5_000 and plan.heuristic_gap == 0 and plan.unplaced == []
    assert shortlist_size(240) == 72 and shortlist_size(100) == 64 and shortlist_size(10) == 10
    with pytest.raises(AllocationError, match="another factory registry"):
        plan_production([need], REGISTRY[:2], index, fake.encode, np.array([1000, 500]))


def test_minilm_puts_the_factories_that_make_a_design_first():
    """The one test with the real MiniLM: on the synthetic registry, a sock design's top 20 capability
    matches are mostly sock makers, and its top 72 (K for 240 factories) hold every feasible one."""
    emb = TextEmbedder.from_pretrained()
    registry = make_factory_registry(240, seed=0)
    index = CapabilityIndex.build(registry, emb.encode, embedder=emb.name)
    req = Requirement("socks", ("cotton",), ("knitting",), 3000, 20, 100)
    positions, sims = index.top_k(emb.encode([design_text("navy cotton crew socks", "socks", ["cotton"])]), 72)
    makes = np.array(["socks" in f.categories for f in registry])
    assert makes[positions[0, :20]].mean() >= 0.8 > makes.mean()
    table = FactoryTable(registry)
    feasible = np.flatnonzero(table.feasible(req, table.capacity))
    assert feasible.size >= 10 and np.isin(feasible, positions[0]).all() and (np.diff(sims[0]) <= 1e-6).all()

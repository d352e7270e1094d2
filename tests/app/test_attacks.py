"""Scripted hostile buyers (`app.attacks`) among honest ones in the buyer simulator (issue 16): every one is
flagged, none of its actions changes an honest buyer's pre-order, and no design's verdict or counters differ
from the same run without them."""

import pytest
from sqlalchemy import select

from app.attacks import ATTACKS, make_attackers
from app.db import transaction
from app.models import Design, utcnow
from app.services import production, trends
from app.settings import Settings
from app.simulator import BuyerSimulator
from app.workspace import Workspace
from generation.trends.synthetic import make_trend_sample
from matching.factories.synthetic import make_factory_registry


def _simulate(home, attacks: list[str]) -> tuple[dict, dict]:
    """(the report's summary, every design's verdict and counters) of one small seeded run."""
    ws = Workspace.open(Settings(home=home, test_impressions=80))
    try:
        with transaction(ws.sessions) as s:
            trends.ingest_frame(s, make_trend_sample(ws.taxonomy, weeks=104, seed=2).frame, ws.taxonomy, source="t")
            production.import_factories(s, make_factory_registry(60))
        sim = BuyerSimulator(ws, seed=0)
        start = utcnow()
        sim.create_designs(16, start)
        report = sim.run(buyers=200, days=12, start=start, visit_rate=0.3, attackers=make_attackers(attacks, 0))
        with ws.sessions() as s:
            designs = {d.id: (d.status, d.impressions, d.pre_order_count, d.committed, d.p_reach)
                       for d in s.scalars(select(Design))}
        return report.summary(), designs
    finally:
        ws.close()


@pytest.fixture(scope="module")
def honest(tmp_path_factory):
    return _simulate(tmp_path_factory.mktemp("honest"), [])


def test_every_hostile_buyer_is_flagged_moves_no_design_and_no_honest_order(honest, tmp_path):
    report, designs = _simulate(tmp_path, list(ATTACKS))
    assert designs == honest[1]  # verdicts, counted impressions, pre-orders, committed pieces, P(reach)
    assert report["impressions"] == honest[0]["impressions"]
    assert report["precision_at_k"] == honest[0]["precision_at_k"]
    attackers = report["attacks"]
    assert sorted(a["kind"] for a in attackers) == sorted(ATTACKS)
    # A flooder is flagged at once; a churner once it has cancelled 3 times in a week; a fan needs a true
    # winner to aim at (this small run may have none). Whatever they did, nothing above moved.
    kinds = {a["kind"]: a for a in attackers}
    assert kinds["flood"]["sent"] > 0 and kinds["flood"]["flagged"], kinds["flood"]
    assert kinds["churn"].get("orders", 0) > 0, kinds["churn"]
    for a in attackers:
        assert a["flagged"] or not (a.get("cancels", 0) >= 3 or a.get("sent", 0) >= 1000), a
    for a in attackers:
        assert a.get("honest_orders_changed", 0) == 0, a
        assert a["impressions_counted_now"] == 0, a  # a flagged buyer's impressions leave the counters
    assert not set(report["flagged"]) - {str(a["buyer_id"]) for a in attackers}  # no honest buyer flagged

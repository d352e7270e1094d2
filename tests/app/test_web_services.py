"""Service functions behind the web pages: editing a draft, factory capacity, the test dashboard, feed filters,
a shipped design's sales."""

import numpy as np
import pytest

from app.db import transaction
from app.errors import Conflict, Invalid
from app.lifecycle import DesignState
from app.models import Design, FactoryOrder, utcnow
from app.services import dashboard, designs, feed, interest, production, reorders, trends
from app.services.group_order import moq_price
from app.settings import Settings
from app.workspace import Workspace
from generation.concepts.composer import Pins
from generation.trends.synthetic import make_trend_sample
from matching.factories.registry import Factory

SOCK_MILL = Factory("S1", "Sock mill", "CN", "Zhejiang", ("socks",), ("cotton",), ("knitting",), moq=100,
                    capacity=1_000, lead_time_days=10, quality=0.8, price_index=1.0)


@pytest.fixture
def ws(tmp_path):
    ws = Workspace.open(Settings(home=tmp_path))
    with transaction(ws.sessions) as s:
        trends.ingest_frame(s, make_trend_sample(ws.taxonomy, weeks=104).frame, ws.taxonomy, source="t")
        production.import_factories(s, [SOCK_MILL])
    yield ws
    ws.close()


def _socks(ws, s, n=2):
    return designs.generate(s, ws.taxonomy, ws.images, ws.settings.images_dir, n=n, cost_share=0.5,
                            pins=Pins("socks", (("material", "cotton"),)))


def test_a_draft_is_edited_and_a_published_design_is_not(ws):
    with transaction(ws.sessions) as s:
        d = _socks(ws, s, 1)[0]
        tiers = [t["min_qty"] for t in d.spec["price_tiers"]]
        designs.edit_draft(s, ws.taxonomy, d.id, name="  Cloud socks ", description="Soft.",
                           tier_prices_cents=[900, 800, 700])
        assert d.name == d.spec["name"] == "Cloud socks" and d.spec["description"] == "Soft."
        assert [(t["min_qty"], t["unit_price_cents"]) for t in d.spec["price_tiers"]] == list(zip(tiers, [900, 800, 700]))
        with pytest.raises(Invalid, match="tier 2: a larger quantity may not cost more"):
            designs.edit_draft(s, ws.taxonomy, d.id, name="x", description="", tier_prices_cents=[900, 950, 700])
        with pytest.raises(Invalid, match="a price for each of the 3 tiers"):
            designs.edit_draft(s, ws.taxonomy, d.id, name="x", description="", tier_prices_cents=[900])
        with pytest.raises(Invalid, match="positive"):
            designs.edit_draft(s, ws.taxonomy, d.id, name="x", description="", tier_prices_cents=[900, 0, 0])
        with pytest.raises(Invalid, match="1 to 200 characters"):
            designs.edit_draft(s, ws.taxonomy, d.id, name="  ", description="", tier_prices_cents=[3, 2, 1])
        designs.publish(s, ws, [d.id], now=utcnow())
        with pytest.raises(Conflict, match="only drafts can be edited"):
            designs.edit_draft(s, ws.taxonomy, d.id, name="y", description="", tier_prices_cents=[3, 2, 1])


def test_capacity_stays_above_the_moq_and_the_committed_load(ws):
    with transaction(ws.sessions) as s:
        d = _socks(ws, s, 1)[0]
        s.add(FactoryOrder(design_id=d.id, factory_id="S1", quantity=300, unit_price_cents=100,
                           due_date=utcnow().date(), status="accepted"))
        s.flush()
        assert production.set_capacity(s, "S1", 5_000).capacity == 5_000
        with pytest.raises(Invalid, match="at least 300 pcs"):
            production.set_capacity(s, "S1", 299)
        assert production.set_capacity(s, "S1", 300).capacity == 300


def test_dashboard_shows_the_feeds_posterior_and_progress(ws):
    with transaction(ws.sessions) as s:
        a, b = _socks(ws, s, 2)
        designs.publish(s, ws, [a.id, b.id], now=utcnow())
        buyer = interest.create_buyer(s, "shop", "shop")
        interest.place_preorder(s, buyer.id, a.id, 40, utcnow())
    with transaction(ws.sessions) as s:
        rows = {r.design.id: r for r in dashboard.designs_under_test(s, ws.demand_cache)}
        assert set(rows) == {a.id, b.id}
        assert rows[a.id].progress == pytest.approx(40 / 100) and rows[b.id].progress == 0
        assert rows[a.id].stats.pre_orders == 1 and rows[a.id].stats.quantity == 40
        assert rows[a.id].pieces_per_impression > rows[b.id].pieces_per_impression > 0
        assert 0 < rows[a.id].conversion < 1


def test_the_feed_filters_by_category_and_price(ws):
    with transaction(ws.sessions) as s:
        made = _socks(ws, s, 2)
        designs.publish(s, ws, [d.id for d in made], now=utcnow())
        buyer = interest.create_buyer(s, "shop", "shop")
    cheapest = min(moq_price(d.spec) for d in made)  # what one buyer's smallest order costs a piece
    with ws.sessions() as s:
        def ids(**kw):
            return set(feed.feed_ids(s, ws.demand_cache, buyer.id, k=10, policy="uniform", relevance_weight=0,
                                     rng=np.random.default_rng(0), **kw))
        assert ids() == {d.id for d in made}
        assert ids(category="dress") == set()
        assert ids(category="socks", max_price_cents=cheapest) == {d.id for d in made if moq_price(d.spec) <= cheapest}
        assert ids(max_price_cents=cheapest - 1) == set()


def test_the_sales_of_a_shipped_design_and_its_reorder(ws):
    with transaction(ws.sessions) as s:
        d = _socks(ws, s, 1)[0]
        assert reorders.summary(s, d.id).shipped == 0
        d.status = DesignState.SHIPPED  # the lifecycle moves a shipped design, never a draft, to its reorder
        s.add(FactoryOrder(design_id=d.id, factory_id="S1", quantity=200, unit_price_cents=100, shipped_quantity=200,
                           due_date=utcnow().date(), status="shipped"))
        s.flush()
        reorders.record_sale(s, ws, d.id, 120, user_id=None, now=utcnow())  # 60%: below the 70% that reorders
        before = reorders.summary(s, d.id)
        assert (before.sold, before.shipped, before.unsold, before.reorders) == (120, 200, 80, [])
        reorders.record_sale(s, ws, d.id, 30, user_id=None, now=utcnow())
        after = reorders.summary(s, d.id)
        assert (after.sold, after.unsold, after.sell_through) == (150, 50, 0.75)
        ((reorder, orders),) = after.reorders
        assert (reorder.batch, reorder.quantity, reorder.sold) == (2, 150, 150)
        assert [(o.factory_id, o.quantity, o.status) for o in orders] == [("S1", 150, "offered")]
        assert after.factory_names == {"S1": "Sock mill"} == reorders.factory_names(s, {"S1"})


def test_dashboard_lists_the_newest_designs_under_test_and_not_closed_books(ws):
    with transaction(ws.sessions) as s:
        older, newer = _socks(ws, s, 2)
        designs.publish(s, ws, [older.id, newer.id], now=utcnow())
    with transaction(ws.sessions) as s:
        assert [r.design.id for r in dashboard.designs_under_test(s, ws.demand_cache, limit=1)] == [newer.id]
        won = s.get(Design, newer.id)
        won.status, won.book_closed_at = "won", utcnow()  # a winner waiting for factories
    with transaction(ws.sessions) as s:
        assert [r.design.id for r in dashboard.designs_under_test(s, ws.demand_cache)] == [older.id]


def test_a_full_sync_of_a_filled_feed_cache_reads_every_open_design_again(ws):
    with transaction(ws.sessions) as s:
        made = _socks(ws, s, 2)
        designs.publish(s, ws, [d.id for d in made], now=utcnow())
    ws.demand_cache.sync()
    ws.demand_cache.sync(full=True)  # raised KeyError: the designs it already had were not read again
    assert sorted(ws.demand_cache.arrays().ids.tolist()) == sorted(d.id for d in made)

"""Screening buyers (`app.services.abuse`) and the per-buyer rate limiter (`app.services.rate_limit`)."""

from datetime import timedelta

import numpy as np
import pytest

from app.db import transaction
from app.errors import Invalid, TooManyRequests
from app.models import Buyer, BuyerActivity, Design
from app.services import abuse, interest
from app.services.event_writer import EventIn, Served
from app.services.rate_limit import Limit, RateLimiter
from app.services.status import stage_counts

from tests.app.test_counted_interest import NOW, record, world


@pytest.fixture
def ws(tmp_path):
    ws = world(tmp_path)
    yield ws
    ws.close()


# --- who is an outlier: known answers -------------------------------------------------------------

def stats(**by_buyer):
    base = {"events": 0, "peak_hour": 0, "one_design": 0, "cancels": 0}
    return {b: {**base, **v} for b, v in by_buyer.items()}


def test_a_buyer_far_above_a_quiet_population_is_flagged_on_each_measure_that_puts_them_there():
    honest = {i: {"events": 10 + i % 5, "peak_hour": 10, "one_design": 3} for i in range(1, 50)}
    flags = abuse.outliers(stats(**{str(k): v for k, v in honest.items()}, flood={"events": 5000, "peak_hour": 2000,
                                                                                  "one_design": 5}), abuse.ScreenRules())
    assert [f.buyer_id for f in flags] == ["flood"]
    assert "5000 browse events sent in a day" in flags[0].reason and "in one hour" in flags[0].reason
    assert "one design" not in flags[0].reason


def test_floors_keep_the_most_active_honest_buyer_of_a_quiet_population_unflagged():
    # median 5, MAD 0: a buyer at 100 is far outside the spread, but under every floor
    flags = abuse.outliers(stats(**{str(i): {"events": 5} for i in range(20)}, keen={"events": 100, "one_design": 30,
                                                                                    "cancels": 2}), abuse.ScreenRules())
    assert flags == []


def test_a_busy_population_raises_the_bar_above_the_floor():
    busy = {str(i): {"events": 2000 + 100 * (i % 10)} for i in range(40)}  # a sale: everyone above the floor
    assert abuse.outliers(stats(**busy), abuse.ScreenRules()) == []
    flags = abuse.outliers(stats(**busy, bot={"events": 60_000}), abuse.ScreenRules())
    assert [f.buyer_id for f in flags] == ["bot"]


def test_a_cancel_habit_only_one_buyer_has_is_judged_against_the_rest():
    flags = abuse.outliers(stats(**{str(i): {"events": 8} for i in range(30)}, churn={"cancels": 3}), abuse.ScreenRules())
    assert [f.buyer_id for f in flags] == ["churn"] and "3 pre-orders cancelled" in flags[0].reason


# --- flagging takes what the buyer counted out, trusting puts it back ------------------------------

def test_flagging_takes_the_buyers_impressions_and_preorders_out_of_the_counters_and_trust_restores_them(ws):
    record(ws, ws.hostile, ws.cap, "view", served="feed")
    record(ws, ws.honest, ws.cap, "view", served="feed")
    with ws.sessions() as s:
        moq = s.get(Design, ws.cap).spec["moq"]
    with transaction(ws.sessions) as s:
        interest.place_preorder(s, ws.hostile, ws.cap, moq, NOW)
        interest.place_preorder(s, ws.honest, ws.cap, moq, NOW)

    def counters():
        with ws.sessions() as s:
            d = s.get(Design, ws.cap)
            return d.impressions, d.pre_order_count, d.pieces_ordered, d.committed, d.untrusted

    assert counters() == (2, 2, 2 * moq, 2 * moq, 0)
    with transaction(ws.sessions) as s:
        abuse.flag(s, ws.hostile, "test", NOW)
    assert counters() == (1, 1, moq, 2 * moq, moq)  # the book still counts their pieces; the odds do not
    ws.demand_cache.sync()
    a = ws.demand_cache.arrays()
    assert int(a.committed[a.positions(np.array([ws.cap]))[0]]) == moq
    with transaction(ws.sessions) as s:
        abuse.trust(s, ws.hostile, NOW)
    assert counters() == (2, 2, 2 * moq, 2 * moq, 0)


def test_a_rebook_after_a_cancel_is_committed_but_neither_demand_nor_trusted(ws):
    with ws.sessions() as s:
        moq = s.get(Design, ws.cap).spec["moq"]
    with transaction(ws.sessions) as s:
        first, _ = interest.place_preorder(s, ws.hostile, ws.cap, 5 * moq, NOW)
    with transaction(ws.sessions) as s:
        interest.cancel_preorder(s, ws.hostile, first.id)
    with transaction(ws.sessions) as s:
        again, _ = interest.place_preorder(s, ws.hostile, ws.cap, 5 * moq, NOW)
        assert not again.counted
    with ws.sessions() as s:
        d = s.get(Design, ws.cap)
        assert (d.committed, d.untrusted, d.pre_order_count, d.pieces_ordered) == (5 * moq, 5 * moq, 0, 0)
    with transaction(ws.sessions) as s:
        interest.cancel_preorder(s, ws.hostile, again.id)
    with ws.sessions() as s:
        d = s.get(Design, ws.cap)
        assert (d.committed, d.untrusted, d.pre_order_count, d.pieces_ordered) == (0, 0, 0, 0)


def test_a_decision_round_screens_first_so_a_flooders_impressions_never_reach_the_verdict(ws):
    with transaction(ws.sessions) as s:
        for k in range(30):  # an honest population
            b = interest.create_buyer(s, f"b{k}", "shop").id
            interest.record_events(s, [EventIn(b, ws.socks, "view"), EventIn(b, ws.socks, "click")], NOW,
                                   served=[Served(b, (ws.socks,), "feed")])
    flood = [EventIn(ws.hostile, d, k) for d in (ws.cap, ws.socks) for k in ("view", "click", "favourite", "inquiry")]
    with transaction(ws.sessions) as s:
        interest.record_events(s, flood * 200, NOW, served=[Served(ws.hostile, (ws.cap, ws.socks), "feed")])
    with ws.sessions() as s:
        assert s.get(Design, ws.cap).impressions == 1
    out = interest.decide(ws.sessions, ws.demand_cache, NOW, np.random.default_rng(0), interest.rules_of(ws.settings))
    assert out.get("flagged") == 1
    with ws.sessions() as s:
        assert s.get(Design, ws.cap).impressions == 0 and s.get(Design, ws.socks).impressions == 30
        hostile = s.get(Buyer, ws.hostile)
        assert hostile.flagged_at is not None and "browse events" in hostile.flag_reason
        assert [b["id"] for b in stage_counts(s)["flagged_buyers"]] == [ws.hostile]
        assert s.query(BuyerActivity).filter_by(buyer_id=ws.hostile).count() == 2  # one row per design and hour
    # screened again later: a flagged buyer is not flagged twice; a trusted one is judged on what came after
    assert "flagged" not in interest.decide(ws.sessions, ws.demand_cache, NOW, np.random.default_rng(0))
    with transaction(ws.sessions) as s:
        abuse.trust(s, ws.hostile, NOW + timedelta(hours=2))
    assert abuse.screen(ws.sessions(), NOW + timedelta(hours=3)) == []


def test_merchandisers_see_flagged_buyers_and_can_trust_them(ws, clients_of):
    from fastapi.testclient import TestClient

    from app.api.main import create_app

    with transaction(ws.sessions) as s:
        abuse.flag(s, ws.hostile, "3000 browse events sent in a day", NOW)
    with TestClient(create_app(ws.settings)) as c:
        clients = clients_of(c.app)
        merch = clients.new("merchandiser")
        listed = merch.get("/api/v1/merchandiser/buyers/flagged").json()
        assert [(b["id"], b["flag_reason"]) for b in listed] == [(ws.hostile, "3000 browse events sent in a day")]
        assert ws.hostile in [b["id"] for b in merch.get("/api/v1/status").json()["flagged_buyers"]]
        assert clients.new("buyer").get("/api/v1/merchandiser/buyers/flagged").status_code == 403
        assert merch.post(f"/api/v1/merchandiser/buyers/{ws.hostile}/trust").json()["flagged_at"] is None
        assert merch.post(f"/api/v1/merchandiser/buyers/{ws.hostile}/trust").status_code == 409


# --- the rate limiter ------------------------------------------------------------------------------

def test_a_bucket_refuses_what_it_cannot_hold_and_says_when_it_will():
    lim = RateLimiter({"events": Limit(10, 60.0)})
    lim.take("events", 1, 10, now=0.0)
    with pytest.raises(TooManyRequests) as caught:
        lim.take("events", 1, 1, now=0.0)
    assert caught.value.retry_after_s == 6  # one token refills in 6 s
    lim.take("events", 2, 10, now=0.0)  # per key
    lim.take("events", 1, 5, now=30.0)  # half refilled
    with pytest.raises(TooManyRequests):
        lim.take("events", 1, 1, now=30.0)
    with pytest.raises(Invalid):
        lim.take("events", 1, 11, now=1000.0)  # more than a full bucket: never admissible


def test_a_refused_request_takes_nothing_and_a_zero_limit_is_off():
    lim = RateLimiter({"orders": Limit(2, 3600.0), "pages": Limit(0, 60.0)})
    lim.take("orders", 1, 2, now=0.0)
    for _ in range(5):
        with pytest.raises(TooManyRequests):
            lim.take("orders", 1, 1, now=0.0)
    lim.take("orders", 1, 1, now=1800.0)  # one refilled, untouched by the refusals
    for _ in range(1000):
        lim.take("pages", 1, 1, now=0.0)

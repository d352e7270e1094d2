"""The interest service's decisions, one at a time, on a small SQLite database: when a pre-order book
closes (the threshold reached exactly), what a pre-order costs and may be, cancels, and `evaluate`'s
verdicts at their edges (min_impressions exactly, window end exactly, budget spent exactly).

P(reach) is made certain (1 or 0) by priors of a billion pseudo-counts, so each verdict is known by hand."""

import shutil
from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import select, update

from app.db import make_engine, migrate, session_factory, transaction
from app.errors import Conflict, Invalid, NotFound
from app.models import Buyer, Design, InterestEvent, PreOrder, utcnow
from app.services import interest
from app.services.event_writer import EventIn, Served
from app.services.feed import DemandCache
from app.settings import Settings
from generation.concepts.spec import DesignSpec, PriceTier

NOW = utcnow().replace(microsecond=0)
SPEC = DesignSpec(category="socks", color="navy", material="cotton", moq=10, name="Plain navy",
                  price_tiers=(PriceTier(1, 500), PriceTier(30, 400), PriceTier(50, 350))).to_dict()
# P(reach) = 1: conversion 0.5 and 10 pcs an order, settled; P(reach) = 0: conversion 1e-9.
WINNER = {"conv_a": 5e8, "conv_b": 5e8, "size_shape": 1e10, "size_rate": 1e9, "source": "test"}
LOSER = {"conv_a": 1.0, "conv_b": 1e9, "size_shape": 1e10, "size_rate": 1e9, "source": "test"}
# P(reach) about 0.5: conversion 0.5, 1 pc an order, 100 impressions left for 50 pcs.
EVEN = {"conv_a": 5e8, "conv_b": 5e8, "size_shape": 1e9, "size_rate": 1e9, "source": "test"}
RULES = interest.Rules(min_impressions=20)


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    path = tmp_path_factory.mktemp("template") / "t.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    return path


@pytest.fixture
def sessions(template, tmp_path):
    path = tmp_path / "t.db"
    for suffix in ("", "-wal", "-shm"):
        if template.with_name(template.name + suffix).exists():
            shutil.copy(template.with_name(template.name + suffix), path.with_name(path.name + suffix))
    engine = make_engine(f"sqlite:///{path}")
    yield session_factory(engine)
    engine.dispose()


def add_design(sessions, *, status="published", threshold=50, committed=0, impressions=0, orders=0, pieces=0,
               budget=1000, window_end=None, prior=None, book_closed_at=None, decided_at=None) -> int:
    with transaction(sessions) as s:
        d = Design(name="d", category="socks", spec=SPEC, status=status, production_threshold=threshold,
                   committed=committed, impressions=impressions, pre_order_count=orders, pieces_ordered=pieces,
                   impression_budget=budget, published_at=NOW - timedelta(days=1),
                   window_end=window_end or NOW + timedelta(days=14), prior=prior or WINNER,
                   embedding=np.ones(4, dtype=np.float32).tobytes(), book_closed_at=book_closed_at,
                   decided_at=decided_at)
        s.add(d)
        s.flush()
        return d.id


def add_buyer(sessions, name="shop") -> int:
    with transaction(sessions) as s:
        return interest.create_buyer(s, name, "shop").id


def order(sessions, buyer, design, qty, **kw):
    with transaction(sessions) as s:
        o, created = interest.place_preorder(s, buyer, design, qty, NOW, **kw)
        return o.id, created


def get(sessions, design_id) -> Design:
    with sessions() as s:
        return s.get(Design, design_id)


def orders_of(sessions, design_id) -> list[PreOrder]:
    with sessions() as s:
        return list(s.scalars(select(PreOrder).where(PreOrder.design_id == design_id).order_by(PreOrder.id)))


def evaluate(sessions, now=NOW, rules=RULES, seed=0) -> dict[str, int]:
    cache = DemandCache(sessions)
    with transaction(sessions) as s:
        return interest.evaluate(s, cache, now, np.random.default_rng(seed), rules)


# --- buyers and visible designs ---------------------------------------------------------------------------


def test_a_buyer_kind_outside_the_list_is_invalid(sessions):
    with pytest.raises(Invalid, match="unknown buyer kind 'robot'; allowed: shop, live_streamer, consumer_group") as e, \
            transaction(sessions) as s:
        interest.create_buyer(s, "x", "robot")
    assert e.value.field == "kind"


def test_a_new_buyer_is_in_china_unless_told(sessions):
    with transaction(sessions) as s:
        b = interest.create_buyer(s, "x", "live_streamer")
        assert (b.id is not None, b.kind, b.region) == (True, "live_streamer", "cn")
        assert interest.create_buyer(s, "y", "shop", region="vn").region == "vn"


def test_an_unknown_buyer_is_not_found(sessions):
    with pytest.raises(NotFound, match="buyer 999 not found"), sessions() as s:
        interest.get_buyer(s, 999)


def test_get_buyer_returns_the_buyer(sessions):
    b = add_buyer(sessions, "alice")
    with sessions() as s:
        assert interest.get_buyer(s, b).name == "alice"


def test_a_draft_is_invisible_to_buyers(sessions):
    d = add_design(sessions, status="draft")
    with pytest.raises(NotFound, match=f"design {d} not found"), sessions() as s:
        interest.published_design(s, d)


def test_a_missing_design_is_not_found(sessions):
    with pytest.raises(NotFound), sessions() as s:
        interest.published_design(s, 12345)


def test_a_decided_design_stays_visible(sessions):
    d = add_design(sessions, status="dropped")
    with sessions() as s:
        assert interest.published_design(s, d).id == d


def test_record_events_returns_their_ids_and_counts_views(sessions):
    b, d = add_buyer(sessions), add_design(sessions)
    with transaction(sessions) as s:
        ids = interest.record_events(s, [EventIn(b, d, "view"), EventIn(b, d, "click")], NOW,
                                     served=[Served(b, (d,), "feed")])  # what the server showed the buyer
    assert len(ids) == 2 and ids[0] < ids[1]
    assert get(sessions, d).impressions == 1


def test_record_events_raises_what_rejects_the_batch(sessions):
    b = add_buyer(sessions)
    with pytest.raises(NotFound, match="design 777 not found"), transaction(sessions) as s:
        interest.record_events(s, [EventIn(b, 777, "view")], NOW)


# --- pre-orders --------------------------------------------------------------------------------------------


def test_a_pre_order_of_exactly_the_moq_is_taken(sessions):
    b, d = add_buyer(sessions), add_design(sessions)
    assert order(sessions, b, d, 10)[1] is True


def test_a_pre_order_below_the_moq_is_invalid(sessions):
    b, d = add_buyer(sessions), add_design(sessions)
    with pytest.raises(Invalid, match="quantity 9 is below this design's minimum order of 10 pcs") as e:
        order(sessions, b, d, 9)
    assert e.value.field == "quantity"


def test_a_pre_order_of_exactly_the_limit_is_taken(sessions):
    b, d = add_buyer(sessions), add_design(sessions, threshold=500)
    assert order(sessions, b, d, 20, max_quantity=20)[1] is True


def test_a_pre_order_above_the_limit_is_invalid(sessions):
    b, d = add_buyer(sessions), add_design(sessions, threshold=500)
    with pytest.raises(Invalid, match="quantity 21 is above the 20 pcs limit per pre-order") as e:
        order(sessions, b, d, 21, max_quantity=20)
    assert e.value.field == "quantity"


def test_the_default_limit_is_100000_pieces(sessions):
    b, d = add_buyer(sessions), add_design(sessions, threshold=10**6)
    assert order(sessions, b, d, 100_000)[1] is True
    with pytest.raises(Invalid, match="above the 100000 pcs limit"):
        order(sessions, b, d, 100_001)


def test_a_pre_order_moves_the_three_counters(sessions):
    b, d = add_buyer(sessions), add_design(sessions, committed=5, orders=2, pieces=7)
    order(sessions, b, d, 12)
    got = get(sessions, d)
    assert (got.committed, got.pre_order_count, got.pieces_ordered) == (17, 3, 19)


def test_a_pre_order_is_priced_at_the_tier_the_total_reached(sessions):
    """Tiers from 1 pc 500, from 30 pcs 400: 10 pcs -> 500; then 20 more, total 30 -> 400."""
    b, d = add_buyer(sessions), add_design(sessions)
    order(sessions, b, d, 10)
    order(sessions, b, d, 20)
    assert [(o.unit_price_cents, o.status) for o in orders_of(sessions, d)] == [(500, "active"), (400, "active")]


def test_a_pre_order_is_an_interest_event_with_its_quantity(sessions):
    b, d = add_buyer(sessions), add_design(sessions)
    order(sessions, b, d, 12)
    with sessions() as s:
        (ev,) = s.scalars(select(InterestEvent).where(InterestEvent.design_id == d))
        assert (ev.kind, ev.quantity, ev.buyer_id, ev.occurred_at) == ("pre_order", 12, b, NOW)


def test_reaching_the_threshold_exactly_closes_the_book(sessions):
    b, d = add_buyer(sessions), add_design(sessions)
    order(sessions, b, d, 20)
    order(sessions, b, d, 30)  # 50 of 50
    got = get(sessions, d)
    assert (got.status, got.book_closed_at, got.decided_at) == ("won", NOW, NOW)


def test_closing_the_book_confirms_every_order_at_the_final_tier(sessions):
    b, d = add_buyer(sessions), add_design(sessions)
    order(sessions, b, d, 20)
    order(sessions, b, d, 30)
    assert [(o.status, o.unit_price_cents) for o in orders_of(sessions, d)] == [("confirmed", 350)] * 2
    assert get(sessions, d).note == "won with 50 pcs committed (threshold 50); every pre-order pays the tier price 350 cents"


def test_one_piece_short_of_the_threshold_keeps_the_book_open(sessions):
    b, d = add_buyer(sessions), add_design(sessions)
    order(sessions, b, d, 49)
    got = get(sessions, d)
    assert (got.status, got.book_closed_at) == ("published", None)
    assert [o.status for o in orders_of(sessions, d)] == ["active"]


def test_a_design_without_a_threshold_closes_at_the_first_pre_order(sessions):
    b, d = add_buyer(sessions), add_design(sessions, threshold=None)
    order(sessions, b, d, 10)
    assert get(sessions, d).book_closed_at == NOW


def test_a_provisional_winner_takes_pre_orders_and_keeps_its_win_date(sessions):
    earlier = NOW - timedelta(days=2)
    b, d = add_buyer(sessions), add_design(sessions, status="won", decided_at=earlier)
    order(sessions, b, d, 50)
    got = get(sessions, d)
    assert (got.status, got.decided_at, got.book_closed_at) == ("won", earlier, NOW)


def test_a_closed_book_refuses_pre_orders(sessions):
    b, d = add_buyer(sessions), add_design(sessions, status="won", book_closed_at=NOW)
    with pytest.raises(Conflict, match=f"design {d} is won and its pre-order book is closed"):
        order(sessions, b, d, 10)


def test_a_dropped_design_refuses_pre_orders(sessions):
    b, d = add_buyer(sessions), add_design(sessions, status="dropped")
    with pytest.raises(Conflict, match="is dropped and its pre-order book is closed"):
        order(sessions, b, d, 10)


def test_a_pre_order_from_an_unknown_buyer_is_not_found(sessions):
    d = add_design(sessions)
    with pytest.raises(NotFound, match="buyer 999 not found"):
        order(sessions, 999, d, 10)


def test_a_retry_with_the_same_key_returns_the_first_order(sessions):
    b, d = add_buyer(sessions), add_design(sessions)
    first, created = order(sessions, b, d, 10, idempotency_key="k1")
    again, created_again = order(sessions, b, d, 10, idempotency_key="k1")
    assert (created, created_again, again) == (True, False, first)
    assert get(sessions, d).committed == 10


def test_the_same_key_for_another_order_is_invalid(sessions):
    b, d = add_buyer(sessions), add_design(sessions)
    order(sessions, b, d, 10, idempotency_key="k1")
    with pytest.raises(Invalid, match="idempotency key was already used for a different pre-order") as e:
        order(sessions, b, d, 11, idempotency_key="k1")
    assert e.value.field == "idempotency_key"


def test_the_same_key_from_another_buyer_is_invalid(sessions):
    b, other, d = add_buyer(sessions), add_buyer(sessions, "other"), add_design(sessions)
    order(sessions, b, d, 10, idempotency_key="k1")
    with pytest.raises(Invalid):
        order(sessions, other, d, 10, idempotency_key="k1")


def test_the_same_key_for_another_design_is_invalid(sessions):
    b, d, e = add_buyer(sessions), add_design(sessions), add_design(sessions)
    order(sessions, b, d, 10, idempotency_key="k1")
    with pytest.raises(Invalid):
        order(sessions, b, e, 10, idempotency_key="k1")


# --- cancels ---------------------------------------------------------------------------------------------


def cancel(sessions, buyer, order_id) -> PreOrder:
    with transaction(sessions) as s:
        return interest.cancel_preorder(s, buyer, order_id)


def test_a_cancel_takes_the_order_out_of_every_counter(sessions):
    b, d = add_buyer(sessions), add_design(sessions)
    order(sessions, b, d, 10)
    o, _ = order(sessions, b, d, 15)
    assert cancel(sessions, b, o).status == "cancelled"
    got = get(sessions, d)
    assert (got.committed, got.pre_order_count, got.pieces_ordered) == (10, 1, 10)



def test_a_rebook_after_a_cancel_is_committed_but_not_demand(sessions):
    """10 pcs booked, cancelled, booked again: the book holds the 10 pcs, the demand counters do not (a
    cancel-and-rebook moves nothing but the book); the 10 pcs are untrusted."""
    b, d = add_buyer(sessions), add_design(sessions)
    o, _ = order(sessions, b, d, 10)
    cancel(sessions, b, o)
    order(sessions, b, d, 10)
    got = get(sessions, d)
    assert (got.committed, got.pre_order_count, got.pieces_ordered, got.untrusted) == (10, 0, 0, 10)
    assert [x.counted for x in orders_of(sessions, d)] == [False, False]


def test_a_cancel_of_another_design_leaves_this_pre_order_counted(sessions):
    b, d, elsewhere = add_buyer(sessions), add_design(sessions), add_design(sessions)
    o, _ = order(sessions, b, elsewhere, 10)
    cancel(sessions, b, o)
    order(sessions, b, d, 10)
    got = get(sessions, d)
    assert (got.committed, got.pre_order_count, got.pieces_ordered, got.untrusted) == (10, 1, 10, 0)


def test_another_buyers_cancel_leaves_this_pre_order_counted(sessions):
    b, other, d = add_buyer(sessions), add_buyer(sessions, "other"), add_design(sessions)
    o, _ = order(sessions, other, d, 10)
    cancel(sessions, other, o)
    order(sessions, b, d, 10)
    got = get(sessions, d)
    assert (got.committed, got.pre_order_count, got.pieces_ordered, got.untrusted) == (10, 1, 10, 0)


def test_a_flagged_buyers_pre_order_is_committed_but_not_demand(sessions):
    b, d = add_buyer(sessions), add_design(sessions)
    with transaction(sessions) as s:
        s.get(Buyer, b).flagged_at = NOW
    order(sessions, b, d, 10)
    got = get(sessions, d)
    assert (got.committed, got.pre_order_count, got.pieces_ordered, got.untrusted) == (10, 0, 0, 10)

def test_another_buyers_order_cannot_be_cancelled(sessions):
    b, other, d = add_buyer(sessions), add_buyer(sessions, "other"), add_design(sessions)
    o, _ = order(sessions, b, d, 10)
    with pytest.raises(NotFound, match=f"pre-order {o} not found for buyer {other}"):
        cancel(sessions, other, o)


def test_an_unknown_order_cannot_be_cancelled(sessions):
    b = add_buyer(sessions)
    with pytest.raises(NotFound):
        cancel(sessions, b, 4242)


def test_a_second_cancel_is_a_conflict(sessions):
    b, d = add_buyer(sessions), add_design(sessions)
    o, _ = order(sessions, b, d, 10)
    cancel(sessions, b, o)
    with pytest.raises(Conflict, match=f"pre-order {o} can no longer be cancelled: it is cancelled and the design is "
                                       "published$"):
        cancel(sessions, b, o)
    assert get(sessions, d).committed == 0


def test_an_order_confirmed_at_the_threshold_cannot_be_cancelled(sessions):
    b, d = add_buyer(sessions), add_design(sessions)
    o, _ = order(sessions, b, d, 50)
    with pytest.raises(Conflict, match="it is confirmed and the design is won with its pre-order book closed"):
        cancel(sessions, b, o)


def test_a_refused_cancel_reports_the_design_as_stored_not_as_the_session_saw_it(sessions):
    b, d = add_buyer(sessions), add_design(sessions)
    o, _ = order(sessions, b, d, 10)
    table = Design.__table__
    with pytest.raises(Conflict, match="it is active and the design is dropped$"), transaction(sessions) as s:
        held = s.get(Design, d)  # the caller's session holds the design ...
        assert held.status == "published"
        s.connection().execute(update(table).where(table.c.id == d).values(status="dropped"))  # ... then it changes
        interest.cancel_preorder(s, b, o)


def test_a_provisional_winners_order_can_be_cancelled(sessions):
    b, d = add_buyer(sessions), add_design(sessions, status="won")
    o, _ = order(sessions, b, d, 10)
    assert cancel(sessions, b, o).status == "cancelled"


def test_buyer_preorders_lists_the_buyers_orders_oldest_first(sessions):
    b, other, d = add_buyer(sessions), add_buyer(sessions, "other"), add_design(sessions, threshold=500)
    first, _ = order(sessions, b, d, 10)
    order(sessions, other, d, 10)
    second, _ = order(sessions, b, d, 11)
    with sessions() as s:
        assert [o.id for o in interest.buyer_preorders(s, b)] == [first, second]


def test_buyer_preorders_of_an_unknown_buyer_is_not_found(sessions):
    with pytest.raises(NotFound), sessions() as s:
        interest.buyer_preorders(s, 31337)


# --- rules -------------------------------------------------------------------------------------------------


def test_default_rules():
    assert interest.Rules() == interest.Rules(0.9, 0.05, 50)


def test_rules_come_from_settings(tmp_path):
    settings = Settings(home=tmp_path, win_probability=0.8, drop_probability=0.1, min_impressions=7)
    assert interest.rules_of(settings) == interest.Rules(0.8, 0.1, 7)


# --- evaluate --------------------------------------------------------------------------------------------------


def test_nothing_open_nothing_to_decide(sessions):
    add_design(sessions, status="dropped")
    assert evaluate(sessions) == {}


def test_a_sure_winner_at_exactly_min_impressions_wins_provisionally(sessions):
    d = add_design(sessions, impressions=20)
    assert evaluate(sessions) == {"won": 1}
    got = get(sessions, d)
    assert (got.status, got.decided_at, got.book_closed_at, got.p_reach) == ("won", NOW, None, 1.0)
    assert got.note.startswith("won: P(reach 50 pcs) = 1.00; the pre-order book stays open")



def test_a_winner_without_a_threshold_closes_its_book_when_decided(sessions):
    """No threshold: 0 pcs already reach it, so the verdict closes the book (won for good, P(reach) 1)."""
    d = add_design(sessions, threshold=None, impressions=20)
    assert evaluate(sessions) == {"won": 1}
    got = get(sessions, d)
    assert (got.status, got.book_closed_at is not None, got.p_reach) == ("won", True, 1.0)

def test_a_sure_winner_one_impression_short_of_min_impressions_keeps_testing(sessions):
    d = add_design(sessions, impressions=19)
    assert evaluate(sessions) == {}
    got = get(sessions, d)
    assert (got.status, got.decided_at, got.p_reach) == ("published", None, 1.0)


def test_the_default_rules_judge_after_50_impressions(sessions):
    judged, not_yet = add_design(sessions, impressions=50), add_design(sessions, impressions=49)
    assert evaluate(sessions, rules=interest.Rules()) == {"won": 1}
    assert (get(sessions, judged).status, get(sessions, not_yet).status) == ("won", "published")


def test_a_sure_loser_at_min_impressions_is_dropped_by_probability(sessions):
    d = add_design(sessions, impressions=20, prior=LOSER)
    assert evaluate(sessions) == {"dropped": 1}
    got = get(sessions, d)
    assert (got.status, got.decided_at, got.p_reach) == ("dropped", NOW, 0.0)
    assert got.note == "dropped: 0 of 50 pcs, P(reach) = 0.000"


def test_a_sure_loser_before_min_impressions_keeps_testing(sessions):
    d = add_design(sessions, impressions=19, prior=LOSER)
    assert evaluate(sessions) == {}
    assert get(sessions, d).status == "published"


def test_a_window_closing_exactly_now_ends_the_test(sessions):
    d = add_design(sessions, impressions=0, window_end=NOW)
    assert evaluate(sessions) == {"dropped": 1}
    got = get(sessions, d)
    assert got.note == "dropped: 0 of 50 pcs, test over" and got.p_reach == 0.0


def test_a_window_closing_a_second_from_now_leaves_the_test_running(sessions):
    d = add_design(sessions, impressions=20, window_end=NOW + timedelta(seconds=1))
    assert evaluate(sessions) == {"won": 1}
    assert get(sessions, d).status == "won"


def test_a_spent_impression_budget_ends_the_test(sessions):
    d = add_design(sessions, impressions=1000, budget=1000)
    assert evaluate(sessions) == {"dropped": 1}
    assert get(sessions, d).note == "dropped: 0 of 50 pcs, test over"


def test_an_impression_overspend_also_ends_the_test(sessions):
    d = add_design(sessions, impressions=1200, budget=1000)
    assert evaluate(sessions) == {"dropped": 1}
    assert get(sessions, d).note.endswith("test over")


def test_one_impression_left_is_judged_on_probability(sessions):
    """One impression can bring at most about 10 pcs of the 50: P(reach) 0, dropped on probability."""
    d = add_design(sessions, impressions=999, budget=1000)
    assert evaluate(sessions) == {"dropped": 1}
    assert get(sessions, d).note == "dropped: 0 of 50 pcs, P(reach) = 0.000"


def test_committed_at_the_threshold_with_the_book_open_closes_it(sessions):
    b, d = add_buyer(sessions), add_design(sessions, threshold=60)
    order(sessions, b, d, 50)
    with transaction(sessions) as s:  # the threshold lowered to what is committed
        s.get(Design, d).production_threshold = 50
    assert evaluate(sessions) == {"won": 1}
    got = get(sessions, d)
    assert (got.status, got.book_closed_at, got.decided_at) == ("won", NOW, NOW)
    assert [o.status for o in orders_of(sessions, d)] == ["confirmed"]


def test_an_undecided_design_keeps_testing_and_stores_its_probability(sessions):
    d = add_design(sessions, impressions=900, prior=EVEN)
    assert evaluate(sessions) == {}
    got = get(sessions, d)
    assert got.status == "published" and 0.3 < got.p_reach < 0.7


def test_the_win_probability_rule_is_used(sessions):
    d = add_design(sessions, impressions=900, prior=EVEN)
    assert evaluate(sessions, rules=interest.Rules(win_probability=0.2, min_impressions=20)) == {"won": 1}
    assert get(sessions, d).status == "won"


def test_the_drop_probability_rule_is_used(sessions):
    d = add_design(sessions, impressions=900, prior=EVEN)
    assert evaluate(sessions, rules=interest.Rules(drop_probability=0.8, min_impressions=20)) == {"dropped": 1}
    assert get(sessions, d).status == "dropped"


def test_a_provisional_winner_still_on_course_is_not_counted_again(sessions):
    earlier = NOW - timedelta(days=1)
    d = add_design(sessions, status="won", impressions=20, decided_at=earlier)
    assert evaluate(sessions) == {}
    got = get(sessions, d)
    assert (got.status, got.decided_at, got.book_closed_at) == ("won", earlier, None)


@pytest.mark.parametrize("committed", [50, 60])
def test_a_provisional_winner_at_or_past_the_threshold_with_its_book_open_closes_it(sessions, committed):
    earlier = NOW - timedelta(days=1)
    d = add_design(sessions, status="won", impressions=20, decided_at=earlier, committed=committed)
    assert evaluate(sessions) == {"won": 1}
    got = get(sessions, d)
    assert (got.status, got.decided_at, got.book_closed_at) == ("won", earlier, NOW)


def test_a_provisional_winner_whose_test_ends_short_is_dropped_and_released(sessions):
    b, d = add_buyer(sessions), add_design(sessions, status="won", impressions=20)
    order(sessions, b, d, 10)
    assert evaluate(sessions, now=NOW + timedelta(days=15)) == {"dropped": 1}
    got = get(sessions, d)
    assert (got.status, got.committed, got.decided_at) == ("dropped", 0, NOW + timedelta(days=15))
    assert got.note == "dropped: 10 of 50 pcs, test over"
    assert [o.status for o in orders_of(sessions, d)] == ["cancelled"]


def test_a_drop_keeps_the_demand_counters(sessions):
    b, d = add_buyer(sessions), add_design(sessions, impressions=20, prior=LOSER)
    order(sessions, b, d, 10)
    evaluate(sessions)
    got = get(sessions, d)
    assert (got.committed, got.pre_order_count, got.pieces_ordered) == (0, 1, 10)


def test_evaluate_counts_each_verdict(sessions):
    add_design(sessions, impressions=20)
    add_design(sessions, impressions=20, prior=LOSER)
    add_design(sessions, impressions=0, window_end=NOW)
    add_design(sessions, impressions=5)
    assert evaluate(sessions) == {"won": 1, "dropped": 2}


def test_a_closed_book_is_not_evaluated(sessions):
    d = add_design(sessions, status="won", impressions=20, book_closed_at=NOW, prior=LOSER)
    assert evaluate(sessions) == {}
    assert get(sessions, d).p_reach is None


# --- stats ---------------------------------------------------------------------------------------------------


def test_stats_count_each_kind_and_the_committed_pieces(sessions):
    b, d, quiet = add_buyer(sessions), add_design(sessions), add_design(sessions)
    viewers = [b, add_buyer(sessions, "b2"), add_buyer(sessions, "b3")]  # a view counts once per buyer and day
    with transaction(sessions) as s:
        interest.record_events(s, [EventIn(v, d, "view") for v in viewers] + [EventIn(b, d, "favourite")], NOW,
                               served=[Served(v, (d,), "feed") for v in viewers])
    order(sessions, b, d, 12)
    with sessions() as s:
        got = interest.stats(s, [d, quiet])
    assert (got[d].views, got[d].favourites, got[d].clicks, got[d].pre_orders, got[d].quantity) == (3, 1, 0, 1, 12)
    assert got[quiet] == interest.InterestStats()


def test_stats_of_an_unknown_design_are_zero(sessions):
    with sessions() as s:
        assert interest.stats(s, [4040]) == {4040: interest.InterestStats()}


def test_event_and_preorder_counts(sessions):
    b, d, b2 = add_buyer(sessions), add_design(sessions), add_buyer(sessions, "b2")
    with transaction(sessions) as s:
        interest.record_events(s, [EventIn(b, d, "view"), EventIn(b2, d, "view"), EventIn(b, d, "click")], NOW,
                               served=[Served(b, (d,), "feed"), Served(b2, (d,), "feed")])
    o, _ = order(sessions, b, d, 10)
    order(sessions, b, d, 10)
    cancel(sessions, b, o)
    with sessions() as s:
        assert interest.event_counts(s) == {"view": 2, "click": 1, "pre_order": 2}
        assert interest.preorder_counts(s) == {"cancelled": 1, "active": 1}

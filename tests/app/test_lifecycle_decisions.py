"""The lifecycle's decisions, one at a time: which moves the table allows and who hears of each, the state
a design follows from its orders, the words a status is shown with, and `move` on a small SQLite database
(the move made, the move a condition holds back, the move refused, and the notice each one leaves)."""

import logging
import shutil
from datetime import date

import pytest
from sqlalchemy import update

from app import lifecycle
from app.db import make_engine, migrate, session_factory
from app.errors import TransitionRefused
from app.lifecycle import Audience, DesignState, OrderState
from app.models import Design, FactoryOrder, FactoryRow, utcnow

B, M, F = Audience.BUYERS, Audience.MERCHANDISER, Audience.FACTORY


# --- the table -----------------------------------------------------------------------------------------------


def test_a_design_wins_from_published_or_from_matched_when_every_offer_was_declined():
    assert lifecycle.allowed_from("design", DesignState.WON) == (DesignState.PUBLISHED, DesignState.MATCHED)


def test_an_order_is_shipped_only_from_production_and_a_design_also_from_matched():
    assert lifecycle.allowed_from("order", OrderState.SHIPPED) == (OrderState.IN_PRODUCTION,)
    assert lifecycle.allowed_from("design", DesignState.SHIPPED) == (DesignState.MATCHED, DesignState.IN_PRODUCTION)


def test_an_offer_may_be_accepted_declined_or_withdrawn():
    assert lifecycle.next_states("order", OrderState.OFFERED) == (
        OrderState.ACCEPTED, OrderState.DECLINED, OrderState.CANCELLED)


def test_publishing_a_draft_tells_nobody():
    assert lifecycle.audiences("design", DesignState.DRAFT, DesignState.PUBLISHED) == frozenset()


def test_a_withdrawn_offer_tells_its_factory():
    assert lifecycle.audiences("order", OrderState.OFFERED, OrderState.CANCELLED) == {F}


def test_a_move_the_table_does_not_have_has_no_audience():
    with pytest.raises(KeyError, match="no design move draft -> won"):
        lifecycle.audiences("design", DesignState.DRAFT, DesignState.WON)


def test_a_state_is_shown_with_its_own_word_whether_or_not_a_book_is_open():
    assert lifecycle.design_word(DesignState.PUBLISHED, book_closed=False) == "status.published"
    assert lifecycle.design_word(DesignState.DROPPED, book_closed=True) == "status.dropped"


# --- the state a design follows from its orders ---------------------------------------------------------------


def test_no_live_order_leaves_the_winner_waiting():
    assert lifecycle.follow_orders([]) is None


def test_a_batch_all_shipped_is_shipped():
    assert lifecycle.follow_orders([(1, OrderState.SHIPPED), (1, OrderState.SHIPPED)]) == DesignState.SHIPPED


def test_a_batch_partly_shipped_is_in_production():
    assert lifecycle.follow_orders([(1, OrderState.SHIPPED), (1, OrderState.ACCEPTED)]) == DesignState.IN_PRODUCTION


def test_a_batch_accepted_but_not_started_is_matched():
    assert lifecycle.follow_orders([(1, OrderState.ACCEPTED), (1, OrderState.OFFERED)]) == DesignState.MATCHED


def test_the_newest_batch_decides_a_reorder_offered_after_a_shipped_batch_is_matched():
    assert lifecycle.follow_orders([(1, OrderState.SHIPPED), (2, OrderState.OFFERED)]) == DesignState.MATCHED


# --- refusing up front ----------------------------------------------------------------------------------------


def test_an_allowed_move_passes_the_up_front_check():
    assert lifecycle.require("order", 7, OrderState.OFFERED, OrderState.ACCEPTED) is None


def test_a_refused_move_says_the_state_what_it_may_become_and_what_may_become_the_target():
    with pytest.raises(TransitionRefused) as e:
        lifecycle.require("order", 7, OrderState.SHIPPED, OrderState.ACCEPTED)
    assert (e.value.state, e.value.allowed, e.value.requested) == ("shipped", [], "accepted")
    assert str(e.value) == ("order 7 is shipped; it can move to nothing further; "
                            "only offered orders can become accepted")


def test_a_design_row_is_a_design_and_an_order_row_an_order():
    assert (lifecycle.kind_of(Design()), lifecycle.kind_of(FactoryOrder())) == ("design", "order")


# --- move -----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    path = tmp_path_factory.mktemp("template") / "t.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    return path


@pytest.fixture
def session(template, tmp_path):
    path = tmp_path / "t.db"
    for suffix in ("", "-wal", "-shm"):
        if template.with_name(template.name + suffix).exists():
            shutil.copy(template.with_name(template.name + suffix), path.with_name(path.name + suffix))
    engine = make_engine(f"sqlite:///{path}")
    with session_factory(engine)() as s:
        yield s
    engine.dispose()


def design(s, status: str) -> Design:
    d = Design(name="d", category="socks", spec={}, status=status)
    s.add(d)
    s.flush()
    return d


def order(s, status: str) -> FactoryOrder:
    if s.get(FactoryRow, "F1") is None:
        s.add(FactoryRow(id="F1", name="Mill", country="CN", region="Zhejiang", categories=["socks"],
                         materials=["cotton"], processes=["knitting"], moq=100, capacity=5000, lead_time_days=10,
                         quality=0.8, price_index=1.0))
    o = FactoryOrder(design_id=design(s, DesignState.MATCHED).id, factory_id="F1", quantity=100,
                     unit_price_cents=100, due_date=date(2030, 1, 1), status=status)
    s.add(o)
    s.flush()
    return o


def test_a_move_changes_the_state_sets_its_values_and_records_who_is_told(session):
    d, now = design(session, DesignState.PUBLISHED), utcnow().replace(microsecond=0)
    notice = lifecycle.move(session, d, DesignState.WON, values={"decided_at": now}, reason="threshold reached")
    assert (d.status, d.decided_at) == (DesignState.WON, now)
    assert notice == lifecycle.Notice("design", d.id, "published", "won", frozenset({B, M}), "threshold reached")
    assert lifecycle.notices(session) == [notice]


def test_a_move_changes_only_its_own_row(session):
    d, other = design(session, DesignState.PUBLISHED), design(session, DesignState.PUBLISHED)
    lifecycle.move(session, d, DesignState.WON)
    session.refresh(other)
    assert (d.status, other.status) == (DesignState.WON, DesignState.PUBLISHED)


def test_the_notice_names_the_state_moved_from_a_cancelled_winner_tells_its_factories(session):
    d = design(session, DesignState.MATCHED)
    notice = lifecycle.move(session, d, DesignState.DROPPED)
    assert (notice.source, notice.tell) == ("matched", {B, M, F})


def test_a_row_read_before_a_concurrent_move_is_told_from_the_first_state_allowed(session):
    """Read as a draft, published meanwhile by another request, then dropped: the table allows dropped from
    published, won or matched; the notice names the first, published, and tells buyers and merchandiser."""
    d = design(session, DesignState.DRAFT)
    session.execute(update(Design).where(Design.id == d.id).values(status=DesignState.PUBLISHED)
                    .execution_options(synchronize_session=False))
    assert d.status == DesignState.DRAFT  # what this request read
    notice = lifecycle.move(session, d, DesignState.DROPPED)
    assert (d.status, notice.source, notice.tell) == (DesignState.DROPPED, "published", {B, M})


def test_a_move_held_back_by_its_condition_returns_none_and_changes_nothing(session):
    d = design(session, DesignState.PUBLISHED)
    assert lifecycle.move(session, d, DesignState.WON, where=[Design.committed > 0]) is None
    assert d.status == DesignState.PUBLISHED and lifecycle.notices(session) == []


def test_a_move_the_state_does_not_allow_is_refused_and_changes_nothing(session):
    o = order(session, OrderState.SHIPPED)
    with pytest.raises(TransitionRefused) as e:
        lifecycle.move(session, o, OrderState.ACCEPTED)
    assert (e.value.state, e.value.requested) == ("shipped", "accepted")
    assert o.status == OrderState.SHIPPED and lifecycle.notices(session) == []


def test_an_order_accepted_is_an_order_move_told_to_the_merchandiser(session):
    o = order(session, OrderState.OFFERED)
    notice = lifecycle.move(session, o, OrderState.ACCEPTED)
    assert (o.status, notice.kind, notice.source, notice.tell) == (OrderState.ACCEPTED, "order", "offered", {M})


def test_a_move_to_a_state_that_does_not_exist_is_a_programming_error(session):
    d = design(session, DesignState.PUBLISHED)
    with pytest.raises(KeyError, match="no design state 'archived'"):
        lifecycle.move(session, d, "archived")


def test_each_move_is_logged_with_whom_it_tells(session, caplog):
    caplog.set_level(logging.INFO, logger="app.lifecycle")
    d = design(session, DesignState.DRAFT)
    lifecycle.move(session, d, DesignState.PUBLISHED)
    lifecycle.move(session, d, DesignState.WON, reason="P(reach) = 0.95")
    assert [r.getMessage() for r in caplog.records] == [
        f"design {d.id}: draft -> published, tell nobody",
        f"design {d.id}: published -> won, tell buyers, merchandiser (P(reach) = 0.95)"]

"""Concurrent accepts never load a factory beyond its capacity, on SQLite (WAL) and on PostgreSQL."""

from collections.abc import Callable
from datetime import date
from functools import partial

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db import make_engine, migrate, session_factory, transaction
from app.errors import Conflict, Invalid
from app.models import Design, FactoryOrder, FactoryRow
from app.services import production

N_OFFERS = 8


def _accept(factory_id: str, order_id: int, s: Session) -> str:
    production.accept(s, factory_id, order_id)
    return "accepted"


def _fire_parallel_accepts(url: str, race: Callable[..., list[str]]) -> tuple[list[str], int, int]:
    """Eight offers of 100 pcs to a factory with room for 250; all accepted at once from eight threads.
    Returns each thread's outcome, the accepted load and the capacity."""
    engine = make_engine(url)
    migrate(engine)
    sessions = session_factory(engine)
    with transaction(sessions) as s:
        s.add(FactoryRow(id="F1", name="Mill", country="CN", region="Zhejiang", categories=["socks"],
                         materials=["cotton"], processes=["knitting"], moq=100, capacity=250, lead_time_days=10,
                         quality=0.8, price_index=1.0))
        design = Design(name="d", category="socks", spec={}, status="matched")
        s.add(design)
        s.flush()
        orders = [FactoryOrder(design_id=design.id, factory_id="F1", round=r, quantity=100, unit_price_cents=100,
                               due_date=date(2030, 1, 1), status="offered") for r in range(1, N_OFFERS + 1)]
        s.add_all(orders)
        s.flush()
        ids = [o.id for o in orders]
    outcome = race(sessions, [partial(_accept, "F1", oid) for oid in ids], refused=(Conflict,))
    with sessions() as s:
        load = s.scalar(select(func.sum(FactoryOrder.quantity)).where(FactoryOrder.status == "accepted"))
        capacity = s.get(FactoryRow, "F1").capacity
    engine.dispose()
    return outcome, int(load or 0), capacity


def _check(outcome: list[str], load: int, capacity: int) -> None:
    assert outcome.count("accepted") == 2, outcome  # 2 x 100 <= 250 < 3 x 100
    assert load == 200 <= capacity
    assert all(o == "accepted" or "of its 250 pcs capacity" in o for o in outcome), outcome


def test_parallel_accepts_on_sqlite(tmp_path, race):
    _check(*_fire_parallel_accepts(f"sqlite:///{tmp_path / 'db.sqlite'}", race))


def test_parallel_accepts_on_postgres(pg_url, race):
    _check(*_fire_parallel_accepts(pg_url, race))


def _race_capacity_against_accept(url: str, race: Callable[..., list[str]],
                                  rounds: int = 6) -> list[tuple[str, str, int, int]]:
    """Each round: a factory with capacity 400 and one offer of 300 pcs; one thread accepts the offer while
    another lowers the capacity to 200 (allowed while nothing is committed). At most one may succeed.
    Returns (accept outcome, capacity outcome, committed load, capacity) per round."""
    engine = make_engine(url)
    migrate(engine)
    sessions = session_factory(engine)
    out = []
    for r in range(rounds):
        fid = f"R{r}"
        with transaction(sessions) as s:
            s.add(FactoryRow(id=fid, name="Mill", country="CN", region="Zhejiang", categories=["socks"],
                             materials=["cotton"], processes=["knitting"], moq=100, capacity=400, lead_time_days=10,
                             quality=0.8, price_index=1.0))
            design = Design(name="d", category="socks", spec={}, status="matched")
            s.add(design)
            s.flush()
            order = FactoryOrder(design_id=design.id, factory_id=fid, round=1, quantity=300, unit_price_cents=100,
                                 due_date=date(2030, 1, 1), status="offered")
            s.add(order)
            s.flush()
            oid = order.id
        outcome = race(sessions, [lambda s: production.accept(s, fid, oid) and "ok",  # both return a row
                                  lambda s: production.set_capacity(s, fid, 200) and "ok"],
                       refused=(Conflict, Invalid))
        with sessions() as s:
            load = s.scalar(select(func.coalesce(func.sum(FactoryOrder.quantity), 0)).where(
                FactoryOrder.factory_id == fid, FactoryOrder.status == "accepted"))
            out.append((outcome[0], outcome[1], int(load), s.get(FactoryRow, fid).capacity))
    engine.dispose()
    return out


def _check_race(rounds: list[tuple[str, str, int, int]]) -> None:
    for accepted, lowered, load, capacity in rounds:
        assert load <= capacity, rounds
        assert (accepted == "ok") != (lowered == "ok"), rounds  # exactly one wins: the other sees its effect
        if accepted == "ok":
            assert "at least 300 pcs" in lowered and (load, capacity) == (300, 400)
        else:
            assert "capacity" in accepted and (load, capacity) == (0, 200)


def test_capacity_change_and_accept_race_on_sqlite(tmp_path, race):
    _check_race(_race_capacity_against_accept(f"sqlite:///{tmp_path / 'db.sqlite'}", race))


def test_capacity_change_and_accept_race_on_postgres(pg_url, race):
    _check_race(_race_capacity_against_accept(pg_url, race))

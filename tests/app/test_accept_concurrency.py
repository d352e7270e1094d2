"""Concurrent accepts never load a factory beyond its capacity, on SQLite (WAL) and on PostgreSQL."""

import threading
from datetime import date

from sqlalchemy import func, select

from app.db import make_engine, migrate, session_factory, transaction
from app.errors import Conflict
from app.models import Design, FactoryOrder, FactoryRow
from app.services import production

N_OFFERS = 8


def _fire_parallel_accepts(url: str) -> tuple[list[str], int, int]:
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
    start = threading.Barrier(N_OFFERS)
    outcome = [""] * N_OFFERS

    def accept(i: int) -> None:
        start.wait()
        try:
            with transaction(sessions) as s:
                production.accept(s, "F1", ids[i])
            outcome[i] = "accepted"
        except Conflict as exc:
            outcome[i] = f"conflict: {exc}"

    threads = [threading.Thread(target=accept, args=(i,)) for i in range(N_OFFERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with sessions() as s:
        load = s.scalar(select(func.sum(FactoryOrder.quantity)).where(FactoryOrder.status == "accepted"))
        capacity = s.get(FactoryRow, "F1").capacity
    engine.dispose()
    return outcome, int(load or 0), capacity


def _check(outcome: list[str], load: int, capacity: int) -> None:
    assert outcome.count("accepted") == 2, outcome  # 2 x 100 <= 250 < 3 x 100
    assert load == 200 <= capacity
    assert all(o == "accepted" or "of its 250 pcs capacity" in o for o in outcome), outcome


def test_parallel_accepts_on_sqlite(tmp_path):
    _check(*_fire_parallel_accepts(f"sqlite:///{tmp_path / 'db.sqlite'}"))


def test_parallel_accepts_on_postgres(pg_url):
    _check(*_fire_parallel_accepts(pg_url))

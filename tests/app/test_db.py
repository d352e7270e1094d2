from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from app.db import make_engine, migrate
from app.models import Base


def test_migration_creates_exactly_the_models_schema(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    migrate(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'sub' / 'db.sqlite'}")
    migrate(engine)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    migrate(engine)  # idempotent


def test_0005_takes_buyers_cancels_out_of_the_demand_counters_but_keeps_released_demand(tmp_path):
    from sqlalchemy.orm import Session

    from app.models import Buyer, Design, PreOrder

    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    migrate(engine, "0004")  # the counters then counted every pre-order placed, cancelled ones included
    with Session(engine) as s, s.begin():
        buyer = Buyer(name="shop", kind="shop")
        open_, dropped = (Design(name=n, category="socks", spec={}, status=st, images=[], pre_order_count=2,
                                 pieces_ordered=15) for n, st in (("open", "published"), ("dropped", "dropped")))
        s.add_all([buyer, open_, dropped])
        s.flush()
        s.add_all([PreOrder(buyer_id=buyer.id, design_id=d.id, quantity=q, unit_price_cents=100, status=st)
                   for d in (open_, dropped) for q, st in ((10, "active" if d is open_ else "cancelled"), (5, "cancelled"))])
    migrate(engine)
    with engine.connect() as conn:
        got = dict((n, (c, p)) for n, c, p in conn.execute(text("SELECT name, pre_order_count, pieces_ordered FROM designs")))
    assert got == {"open": (1, 10), "dropped": (2, 15)}  # a dropped design's cancels are releases: real demand

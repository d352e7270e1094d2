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
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    migrate(engine, "0004")  # the counters then counted every pre-order placed, cancelled ones included
    with engine.begin() as conn:  # plain SQL: the models describe the newest schema, not 0004's
        conn.execute(text("INSERT INTO buyers (id, name, kind, region, created_at) VALUES (1, 'shop', 'shop', 'cn', '2026-01-01')"))
        for i, (name, status) in enumerate((("open", "published"), ("dropped", "dropped")), start=1):
            conn.execute(text("INSERT INTO designs (id, name, category, status, spec, images, created_at, note, impressions, "
                              "pre_order_count, pieces_ordered, committed, updated_at) VALUES (:i, :n, 'socks', :st, '{}', "
                              "'[]', '2026-01-01', '', 0, 2, 15, 0, '2026-01-01')"), {"i": i, "n": name, "st": status})
            for q, st in ((10, "active" if name == "open" else "cancelled"), (5, "cancelled")):
                conn.execute(text("INSERT INTO pre_orders (buyer_id, design_id, quantity, unit_price_cents, status, "
                                  "created_at, updated_at) VALUES (1, :d, :q, 100, :st, '2026-01-01', '2026-01-01')"),
                             {"d": i, "q": q, "st": st})
    migrate(engine)
    with engine.connect() as conn:
        got = dict((n, (c, p)) for n, c, p in conn.execute(text("SELECT name, pre_order_count, pieces_ordered FROM designs")))
    assert got == {"open": (1, 10), "dropped": (2, 15)}  # a dropped design's cancels are releases: real demand


def test_0008_marks_buyers_cancels_uncounted_and_keeps_released_demand_counted(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    migrate(engine, "0007")
    with engine.begin() as conn:  # plain SQL: the models describe the newest schema, not 0007's
        conn.execute(text("INSERT INTO buyers (id, name, kind, region, created_at) VALUES (1, 'shop', 'shop', 'cn', '2026-01-01')"))
        for i, status in ((1, "published"), (2, "dropped")):
            conn.execute(text("INSERT INTO designs (id, name, category, status, spec, images, created_at, note, impressions, "
                              "pre_order_count, pieces_ordered, committed, updated_at) VALUES (:i, 'd', 'socks', :st, '{}', "
                              "'[]', '2026-01-01', '', 0, 1, 10, 10, '2026-01-01')"), {"i": i, "st": status})
            for st in ("active", "cancelled"):
                conn.execute(text("INSERT INTO pre_orders (buyer_id, design_id, quantity, unit_price_cents, status, "
                                  "created_at, updated_at) VALUES (1, :d, 10, 100, :st, '2026-01-01', '2026-01-01')"),
                             {"d": i, "st": st})
    migrate(engine)
    with engine.connect() as conn:
        got = sorted(conn.execute(text("SELECT design_id, status, counted FROM pre_orders")).all())
        untrusted = conn.execute(text("SELECT sum(untrusted) FROM designs")).scalar()
    # a published design's cancel was its buyer's; a dropped design's may be a release, which counts
    assert got == [(1, "active", 1), (1, "cancelled", 0), (2, "active", 1), (2, "cancelled", 1)] and untrusted == 0

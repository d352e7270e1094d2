"""Engine and sessions. SQLite gets WAL, foreign keys and a busy timeout; schema comes from Alembic."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).with_name("migrations")


def make_engine(url: str) -> Engine:
    """An engine for `url`; for SQLite, the file's folder is created and WAL mode is switched on."""
    if url.startswith("sqlite"):
        db_path = url.split("///", 1)[-1]
        if db_path and db_path != ":memory:":
            Path(db_path).parent.mkdir(parents=True, exist_ok=True)
        # No cap on connections (pool_size kept, max_overflow=-1): a request holds its connection from the
        # sign-in lookup to its answer, also while it waits for a thread or for the event writer. With the
        # default cap (5 + 10), 15 such requests left threads blocked on the pool and the requests holding
        # connections waiting for those threads, until the pool's 30 s timeout (scripts/load_events.py).
        # A SQLite connection is a file handle; the writer lock, not the pool, serialises writes.
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               pool_size=20, max_overflow=-1)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    # PostgreSQL: room for every request thread of a worker (anyio's 40) to hold a connection, plus the
    # background work; SQLAlchemy's default cap (5 + 10) left requests queued on the pool for 30 s and
    # failing, as on SQLite above. Several workers need max_connections above workers x 50 (compose.yaml).
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=40)


MIGRATION_LOCK = int.from_bytes(b"tl-migra", "big")  # PostgreSQL advisory lock: one migration at a time


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the database schema to the newest Alembic revision (or to `revision`, for tests).

    On PostgreSQL, processes starting together (API workers, containers) migrate one after the other: each
    waits for a transaction-level advisory lock, and the later ones find the schema already there."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def insert_statement(session: Session, model: type[Any]) -> Any:
    """The dialect's INSERT for `model`, which has ON CONFLICT (SQLite and PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert
        return pg_insert(model)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert
    return sqlite_insert(model)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work is committed on success and rolled back on any error."""
    with factory() as session, session.begin():
        yield session


_UNDO = "undo_on_rollback"


def undo_on_rollback(session: Session, undo: Callable[[], None]) -> None:
    """Call `undo` if `session`'s transaction rolls back; forget it once the transaction commits. For
    effects outside the database made inside a transaction: files written, in-memory indexes updated."""
    pending = session.info.get(_UNDO)
    if pending is None:
        pending = session.info[_UNDO] = []
        event.listen(session, "after_commit", _forget_undos)
        event.listen(session, "after_rollback", _run_undos)
    pending.append(undo)


def delete_on_rollback(session: Session, path: Path) -> None:
    """Remove the new file `path` if `session`'s transaction rolls back; keep it once it commits.

    The file is written before the row that names it is committed (a committed row must never name a
    missing file), so every failure after the write -- in this service, later in the request, or at
    commit itself -- rolls back and must take the file with it, or it stays on disk named by nothing.
    """
    undo_on_rollback(session, lambda: path.unlink(missing_ok=True))


def _forget_undos(session: Session) -> None:
    if not session.in_nested_transaction():  # releasing a savepoint decides nothing: the outer commit does
        session.info[_UNDO].clear()


def _run_undos(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint: keep the effects (an orphan at worst, never a loss)
        return
    for undo in session.info[_UNDO]:
        undo()
    session.info[_UNDO].clear()

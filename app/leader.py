"""Which API worker runs the background jobs: the one holding a PostgreSQL advisory lock.

Several workers (processes, on one machine or several) serve one PostgreSQL database. Every worker serves
feeds and takes events, and keeps its own feed cache and design index in step with the database; the jobs
that should run once per deployment (the decision rounds, and any re-plan) run only in the leader.

Leadership is the session-level advisory lock `LOCK_KEY`, taken with `pg_try_advisory_lock` on a
connection opened for it alone and kept (in autocommit, so no transaction stays open) for as long as the
worker leads. PostgreSQL releases the lock when that connection ends: the worker shuts down, is killed, or
its machine drops off the network (TCP keepalives end the connection within about 30 s). The other workers
try every few seconds (`poll`), and one of them takes over. The jobs themselves stay race-safe (they claim
the rows they change), so a leader that loses its connection in the middle of a round never makes two
rounds' work count twice; leadership only keeps the work from being done N times over.

With SQLite there is one process (`trendloom serve` refuses several workers), and it always leads.
"""

from __future__ import annotations

import logging
import os
import threading

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

LOCK_KEY = int.from_bytes(b"trendloo", "big")  # a fixed bigint that names "the background jobs" lock
# end a leader's connection within ~30 s of its machine going silent (idle 10 s, then 4 probes 5 s apart)
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 4}
APPLICATION_NAME = "trendloom-leader"  # + " pid N" of the process: pg_stat_activity shows who leads


class Leadership:
    """This process's claim to run the background jobs on the database at `url`.

    `poll()` answers whether this process leads now: a leader checks its lock connection is still alive,
    anyone else tries to take the lock. `release()` gives the lock back (at shutdown)."""

    def __init__(self, url: str, *, key: int = LOCK_KEY) -> None:
        self.key = key
        self.single_process = not url.startswith("postgresql")
        self._engine = None if self.single_process else create_engine(url, poolclass=NullPool, connect_args={
            **KEEPALIVES, "application_name": f"{APPLICATION_NAME} pid {os.getpid()}"})
        self._conn: Connection | None = None
        self._lock = threading.Lock()

    @property
    def leading(self) -> bool:
        """Whether the last `poll` found this process leading (no database round trip)."""
        return self.single_process or self._conn is not None

    def poll(self) -> bool:
        """Whether this process leads now; takes the lock when it is free. A leader whose lock connection
        has died (PostgreSQL has released the lock with it) is no longer leading and tries again."""
        if self.single_process:
            return True
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.execute(text("SELECT 1"))
                    return True
                except DBAPIError:
                    log.warning("the leader's lock connection is gone: this worker no longer runs the background jobs")
                    self._drop()
            return self._try_take()

    def _try_take(self) -> bool:
        assert self._engine is not None
        try:
            conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        except DBAPIError as exc:
            log.warning("cannot reach the database to take the leader's lock: %s", exc.orig)
            return False
        try:
            taken = bool(conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}).scalar())
        except DBAPIError:
            conn.close()
            return False
        if not taken:
            conn.close()
            return False
        self._conn = conn
        log.info("this worker leads: it runs the background jobs")
        return True

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.invalidate()  # a dead connection: closed for good (invalidate logs, never raises, on one already gone)
            conn.close()

    def release(self) -> None:
        """Give the lock back and close its connection (the next worker to poll takes over at once)."""
        if self.single_process:
            return
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
                    self._conn.close()
                except DBAPIError:
                    self._drop()
                self._conn = None
        assert self._engine is not None
        self._engine.dispose()

"""Group commit for interest events: many concurrent requests, one write transaction.

SQLite has one writer at a time; when each request opens its own write transaction, concurrent
requests wait in SQLite's busy handler, which sleeps with growing back-off, and tail latency explodes.
Here a request hands its events to one writer thread and waits; the writer takes every request
waiting at that moment, checks each one on its own (a bad request fails alone), stores all the good
ones in one transaction, commits, and only then releases the requests. An event is acknowledged only
after the commit that holds it.

The writer keeps a database connection of its own. Each waiting request holds a pooled connection
(its sign-in was looked up in the request's session), so a writer that took its connection from the
same pool found it empty at 15 waiting requests and stalled until the pool's 30 s timeout.
"""

from __future__ import annotations

import queue
import threading
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from app.errors import Invalid, NotFound
from app.models import Buyer, Design, InterestEvent

BROWSE_EVENTS = ("view", "click", "favourite", "inquiry")  # pre_order events come from place_preorder


@dataclass(frozen=True)
class EventIn:
    buyer_id: int
    design_id: int
    kind: str


@dataclass
class _Request:
    events: Sequence[EventIn]
    now: datetime
    done: Future[list[int]]


def check_kinds(events: Sequence[EventIn]) -> None:
    for e in events:
        if e.kind not in BROWSE_EVENTS:
            raise Invalid(f"unknown event kind {e.kind!r}; allowed: {', '.join(BROWSE_EVENTS)} "
                          "(pre-orders go through the pre-order endpoint)", field="kind")


def store_events(session: Session, requests: Sequence[tuple[Sequence[EventIn], datetime]]) -> list[list[int] | Exception]:
    """Store several requests' events in the caller's transaction. Each request is checked on its own:
    it gets its event ids, or the error that rejects it (and nothing of it is stored)."""
    buyers = {e.buyer_id for events, _ in requests for e in events}
    designs = {e.design_id for events, _ in requests for e in events}
    known_b = set(session.scalars(select(Buyer.id).where(Buyer.id.in_(buyers)))) if buyers else set()
    known_d = set(session.scalars(select(Design.id).where(Design.id.in_(designs), Design.status != "draft"))) if designs else set()
    results: list[list[int] | Exception] = []
    rows, owners = [], []
    for r, (events, now) in enumerate(requests):
        try:
            check_kinds(events)
            missing_b = {e.buyer_id for e in events} - known_b
            if missing_b:
                raise NotFound(f"buyer {min(missing_b)} not found")
            missing_d = {e.design_id for e in events} - known_d
            if missing_d:
                raise NotFound(f"design {min(missing_d)} not found")
        except (Invalid, NotFound) as exc:
            results.append(exc)
            continue
        results.append([])
        for e in events:
            rows.append({"design_id": e.design_id, "buyer_id": e.buyer_id, "kind": e.kind, "occurred_at": now})
            owners.append(r)
    if rows:
        for owner, event_id in zip(owners, _insert_events(session, rows)):
            results[owner].append(event_id)  # type: ignore[union-attr]
        views = Counter(row["design_id"] for row in rows if row["kind"] == "view")
        if views:  # one executemany; a fixed order avoids deadlocks between writers (`updated_at` by onupdate)
            designs_t = Design.__table__
            session.connection().execute(
                update(designs_t).where(designs_t.c.id == bindparam("did"))
                .values(impressions=designs_t.c.impressions + bindparam("n")),
                [{"did": design_id, "n": n} for design_id, n in sorted(views.items())])
    return results


def _insert_events(session: Session, rows: list[dict[str, object]]) -> list[int]:
    """Insert `rows`; their ids in the order of `rows`.

    SQLite: one multi-row INSERT ... RETURNING. It assigns rowids one above the largest in row order
    (the table has no AUTOINCREMENT, ids never near 2**63), but returns them in no defined order, so
    they are sorted. That is 1.5x faster than SQLAlchemy's `sort_by_parameter_order`, which on SQLite
    inserts row by row (32 vs 21 ms for 800 events). Other databases: `sort_by_parameter_order`."""
    if session.get_bind().dialect.name == "sqlite":
        return sorted(session.scalars(insert(InterestEvent).returning(InterestEvent.id), rows).all())
    return list(session.scalars(insert(InterestEvent).returning(InterestEvent.id, sort_by_parameter_order=True), rows).all())


class EventWriter:
    """One thread, with its own connection, that commits every waiting request's events together."""

    def __init__(self, sessions: sessionmaker[Session], *, max_events: int = 5000) -> None:
        self._sessions = sessions
        self._max_events = max_events
        self._queue: queue.Queue[_Request | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="event-writer", daemon=True)
        self._thread.start()

    def submit(self, events: Sequence[EventIn], now: datetime, timeout_s: float = 30.0) -> list[int]:
        """Store `events` (all or nothing) and return their ids once committed."""
        check_kinds(events)
        req = _Request(events, now, Future())
        self._queue.put(req)
        return req.done.result(timeout=timeout_s)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=30)

    def _run(self) -> None:
        engine = self._sessions.kw["bind"]
        conn: Connection | None = engine.connect()  # at start-up, while the pool is free (module docstring)
        while True:
            first = self._queue.get()
            if first is None:
                if conn is not None:
                    conn.close()
                return
            batch, size = [first], len(first.events)
            while size < self._max_events:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self._queue.put(None)  # finish this batch, then stop
                    break
                batch.append(nxt)
                size += len(nxt.events)
            try:
                conn = conn or engine.connect()
                with self._sessions(bind=conn) as s, s.begin():
                    results = store_events(s, [(r.events, r.now) for r in batch])
            except Exception as exc:  # the commit itself failed: nobody's events are stored; tell every waiter
                for r in batch:
                    r.done.set_exception(exc)
                if conn is not None:  # a fresh connection for the next batch, in case this one broke
                    conn.close()
                    conn = None
                continue
            for r, res in zip(batch, results):
                if isinstance(res, Exception):
                    r.done.set_exception(res)
                else:
                    r.done.set_result(res)

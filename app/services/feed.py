"""What buyers see: the personalised feed and semantic search over designs whose pre-order book is open.

`DemandCache` keeps those designs as arrays (embedding, counters, prior, threshold) in memory so a
feed request over 100,000 designs costs a few array operations, not a table scan. It follows the
database incrementally through `designs.updated_at` (every counter update touches it), so several
processes can serve the same database. The database stays the source of truth.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import event, select
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from matching.demand import GLOBAL_PRIOR, Posterior, Prior, population_prior, posterior_from_arrays
from matching.exposure import FEED_POOL, mean_scores, rank_feed
from matching.interest import EVENT_WEIGHTS

from app.lifecycle import BOOK_STATES
from app.models import Design, InterestEvent, utcnow
from app.services import search as search_svc
from app.services.group_order import moq_price

if TYPE_CHECKING:
    from app.workspace import Workspace

UNINFORMED = ("global", "pooled")  # prior sources that say nothing about the design itself
# Commit lag: `updated_at` is stamped when a row is written, and the row commits a little later. A sync
# re-reads rows stamped up to SYNC_MARGIN before the previous sync; every WIDE_EVERY_S it looks back
# WIDE_MARGIN instead (a write that waited for the lock), and every RESCAN_S it re-reads every design.
# Looking back the wide margin on every sync, at 2,000 events/s over 100,000 designs, meant 10,000 rows
# per sync and saturated the server (BENCHMARKS.md, "Feeds while events arrive").
SYNC_MARGIN = timedelta(seconds=0.5)
WIDE_EVERY_S = 5.0
WIDE_MARGIN = timedelta(seconds=WIDE_EVERY_S + 5)  # a wide look-back every 5 s catches lags up to 5 s
RESCAN_S = 300.0
# Feeds and search served over HTTP may show counters up to this old; in-process callers such as the
# simulator sync every time, so seeded runs do not depend on timing. The server syncs the cache in the
# background every 0.5 s (`app.api.main`), so a request rarely syncs itself; one that did, at 2,000
# events/s over 100,000 designs, read some 10,000 changed rows first (BENCHMARKS.md, "Feeds while
# events arrive").
FEED_MAX_AGE_S = 1.0
PREFERENCE_HALF_LIFE_DAYS = 14.0
# A large feed scores only candidates: MEAN_CANDIDATES_PER_POOL x pool designs best at the posterior mean,
# plus the NEAREST_CANDIDATES designs nearest to the buyer. At 100,000 designs, 1 x pool left 0.5% of
# the designs an all-designs feed shows outside the candidates; 2 x pool left none of 8,000 (BENCHMARKS.md).
MEAN_CANDIDATES_PER_POOL = 2
NEAREST_CANDIDATES = 256
Nearest = Callable[[np.ndarray, int], np.ndarray]  # (query (dim,), k) -> ids of up to k nearest designs


@dataclass(frozen=True)
class Filters:
    """What a buyer narrowed the open designs to: a category, a highest price (the unit price at the buyer
    MOQ, in cents), a colour, a material, a pattern; None is no filter."""

    category: str | None = None
    max_price_cents: int | None = None
    color: str | None = None
    material: str | None = None
    pattern: str | None = None

    def keep(self, a: DemandArrays) -> np.ndarray:
        """(n,) bool: the designs of `a` that pass every filter given."""
        keep = np.ones(len(a.ids), dtype=bool)
        for name in ("category", "color", "material", "pattern"):
            value = getattr(self, name)
            if value is not None:
                keep &= getattr(a, name) == value
        if self.max_price_cents is not None:
            keep &= a.price <= self.max_price_cents
        return keep


def prior_of(d: Design) -> Prior:
    return Prior(**d.prior) if d.prior else GLOBAL_PRIOR


@dataclass
class DemandArrays:
    ids: np.ndarray  # (n,) int64
    vectors: np.ndarray  # (n, dim) float32
    status: np.ndarray  # (n,) str
    category: np.ndarray  # (n,) str
    color: np.ndarray  # (n,) str: the spec's colour, material and pattern (the storefront's filters)
    material: np.ndarray
    pattern: np.ndarray
    price: np.ndarray  # (n,) int64, unit price of one buyer's smallest order, at the buyer MOQ (cents)
    threshold: np.ndarray
    committed: np.ndarray
    impressions: np.ndarray
    orders: np.ndarray
    pieces: np.ndarray
    published_at: np.ndarray  # (n,) datetime64[s]
    window_end: np.ndarray
    budget: np.ndarray  # (n,) impressions the design is tested with at most
    moq: np.ndarray  # (n,) the buyer MOQ of each design (pieces)
    prior: np.ndarray  # (n, 4) float64: conv_a, conv_b, size_shape, size_rate of each design's own prior
    uninformed: np.ndarray  # (n,) bool: its prior came from no similar decided design
    _posterior: Posterior | None = field(default=None, repr=False)
    _orders: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def posterior(self) -> Posterior:
        """Posteriors of every open design (computed once per version of the arrays). A design whose
        prior came from no similar decided design uses the empirical-Bayes prior of the designs under
        test instead of the fixed global one."""
        if self._posterior is None:
            self._posterior = self._compute_posterior()
        return self._posterior

    def policy_order(self, policy: str) -> np.ndarray:
        """Positions of every design, best first by `policy`'s score at the posterior mean (computed
        once per version of the arrays): a large feed's candidate pool is the first of these that pass
        its filters, so a request does not score all designs again."""
        order = self._orders.get(policy)
        if order is None:
            need = np.maximum(self.threshold - self.committed, 1)
            pre = mean_scores(policy, self.posterior(), need=need, target=targets(self), impressions=self.impressions)
            order = self._orders[policy] = np.argsort(-pre, kind="stable")
        return order

    def positions(self, ids: np.ndarray) -> np.ndarray:
        """Position of each id in these arrays (a binary search: `self.ids` is sorted), -1 for ids that
        are not open designs."""
        ids = np.asarray(ids, dtype=np.int64)
        if len(self.ids) == 0:
            return np.full(len(ids), -1, dtype=np.int64)
        pos = np.minimum(np.searchsorted(self.ids, ids), len(self.ids) - 1)
        return np.where(self.ids[pos] == ids, pos, -1)

    def _compute_posterior(self) -> Posterior:
        a, b, s, r = (self.prior[:, j].copy() for j in range(4))
        pop = population_prior(self.impressions, self.orders, self.pieces, self.moq)
        if pop is not None:
            u = self.uninformed
            a[u], b[u], s[u], r[u] = pop.conv_a, pop.conv_b, pop.size_shape, pop.size_rate / np.maximum(self.moq[u], 1)
        return posterior_from_arrays(a, b, s, r, self.impressions, self.orders, self.pieces)


# `committed` here is what the odds and the feed trust: the book's pieces less those of pre-orders outside
# the demand counters (`Design.untrusted`: a flagged buyer's, a rebook after a cancel).
_LIGHT = (Design.id, Design.status, Design.book_closed_at, Design.embedding.is_not(None), Design.production_threshold,
          Design.committed - Design.untrusted, Design.impressions, Design.pre_order_count, Design.pieces_ordered, Design.window_end,
          Design.impression_budget)


@dataclass
class _Entry:
    """One open design: what changes (counters, status) and what does not (vector, prior, price...)."""

    threshold: int
    committed: int
    impressions: int
    orders: int
    pieces: int
    window_end: datetime
    budget: int
    status: str
    vector: np.ndarray
    category: str
    price: int
    moq: int
    published_at: datetime
    prior: Prior
    color: str = ""
    material: str = ""
    pattern: str = ""


class DemandCache:
    """Open designs as arrays, synced from the database by `updated_at`.

    A sync re-reads the light columns (status, counters) of the designs touched since the last sync,
    less a margin, and the heavy ones (spec, embedding, prior) only for designs it has not seen yet.
    The margin is there because `updated_at` is set when a row is written, not when it commits: a
    write that commits later than the next sync, with an older timestamp, is still read (SYNC_MARGIN,
    WIDE_MARGIN and RESCAN_S above say how far back, how often). An earlier version skipped the sync
    whenever `max(updated_at)` had not moved, which missed exactly those writes, for good. A caller
    that can use slightly older counters passes `max_age_s`."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self._entries: dict[int, _Entry] = {}
        self._since = datetime(1970, 1, 1)
        self._synced_at = self._wide_at = self._rescanned_at = -math.inf  # time.monotonic() of the last ones
        self._arrays: DemandArrays | None = None
        self._lock = threading.Lock()
        # A design written through this process's ORM sessions (publish, pre-order, decision...) makes the
        # next sync run whatever `max_age_s` says, so its own writes show at once. The event writer's
        # counter updates are Core statements on its connection: those are what `max_age_s` spaces out.
        event.listen(sessions, "after_flush", _note_flush)
        event.listen(sessions, "do_orm_execute", _note_execute)
        event.listen(sessions, "after_commit", self._note_commit)
        event.listen(sessions, "after_rollback", lambda session: session.info.pop(_DESIGNS_WRITTEN, None))

    def _note_commit(self, session: Session) -> None:
        if session.info.pop(_DESIGNS_WRITTEN, False):
            self._synced_at = -math.inf

    def sync(self, *, full: bool = False, max_age_s: float = 0.0) -> None:
        """Apply every committed design change since the last sync (everything with `full`), unless the
        last sync is less than `max_age_s` old.

        Reads through a session of its own, so it never touches a caller's unfinished transaction."""
        started = time.monotonic()
        if not full and started - self._synced_at < max_age_s:
            return
        mark = utcnow()
        rescan = full or started - self._rescanned_at >= RESCAN_S
        with self._sessions() as session:
            wide = started - self._wide_at >= WIDE_EVERY_S
            since = datetime(1970, 1, 1) if rescan else self._since - (WIDE_MARGIN if wide else SYNC_MARGIN)
            light = session.execute(select(*_LIGHT).where(Design.updated_at >= since)).all()
            # a full sync drops every entry below, so it reads every open design again
            new_ids = [r[0] for r in light if _open(r) and (full or r[0] not in self._entries)]
            heavy = {d.id: d for d in session.scalars(select(Design).where(Design.id.in_(new_ids)))} if new_ids else {}
        with self._lock:
            if full:
                self._entries.clear()
            same_designs, touched = not full, []
            for (i, status, closed, has_vec, threshold, committed, imps, orders, pieces, window_end, budget) in light:
                if not _open((i, status, closed, has_vec)):
                    same_designs &= self._entries.pop(i, None) is None
                    continue
                e = self._entries.get(i)
                touched.append(i)
                if e is None:
                    same_designs = False
                    d = heavy[i]
                    e = _Entry(0, 0, 0, 0, 0, window_end, 0, status, np.frombuffer(d.embedding, dtype=np.float32),
                               d.category, moq_price(d.spec), int(d.spec["moq"]),
                               d.published_at, prior_of(d), str(d.spec.get("color", "")),
                               str(d.spec.get("material", "")), str(d.spec.get("pattern", "")))
                    self._entries[i] = e
                e.threshold, e.committed, e.impressions, e.orders, e.pieces = threshold or 1, committed, imps, orders, pieces
                e.window_end, e.status, e.budget = window_end, status, budget or 10**9
            if same_designs and self._arrays is not None:  # counters moved: patch copies, no rebuild
                if touched:
                    self._arrays = self._patched(self._arrays, touched)
            else:
                self._arrays = None
            self._since, self._synced_at = mark, started
            if rescan or wide:
                self._wide_at = started
            if rescan:
                self._rescanned_at = started

    def _patched(self, old: DemandArrays, ids: list[int]) -> DemandArrays:
        """`old` with the changing fields of designs `ids` (all in it) taken from their entries. A new
        object, so requests holding `old` keep a consistent view. Rebuilding the arrays from the entries
        instead took 0.7-1.2 s at 100,000 designs, and events change counters every few milliseconds."""
        pos = old.positions(np.array(ids, dtype=np.int64))
        es = [self._entries[i] for i in ids]
        new = replace(old, **{f: getattr(old, f).copy() for f in _CHANGING}, _posterior=None, _orders={})
        for f in _CHANGING:
            getattr(new, f)[pos] = [getattr(e, f) for e in es]
        return new

    def arrays(self) -> DemandArrays:
        with self._lock:
            if self._arrays is None:
                ids = sorted(self._entries)
                es = [self._entries[i] for i in ids]
                dim = es[0].vector.shape[0] if es else 0
                self._arrays = DemandArrays(
                    ids=np.array(ids, dtype=np.int64),
                    vectors=np.stack([e.vector for e in es]) if es else np.zeros((0, dim), np.float32),
                    status=np.array([e.status for e in es], dtype=object),
                    category=np.array([e.category for e in es], dtype=object),
                    color=np.array([e.color for e in es], dtype=object),
                    material=np.array([e.material for e in es], dtype=object),
                    pattern=np.array([e.pattern for e in es], dtype=object),
                    price=np.array([e.price for e in es], dtype=np.int64),
                    threshold=np.array([e.threshold for e in es], dtype=np.int64),
                    committed=np.array([e.committed for e in es], dtype=np.int64),
                    impressions=np.array([e.impressions for e in es], dtype=np.int64),
                    orders=np.array([e.orders for e in es], dtype=np.int64),
                    pieces=np.array([e.pieces for e in es], dtype=np.int64),
                    published_at=np.array([e.published_at for e in es], dtype="datetime64[s]"),
                    window_end=np.array([e.window_end for e in es], dtype="datetime64[s]"),
                    budget=np.array([e.budget for e in es], dtype=np.int64),
                    moq=np.array([e.moq for e in es], dtype=np.int64),
                    prior=np.array([[e.prior.conv_a, e.prior.conv_b, e.prior.size_shape, e.prior.size_rate] for e in es],
                                   dtype=np.float64).reshape(-1, 4),
                    uninformed=np.array([e.prior.source in UNINFORMED for e in es], dtype=bool),
                )
            return self._arrays


_DESIGNS_WRITTEN = "feed.designs_written"


def _note_flush(session: Session, _context: object) -> None:
    if any(isinstance(o, Design) for o in (*session.new, *session.dirty, *session.deleted)):
        session.info[_DESIGNS_WRITTEN] = True


def _note_execute(state: ORMExecuteState) -> None:
    if (state.is_update or state.is_insert or state.is_delete) and getattr(state.statement, "table", None) is Design.__table__:
        state.session.info[_DESIGNS_WRITTEN] = True


_CHANGING = ("status", "threshold", "committed", "impressions", "orders", "pieces", "window_end", "budget")


def _open(row: tuple) -> bool:  # (id, status, book_closed_at, has_embedding, ...)
    return row[1] in BOOK_STATES and row[2] is None and bool(row[3])


def buyer_vector(session: Session, cache_arrays: DemandArrays, buyer_id: int, now: datetime,
                 *, last: int = 200) -> np.ndarray | None:
    """The buyer's taste: recent events' design embeddings weighted by event kind and recency."""
    events = session.execute(
        select(InterestEvent.design_id, InterestEvent.kind, InterestEvent.occurred_at)
        .where(InterestEvent.buyer_id == buyer_id, InterestEvent.counted.is_(True))
        .order_by(InterestEvent.id.desc()).limit(last)).all()
    weights: dict[int, float] = {}
    for design_id, kind, at in events:
        age = max(0.0, (now - at).total_seconds() / 86400.0)
        w = EVENT_WEIGHTS[kind] * math.exp(-math.log(2) * age / PREFERENCE_HALF_LIFE_DAYS)
        if w > 0:
            weights[design_id] = weights.get(design_id, 0.0) + w
    if not weights:
        return None
    ids = np.fromiter(weights, dtype=np.int64, count=len(weights))
    pos = dict(zip(weights, cache_arrays.positions(ids).tolist()))  # a lookup per event, not per design
    vecs, ws = [], []
    missing = [i for i in weights if pos[i] < 0]
    stored = dict(session.execute(select(Design.id, Design.embedding).where(Design.id.in_(missing))).all()) if missing else {}
    for design_id, w in weights.items():
        if pos[design_id] >= 0:
            vecs.append(cache_arrays.vectors[pos[design_id]])
        elif stored.get(design_id) is not None:
            vecs.append(np.frombuffer(stored[design_id], dtype=np.float32))
        else:
            continue
        ws.append(w)
    if not vecs:
        return None
    u = np.average(np.stack(vecs), axis=0, weights=np.array(ws))
    norm = float(np.linalg.norm(u))
    return (u / norm).astype(np.float32) if norm > 0 else None


def targets(a: DemandArrays) -> np.ndarray:
    """τ per design: the pieces per impression that fill its threshold within its impression budget."""
    return a.threshold / np.maximum(a.budget, 1)


def feed_ids(session: Session, cache: DemandCache, buyer_id: int, *, k: int, policy: str,
             relevance_weight: float, rng: np.random.Generator, now: datetime | None = None,
             category: str | None = None, max_price_cents: int | None = None, nearest: Nearest | None = None,
             pool: int = FEED_POOL, max_age_s: float = 0.0, filters: Filters | None = None) -> list[int]:
    """Ids of the designs to show this buyer, best first: the exposure policy mixed with relevance,
    among the designs of `category` whose price at the buyer MOQ is at most `max_price_cents` (when given)
    that pass `filters`.

    With more than `pool` designs and a `nearest` search (`index_nearest`), only candidates are scored
    (`_candidates`), not all 100,000 embeddings. `rank_feed` takes its pool from them by the same rule
    as from all designs, so the feed is the same whenever they hold that pool. Without `nearest` every
    design's relevance is computed (a mat-vec over all embeddings per request: exact, and slower).
    `max_age_s`: how old the cache's counters may be (the server passes FEED_MAX_AGE_S; the default,
    0, syncs first, which keeps seeded simulations independent of wall-clock time)."""
    cache.sync(max_age_s=max_age_s)
    a = cache.arrays()
    keep = a.impressions < a.budget  # a design whose budget is spent waits for its decision
    keep &= Filters(category, max_price_cents).keep(a)
    if filters is not None:
        keep &= filters.keep(a)
    n_keep = int(np.count_nonzero(keep))
    if n_keep == 0:
        return []
    u = buyer_vector(session, a, buyer_id, now or utcnow())
    if nearest is not None and policy != "uniform" and n_keep > MEAN_CANDIDATES_PER_POOL * pool:
        cand = _candidates(a, keep, policy, u, nearest, pool)
        relevance = a.vectors[cand] @ u if u is not None else None
    else:
        cand = np.flatnonzero(keep)
        relevance = (a.vectors @ u)[cand] if u is not None else None  # never copy the (n, dim) matrix
    order = rank_feed(policy, a.posterior().take(cand), rng, k=k, need=np.maximum(a.threshold[cand] - a.committed[cand], 1),
                      target=a.threshold[cand] / np.maximum(a.budget[cand], 1), impressions=a.impressions[cand],
                      relevance=relevance, relevance_weight=relevance_weight, pool=pool)
    return [int(i) for i in a.ids[cand[order]]]


def _candidates(a: DemandArrays, keep: np.ndarray, policy: str, u: np.ndarray | None, nearest: Nearest,
                pool: int) -> np.ndarray:
    """Sorted positions: the MEAN_CANDIDATES_PER_POOL x `pool` designs passing `keep` that are best at
    the posterior mean, and those of the buyer's NEAREST_CANDIDATES nearest designs that pass `keep`.
    Relevance moves a design into `rank_feed`'s pool only within the spread of relevance_weight x
    cosine, so designs far down both lists do not get in."""
    order = a.policy_order(policy)
    best = order[keep[order]][:MEAN_CANDIDATES_PER_POOL * pool]
    if u is None:
        return np.sort(best)
    near = a.positions(nearest(u, NEAREST_CANDIDATES))
    near = near[near >= 0]
    return np.union1d(best, near[keep[near]])


def index_nearest(ws: Workspace) -> Nearest:
    """`Nearest` over the workspace's design index (approximate once it holds more than 20,000 designs:
    IVF); searched under the index lock, as writes to the index may run meanwhile."""
    def nearest(u: np.ndarray, k: int) -> np.ndarray:
        with ws.index_lock:
            _, ids = ws.design_index.search(u[None, :], k)
        return ids[0][ids[0] >= 0]
    return nearest


def designs_by_id(session: Session, ids: list[int]) -> list[Design]:
    """The designs, in the order of `ids`."""
    found = {d.id: d for d in session.scalars(select(Design).where(Design.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


def search(session: Session, ws: Workspace, query: str, *, k: int, category: str | None = None,
           max_price_cents: int | None = None, max_age_s: float = 0.0,
           filters: Filters | None = None) -> list[tuple[Design, float]]:
    """Designs open for pre-order that match `query` (hybrid: what it names, its words in both languages,
    its meaning; `matching.search`), filtered by category and price and `filters`, best first. Nothing
    for a query that names nothing we sell."""
    hits = search_ids(session, ws, query, k=k, filters=replace(filters or Filters(), **{
        name: value for name, value in (("category", category), ("max_price_cents", max_price_cents)) if value is not None}),
        max_age_s=max_age_s)
    found = {d.id: d for d in designs_by_id(session, [i for i, _ in hits])}
    return [(found[i], score) for i, score in hits if i in found]


def search_ids(session: Session, ws: Workspace, query: str, *, k: int, filters: Filters,
               max_age_s: float = 0.0) -> list[tuple[int, float]]:
    """(design id, score) of `search`, without reading the designs (a caller that orders every hit by
    something else reads only the page it shows)."""
    cache = ws.demand_cache
    cache.sync(max_age_s=max_age_s)
    a = cache.arrays()
    keep = filters.keep(a)
    if not keep.any():
        return []

    def specs(ids: list[int]) -> dict[int, dict[str, Any]]:
        return dict(session.execute(select(Design.id, Design.spec).where(Design.id.in_(ids))).all()) if ids else {}

    index = ws.search_cache.index(a.ids, specs, ws.language)
    cos = search_svc.cosine(ws.embedder.encode([query])[0], a.vectors)
    hits = index.search(search_svc.query_of(query, ws.language), allowed=keep, k=k, cosine=cos)
    return [(h.id, h.score) for h in hits]

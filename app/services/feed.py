"""What buyers see: the personalised feed and semantic search over designs whose pre-order book is open.

`DemandCache` keeps those designs as arrays (embedding, counters, prior, threshold) in memory so a
feed request over 100,000 designs costs a few array operations, not a table scan. It follows the
database incrementally through `designs.updated_at` (every counter update touches it), so several
processes can serve the same database. The database stays the source of truth.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from matching.demand import GLOBAL_PRIOR, Posterior, Prior, posterior
from matching.exposure import rank_feed
from matching.interest import EVENT_WEIGHTS

from app.models import Design, InterestEvent, utcnow

if TYPE_CHECKING:
    from app.workspace import Workspace

SYNC_MARGIN = timedelta(seconds=5)  # re-read rows touched shortly before the last sync (commit lag)
PREFERENCE_HALF_LIFE_DAYS = 14.0


def is_open(d: Design) -> bool:
    """Buyers can pre-order: published, or won on probability while its book is still open."""
    return d.status in ("published", "won") and d.book_closed_at is None and d.embedding is not None


def prior_of(d: Design) -> Prior:
    return Prior(**d.prior) if d.prior else GLOBAL_PRIOR


@dataclass
class DemandArrays:
    ids: np.ndarray  # (n,) int64
    vectors: np.ndarray  # (n, dim) float32
    status: np.ndarray  # (n,) str
    category: np.ndarray  # (n,) str
    price: np.ndarray  # (n,) int64, unit price of the smallest tier (cents)
    threshold: np.ndarray
    committed: np.ndarray
    impressions: np.ndarray
    orders: np.ndarray
    pieces: np.ndarray
    published_at: np.ndarray  # (n,) datetime64[s]
    window_end: np.ndarray
    priors: list[Prior]

    def posterior(self) -> Posterior:
        return posterior(self.priors, self.impressions, self.orders, self.pieces)


class DemandCache:
    """Open designs as arrays, synced from the database by `updated_at`."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self._rows: dict[int, Design] = {}
        self._vectors: dict[int, np.ndarray] = {}
        self._since = datetime(1970, 1, 1)
        self._arrays: DemandArrays | None = None
        self._lock = threading.Lock()

    def sync(self, *, full: bool = False) -> None:
        """Apply every committed design change since the last sync (everything with `full`).

        Reads through a session of its own, so it never touches a caller's unfinished transaction."""
        mark = utcnow()
        since = datetime(1970, 1, 1) if full else self._since - SYNC_MARGIN
        with self._sessions() as session:
            changed = session.scalars(select(Design).where(Design.updated_at >= since)).all()
            session.expunge_all()  # detached snapshots; the cache never writes
        with self._lock:
            if full:
                self._rows.clear()
                self._vectors.clear()
            for d in changed:
                if is_open(d):
                    self._rows[d.id] = d
                    if d.id not in self._vectors:
                        self._vectors[d.id] = np.frombuffer(d.embedding, dtype=np.float32)
                else:
                    self._rows.pop(d.id, None)
                    self._vectors.pop(d.id, None)
            if changed or full:
                self._arrays = None
            self._since = mark

    def arrays(self) -> DemandArrays:
        with self._lock:
            if self._arrays is None:
                rows = sorted(self._rows.values(), key=lambda d: d.id)
                dim = next(iter(self._vectors.values())).shape[0] if self._vectors else 0
                self._arrays = DemandArrays(
                    ids=np.array([d.id for d in rows], dtype=np.int64),
                    vectors=np.stack([self._vectors[d.id] for d in rows]) if rows else np.zeros((0, dim), np.float32),
                    status=np.array([d.status for d in rows], dtype=object),
                    category=np.array([d.category for d in rows], dtype=object),
                    price=np.array([d.spec["price_tiers"][0]["unit_price_cents"] for d in rows], dtype=np.int64),
                    threshold=np.array([d.production_threshold or 1 for d in rows], dtype=np.int64),
                    committed=np.array([d.committed for d in rows], dtype=np.int64),
                    impressions=np.array([d.impressions for d in rows], dtype=np.int64),
                    orders=np.array([d.pre_order_count for d in rows], dtype=np.int64),
                    pieces=np.array([d.pieces_ordered for d in rows], dtype=np.int64),
                    published_at=np.array([d.published_at for d in rows], dtype="datetime64[s]"),
                    window_end=np.array([d.window_end for d in rows], dtype="datetime64[s]"),
                    priors=[prior_of(d) for d in rows],
                )
            return self._arrays


def buyer_vector(session: Session, cache_arrays: DemandArrays, buyer_id: int, now: datetime,
                 *, last: int = 200) -> np.ndarray | None:
    """The buyer's taste: recent events' design embeddings weighted by event kind and recency."""
    events = session.execute(
        select(InterestEvent.design_id, InterestEvent.kind, InterestEvent.occurred_at)
        .where(InterestEvent.buyer_id == buyer_id).order_by(InterestEvent.id.desc()).limit(last)).all()
    weights: dict[int, float] = {}
    for design_id, kind, at in events:
        age = max(0.0, (now - at).total_seconds() / 86400.0)
        w = EVENT_WEIGHTS[kind] * math.exp(-math.log(2) * age / PREFERENCE_HALF_LIFE_DAYS)
        if w > 0:
            weights[design_id] = weights.get(design_id, 0.0) + w
    if not weights:
        return None
    pos = {int(i): k for k, i in enumerate(cache_arrays.ids)}
    vecs, ws = [], []
    missing = [i for i in weights if i not in pos]
    stored = dict(session.execute(select(Design.id, Design.embedding).where(Design.id.in_(missing))).all()) if missing else {}
    for design_id, w in weights.items():
        if design_id in pos:
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


def feed_ids(session: Session, cache: DemandCache, buyer_id: int, *, k: int, policy: str,
             relevance_weight: float, rng: np.random.Generator, now: datetime | None = None) -> list[int]:
    """Ids of the designs to show this buyer, best first: the exposure policy mixed with relevance."""
    cache.sync()
    a = cache.arrays()
    if len(a.ids) == 0:
        return []
    u = buyer_vector(session, a, buyer_id, now or utcnow())
    relevance = a.vectors @ u if u is not None else None
    need = np.maximum(a.threshold - a.committed, 1)
    order = rank_feed(policy, a.posterior(), need, rng, k=k, relevance=relevance, relevance_weight=relevance_weight)
    return [int(i) for i in a.ids[order]]


def designs_by_id(session: Session, ids: list[int]) -> list[Design]:
    """The designs, in the order of `ids`."""
    found = {d.id: d for d in session.scalars(select(Design).where(Design.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


def search(session: Session, ws: Workspace, query: str, *, k: int, category: str | None = None,
           max_price_cents: int | None = None) -> list[tuple[Design, float]]:
    """Designs open for pre-order closest in meaning to `query`, filtered by category and price."""
    cache = ws.demand_cache
    cache.sync()
    a = cache.arrays()
    keep = np.ones(len(a.ids), dtype=bool)
    if category is not None:
        keep &= a.category == category
    if max_price_cents is not None:
        keep &= a.price <= max_price_cents
    allowed = a.ids[keep]
    if len(allowed) == 0:
        return []
    q = ws.embedder.encode([query])
    with ws.index_lock:
        scores, ids = ws.design_index.search(q, k, allowed_ids=allowed)
    hits = [(int(i), float(sc)) for i, sc in zip(ids[0], scores[0]) if i >= 0]
    found = {d.id: d for d in designs_by_id(session, [i for i, _ in hits])}
    return [(found[i], sc) for i, sc in hits if i in found]

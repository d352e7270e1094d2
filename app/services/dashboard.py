"""The merchandiser's view of designs under test: interest counters, demand posterior and P(reach).

The posterior is the feed's own (`DemandCache.arrays().posterior()`), so the dashboard shows exactly
what the exposure policy and the decisions act on; P(reach) is the value the last decision stored.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from matching.interest import InterestStats

from app import lifecycle
from app.lifecycle import BOOK_STATES
from app.models import Design
from app.services import designs, interest
from app.services.feed import DemandCache

UNDER_TEST = BOOK_STATES  # designs whose test or open pre-order book is running


@dataclass(frozen=True)
class TestRow:
    """One design under test, as the dashboard shows it."""

    design: Design
    stats: InterestStats
    conversion: float | None  # posterior mean pre-orders per impression (None: not in the feed's cache)
    pieces_per_impression: float | None  # posterior mean pieces per impression
    p_reach: float | None  # P(reach the threshold) from the last decision

    @property
    def progress(self) -> float:
        """Committed pieces as a share of the production threshold (0..1)."""
        return progress(self.design)


def progress(design: Design) -> float:
    """A design's committed pieces as a share of its production threshold (0..1; 0 before publishing)."""
    if not design.production_threshold:
        return 0.0
    return min(1.0, design.committed / design.production_threshold)


def shown_counts(session: Session) -> dict[str, int]:
    """Designs per status as the pages word them (`lifecycle.design_word`: a win whose book is still open
    is counted as "winning", apart from the winners waiting for factories), keyed by catalogue key."""
    out: dict[str, int] = {}
    for status, closed, n in session.execute(select(Design.status, Design.book_closed_at.is_not(None), func.count())
                                             .group_by(Design.status, Design.book_closed_at.is_not(None))):
        key = lifecycle.design_word(status, bool(closed))
        out[key] = out.get(key, 0) + n
    return out


def designs_under_test(session: Session, cache: DemandCache, *, limit: int = 500) -> list[TestRow]:
    """Every published design and every winner still filling its book, newest first, with its
    interest counters and demand posterior."""
    rows = [d for status in UNDER_TEST for d in designs.list_designs(session, status=status, limit=limit, newest_first=True)
            if d.book_closed_at is None]  # a winner whose book has closed waits for factories instead
    rows.sort(key=lambda d: d.id, reverse=True)
    stats = interest.stats(session, [d.id for d in rows])
    cache.sync()
    a = cache.arrays()
    pos = dict(zip((d.id for d in rows), a.positions(np.array([d.id for d in rows], dtype=np.int64)).tolist()))
    post = a.posterior() if len(a.ids) else None
    out = []
    for d in rows:
        k = pos[d.id]
        conv = ppi = None
        if post is not None and k >= 0:
            conv = float(post.conversion_mean[k])
            ppi = float(post.pieces_per_impression[k])
        out.append(TestRow(d, stats[d.id], conv, ppi, d.p_reach))
    return out[:limit]

"""The storefront's shelves: the feed or a search, narrowed by filters (`feed.Filters`), in the order a
buyer picked, one page at a time. The shop page and the buyer API call the same `browse`.

Orders: `relevance` (a search's hybrid score; without a query, the personal feed's order), `price`
(the unit price at the buyer MOQ, cheapest first), `price_desc`, `progress` (share of the production
threshold committed, fullest first) and `ending` (the test window that closes first). The feed's own
order has exploration in it: the first page picks a random seed, and the next pages carry it
(`Shelf.seed`), so page 2 continues the order of page 1 instead of drawing a new one.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy.orm import Session

from app.db import transaction
from app.errors import Invalid
from app.models import Design, utcnow
from app.services import feed, wants
from app.services import search as search_svc

if TYPE_CHECKING:
    from app.workspace import Workspace

SORTS: tuple[str, ...] = ("relevance", "price", "price_desc", "progress", "ending")
MAX_PAGE = 1_000


@dataclass(frozen=True)
class Shelf:
    """One page of designs, with the search score of each (None on the feed)."""

    designs: list[Design]
    scores: list[float | None]
    page: int
    has_next: bool
    seed: int | None  # the feed's exploration seed that the next page must carry (None for a search)


def check_sort(sort: str) -> str:
    if sort not in SORTS:
        raise Invalid(f"unknown sort {sort!r}; allowed: {', '.join(SORTS)}", field="sort")
    return sort


def check_filters(ws: Workspace, filters: feed.Filters) -> feed.Filters:
    """`filters` if each names something of the taxonomy (TaxonomyError naming the allowed ones otherwise)."""
    if filters.category is not None:
        ws.taxonomy.category(filters.category)
    for kind in ("color", "material", "pattern"):
        value = getattr(filters, kind)
        if value is not None:
            ws.taxonomy.attribute(kind, value)
    return filters


def ordered(a: feed.DemandArrays, pos: np.ndarray, sort: str) -> np.ndarray:
    """Positions `pos` of `a` in the order `sort` names (stable: ties keep their order in `pos`)."""
    if sort == "price":
        key = a.price[pos].astype(np.float64)
    elif sort == "price_desc":
        key = -a.price[pos].astype(np.float64)
    elif sort == "progress":
        key = -(a.committed[pos] / np.maximum(a.threshold[pos], 1))
    elif sort == "ending":
        ends = a.window_end[pos]
        key = np.where(np.isnat(ends), np.inf, ends.astype("int64").astype(np.float64))
    else:
        return pos
    return pos[np.argsort(key, kind="stable")]


def browse(session: Session, ws: Workspace, buyer_id: int | None, *, q: str = "", filters: feed.Filters,
           sort: str = "relevance", page: int = 1, page_size: int = 24, seed: int | None = None,
           max_age_s: float = 0.0) -> Shelf:
    """Page `page` (from 1) of `page_size` designs: the search results for `q`, or else the buyer's
    feed (`buyer_id`; staff without one get the open designs by their publication order), filtered and
    ordered by `sort`. A buyer's search whose first page has nothing with all it named is recorded as a
    want (`app.services.wants`)."""
    check_sort(sort)
    if not 1 <= page <= MAX_PAGE:
        raise Invalid(f"page must be between 1 and {MAX_PAGE}, got {page}", field="page")
    start, end = (page - 1) * page_size, page * page_size
    cache = ws.demand_cache
    q = q.strip()
    if q:
        cache.sync(max_age_s=max_age_s)
        a = cache.arrays()
        hits = feed.search_ids(session, ws, q, k=end + 1 if sort == "relevance" else max(len(a.ids), 1),
                               filters=filters, max_age_s=max_age_s)
        if sort != "relevance":
            score = dict(hits)
            pos = a.positions(np.array(list(score), dtype=np.int64))
            hits = [(int(i), score[int(i)]) for i in a.ids[ordered(a, pos[pos >= 0], sort)]]
        by_id = {d.id: d for d in feed.designs_by_id(session, [i for i, _ in hits[start:end]])}
        if buyer_id is not None and page == 1:  # what the buyer asked for and did not find is demand
            shown = [search_svc.doc_of(d.id, d.spec, ws.language) for d in by_id.values()]
            # in a transaction of its own: the caller's stays a reader, so the event writer it waits on
            # next (the served impressions) is never held up by this write (SQLite has one writer)
            with transaction(ws.sessions) as own:
                wants.record_search(own, buyer_id=buyer_id, text=q, query=search_svc.query_of(q, ws.language),
                                    results=shown, now=utcnow())
        window = [(by_id[i], s) for i, s in hits[start:end] if i in by_id]
        return Shelf([d for d, _ in window], [s for _, s in window], page, len(hits) > end, None)
    if sort == "relevance" and buyer_id is not None:
        seed = secrets.randbits(32) if seed is None else seed
        st = ws.settings
        ids = feed.feed_ids(session, cache, buyer_id, k=end + 1, policy=st.exposure_policy,
                            relevance_weight=st.relevance_weight, rng=np.random.default_rng(seed), filters=filters,
                            nearest=feed.index_nearest(ws), max_age_s=max_age_s)
    else:
        cache.sync(max_age_s=max_age_s)
        a = cache.arrays()
        keep = (a.impressions < a.budget) & filters.keep(a)  # a spent budget waits for its decision, as in the feed
        ids = [int(i) for i in a.ids[ordered(a, np.flatnonzero(keep), sort)][:end + 1]]
        seed = None
    found = feed.designs_by_id(session, ids[start:end])
    return Shelf(found, [None] * len(found), page, len(ids) > end, seed)

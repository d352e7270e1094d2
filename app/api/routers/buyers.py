"""Buyer endpoints: feed, search, design detail and images, interest events, pre-orders."""

from __future__ import annotations

from typing import Annotated

import numpy as np
from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import FileResponse

from app.api.deps import SessionDep, WorkspaceDep
from app.api.schemas import (BuyerIn, BuyerOut, DesignOut, EventIn, EventOut, EventsIn, EventsOut, PreOrderIn,
                             PreOrderOut, SearchHit)
from app.errors import NotFound
from app.models import utcnow
from app.services import feed as feed_svc
from app.services import interest

router = APIRouter(prefix="/api/v1", tags=["buyers"])
Id = Annotated[int, Path(ge=1, le=2**53)]


@router.post("/buyers", status_code=201)
def create_buyer(body: BuyerIn, session: SessionDep) -> BuyerOut:
    return BuyerOut.model_validate(interest.create_buyer(session, body.name, body.kind, body.region))


@router.get("/buyers/{buyer_id}")
def get_buyer(buyer_id: Id, session: SessionDep) -> BuyerOut:
    return BuyerOut.model_validate(interest.get_buyer(session, buyer_id))


@router.get("/buyers/{buyer_id}/feed")
def feed(buyer_id: Id, session: SessionDep, ws: WorkspaceDep,
         limit: Annotated[int, Query(ge=1, le=100)] = 20) -> list[DesignOut]:
    """Virtual items open for pre-order, ordered to learn fast which ones buyers want, and personal."""
    interest.get_buyer(session, buyer_id)
    st = ws.settings
    ids = feed_svc.feed_ids(session, ws.demand_cache, buyer_id, k=limit, policy=st.exposure_policy,
                            relevance_weight=st.relevance_weight, rng=np.random.default_rng())
    return [DesignOut.of(d, d.committed) for d in feed_svc.designs_by_id(session, ids)]


@router.get("/search")
def search(session: SessionDep, ws: WorkspaceDep, q: Annotated[str, Query(min_length=1, max_length=500)],
           category: str | None = None, max_price_cents: Annotated[int | None, Query(ge=1, le=10**9)] = None,
           limit: Annotated[int, Query(ge=1, le=100)] = 20) -> list[SearchHit]:
    """Semantic search over the designs open for pre-order, with category and price filters."""
    if category is not None:
        ws.taxonomy.category(category)
    hits = feed_svc.search(session, ws, q, k=limit, category=category, max_price_cents=max_price_cents)
    return [SearchHit(score=score, design=DesignOut.of(d, d.committed)) for d, score in hits]


@router.get("/designs/{design_id}")
def design_detail(design_id: Id, session: SessionDep) -> DesignOut:
    """A published design with its tier prices and how much is committed towards its threshold."""
    d = interest.published_design(session, design_id)
    return DesignOut.of(d, d.committed)


@router.get("/designs/{design_id}/images/{index}", response_class=FileResponse)
def design_image(design_id: Id, index: Annotated[int, Path(ge=0, le=100)], session: SessionDep,
                 ws: WorkspaceDep) -> FileResponse:
    d = interest.published_design(session, design_id)
    if index >= len(d.images):
        raise NotFound(f"design {design_id} has no image {index}")
    return FileResponse(ws.settings.images_dir / d.images[index], media_type="image/png")


@router.post("/events", status_code=201)
def record_event(body: EventIn, ws: WorkspaceDep) -> EventOut:
    """One browse event; answered once it is committed (group commit with other requests)."""
    now = utcnow()
    (event_id,) = ws.event_writer.submit([interest.EventIn(body.buyer_id, body.design_id, body.kind)], now)
    return EventOut(id=event_id, buyer_id=body.buyer_id, design_id=body.design_id, kind=body.kind, occurred_at=now)


@router.post("/events/batch", status_code=201)
def record_events(body: EventsIn, ws: WorkspaceDep) -> EventsOut:
    """Up to 1,000 browse events in one request (as apps send analytics); stored all or nothing."""
    ids = ws.event_writer.submit([interest.EventIn(e.buyer_id, e.design_id, e.kind) for e in body.events], utcnow())
    return EventsOut(stored=len(ids), first_id=ids[0] if ids else None)


@router.post("/preorders", status_code=201, responses={200: {"model": PreOrderOut, "description": "a retry: the first response"}})
def place_preorder(body: PreOrderIn, session: SessionDep, ws: WorkspaceDep, response: Response) -> PreOrderOut:
    """Commit pieces at the tier the group total reaches; a retried idempotency key creates nothing."""
    order, created = interest.place_preorder(session, body.buyer_id, body.design_id, body.quantity, utcnow(),
                                             idempotency_key=body.idempotency_key,
                                             max_quantity=ws.settings.max_quantity)
    if not created:
        response.status_code = 200
    return PreOrderOut.model_validate(order)


@router.post("/buyers/{buyer_id}/preorders/{preorder_id}/cancel")
def cancel_preorder(buyer_id: Id, preorder_id: Id, session: SessionDep) -> PreOrderOut:
    return PreOrderOut.model_validate(interest.cancel_preorder(session, buyer_id, preorder_id))


@router.get("/buyers/{buyer_id}/preorders")
def buyer_preorders(buyer_id: Id, session: SessionDep) -> list[PreOrderOut]:
    return [PreOrderOut.model_validate(p) for p in interest.buyer_preorders(session, buyer_id)]

"""Buyer endpoints: feed, search, design detail and images, interest events, pre-orders.

A buyer user acts only for their own buyer: another buyer's id answers 404 (see `buyer_scope`).
Browsing (search, design detail, images) is open to every signed-in user; a design's internal note
(factories, odds of winning) is shown to merchandisers and admins only (`is_staff`).

Impressions are what the server served: the designs of a feed page, search results or a design's detail
served to a buyer user are stored as served impressions, and the buyer's `view` events confirm them (at
most once per buyer, design and day); clicks, favourites and inquiries count once per buyer and design,
on designs served to them; anything else is ignored (`app.services.event_writer`). Every endpoint a
buyer sends interest through is rate-limited per buyer (429 with Retry-After, `app.services.rate_limit`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import FileResponse, JSONResponse

from app.api import idempotency
from app.api.auth import AdminUser, BuyerUser, CurrentUser, buyer_scope, is_staff, viewer
from app.api.deps import SessionDep, WorkspaceDep
from app.api.schemas import (ERROR_RESPONSES, BuyerIn, BuyerOut, DesignOut, ErrorOut, EventIn, EventOut, EventsIn,
                             EventsOut, FavouriteOut, PreOrderIn, PreOrderOut, SearchHit)
from app.errors import Invalid, NotFound
from app.models import User, utcnow
from app.services import designs as design_svc
from app.services import feed as feed_svc
from app.services import favourites, interest, storefront
from app.services.event_writer import Served
from app.workspace import Workspace

router = APIRouter(prefix="/api/v1", tags=["buyers"], responses=ERROR_RESPONSES)
Id = Annotated[int, Path(ge=1, le=2**53)]
TOO_MANY: dict[str, Any] = {"model": ErrorOut, "description": "over this buyer's rate limit",
            "headers": {"Retry-After": {"description": "seconds until the request would be admitted",
                                        "schema": {"type": "integer"}}}}
LIMITED: dict[int | str, dict[str, Any]] = {429: TOO_MANY}


def _serve(ws: Workspace, user: User, design_ids: list[int], page: str) -> None:
    """A buyer user was served these designs on `page` (a rate-limited page; nothing for other roles)."""
    if user.role != "buyer" or user.buyer_id is None:
        return
    ws.rate_limiter.take("pages", user.buyer_id)
    if design_ids:
        ws.event_writer.serve(Served(user.buyer_id, tuple(design_ids), page), utcnow())


@router.post("/buyers", status_code=201)
def create_buyer(body: BuyerIn, _: AdminUser, session: SessionDep) -> BuyerOut:
    """A buyer without an account (admins); buyer accounts get theirs from `POST /users`."""
    return BuyerOut.model_validate(interest.create_buyer(session, body.name, body.kind, body.region))


@router.get("/buyers/{buyer_id}")
def get_buyer(buyer_id: Id, user: BuyerUser, session: SessionDep) -> BuyerOut:
    return BuyerOut.model_validate(interest.get_buyer(session, buyer_scope(user, buyer_id)))


Slug = Annotated[str | None, Query(max_length=50)]
Sort = Annotated[str, Query(max_length=20, description=f"one of {', '.join(storefront.SORTS)}")]
Page = Annotated[int, Query(ge=1, le=storefront.MAX_PAGE)]


def _filters(ws: Workspace, category: str | None, max_price_cents: int | None, color: str | None,
             material: str | None, pattern: str | None) -> feed_svc.Filters:
    return storefront.check_filters(ws, feed_svc.Filters(category, max_price_cents, color, material, pattern))


@router.get("/buyers/{buyer_id}/feed", responses=LIMITED)
def feed(buyer_id: Id, user: BuyerUser, session: SessionDep, ws: WorkspaceDep,
         limit: Annotated[int, Query(ge=1, le=100)] = 20, category: Slug = None,
         max_price_cents: Annotated[int | None, Query(ge=1, le=10**9)] = None, color: Slug = None,
         material: Slug = None, pattern: Slug = None, sort: Sort = "relevance", page: Page = 1,
         seed: Annotated[int | None, Query(ge=0, lt=2**32, description="the exploration seed of page 1, for the next pages")] = None,
         ) -> list[DesignOut]:
    """Virtual items open for pre-order, ordered to learn fast which ones buyers want, and personal (or
    by `sort`); filtered by category, price, colour, material and pattern; `limit` a page."""
    interest.get_buyer(session, buyer_scope(user, buyer_id))
    shelf = storefront.browse(session, ws, buyer_id, filters=_filters(ws, category, max_price_cents, color, material, pattern),
                              sort=sort, page=page, page_size=limit, seed=seed, max_age_s=feed_svc.FEED_MAX_AGE_S)
    found = shelf.designs
    _serve(ws, user, [d.id for d in found], "feed")
    return [DesignOut.of(d, d.committed, taxonomy=ws.taxonomy, viewer=viewer(user)) for d in found]


@router.get("/search", responses=LIMITED)
def search(user: CurrentUser, session: SessionDep, ws: WorkspaceDep,
           q: Annotated[str, Query(min_length=1, max_length=500)], category: Slug = None,
           max_price_cents: Annotated[int | None, Query(ge=1, le=10**9)] = None,
           limit: Annotated[int, Query(ge=1, le=100)] = 20, color: Slug = None, material: Slug = None,
           pattern: Slug = None, sort: Sort = "relevance", page: Page = 1) -> list[SearchHit]:
    """Hybrid search over the designs open for pre-order, filtered by category, price, colour, material
    and pattern, ordered by relevance or `sort`; `limit` hits a page."""
    asker = user.buyer_id if user.role == "buyer" else None  # a buyer's search that finds too little is a want
    shelf = storefront.browse(session, ws, asker, q=q, filters=_filters(ws, category, max_price_cents, color, material, pattern),
                              sort=sort, page=page, page_size=limit, max_age_s=feed_svc.FEED_MAX_AGE_S)
    _serve(ws, user, [d.id for d in shelf.designs], "search")
    return [SearchHit(score=score or 0.0, design=DesignOut.of(d, d.committed, taxonomy=ws.taxonomy, viewer=viewer(user)))
            for d, score in zip(shelf.designs, shelf.scores)]


@router.get("/buyers/{buyer_id}/favourites")
def buyer_favourites(buyer_id: Id, user: BuyerUser, session: SessionDep, ws: WorkspaceDep) -> list[DesignOut]:
    """This buyer's favourite designs, the latest favourited first."""
    found = favourites.favourite_designs(session, interest.get_buyer(session, buyer_scope(user, buyer_id)).id)
    return [DesignOut.of(d, d.committed, taxonomy=ws.taxonomy, viewer=viewer(user)) for d in found]


@router.put("/buyers/{buyer_id}/favourites/{design_id}", responses=LIMITED)
def add_favourite(buyer_id: Id, design_id: Id, user: BuyerUser, ws: WorkspaceDep) -> FavouriteOut:
    """Make a design a favourite: one `favourite` event when it was not one; nothing when it was."""
    return _favourite(ws, buyer_scope(user, buyer_id), design_id, True)


@router.delete("/buyers/{buyer_id}/favourites/{design_id}", responses=LIMITED)
def remove_favourite(buyer_id: Id, design_id: Id, user: BuyerUser, ws: WorkspaceDep) -> FavouriteOut:
    """Take a design out of the favourites (recorded once; nothing when it was not one)."""
    return _favourite(ws, buyer_scope(user, buyer_id), design_id, False)


def _favourite(ws: Workspace, buyer_id: int, design_id: int, on: bool) -> FavouriteOut:
    ws.rate_limiter.take("events", buyer_id)
    changed = favourites.set_favourite(ws, buyer_id, design_id, on, utcnow())
    return FavouriteOut(design_id=design_id, favourite=on, changed=changed)


@router.get("/designs/{design_id}", responses=LIMITED)
def design_detail(design_id: Id, user: CurrentUser, session: SessionDep, ws: WorkspaceDep) -> DesignOut:
    """A published design with its tier prices and how much is committed towards its threshold."""
    d = interest.published_design(session, design_id)
    _serve(ws, user, [d.id], "item")
    return DesignOut.of(d, d.committed, taxonomy=ws.taxonomy, viewer=viewer(user))


@router.get("/designs/{design_id}/images/{index}", response_class=FileResponse)
def design_image(design_id: Id, index: Annotated[int, Path(ge=0, le=100)], user: CurrentUser, session: SessionDep,
                 ws: WorkspaceDep) -> FileResponse:
    """A design's image; merchandisers and admins also see drafts' images, to review them."""
    d = design_svc.get(session, design_id) if is_staff(user) else interest.published_design(session, design_id)
    if index >= len(d.images):
        raise NotFound(f"design {design_id} has no image {index}")
    return FileResponse(ws.settings.images_dir / d.images[index], media_type="image/png")


@router.post("/events", status_code=201, responses=LIMITED)
def record_event(body: EventIn, user: BuyerUser, ws: WorkspaceDep) -> EventOut:
    """One browse event; answered once it is committed (group commit with other requests). A `view`
    confirms a design served to this buyer in the last day (once per design and day); a click, favourite
    or inquiry counts once per design served to them. Anything else is stored but ignored: `counted` is
    false."""
    now, buyer_id = utcnow(), buyer_scope(user, body.buyer_id)
    ws.rate_limiter.take("events", buyer_id)
    ((event_id, counted),) = ws.event_writer.submit_counted([interest.EventIn(buyer_id, body.design_id, body.kind)], now)
    return EventOut(id=event_id, counted=counted, buyer_id=buyer_id, design_id=body.design_id, kind=body.kind,
                    occurred_at=now)


@router.post("/events/batch", status_code=201, responses=LIMITED)
def record_events(body: EventsIn, user: BuyerUser, ws: WorkspaceDep) -> EventsOut:
    """Up to 1,000 browse events in one request (as apps send analytics); stored all or nothing, in order
    (`first_id` is the first one's), and counted as `POST /events` counts each one."""
    events = [interest.EventIn(buyer_scope(user, e.buyer_id), e.design_id, e.kind) for e in body.events]
    for buyer_id in sorted({e.buyer_id for e in events}):
        ws.rate_limiter.take("events", buyer_id, sum(e.buyer_id == buyer_id for e in events))
    stored = ws.event_writer.submit_counted(events, utcnow())
    counted = sum(c for _, c in stored)
    return EventsOut(stored=len(stored), counted=counted, ignored=len(stored) - counted,
                     first_id=stored[0][0] if stored else None)


@router.post("/preorders", status_code=201, response_model=PreOrderOut, responses=LIMITED)
def place_preorder(body: PreOrderIn, user: BuyerUser, session: SessionDep, ws: WorkspaceDep, request: Request,
                   key: idempotency.IdempotencyKey = None) -> JSONResponse:
    """Commit pieces at the tier the group total reaches. A retry with the same idempotency key (header,
    or `idempotency_key` in the body) returns the first response and creates nothing."""
    if key is not None and body.idempotency_key is not None and key != body.idempotency_key:
        raise Invalid("the Idempotency-Key header and idempotency_key differ", field="idempotency_key")
    buyer_id = buyer_scope(user, body.buyer_id)
    ws.rate_limiter.take("orders", buyer_id)
    request_body = {**body.model_dump(exclude={"idempotency_key"}), "buyer_id": buyer_id}
    claim = idempotency.claim(session, user, key or body.idempotency_key, request, request_body)
    if isinstance(claim, JSONResponse):
        return claim
    order, _ = interest.place_preorder(session, buyer_id, body.design_id, body.quantity, utcnow(),
                                       max_quantity=ws.settings.max_quantity)
    return claim.done(201, PreOrderOut.model_validate(order))


@router.post("/buyers/{buyer_id}/preorders/{preorder_id}/cancel", responses=LIMITED)
def cancel_preorder(buyer_id: Id, preorder_id: Id, user: BuyerUser, session: SessionDep, ws: WorkspaceDep) -> PreOrderOut:
    buyer_id = buyer_scope(user, buyer_id)
    ws.rate_limiter.take("orders", buyer_id)
    return PreOrderOut.model_validate(interest.cancel_preorder(session, buyer_id, preorder_id))


@router.get("/buyers/{buyer_id}/preorders")
def buyer_preorders(buyer_id: Id, user: BuyerUser, session: SessionDep) -> list[PreOrderOut]:
    """This buyer's pre-orders (only ever the signed-in buyer's own)."""
    return [PreOrderOut.model_validate(p) for p in interest.buyer_preorders(session, buyer_scope(user, buyer_id))]

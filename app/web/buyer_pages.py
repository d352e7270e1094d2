"""Buyer storefront: the feed and search with filters, a design's page (tier prices, progress to the
production threshold), favourite, inquire, pre-order and cancel, and "my pre-orders".

What the buyer sees is recorded through the same group-commit writer as the API (`EventWriter.serve`):
each design shown in the feed or the search results is a served and viewed impression, opening its
page an impression and a `click`, and the buttons are `favourite` and `inquiry`. Only a request that
carries the page token of the buyer's session (`?pt=`, on every link and form of these pages; see
`app.api.auth.page_token`) records anything: a link from another site renders the same page and
records nothing. Every page and button is rate-limited per buyer (`app.services.rate_limit`)."""

from __future__ import annotations

import uuid
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import Response

from app.api.auth import PAGE_TOKEN, Auth, buyer_scope, has_page_token, page_token
from app.api.deps import SessionDep, WorkspaceDep
from app.lifecycle import BOOK_STATES
from app.models import utcnow
from app.services import dashboard, designs, favourites, feed, group_order, inquiries, interest, wants
from app.services import search as search_svc
from app.services import storefront as storefront_svc
from app.services.event_writer import EventIn, Served
from app.web.deps import BuyerPage
from app.web.rendering import local_path, parse_money, redirect, render

router = APIRouter(prefix="/shop", include_in_schema=False)
Id = Annotated[int, Path(ge=1, le=2**53)]
PAGE_SIZE = 24


PageToken = Annotated[str | None, Query(alias=PAGE_TOKEN, max_length=64)]


def _served(ws: WorkspaceDep, auth: Auth, buyer_id: int, design_ids: list[int], page: str, pt: str | None) -> None:
    """The page showed these designs: with the page's own token they are viewed (and an item page clicked)."""
    ws.rate_limiter.take("pages", buyer_id)
    if design_ids and has_page_token(auth, pt):
        ws.event_writer.serve(Served(buyer_id, tuple(design_ids), page, confirmed=True), utcnow())


def _button(ws: WorkspaceDep, buyer_id: int, design_id: int, kind: str) -> None:
    """A favourite or inquiry button of the design's page (a CSRF-checked form of our own page, so the
    page was served to this buyer)."""
    ws.rate_limiter.take("events", buyer_id)
    now = utcnow()
    ws.event_writer.serve(Served(buyer_id, (design_id,), "item"), now)
    ws.event_writer.submit([EventIn(buyer_id, design_id, kind)], now)


@router.get("")
def storefront(request: Request, auth: BuyerPage, session: SessionDep, ws: WorkspaceDep,
               q: Annotated[str, Query(max_length=500)] = "", category: Annotated[str, Query(max_length=50)] = "",
               max_price: Annotated[str, Query(max_length=20)] = "", color: Annotated[str, Query(max_length=50)] = "",
               material: Annotated[str, Query(max_length=50)] = "", pattern: Annotated[str, Query(max_length=50)] = "",
               sort: Annotated[str, Query(max_length=20)] = "relevance",
               page: Annotated[int, Query(ge=1, le=storefront_svc.MAX_PAGE)] = 1,
               seed: Annotated[int | None, Query(ge=0, lt=2**32)] = None, pt: PageToken = None) -> Response:
    """The personal feed, or search results when there is a query; both filtered (category, price, colour,
    material, pattern), sorted and paged. Every link of the page keeps the other parameters."""
    buyer_id = buyer_scope(auth.user, None)
    ceiling = parse_money(max_price, "max_price") if max_price.strip() else None
    filters = storefront_svc.check_filters(ws, feed.Filters(category or None, ceiling, color or None, material or None,
                                                            pattern or None))
    shelf = storefront_svc.browse(session, ws, buyer_id, q=q, filters=filters, sort=sort, page=page,
                                  page_size=PAGE_SIZE, seed=seed, max_age_s=feed.FEED_MAX_AGE_S)
    found = shelf.designs
    _served(ws, auth, buyer_id, [d.id for d in found], "search" if q.strip() else "feed", pt)
    # a search that finds nothing says so and offers what is open now instead
    suggest = (search_svc.suggestions(ws.taxonomy, list(ws.demand_cache.arrays().category))
               if q.strip() and not found and page == 1 else [])
    kept = {"q": q.strip(), "category": category, "max_price": max_price.strip(), "color": color,
            "material": material, "pattern": pattern, "sort": "" if sort == "relevance" else sort,
            "seed": "" if shelf.seed is None else str(shelf.seed)}

    def shop_url(**changes: object) -> str:
        """This page's address with `changes` (a value of None or "" drops the parameter), page token kept."""
        params = {k: str(v) for k, v in {**kept, **changes}.items() if v not in (None, "")}
        return "/shop?" + urlencode({**params, PAGE_TOKEN: page_token(auth.csrf_token)})

    tx = ws.taxonomy
    choices = {kind: sorted(tx.attributes.get(kind, {})) for kind in ("color", "material", "pattern")}
    return render(request, "shop/feed.html", auth, designs=found, q=q, category=category, max_price=max_price,
                  color=color, material=material, pattern=pattern, sort=sort, sorts=storefront_svc.SORTS,
                  choices=choices, shelf=shelf, shop_url=shop_url, moq_price=group_order.moq_price,
                  categories=sorted(ws.taxonomy.categories), progress=dashboard.progress, suggestions=suggest)


@router.get("/designs/{design_id}")
def design_page(request: Request, design_id: Id, auth: BuyerPage, session: SessionDep, ws: WorkspaceDep,
                pt: PageToken = None) -> Response:
    """A virtual item: images, spec, its group order (buyers joined, tier prices from the MOQ with the
    current one marked, pieces to the next tier, time left), progress to the threshold."""
    buyer_id = buyer_scope(auth.user, None)
    d = interest.published_design(session, design_id)
    _served(ws, auth, buyer_id, [d.id], "item", pt)
    spec = designs.spec_of(d)
    return render(request, "shop/design.html", auth, d=d, spec=spec, progress=dashboard.progress(d),
                  favourite=favourites.is_favourite(session, buyer_id, d.id),
                  group=group_order.group_order(session, d, spec, utcnow()),
                  idempotency_key=str(uuid.uuid4()), messages=inquiries.thread(session, d.id, buyer_id),
                  open_book=d.status in BOOK_STATES and d.book_closed_at is None)


@router.post("/designs/{design_id}/favourite")
def favourite(request: Request, design_id: Id, auth: BuyerPage, ws: WorkspaceDep,
              on: Annotated[bool, Form()] = True, back: Annotated[str, Form(max_length=500)] = "") -> Response:
    """The favourite toggle: `on` is the state the button asks for, so a double click records one change."""
    buyer_id = buyer_scope(auth.user, None)
    ws.rate_limiter.take("events", buyer_id)
    favourites.set_favourite(ws, buyer_id, design_id, on, utcnow())
    return redirect(request, local_path(back, f"/shop/designs/{design_id}"),
                    ok="flash.favourited" if on else "flash.unfavourited")


@router.get("/designs/{design_id}/variant")
def variant_form(request: Request, design_id: Id, auth: BuyerPage, session: SessionDep, ws: WorkspaceDep) -> Response:
    """Ask for this item in another colour, material or pattern (轻定制): only what some factory makes it in."""
    buyer_scope(auth.user, None)
    d = interest.published_design(session, design_id)
    spec = designs.spec_of(d)
    options = wants.variant_options(session, ws.taxonomy, spec, cost_share=ws.settings.cost_share)
    return render(request, "shop/variant.html", auth, d=d, spec={k: getattr(spec, k) for k in options}, options=options)


@router.post("/designs/{design_id}/variant")
def variant(request: Request, design_id: Id, auth: BuyerPage, session: SessionDep, ws: WorkspaceDep,
            color: Annotated[str, Form(max_length=50)] = "", material: Annotated[str, Form(max_length=50)] = "",
            pattern: Annotated[str, Form(max_length=50)] = "") -> Response:
    """Record the request as a want; an open design that has it already is shown instead."""
    buyer_id = buyer_scope(auth.user, None)
    ws.rate_limiter.take("events", buyer_id)
    d = interest.published_design(session, design_id)
    answer = wants.request_variant(session, buyer_id=buyer_id, design=d, spec=designs.spec_of(d),
                                   changes={"color": color, "material": material, "pattern": pattern},
                                   taxonomy=ws.taxonomy, cost_share=ws.settings.cost_share, now=utcnow())
    if answer.answered_by:
        return redirect(request, f"/shop/designs/{answer.answered_by[0]}", ok="variant.exists")
    return redirect(request, f"/shop/designs/{design_id}", ok="variant.recorded")


@router.get("/favourites")
def my_favourites(request: Request, auth: BuyerPage, session: SessionDep) -> Response:
    """This buyer's favourite designs, the latest first, each with its un-favourite button."""
    found = favourites.favourite_designs(session, buyer_scope(auth.user, None))
    return render(request, "shop/favourites.html", auth, designs=found, progress=dashboard.progress,
                  moq_price=group_order.moq_price)


@router.post("/designs/{design_id}/inquire")
def inquire(request: Request, design_id: Id, auth: BuyerPage, session: SessionDep, ws: WorkspaceDep,
            text: Annotated[str, Form(max_length=4000)] = "") -> Response:
    """A question on the item: a message of the buyer's thread (and, once per design, an `inquiry` event)."""
    buyer_id = buyer_scope(auth.user, None)
    text = inquiries.check_text(text)
    design = interest.published_design(session, design_id)
    _button(ws, buyer_id, design_id, "inquiry")  # before this request writes: the event writer needs the lock
    inquiries.ask(session, buyer_id=buyer_id, design=design, text=text, language=ws.language, now=utcnow())
    return redirect(request, f"/shop/designs/{design_id}#inquiry", ok="flash.inquired")


@router.post("/designs/{design_id}/preorder")
def preorder(request: Request, design_id: Id, auth: BuyerPage, session: SessionDep, ws: WorkspaceDep,
             quantity: Annotated[int, Form(gt=0, le=10**9)],
             idempotency_key: Annotated[str, Form(min_length=1, max_length=100)]) -> Response:
    """Commit pieces at the tier the group total reaches. The form's key makes a double submit harmless."""
    ws.rate_limiter.take("orders", buyer_scope(auth.user, None))
    order, created = interest.place_preorder(session, buyer_scope(auth.user, None), design_id, quantity, utcnow(),
                                             idempotency_key=f"web:{auth.user.id}:{idempotency_key}",
                                             max_quantity=ws.settings.max_quantity)
    return redirect(request, "/shop/preorders", ok="flash.preordered" if created else "flash.preorder_repeated",
                    n=order.quantity)


@router.get("/preorders")
def my_preorders(request: Request, auth: BuyerPage, session: SessionDep) -> Response:
    """This buyer's pre-orders with their design, newest first; active ones can be cancelled."""
    orders = interest.buyer_preorders(session, buyer_scope(auth.user, None))[::-1]
    by_id = {d.id: d for d in feed.designs_by_id(session, sorted({o.design_id for o in orders}))}
    return render(request, "shop/preorders.html", auth, orders=orders, designs=by_id)


@router.post("/preorders/{preorder_id}/cancel")
def cancel(request: Request, preorder_id: Id, auth: BuyerPage, session: SessionDep, ws: WorkspaceDep) -> Response:
    ws.rate_limiter.take("orders", buyer_scope(auth.user, None))
    interest.cancel_preorder(session, buyer_scope(auth.user, None), preorder_id)
    return redirect(request, "/shop/preorders", ok="flash.cancelled")

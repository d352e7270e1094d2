"""Merchandiser console: dashboard of designs under test, trend report with charts, generate, review,
edit and publish, and sales reports of shipped designs. Every handler validates the form, calls a service
and renders or redirects."""

from __future__ import annotations

import secrets
import uuid
from typing import Annotated, Literal

import numpy as np
from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from generation.concepts.composer import Pins
from generation.taxonomy import ATTRIBUTE_KINDS, AttributeAddition

from app.api import idempotency
from app.api.auth import Auth
from app.api.deps import SessionDep, WorkspaceDep
from app.api.schemas import SaleIn, SalesOut
from app.db import transaction
from app.errors import Conflict, Invalid
from app import lifecycle
from app.lifecycle import DesignState
from app.models import DESIGN_STATUSES, utcnow
from app.services import abuse, attention, dashboard, design_copy, designs, interest, production, reorders, trends
from app.services import taxonomy as taxonomy_service
from app.services import inquiries, wants
from app.web import trend_chart
from app.web.deps import MerchandiserPage
from app.web.rendering import parse_money, percent, redirect, render, translator
from app.workspace import Workspace

router = APIRouter(prefix="/merchandiser", include_in_schema=False)
DesignId = Annotated[int, Path(ge=1, le=2**53)]
PINNABLE = ("color", "material", "pattern")  # the kinds the generate form offers to pin
MAX_BATCH = 24
# The dashboard's status chips: (catalogue key, the status its link lists), a provisional win beside the wins.
CHIPS = [(lifecycle.DESIGN_WORDS[s], s) for s in DesignState]
CHIPS.insert(CHIPS.index((lifecycle.DESIGN_WORDS[DesignState.WON], DesignState.WON)),
             (lifecycle.DESIGN_WORDS["won_provisional"], DesignState.WON))


@router.get("")
def dashboard_page(request: Request, auth: MerchandiserPage, session: SessionDep, ws: WorkspaceDep) -> Response:
    """Designs under test with their interest, posterior and P(reach); counts per status."""
    rows = dashboard.designs_under_test(session, ws.demand_cache)
    waiting = [d for d in designs.list_designs(session, status=DesignState.WON) if d.book_closed_at is not None]
    return render(request, "merchandiser/dashboard.html", auth, rows=rows, counts=dashboard.shown_counts(session),
                  words=CHIPS, waiting=waiting, flagged=abuse.flagged(session),
                  attention=attention.entries(session, ws), inquiries=inquiries.waiting(session))


@router.post("/inquiries/{design_id}/{buyer_id}")
def answer_inquiry(request: Request, design_id: DesignId, buyer_id: Annotated[int, Path(ge=1, le=2**53)],
                   auth: MerchandiserPage, session: SessionDep, text: Annotated[str, Form(max_length=4000)] = "") -> Response:
    """Answer a buyer's inquiry; the thread shows on the buyer's item page."""
    inquiries.answer(session, design_id=design_id, buyer_id=buyer_id, author_id=auth.user.id, text=text, now=utcnow())
    return redirect(request, "/merchandiser#inquiries", ok="flash.answered")


@router.get("/trends")
def trend_report(request: Request, auth: MerchandiserPage, session: SessionDep, ws: WorkspaceDep,
                 category: Annotated[str | None, Query(max_length=50)] = None) -> Response:
    """Rising and fading attributes with the why (and where the data of a series ends early), and charts
    of the top movers with forecast bands."""
    category = category or None
    if category is not None:
        ws.taxonomy.category(category)
    signals = trends.signals(session, category=category, taxonomy=ws.taxonomy)
    rising = [p for p in signals if p[1].direction == "rising"][:20]
    fading = [p for p in signals if p[1].direction == "fading"][-20:][::-1]
    about = {row.name: row for row, _ in signals}
    panels = trend_chart.movers(session, translator(request), [g for _, g in signals], about=about)
    mapping = trends.mappings(session)
    today = utcnow().date()
    wanted = [(w, wants.unmakeable(w, ws.taxonomy)) for w in wants.wants(session, today, limit=10)]
    return render(request, "merchandiser/trends.html", auth, rising=rising, fading=fading, panels=panels,
                  wants=wanted, unread=wants.unread(session, today, limit=10), pinnable=PINNABLE,
                  categories=sorted(ws.taxonomy.categories), category=category or "", chart=trend_chart,
                  total=len(signals), ends=trends.data_ends(session),
                  unmapped=[m for m in mapping if not m.mapped], free=[m for m in mapping if m.how != "convention"],
                  kinds=ATTRIBUTE_KINDS, attributes={k: sorted(ws.taxonomy.attributes[k]) for k in ATTRIBUTE_KINDS})


@router.post("/trends/mapping")
def correct_mapping(request: Request, auth: MerchandiserPage, session: SessionDep, ws: WorkspaceDep,
                    series: Annotated[str, Form(min_length=1, max_length=200)],
                    attribute: Annotated[str, Form(max_length=80)] = "",
                    category: Annotated[str, Form(max_length=50)] = "") -> Response:
    """Say what a series measures ("kind:attribute", or empty for nothing we make); kept for later imports."""
    kind, _, name = attribute.partition(":")
    m = trends.correct_mapping(session, ws.taxonomy, series=series, kind=kind or None, attribute=name or None,
                               category=category or None)
    return redirect(request, "/merchandiser/trends#mapping", ok="flash.mapped", series=m.series)


@router.post("/taxonomy")
def add_attribute(request: Request, auth: MerchandiserPage, session: SessionDep, ws: WorkspaceDep,
                  kind: Annotated[Literal[ATTRIBUTE_KINDS], Form()],  # type: ignore[valid-type]
                  name: Annotated[str, Form(min_length=1, max_length=50)],
                  zh: Annotated[str, Form(max_length=50)] = "", words: Annotated[str, Form(max_length=1000)] = "",
                  categories: Annotated[list[str], Form(max_length=50)] = [],  # noqa: B006 (FastAPI copies it)
                  rgb: Annotated[str, Form(max_length=7)] = "") -> Response:
    """Add an attribute (with its Chinese name) or words for one that exists; stored series are read again."""
    added = taxonomy_service.add_attribute(session, ws.taxonomy, AttributeAddition(
        kind, name, zh, tuple(w.strip() for w in words.replace("，", ",").split(",") if w.strip()),
        tuple(c for c in categories if c) or None, rgb or None))
    ws.reload_taxonomy_on_commit(session)
    return redirect(request, "/merchandiser/trends#taxonomy", ok="flash.attribute_added", name=added.name,
                    n=added.remapped)


@router.get("/generate")
def generate_form(request: Request, auth: MerchandiserPage, ws: WorkspaceDep) -> Response:
    options = {kind: sorted(ws.taxonomy.attributes[kind]) for kind in PINNABLE}
    return render(request, "merchandiser/generate.html", auth, categories=sorted(ws.taxonomy.categories),
                  options=options, seed=secrets.randbelow(2**31), max_batch=MAX_BATCH)


@router.post("/generate")
def generate(request: Request, auth: MerchandiserPage, session: SessionDep, ws: WorkspaceDep,
             n: Annotated[int, Form(ge=1, le=MAX_BATCH)], seed: Annotated[int, Form(ge=0, le=2**32 - 1)] = 0,
             category: Annotated[str, Form(max_length=50)] = "", color: Annotated[str, Form(max_length=50)] = "",
             material: Annotated[str, Form(max_length=50)] = "", pattern: Annotated[str, Form(max_length=50)] = "",
             max_price: Annotated[str, Form(max_length=20)] = "") -> Response:
    """Compose drafts from the rising trends (pinning what the form fixed) and render their images."""
    pinned = tuple((kind, value) for kind, value in zip(PINNABLE, (color, material, pattern)) if value)
    pins = Pins(category or None, pinned, parse_money(max_price, "max_price") if max_price.strip() else None)
    made = designs.generate(session, ws.taxonomy, ws.images, ws.settings.images_dir, n=n, pins=pins, seed=seed,
                            cost_share=ws.settings.cost_share, ws=ws)
    return redirect(request, "/merchandiser/designs?status=draft", ok="flash.generated", n=len(made))


@router.get("/designs")
def design_list(request: Request, auth: MerchandiserPage, session: SessionDep,
                status: Annotated[Literal[DESIGN_STATUSES] | None, Query()] = None) -> Response:  # type: ignore[valid-type]
    rows = designs.list_designs(session, status=status, limit=500)
    return render(request, "merchandiser/designs.html", auth, designs=rows, status=status or "",
                  statuses=DESIGN_STATUSES, counts=designs.counts(session))


@router.get("/designs/{design_id}")
def design_review(request: Request, design_id: DesignId, auth: MerchandiserPage, session: SessionDep,
                  ws: WorkspaceDep) -> Response:
    """One design: images, spec, trend evidence, interest so far; the edit form and publish for drafts;
    once pieces have shipped, its sales, reorders and the sales report form."""
    return _design_page(request, auth, session, ws, design_id)


def _design_page(request: Request, auth: Auth, session: Session, ws: Workspace, design_id: int, *,
                 status_code: int = 200, sale_error: str = "", quantity: str = "") -> Response:
    """The design page; after a refused sales report, with its reason and the quantity as typed.
    The sales form gets a new one-time key each time it is shown (see `report_sales`)."""
    d = designs.get(session, design_id)
    stats = interest.stats(session, [d.id])[d.id]
    spec = design_copy.bilingual_spec(d, ws.taxonomy)  # the edit form shows the Chinese copy an old spec lacks
    return render(request, "merchandiser/design.html", auth, status_code=status_code, d=d, spec=spec,
                  stats=stats, progress=dashboard.progress(d), kinds=ATTRIBUTE_KINDS,
                  sales=reorders.summary(session, d.id), reorder_at=ws.settings.reorder_sell_through,
                  sale_key=str(uuid.uuid4()), sale_error=sale_error, quantity=quantity)


@router.post("/designs/{design_id}/edit")
def edit(request: Request, design_id: DesignId, auth: MerchandiserPage, session: SessionDep, ws: WorkspaceDep,
         name: Annotated[str, Form(max_length=designs.MAX_NAME)],
         price: Annotated[list[str], Form(max_length=10)],
         description: Annotated[str, Form(max_length=designs.MAX_DESCRIPTION)] = "",
         name_zh: Annotated[str | None, Form(max_length=designs.MAX_NAME)] = None,
         description_zh: Annotated[str | None, Form(max_length=designs.MAX_DESCRIPTION)] = None) -> Response:
    cents = [parse_money(p, "price") for p in price]
    designs.edit_draft(session, ws.taxonomy, design_id, name=name, description=description, tier_prices_cents=cents,
                       name_zh=name_zh, description_zh=description_zh)
    return redirect(request, f"/merchandiser/designs/{design_id}", ok="flash.saved")


@router.post("/designs/{design_id}/publish")
def publish(request: Request, design_id: DesignId, auth: MerchandiserPage, session: SessionDep, ws: WorkspaceDep) -> Response:
    """Publish the draft for testing with buyers (threshold, prior, index entry, test window)."""
    designs.publish(session, ws, [design_id], now=utcnow())
    return redirect(request, f"/merchandiser/designs/{design_id}", ok="flash.published")


@router.post("/decide")
def decide(request: Request, auth: MerchandiserPage, session: SessionDep, ws: WorkspaceDep) -> Response:
    """Decide every design under test now (the server also does it on a timer)."""
    decided = interest.decide(ws.sessions, ws.demand_cache, utcnow(), np.random.default_rng(),
                              interest.rules_of(ws.settings))
    return redirect(request, "/merchandiser", ok="flash.decided", n=sum(n for k, n in decided.items() if k != "flagged"))


@router.post("/buyers/{buyer_id}/trust")
def trust_buyer(request: Request, buyer_id: DesignId, auth: MerchandiserPage, session: SessionDep) -> Response:
    """Clear a flagged buyer (the merchandiser knows them): their interest counts again."""
    abuse.trust(session, buyer_id, utcnow())
    return redirect(request, "/merchandiser", ok="flash.trusted")


@router.post("/match")
def match(request: Request, auth: MerchandiserPage, session: SessionDep, ws: WorkspaceDep) -> Response:
    """Offer every winner whose pre-order book has closed to factories, at least cost."""
    results = production.match_winners(session, ws, now=utcnow())
    return redirect(request, "/merchandiser", ok="flash.matched", n=sum(len(r.orders) for r in results))


@router.post("/attention/{design_id}/{action}")
def attend(request: Request, design_id: DesignId, action: Literal[attention.ACTIONS],  # type: ignore[valid-type]
           auth: MerchandiserPage, session: SessionDep, ws: WorkspaceDep,
           batch: Annotated[int, Form(ge=1, le=10**6)] = 1) -> Response:
    """Act on an entry of the needs-attention queue (`attention.act`): re-plan its missing pieces (re-offer
    a shortfall), raise a reorder to the MOQ, or cancel the design and release its buyers' pre-orders."""
    results = attention.act(session, ws, design_id, action, batch=batch, now=utcnow())
    n = sum(len(r.orders) for r in results)
    if action == "cancel":
        return redirect(request, "/merchandiser", ok="flash.design_cancelled")
    if n == 0:  # nothing placed: the entry stays in the queue
        return redirect(request, "/merchandiser", warn="flash.replanned", n=n)
    return redirect(request, "/merchandiser", ok="flash.raised" if action == "raise_to_moq" else "flash.replanned",
                    n=n)


@router.post("/designs/{design_id}/sales")
def report_sales(request: Request, design_id: DesignId, auth: MerchandiserPage, session: SessionDep,
                 ws: WorkspaceDep, quantity: Annotated[str, Form(max_length=20)],
                 idempotency_key: Annotated[str, Form(min_length=1, max_length=100)]) -> Response:
    """Record pieces sold since the last report, as the API does (`reorders.record_sale`, which may offer a
    reorder). The form's one-time key is the API's idempotency key, so a form sent twice records one report
    and the second answer tells the first's result. A refused report (409 nothing shipped, 422 more sold than
    shipped) keeps nothing: the page comes back with the reason beside the form and the quantity as typed."""
    page = f"/merchandiser/designs/{design_id}"
    try:
        body = SaleIn(quantity=_pieces(quantity))
        out, names, repeated = _record(request, ws, auth, design_id, body, f"web:{idempotency_key}")
    except (Invalid, Conflict) as exc:
        return _design_page(request, auth, session, ws, design_id, status_code=exc.status_code,
                            sale_error=str(exc), quantity=quantity)
    key, values = _sales_notice(body.quantity, out, names)
    if repeated:
        return redirect(request, page, ok="flash.sales_repeated", detail=translator(request)(key, **values))
    if key == "flash.sales_reorder_unplaced":  # recorded, but the reorder waits in the needs-attention queue
        return redirect(request, page, warn=key, **values)
    return redirect(request, page, ok=key, **values)


def _pieces(text: str) -> int:
    """A whole number of pieces typed in a form; Invalid (shown beside the form) when it is not one."""
    value = text.strip()
    if not (value.isascii() and value.isdigit()) or not 0 < int(value) <= 10**9:
        raise Invalid(f"{text!r} is not a whole number of pieces from 1 to 1000000000", field="quantity")
    return int(value)


def _record(request: Request, ws: Workspace, auth: Auth, design_id: int, body: SaleIn,
            key: str) -> tuple[SalesOut, dict[str, str], bool]:
    """Claim `key` and record the report in a transaction of its own, committed here or rolled back whole
    (the sale and the key) when refused, so that the request's session can still show the page.
    Returns the result, the names of the factories its reorder went to, and whether it is a replay.

    A Conflict is tried once more: claiming a key that the same form, sent twice at once, holds waits for
    that request and fails when it commits; the second try reads its result. A refused report fails again."""
    try:
        return _record_once(request, ws, auth, design_id, body, key)
    except Conflict:
        return _record_once(request, ws, auth, design_id, body, key)


def _record_once(request: Request, ws: Workspace, auth: Auth, design_id: int, body: SaleIn,
                 key: str) -> tuple[SalesOut, dict[str, str], bool]:
    with transaction(ws.sessions) as s:
        claim = idempotency.claim(s, auth.user, key, request, body)
        if isinstance(claim, JSONResponse):  # this form was sent before: its first result, nothing new
            out, repeated = SalesOut.model_validate_json(claim.body), True
        else:
            res = reorders.record_sale(s, ws, design_id, body.quantity, user_id=auth.user.id, now=utcnow())
            out, repeated = SalesOut.of(res), False
            claim.done(201, out)  # stored with the key, for a resubmitted form
        return out, reorders.factory_names(s, {o.factory_id for o in out.orders}), repeated


def _sales_notice(quantity: int, out: SalesOut, names: dict[str, str]) -> tuple[str, dict[str, object]]:
    """The flash message (catalogue key and values) that says what a sales report did."""
    values: dict[str, object] = {"n": quantity, "sold": out.sold, "shipped": out.shipped,
                                 "pct": percent(out.sell_through)}
    if out.reorder is None:
        return "flash.sales_recorded", values
    values["reorder"] = out.reorder.quantity
    if not out.orders:
        return "flash.sales_reorder_unplaced", {**values, "why": out.reorder.note}
    return "flash.sales_reordered", {**values, "factories": ", ".join(sorted(names.values()))}

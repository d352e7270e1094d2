"""Merchandiser console: dashboard of designs under test, trend report with charts, generate, review,
edit and publish. Every handler validates the form, calls a service and renders or redirects."""

from __future__ import annotations

import secrets
from typing import Annotated, Literal

import numpy as np
from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import Response

from generation.concepts.composer import Pins
from generation.taxonomy import ATTRIBUTE_KINDS

from app.api.deps import SessionDep, WorkspaceDep
from app.models import DESIGN_STATUSES, utcnow
from app.services import dashboard, designs, interest, production, trends
from app.web import trend_chart
from app.web.deps import MerchandiserPage
from app.web.rendering import parse_money, redirect, render, translator

router = APIRouter(prefix="/merchandiser", include_in_schema=False)
DesignId = Annotated[int, Path(ge=1, le=2**53)]
PINNABLE = ("color", "material", "pattern")  # the kinds the generate form offers to pin
MAX_BATCH = 24


@router.get("")
def dashboard_page(request: Request, auth: MerchandiserPage, session: SessionDep, ws: WorkspaceDep) -> Response:
    """Designs under test with their interest, posterior and P(reach); counts per status."""
    rows = dashboard.designs_under_test(session, ws.demand_cache)
    waiting = [d for d in designs.list_designs(session, status="won") if d.book_closed_at is not None]
    return render(request, "merchandiser/dashboard.html", auth, rows=rows, counts=designs.counts(session),
                  statuses=DESIGN_STATUSES, waiting=waiting)


@router.get("/trends")
def trend_report(request: Request, auth: MerchandiserPage, session: SessionDep, ws: WorkspaceDep,
                 category: Annotated[str | None, Query(max_length=50)] = None) -> Response:
    """Rising and fading attributes with the why, and charts of the top movers with forecast bands."""
    category = category or None
    if category is not None:
        ws.taxonomy.category(category)
    signals = trends.signals(session, category=category)
    rising = [p for p in signals if p[1].direction == "rising"][:20]
    fading = [p for p in signals if p[1].direction == "fading"][-20:][::-1]
    panels = trend_chart.movers(session, translator(request), category=category)
    return render(request, "merchandiser/trends.html", auth, rising=rising, fading=fading, panels=panels,
                  categories=sorted(ws.taxonomy.categories), category=category or "", chart=trend_chart,
                  total=len(signals))


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
def design_review(request: Request, design_id: DesignId, auth: MerchandiserPage, session: SessionDep) -> Response:
    """One design: images, spec, trend evidence, interest so far; the edit form and publish for drafts."""
    d = designs.get(session, design_id)
    stats = interest.stats(session, [d.id])[d.id]
    return render(request, "merchandiser/design.html", auth, d=d, spec=designs.spec_of(d), stats=stats,
                  progress=dashboard.progress(d), kinds=ATTRIBUTE_KINDS)


@router.post("/designs/{design_id}/edit")
def edit(request: Request, design_id: DesignId, auth: MerchandiserPage, session: SessionDep, ws: WorkspaceDep,
         name: Annotated[str, Form(max_length=designs.MAX_NAME)],
         price: Annotated[list[str], Form(max_length=10)],
         description: Annotated[str, Form(max_length=designs.MAX_DESCRIPTION)] = "") -> Response:
    cents = [parse_money(p, "price") for p in price]
    designs.edit_draft(session, ws.taxonomy, design_id, name=name, description=description, tier_prices_cents=cents)
    return redirect(request, f"/merchandiser/designs/{design_id}", ok="flash.saved")


@router.post("/designs/{design_id}/publish")
def publish(request: Request, design_id: DesignId, auth: MerchandiserPage, session: SessionDep, ws: WorkspaceDep) -> Response:
    """Publish the draft for testing with buyers (threshold, prior, index entry, test window)."""
    designs.publish(session, ws, [design_id], now=utcnow())
    return redirect(request, f"/merchandiser/designs/{design_id}", ok="flash.published")


@router.post("/decide")
def decide(request: Request, auth: MerchandiserPage, session: SessionDep, ws: WorkspaceDep) -> Response:
    """Decide every design under test now (the server also does it on a timer)."""
    decided = interest.evaluate(session, ws.demand_cache, utcnow(), np.random.default_rng(),
                                interest.rules_of(ws.settings))
    return redirect(request, "/merchandiser", ok="flash.decided", n=sum(decided.values()))


@router.post("/match")
def match(request: Request, auth: MerchandiserPage, session: SessionDep, ws: WorkspaceDep) -> Response:
    """Offer every winner whose pre-order book has closed to factories, at least cost."""
    results = production.match_winners(session, ws, now=utcnow())
    return redirect(request, "/merchandiser", ok="flash.matched", n=sum(len(r.orders) for r in results))

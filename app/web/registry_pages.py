"""Merchandiser page of the factory registry: every factory with its country and categories, what its
registry says (known) and what planning estimates (capacity, MOQ, with how), material suppliers marked;
and what each product type or sector is read as, with a form to correct it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response

from app.api.deps import SessionDep, WorkspaceDep
from app.services import factory_registry, production
from app.web.deps import MerchandiserPage
from app.web.rendering import redirect, render

router = APIRouter(prefix="/merchandiser", include_in_schema=False)
PAGE_SIZE = 200


@router.get("/factories")
def factories_page(request: Request, auth: MerchandiserPage, session: SessionDep, ws: WorkspaceDep,
                   country: Annotated[str, Query(max_length=50)] = "",
                   page: Annotated[int, Query(ge=1, le=10_000)] = 1) -> Response:
    """The registry, `PAGE_SIZE` factories a page, optionally of one country."""
    total = factory_registry.summary(session)
    rows = factory_registry.list_factories(session, production.estimate_rules(ws.settings), country=country or None,
                                           limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    terms = factory_registry.term_mappings(session, ws.taxonomy, ws.language)
    return render(request, "merchandiser/factories.html", auth, rows=rows[:PAGE_SIZE], more=len(rows) > PAGE_SIZE,
                  page=page, country=country.upper(), total=total, terms=terms,
                  categories=sorted(ws.taxonomy.categories))


@router.post("/factories/mapping")
def correct_term(request: Request, auth: MerchandiserPage, session: SessionDep, ws: WorkspaceDep,
                 term: Annotated[str, Form(min_length=1, max_length=200)],
                 category: Annotated[list[str] | None, Form(max_length=50)] = None) -> Response:
    """Say which categories a product type or sector means (none selected: nothing we make)."""
    m, changed = factory_registry.correct_term(session, ws.taxonomy, ws.language, term=term, categories=category or [])
    return redirect(request, "/merchandiser/factories#mapping", ok="flash.term_mapped", term=m.term, n=changed)

"""The web pages: merchandiser console, buyer storefront and factory portal, server-rendered with
Jinja2 in English and Simplified Chinese. `mount(app)` adds them to the API's FastAPI app."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from app.web import (account_pages, admin_pages, buyer_pages, factory_pages, image_pages, merchandiser_pages,
                     registry_pages)
from app.web.errors import install_page_error_handlers

STATIC = Path(__file__).with_name("static")
PAGES = (account_pages.router, merchandiser_pages.router, registry_pages.router, buyer_pages.router,
         factory_pages.router, image_pages.router, admin_pages.router)


def mount(app: FastAPI) -> None:
    """Add the pages, their static files (`/web/static`) and their error pages to `app`.

    Call after the API's error handlers are installed: page paths get pages, the API keeps JSON."""
    for router in PAGES:
        app.include_router(router)
    app.mount("/web/static", StaticFiles(directory=STATIC), name="static")
    # browsers ask for /favicon.ico whatever the page links: the same icon
    app.add_api_route("/favicon.ico", lambda: RedirectResponse("/web/static/favicon.svg", status_code=301),
                      include_in_schema=False)
    install_page_error_handlers(app)


__all__ = ["mount"]

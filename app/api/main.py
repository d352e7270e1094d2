"""The FastAPI application: built by `create_app()`, with the workspace opened in the lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.api.routers import buyers, factories, health, merchandiser
from app.errors import install_error_handlers
from app.settings import Settings
from app.workspace import Workspace


def create_app(settings: Settings | None = None) -> FastAPI:
    """The API for `settings` (read from the environment when not given)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ws = Workspace.open(settings or Settings())
        app.state.workspace = ws
        try:
            yield
        finally:
            ws.close()

    app = FastAPI(title="trendloom", version="0.1.0", lifespan=lifespan,
                  description="Design products from trends, test them with buyers, make the winners.")
    install_error_handlers(app)
    for r in (health.router, merchandiser.router, buyers.router, factories.router):
        app.include_router(r)
    return app

"""The FastAPI application: built by `create_app()`, with the workspace opened in the lifespan."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

import numpy as np
from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from threadpoolctl import threadpool_limits

from app.api.routers import auth, buyers, factories, health, merchandiser
from app.db import transaction
from app.errors import install_error_handlers
from app.models import utcnow
from app.services import interest, production
from app.settings import Settings
from app import web
from app.workspace import Workspace

log = logging.getLogger(__name__)


def _decide_once(ws: Workspace) -> dict[str, int]:
    with transaction(ws.sessions) as s:
        return interest.evaluate(s, ws.demand_cache, utcnow(), np.random.default_rng(), interest.rules_of(ws.settings))


async def _decide_forever(ws: Workspace, every_s: float) -> None:
    """Decide designs under test on a timer, so windows close and clear winners/losers are called."""
    while True:
        await asyncio.sleep(every_s)
        decided = await run_in_threadpool(_decide_once, ws)
        if decided:
            log.info("decided designs under test: %s", decided)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The API for `settings` (read from the environment when not given)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ws = Workspace.open(settings or Settings())
        # For the whole process: requests run in parallel threads, so per-call BLAS threads only fight them.
        threadpool_limits(ws.settings.blas_threads, user_api="blas")
        # Heavy objects load once, here, never inside a request.
        _ = ws.embedder, ws.design_index
        with ws.sessions() as s:
            registry = production.factories(s)
        if registry:  # the factory capability index (rebuilt on first use after a registry import)
            ws.capability_index(registry)
        ws.demand_cache.sync(full=True)
        ws.demand_cache.arrays().posterior()  # the feed's arrays (about 1 s at 100,000 designs)
        app.state.workspace = ws
        # The libraries and models above are ~600,000 long-lived objects; every full collection walked them
        # all (100-300 ms, a pause for every request in flight). Freezing moves them out of the collector's
        # view; objects made by requests are still collected as before.
        gc.collect()
        gc.freeze()
        task = asyncio.create_task(_decide_forever(ws, ws.settings.decide_every_s)) if ws.settings.decide_every_s > 0 else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task
            ws.close()
            gc.unfreeze()  # collectable again, e.g. when tests start many apps in one process

    app = FastAPI(title="trendloom", version="0.1.0", lifespan=lifespan,
                  description="Design products from trends, test them with buyers, make the winners.")
    install_error_handlers(app)
    for r in (health.router, auth.router, merchandiser.router, buyers.router, factories.router):
        app.include_router(r)
    web.mount(app)  # the merchandiser, buyer and factory pages (after the API's error handlers)
    return app

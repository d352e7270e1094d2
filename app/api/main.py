"""The FastAPI application: built by `create_app()`, with the workspace opened in the lifespan.

Request bodies are limited before anything reads them: FastAPI's `max_body_size` refuses a declared
Content-Length above the limit, and stops a streamed body as soon as it passes it, with 413, before the
body is parsed or spooled and before any dependency (authentication included) runs.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from threadpoolctl import threadpool_limits

from app.api import guards
from app.api.routers import auth, buyers, factories, health, merchandiser, wants
from app.errors import install_error_handlers
from app.leader import Leadership
from app.models import utcnow
from app.services import attention, interest, production
from app.settings import Settings
from app import web
from app.workspace import Workspace

log = logging.getLogger(__name__)
# Room for what a multipart upload carries besides the file (boundaries, part headers, a long file name);
# the file itself is held to `max_upload_bytes` exactly by `uploads.read_limited`.
MULTIPART_MARGIN_BYTES = 64 * 1024
CACHE_REFRESH_S = 0.5  # the background sync of the feed's demand cache
INDEX_SYNC_S = 2.0  # designs published through other workers join this one's design index
LEADER_POLL_S = 2.0  # how often a worker that does not lead tries the leader's lock (the takeover delay)


def _decide_once(ws: Workspace) -> dict[str, int]:
    return interest.decide(ws.sessions, ws.demand_cache, utcnow(), np.random.default_rng(), interest.rules_of(ws.settings))


async def _every(every_s: float, work: Callable[[], object], what: str) -> None:
    """Run `work` in the thread pool every `every_s` seconds; log what it returns when that is not empty.

    A failed round (e.g. "database is locked") is logged and the next period tries again: one error must
    not stop the background work for the life of the server."""
    while True:
        await asyncio.sleep(every_s)
        try:
            done = await run_in_threadpool(work)
        except Exception:
            log.exception("%s failed; trying again in %s s", what, every_s)
            continue
        if done:
            log.info("%s: %s", what, done)


def _if_leading(leader: Leadership, work: Callable[[], object]) -> Callable[[], object]:
    """`work`, run only while this worker leads (checked just before, on the lock's own connection)."""
    return lambda: work() if leader.poll() else None


async def _decide_forever(ws: Workspace, every_s: float, leader: Leadership) -> None:
    """Decide designs under test on a timer, so windows close and clear winners/losers are called; in the
    leading worker only. A job added later for the whole deployment (a re-plan) runs the same way."""
    await _every(every_s, _if_leading(leader, lambda: _decide_once(ws)), "automatic decisions")


async def _replan_forever(ws: Workspace, every_s: float, leader: Leadership) -> None:
    """Re-plan the needs-attention queue when the factory registry or free capacity changed (`attention.
    Replanner`), on the decisions' timer; in the leading worker only."""
    replanner = attention.Replanner(ws)
    await _every(every_s, _if_leading(leader, lambda: replanner.run(utcnow())), "automatic re-plans")


async def _elect_forever(leader: Leadership) -> None:
    """Keep trying the leader's lock (and checking it, once held), so a takeover needs no job to be due."""
    def elect() -> None:
        leader.poll()  # logs when leadership is taken or lost

    await _every(LEADER_POLL_S, elect, "leader election")


async def _refresh_forever(ws: Workspace, every_s: float) -> None:
    """Keep the feed's demand cache fresh in the background, so feed and search requests find it synced
    (they sync themselves only when it is older than FEED_MAX_AGE_S, or after a design write here).
    Under 2,000 events/s over 100,000 designs one sync reads some 10,000 changed rows: done inside feed
    requests it took their p95 to 780 ms (BENCHMARKS.md, "Feeds while events arrive")."""
    await _every(every_s, ws.demand_cache.sync, "the feed cache sync")


async def _stop(task: asyncio.Task[None]) -> None:
    """Cancel a background task and wait for it; an error it ended with is logged, not raised, so that
    shutdown still closes the workspace."""
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    except Exception:
        log.exception("the background task %s had stopped with an error", task.get_name())


def body_limit(settings: Settings) -> int:
    """The largest request body accepted: the largest upload plus its multipart envelope."""
    return settings.max_upload_bytes + MULTIPART_MARGIN_BYTES


def _install_body_limit_message(app: FastAPI, limit: int, max_upload_bytes: int) -> None:
    """Answer a body over `limit` (FastAPI's 413) with what the limit is, as JSON like every API error."""

    async def too_large(_: Request, __: Exception) -> JSONResponse:
        return JSONResponse({"detail": f"the request body is larger than the {limit:,} byte limit "
                             f"(an upload may be at most {max_upload_bytes:,} bytes)"}, status_code=413)

    app.add_exception_handler(413, too_large)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The API for `settings` (read from the environment when not given)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ws = Workspace.open(settings)
        # For the whole process: requests run in parallel threads, so per-call BLAS threads only fight them.
        threadpool_limits(ws.settings.blas_threads, user_api="blas")
        # Heavy objects load once, here, never inside a request.
        # The event writer takes its own connection now, while the pool is free (app/services/event_writer.py).
        _ = ws.embedder, ws.design_index, ws.event_writer
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
        # Every worker follows the database; one, the leader, runs the jobs (app/leader.py).
        leader = Leadership(ws.settings.db_url)
        tasks = [asyncio.create_task(_refresh_forever(ws, CACHE_REFRESH_S), name="feed cache refresh"),
                 asyncio.create_task(_every(INDEX_SYNC_S, ws.sync_design_index, "the design index sync"),
                                     name="design index sync")]
        if not leader.single_process:
            tasks.append(asyncio.create_task(_elect_forever(leader), name="leader election"))
        if ws.settings.decide_every_s > 0:
            tasks.append(asyncio.create_task(_decide_forever(ws, ws.settings.decide_every_s, leader), name="decisions"))
            tasks.append(asyncio.create_task(_replan_forever(ws, ws.settings.decide_every_s, leader), name="re-plans"))
        try:
            yield
        finally:
            try:
                for task in tasks:
                    await _stop(task)
            finally:
                try:
                    ws.saves_index = leader.leading  # one writer of the shared index files
                    ws.close()  # stops the event writer, saves the index, disposes the engine
                finally:
                    try:
                        leader.release()
                    finally:
                        gc.unfreeze()  # collectable again, e.g. when tests start many apps in one process

    limit = body_limit(settings)
    app = FastAPI(title="trendloom", version="0.1.0", lifespan=lifespan, max_body_size=limit,
                  description="Design products from trends, test them with buyers, make the winners.")
    install_error_handlers(app)
    guards.install(app)  # strict JSON bodies; security headers on every answer
    _install_body_limit_message(app, limit, settings.max_upload_bytes)
    for r in (health.router, auth.router, merchandiser.router, buyers.router, factories.router, wants.router):
        app.include_router(r)
    web.mount(app)  # the merchandiser, buyer and factory pages (after the API's error handlers)
    return app

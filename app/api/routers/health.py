"""Liveness and stage counts."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import text

from app.api.auth import MerchandiserUser
from app.api.deps import SessionDep
from app.api.schemas import ERROR_RESPONSES
from app.services.status import stage_counts

router = APIRouter(tags=["health"], responses=ERROR_RESPONSES)


@router.get("/healthz")
def healthz(session: SessionDep) -> dict[str, str]:
    """200 when the service and its database answer."""
    session.execute(text("SELECT 1"))
    return {"status": "ok"}


@router.get("/api/v1/status")
def status(_: MerchandiserUser, session: SessionDep) -> dict[str, Any]:
    """Counts per stage of the loop (the same as `trendloom status --json`); merchandisers and admins."""
    return stage_counts(session)

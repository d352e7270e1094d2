"""Counts per stage of the loop, for `trendloom status --json` and `GET /api/v1/status`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.lifecycle import PreOrderState
from app.models import Buyer, FactoryRow, PreOrder
from app.services import abuse, attention, designs, interest, production, trends


def stage_counts(session: Session) -> dict[str, Any]:
    return {
        "trends": trends.counts(session),
        "designs": designs.counts(session),
        "buyers": session.scalar(select(func.count()).select_from(Buyer)) or 0,
        "flagged_buyers": [{"id": b.id, "name": b.name, "flagged_at": b.flagged_at.isoformat() if b.flagged_at else None,
                            "reason": b.flag_reason} for b in abuse.flagged(session)],
        "events": interest.event_counts(session),
        "pre_orders": {
            **interest.preorder_counts(session),
            "committed_pieces": session.scalar(select(func.coalesce(func.sum(PreOrder.quantity), 0))
                                               .where(PreOrder.status.in_((PreOrderState.ACTIVE, PreOrderState.CONFIRMED)))) or 0,
        },
        "factories": session.scalar(select(func.count()).select_from(FactoryRow)) or 0,
        "factory_orders": production.counts(session),
        # design batches that cannot move by themselves (`attention`): the merchandiser's queue
        "needs_attention": attention.count(session),
    }

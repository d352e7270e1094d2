"""Factory endpoints: the inbox of matched orders, accept, decline (re-matches) and production status.

Only the factory's own user (or an admin) reaches a factory's endpoints; any other factory id answers
404. Accept, decline and status reports take an `Idempotency-Key` header: a retry returns the first response."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse

from app.api import idempotency
from app.api.auth import FactoryUser, factory_scope, viewer
from app.api.deps import SessionDep, WorkspaceDep
from app.api.schemas import ERROR_RESPONSES, DeclineIn, DeclineOut, DesignOut, FactoryOrderOut, InboxItem, StatusIn
from app.lifecycle import OrderState
from app.models import Design, utcnow
from app.services import production

router = APIRouter(prefix="/api/v1/factories", tags=["factories"], responses=ERROR_RESPONSES)
FactoryId = Annotated[str, Path(min_length=1, max_length=50)]
OrderId = Annotated[int, Path(ge=1, le=2**53)]


@router.get("/{factory_id}/inbox")
def inbox(factory_id: FactoryId, user: FactoryUser, session: SessionDep, ws: WorkspaceDep,
          status: OrderState | None = None) -> list[InboxItem]:
    """This factory's orders with the design spec and its flat sketch (not the design's internal note: it
    names the other factories offered or declining the design; nor the trend statistics or the buyer tier
    prices: a factory sees its own order's unit price)."""
    out = []
    for order in production.inbox(session, factory_scope(user, factory_id), status):
        design = session.get(Design, order.design_id)
        assert design is not None
        out.append(InboxItem(order=FactoryOrderOut.model_validate(order),
                             design=DesignOut.of(design, taxonomy=ws.taxonomy, viewer=viewer(user))))
    return out


@router.post("/{factory_id}/orders/{order_id}/accept", response_model=FactoryOrderOut)
def accept(factory_id: FactoryId, order_id: OrderId, user: FactoryUser, session: SessionDep, request: Request,
           key: idempotency.IdempotencyKey = None) -> JSONResponse:
    """Take the order on; refused (409) if it would load the factory beyond its capacity."""
    factory_id = factory_scope(user, factory_id)
    claim = idempotency.claim(session, user, key, request, None)
    if isinstance(claim, JSONResponse):
        return claim
    order = production.accept(session, factory_id, order_id)
    return claim.done(200, FactoryOrderOut.model_validate(order))


@router.post("/{factory_id}/orders/{order_id}/decline", response_model=DeclineOut)
def decline(factory_id: FactoryId, order_id: OrderId, body: DeclineIn, user: FactoryUser, session: SessionDep,
            ws: WorkspaceDep, request: Request, key: idempotency.IdempotencyKey = None) -> JSONResponse:
    """Decline with a reason; the quantity is offered again to other capable factories."""
    factory_id = factory_scope(user, factory_id)
    claim = idempotency.claim(session, user, key, request, body)
    if isinstance(claim, JSONResponse):
        return claim
    res = production.decline(session, ws, factory_id, order_id, body.reason, now=utcnow())
    declined = production.order_for_factory(session, factory_id, order_id)
    return claim.done(200, DeclineOut(declined=FactoryOrderOut.model_validate(declined),
                                      reoffered=[FactoryOrderOut.model_validate(o) for o in res.orders],
                                      unmatched_reason=res.unmatched_reason))


@router.post("/{factory_id}/orders/{order_id}/status", response_model=FactoryOrderOut)
def update_status(factory_id: FactoryId, order_id: OrderId, body: StatusIn, user: FactoryUser,
                  session: SessionDep, request: Request, key: idempotency.IdempotencyKey = None) -> JSONResponse:
    """accepted -> in_production -> shipped (with the shipped quantity). Of two reports of the same step
    sent at once, one is stored and the other answered 409, never overwritten; a retry with the same
    `Idempotency-Key` returns the first response."""
    factory_id = factory_scope(user, factory_id)
    claim = idempotency.claim(session, user, key, request, body)
    if isinstance(claim, JSONResponse):
        return claim
    order = production.update_status(session, factory_id, order_id, body.status, body.shipped_quantity)
    return claim.done(200, FactoryOrderOut.model_validate(order))

"""Factory portal: the inbox of matched orders (flat sketch and spec), accept or decline with a reason,
production status updates, and the factory's monthly capacity."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from app.api import idempotency
from app.api.auth import factory_scope
from app.api.deps import SessionDep, WorkspaceDep
from app.api.schemas import FactoryOrderOut
from app.lifecycle import OrderState
from app.models import ORDER_STATUSES, utcnow
from app.services import designs, production
from app.web.deps import FactoryPage
from app.web.rendering import redirect, render

router = APIRouter(prefix="/factory", include_in_schema=False)
OrderId = Annotated[int, Path(ge=1, le=2**53)]


def _factory_id(auth: FactoryPage) -> str:
    assert auth.user.factory_id is not None  # a CHECK constraint ties factory users to a factory
    return factory_scope(auth.user, auth.user.factory_id)


@router.get("")
def inbox(request: Request, auth: FactoryPage, session: SessionDep,
          status: Annotated[Literal[ORDER_STATUSES] | None, Query()] = None) -> Response:  # type: ignore[valid-type]
    """This factory's orders, newest first, each with its design's sketch and spec."""
    factory_id = _factory_id(auth)
    orders = production.inbox(session, factory_id, status)[::-1]
    items = [(o, designs.get(session, o.design_id)) for o in orders]
    return render(request, "factory/inbox.html", auth, items=items, factory=production.get_factory(session, factory_id),
                  status=status or "", statuses=ORDER_STATUSES, spec_of=designs.spec_of, form_key=lambda: str(uuid.uuid4()))


@router.post("/orders/{order_id}/accept")
def accept(request: Request, order_id: OrderId, auth: FactoryPage, session: SessionDep) -> Response:
    production.accept(session, _factory_id(auth), order_id)
    return redirect(request, "/factory", ok="flash.accepted")


@router.post("/orders/{order_id}/decline")
def decline(request: Request, order_id: OrderId, auth: FactoryPage, session: SessionDep, ws: WorkspaceDep,
            reason: Annotated[str, Form(min_length=1, max_length=1000)]) -> Response:
    """Decline with a reason; the quantity is offered to other capable factories."""
    production.decline(session, ws, _factory_id(auth), order_id, reason, now=utcnow())
    return redirect(request, "/factory", ok="flash.declined")


@router.post("/orders/{order_id}/status")
def update_status(request: Request, order_id: OrderId, auth: FactoryPage, session: SessionDep,
                  status: Annotated[Literal[OrderState.IN_PRODUCTION, OrderState.SHIPPED], Form()],
                  idempotency_key: Annotated[str, Form(min_length=1, max_length=100)],
                  shipped_quantity: Annotated[int | None, Form(gt=0, le=10**9)] = None) -> Response:
    """accepted -> in production -> shipped (with the shipped quantity). The form's one-time key makes a
    form sent twice record one report; a report racing another of the same step is refused, not merged."""
    body = {"order_id": order_id, "status": status, "shipped_quantity": shipped_quantity}
    claim = idempotency.claim(session, auth.user, f"web:{idempotency_key}", request, body)
    if isinstance(claim, JSONResponse):
        return redirect(request, "/factory", ok="flash.status_repeated")
    order = production.update_status(session, _factory_id(auth), order_id, status, shipped_quantity)
    claim.done(200, FactoryOrderOut.model_validate(order))
    return redirect(request, "/factory", ok="flash.status_updated")


@router.get("/capacity")
def capacity_page(request: Request, auth: FactoryPage, session: SessionDep) -> Response:
    """The factory's capacity, MOQ and the pieces its orders hold."""
    factory_id = _factory_id(auth)
    return render(request, "factory/capacity.html", auth, factory=production.get_factory(session, factory_id),
                  committed=production.used_capacity(session, production.LOADED).get(factory_id, 0),
                  held=production.used_capacity(session).get(factory_id, 0))


@router.post("/capacity")
def set_capacity(request: Request, auth: FactoryPage, session: SessionDep,
                 capacity: Annotated[int, Form(ge=1, le=10**9)]) -> Response:
    production.set_capacity(session, _factory_id(auth), capacity)
    return redirect(request, "/factory/capacity", ok="flash.capacity_saved")

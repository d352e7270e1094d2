"""What buyers ask for and cannot find (`app.services.wants`): variant requests on an item (轻定制) and,
for merchandisers, the top unmet wants."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from app.api.auth import BuyerUser, CurrentUser, MerchandiserUser, buyer_scope
from app.api.deps import SessionDep, WorkspaceDep
from app.api.routers.buyers import LIMITED
from app.api.schemas import ERROR_RESPONSES
from app.models import utcnow
from app.services import interest, wants
from app.services.designs import spec_of

router = APIRouter(prefix="/api/v1", tags=["wants"], responses=ERROR_RESPONSES)
Id = Annotated[int, Path(ge=1, le=2**53)]
Value = Annotated[str | None, Field(default=None, max_length=50)]


class VariantOptionsOut(BaseModel):
    """Per kind, what the item can be asked in (values some factory makes it in)."""

    color: list[str]
    material: list[str]
    pattern: list[str]


class VariantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    color: Value = None
    material: Value = None
    pattern: Value = None


class VariantOut(BaseModel):
    category: str
    attributes: dict[str, str]
    recorded: bool = Field(description="false: this buyer asked the same this week (counted once)")
    answered_by: list[int] = Field(description="designs open now that have what was asked")


class WantOut(BaseModel):
    category: str | None
    attributes: dict[str, Any]
    buyers: int
    weekly: list[int]
    texts: list[str]
    sources: dict[str, int]


@router.get("/designs/{design_id}/variants")
def variant_options(design_id: Id, _: CurrentUser, session: SessionDep, ws: WorkspaceDep) -> VariantOptionsOut:
    """The colours, materials and patterns this item can be asked in."""
    spec = spec_of(interest.published_design(session, design_id))
    return VariantOptionsOut(**wants.variant_options(session, ws.taxonomy, spec, cost_share=ws.settings.cost_share))


@router.post("/designs/{design_id}/variant-requests", status_code=201, responses=LIMITED)
def request_variant(design_id: Id, body: VariantIn, user: BuyerUser, session: SessionDep, ws: WorkspaceDep) -> VariantOut:
    """Ask for this item in another colour, material or pattern: a want, counted once per buyer and week,
    answered by the open designs that have it."""
    buyer_id = buyer_scope(user, None)
    ws.rate_limiter.take("events", buyer_id)
    design = interest.published_design(session, design_id)
    answer = wants.request_variant(session, buyer_id=buyer_id, design=design, spec=spec_of(design),
                                   changes=body.model_dump(exclude_none=True), taxonomy=ws.taxonomy,
                                   cost_share=ws.settings.cost_share, now=utcnow())
    return VariantOut(category=answer.category, attributes=dict(answer.attributes), recorded=answer.recorded,
                      answered_by=list(answer.answered_by))


@router.get("/merchandiser/wants")
def top_wants(_: MerchandiserUser, session: SessionDep,
              weeks: Annotated[int, Query(ge=1, le=52)] = wants.WEEKS,
              limit: Annotated[int, Query(ge=1, le=100)] = 20) -> list[WantOut]:
    """The top unmet wants of the last `weeks` weeks, most distinct buyers first."""
    return [WantOut(**w.to_dict()) for w in wants.wants(session, utcnow().date(), weeks=weeks, limit=limit)]

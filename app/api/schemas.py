"""Request and response bodies of the HTTP API."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app.lifecycle import OrderState
from app.models import Design
from app.services.design_copy import bilingual_spec, without_evidence
from generation.taxonomy import Taxonomy
from matching.factories.planner import MatchPlan
from matching.interest import InterestStats

Viewer = Literal["staff", "buyer", "factory"]  # who a design is shown to (`DesignOut.of`)
Id = Annotated[int, Field(ge=1, le=2**53)]  # SQLite integers are 64-bit; JSON-safe bound
# The database keeps naive UTC; answers say so ("...Z"), as RFC 3339 date-times must carry an offset.
UtcDateTime = Annotated[datetime, AfterValidator(lambda v: v if v.tzinfo else v.replace(tzinfo=UTC))]

if TYPE_CHECKING:
    from app.services.reorders import SalesResult


class InterestOut(BaseModel):
    views: int
    clicks: int
    favourites: int
    inquiries: int
    pre_orders: int
    quantity: int
    score: float  # weighted signals per impression

    @classmethod
    def of(cls, s: InterestStats) -> InterestOut:
        return cls(views=s.views, clicks=s.clicks, favourites=s.favourites, inquiries=s.inquiries,
                   pre_orders=s.pre_orders, quantity=s.quantity, score=s.score)


class DesignOut(BaseModel):
    id: int
    name: str
    name_zh: str  # the Chinese name, written from the spec where a design has none (`app.services.design_copy`)
    description: str
    description_zh: str
    category: str
    status: str
    spec: dict[str, Any]
    image_urls: list[str]
    production_threshold: int | None
    committed_quantity: int | None = None
    window_end: UtcDateTime | None
    note: str | None = None  # merchandiser and admin views only: it names factories and the odds of winning
    interest: InterestOut | None = None  # merchandiser views only

    @classmethod
    def of(cls, d: Design, committed: int | None = None, stats: InterestStats | None = None, *,
           taxonomy: Taxonomy, viewer: Viewer = "buyer") -> DesignOut:
        """The design as `viewer` sees it, named in English and Chinese. Staff (`app.api.auth.viewer`) also
        read the note, which buyers and factories must not (it would lead them to the suppliers and
        competitors' orders), and the trend evidence (trendloom's statistics: out of the spec and the
        description for everyone else); a factory does not see the buyer tier prices, only its order's
        unit price."""
        s = bilingual_spec(d, taxonomy)
        staff = viewer == "staff"
        spec = {**d.spec, "name_zh": s.name_zh, "description_zh": s.description_zh}
        if not staff:
            spec.pop("evidence", None)
            spec["description"] = without_evidence(str(spec.get("description", "")))
        if viewer == "factory":
            spec.pop("price_tiers", None)
        return cls(id=d.id, name=d.name, name_zh=s.name_zh, description=str(spec.get("description", "")),
                   description_zh=s.description_zh, category=d.category, status=d.status, spec=spec,
                   image_urls=[f"/api/v1/designs/{d.id}/images/{i}" for i in range(len(d.images))],
                   production_threshold=d.production_threshold, committed_quantity=committed,
                   window_end=d.window_end, note=d.note if staff else None,
                   interest=InterestOut.of(stats) if stats else None)


class GenerateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    n: int = Field(12, ge=1, le=100)
    category: str | None = None
    attributes: dict[str, str] = Field(default_factory=dict, description='pinned attributes, e.g. {"color": "navy"}')
    max_price_cents: int | None = Field(None, ge=1, le=10**9)
    seed: int = Field(0, ge=0, le=2**32 - 1)


class SignalOut(BaseModel):
    series: str
    category: str | None  # None: the series speaks for every category its attribute applies to
    kind: str | None  # None: a series whose name maps to nothing we know (yet)
    attribute: str | None
    direction: str
    growth: float
    lo: float
    hi: float
    change_pct: float
    method: str
    why: str = ""


class IngestOut(BaseModel):
    series: int
    points: int
    replaced: int
    posts: dict[str, int] | None = None  # for a posts upload: how many were mapped, and how
    unmapped: list[str] = []  # series stored whose name maps to nothing we know: correct them, or add the word


class SeriesMappingOut(BaseModel):
    series: str
    kind: str | None
    attribute: str | None
    category: str | None
    how: str  # convention, lexicon, embedding, manual or unmapped


class SeriesMappingIn(BaseModel):
    """What a series measures; kind, attribute and category all null: nothing we make."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["color", "material", "pattern", "silhouette", "detail"] | None = None
    attribute: str | None = Field(default=None, min_length=1, max_length=50)
    category: str | None = Field(default=None, min_length=1, max_length=50)


class AttributeIn(BaseModel):
    """An attribute to add to the taxonomy (its Chinese name required), or more words for one that exists."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["color", "material", "pattern", "silhouette", "detail"]
    name: str = Field(min_length=1, max_length=50)
    zh: str = Field(default="", max_length=50)
    synonyms: list[Annotated[str, Field(min_length=1, max_length=50)]] = Field(default=[], max_length=50)
    categories: list[Annotated[str, Field(min_length=1, max_length=50)]] | None = Field(default=None, max_length=50)
    rgb: str | None = Field(default=None, pattern=r"^#[0-9a-fA-F]{6}$")


class AddedOut(BaseModel):
    kind: str
    name: str
    new: bool  # a new attribute (false: words added to one that exists)
    remapped: int  # stored series whose mapping changed with the new words


class BuyerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["shop", "live_streamer", "consumer_group"]
    region: str = Field("cn", min_length=1, max_length=20)


class BuyerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    kind: str
    region: str


class FlaggedBuyerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    kind: str
    flagged_at: UtcDateTime | None
    flag_reason: str
    trusted_at: UtcDateTime | None


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    buyer_id: Id | None = Field(None, description="default: the signed-in buyer; another buyer's id is 404")
    design_id: Id
    kind: Literal["view", "click", "favourite", "inquiry"]


class EventsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    events: list[EventIn] = Field(min_length=1, max_length=1000)


class EventsOut(BaseModel):
    stored: int  # every event of the batch, in order from first_id
    counted: int = 0
    ignored: int = 0  # stored but counted nowhere: views of nothing served (or confirmed today), repeated clicks...
    first_id: int | None


class SearchHit(BaseModel):
    score: float  # cosine similarity of the query and the design
    design: DesignOut


class FavouriteOut(BaseModel):
    design_id: int
    favourite: bool  # the state now
    changed: bool  # false: it already was (nothing recorded)


class EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    counted: bool = True  # false: stored but ignored (a view of nothing served to this buyer or confirmed today, a repeated click...)
    buyer_id: int
    design_id: int
    kind: str
    occurred_at: UtcDateTime


class PreOrderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    buyer_id: Id | None = Field(None, description="default: the signed-in buyer; another buyer's id is 404")
    design_id: Id
    quantity: int = Field(gt=0, le=10**9, description="pieces")
    idempotency_key: str | None = Field(None, min_length=1, max_length=200,
                                        description="the same as the Idempotency-Key header")


class PreOrderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    buyer_id: int
    design_id: int
    quantity: int
    unit_price_cents: int
    status: str
    created_at: UtcDateTime


class FactoryOrderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    design_id: int
    factory_id: str
    round: int
    batch: int  # 1 = the pre-ordered quantity, 2.. = reorders
    quantity: int
    unit_price_cents: int
    due_date: date
    status: str
    decline_reason: str
    shipped_quantity: int


class InboxItem(BaseModel):
    order: FactoryOrderOut
    design: DesignOut


class DeclineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=1000)


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal[OrderState.IN_PRODUCTION, OrderState.SHIPPED]
    shipped_quantity: int | None = Field(None, gt=0, le=10**9)


class DeclineOut(BaseModel):
    declined: FactoryOrderOut
    reoffered: list[FactoryOrderOut]
    unmatched_reason: str


class AttentionOut(BaseModel):
    """A design batch whose pieces cannot move by themselves (`app.services.attention`), with its actions."""

    model_config = ConfigDict(from_attributes=True)
    design_id: int
    name: str
    status: str
    batch: int
    kind: Literal["declined", "below_moq", "short", "unplaced"]
    needed: int
    missing: int
    note: str
    actions: list[str]


class AttentionActionOut(BaseModel):
    """What an action on the queue did: the design's status now, the orders it offered, and what is still
    unplaced (the entry stays in the queue while anything is)."""

    design_id: int
    status: str
    offered: list[FactoryOrderOut]
    unmatched_reasons: list[str]


class OrderIn(BaseModel):
    """One design to produce (the columns of the orders CSV of `trendloom match`)."""

    model_config = ConfigDict(extra="forbid")
    design_id: str = Field(min_length=1, max_length=100)
    category: str = Field(min_length=1, max_length=50)
    materials: list[Annotated[str, Field(min_length=1, max_length=50)]] = Field(min_length=1, max_length=10)
    processes: list[Annotated[str, Field(min_length=1, max_length=50)]] = Field(default_factory=list, max_length=20)
    quantity: int = Field(gt=0, le=10**9, strict=True, description="pieces, a whole number above 0")
    due_in_days: int = Field(ge=1, le=3650, strict=True)
    description: str = Field("", max_length=2000)
    base_unit_cost_cents: int | None = Field(None, ge=1, le=10**9, strict=True,
                                             description="default: the category's norm for the dearest material")


class PlanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    orders: list[OrderIn] = Field(min_length=1, max_length=1000)
    exact: bool = Field(False, description="also solve the MILP exactly; its plan is returned, with the gap")


class PlanRowOut(BaseModel):
    design_id: str
    factory_id: str
    quantity: int
    unit_cost_cents: int
    total_cost_cents: int


class UnplacedOut(BaseModel):
    design_id: str
    quantity: int
    reason: str


class CandidateOut(BaseModel):
    factory_id: str
    rank: int
    similarity: float
    kept: bool
    score: float
    reasons: list[str]


class PlanOut(BaseModel):
    """A production plan (nothing is stored): rows with their cost, unplaced demand with the reason, and
    every shortlisted factory per design with why it was kept or rejected."""

    objective_cents: int
    method: str  # "exact" or "heuristic": which plan `rows` is
    lower_bound_cents: float
    heuristic_objective_cents: int | None
    exact_objective_cents: int | None
    gap_heuristic_vs_exact: float | None
    rows: list[PlanRowOut]
    unplaced: list[UnplacedOut]
    candidates: dict[str, list[CandidateOut]]

    @classmethod
    def of(cls, plan: MatchPlan) -> PlanOut:
        h, e = plan.heuristic, plan.exact
        return cls(objective_cents=plan.objective, method=plan.allocation.method,
                   lower_bound_cents=plan.allocation.lower_bound,
                   heuristic_objective_cents=h.objective if h else None, exact_objective_cents=e.objective if e else None,
                   gap_heuristic_vs_exact=plan.heuristic_gap,
                   rows=[PlanRowOut(design_id=r.design_id, factory_id=r.factory_id, quantity=r.quantity,
                                    unit_cost_cents=r.unit_cost_cents, total_cost_cents=r.total_cost_cents)
                         for r in plan.rows()],
                   unplaced=[UnplacedOut(design_id=u.design_id, quantity=u.quantity, reason=u.reason) for u in plan.unplaced],
                   candidates={d: [CandidateOut(factory_id=c.factory_id, rank=c.rank, similarity=c.similarity, kept=c.kept,
                                                score=c.score, reasons=list(c.reasons)) for c in rows]
                               for d, rows in plan.candidates.items()})


class SaleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    quantity: int = Field(gt=0, le=10**9, strict=True, description="pieces sold since the last report")


class ReorderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    batch: int
    quantity: int
    sold: int
    shipped: int
    note: str


class SalesOut(BaseModel):
    design_id: int
    sold: int  # pieces sold in all
    shipped: int  # pieces shipped in all
    sell_through: float
    reorder: ReorderOut | None  # the reorder this report triggered, if any
    orders: list[FactoryOrderOut]  # the reorder's offered factory orders

    @classmethod
    def of(cls, res: SalesResult) -> SalesOut:
        return cls(design_id=res.design_id, sold=res.sold, shipped=res.shipped, sell_through=round(res.sell_through, 4),
                   reorder=ReorderOut.model_validate(res.reorder) if res.reorder else None,
                   orders=[FactoryOrderOut.model_validate(o) for o in res.orders])


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    login: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1024)
    name: str = Field("api", min_length=1, max_length=100, description="a label for the token, e.g. the client")


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    login: str
    role: str
    display_name: str
    language: str
    buyer_id: int | None
    factory_id: str | None
    disabled_at: UtcDateTime | None = None  # set: the account cannot sign in


class AccountOut(BaseModel):
    """What an admin's action on an account did."""

    user: UserOut
    ended: int  # browser sessions and API tokens ended by it
    password: str | None = None  # a reset's new password, shown once


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: UtcDateTime
    user: UserOut


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    login: str = Field(min_length=3, max_length=64)
    password: str = Field(min_length=10, max_length=1024, description="10+ characters, not the login, not easily guessed")
    role: Literal["merchandiser", "buyer", "factory", "admin"]
    display_name: str = Field("", max_length=200)
    language: Literal["en", "zh-CN"] = "en"
    buyer_id: Id | None = None
    factory_id: str | None = Field(None, min_length=1, max_length=50)
    buyer_kind: Literal["shop", "live_streamer", "consumer_group"] = "shop"


class ErrorOut(BaseModel):
    """An error raised on purpose: what was wrong, and what is allowed."""

    detail: str
    field: str | None = None  # the request field at fault, when there is one


class ValidationIssue(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorOut(BaseModel):
    """A request that does not match the schema (FastAPI's validation error)."""

    detail: list[ValidationIssue]


# Documented on every API router, so clients (and the schema fuzzer) know every answer they may get.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "not signed in, or a wrong or expired token"},
    403: {"model": ErrorOut, "description": "another role's endpoint, or a missing CSRF token"},
    404: {"model": ErrorOut, "description": "no such object, or not yours"},
    409: {"model": ErrorOut, "description": "the object's state does not allow it"},
    422: {"model": ValidationErrorOut | ErrorOut, "description": "an invalid request: the field, and what is allowed"},
}

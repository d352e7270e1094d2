"""Merchandiser endpoints: trend data and signals, design generation, review and publishing.

Every endpoint needs the merchandiser role (or admin); only merchandisers publish."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Literal

import numpy as np
from fastapi import APIRouter, Depends, Path, Query, Request, UploadFile
from fastapi.responses import JSONResponse

from generation.concepts.composer import Pins
from generation.taxonomy import AttributeAddition
from generation.trends.io import parse_trend_csv
from generation.trends.posts import parse_posts_jsonl, posts_to_series
from matching.factories.orders import Order

from app.api.auth import require_role
from app.api.deps import SessionDep, WorkspaceDep
from app.api import idempotency
from app.api.auth import MerchandiserUser
from app.api.schemas import (ERROR_RESPONSES, AddedOut, AttentionActionOut, AttentionOut, AttributeIn, DesignOut,
                             FactoryOrderOut, FlaggedBuyerOut, GenerateIn, IngestOut, PlanIn, PlanOut, SaleIn, SalesOut,
                             SeriesMappingIn, SeriesMappingOut, SignalOut)
from app.errors import Invalid
from app.models import DESIGN_STATUSES, utcnow
from app.services import abuse, attention, designs, interest, production, reorders, trends, uploads
from app.services import taxonomy as taxonomy_service
from app.services.interest import rules_of

router = APIRouter(prefix="/api/v1/merchandiser", tags=["merchandiser"], responses=ERROR_RESPONSES,
                   dependencies=[Depends(require_role("merchandiser"))])
DesignId = Annotated[int, Path(ge=1, le=2**53)]


@router.get("/trends/signals")
def trend_signals(session: SessionDep, ws: WorkspaceDep, category: str | None = None,
                  direction: Literal["rising", "fading", "flat"] | None = None,
                  limit: Annotated[int, Query(ge=1, le=5000)] = 50) -> list[SignalOut]:
    """Attributes ranked from the surest riser to the surest fader, with 95% intervals."""
    if category is not None:
        ws.taxonomy.category(category)
    return [SignalOut(series=s.name, category=s.category, kind=s.kind, attribute=s.attribute, direction=g.direction,
                      growth=g.growth, lo=g.lo, hi=g.hi, change_pct=g.change_pct, method=g.method, why=g.why)
            for s, g in trends.signals(session, category=category, direction=direction, limit=limit,
                                       taxonomy=ws.taxonomy)]


@router.get("/trends/mapping")
def trend_mapping(session: SessionDep) -> list[SeriesMappingOut]:
    """What every stored series is taken to measure, and how that was decided; unmapped series first."""
    return [SeriesMappingOut(**m.to_dict()) for m in trends.mappings(session)]


@router.put("/trends/mapping/{series:path}")
def correct_trend_mapping(series: Annotated[str, Path(min_length=1, max_length=200)], body: SeriesMappingIn,
                          session: SessionDep, ws: WorkspaceDep) -> SeriesMappingOut:
    """Say what a series measures; kept for every later import of a series of that name."""
    m = trends.correct_mapping(session, ws.taxonomy, series=series, kind=body.kind, attribute=body.attribute,
                               category=body.category)
    return SeriesMappingOut(**m.to_dict())


@router.post("/taxonomy/attributes", status_code=201)
def add_attribute(body: AttributeIn, session: SessionDep, ws: WorkspaceDep) -> AddedOut:
    """Add an attribute to the taxonomy (with its Chinese name), or words for one that exists; stored
    series are read again with the new words."""
    added = taxonomy_service.add_attribute(session, ws.taxonomy, AttributeAddition(
        body.kind, body.name, body.zh, tuple(body.synonyms),
        tuple(body.categories) if body.categories is not None else None, body.rgb))
    ws.reload_taxonomy_on_commit(session)
    return AddedOut(kind=added.kind, name=added.name, new=added.new, remapped=added.remapped)


@router.post("/trends", status_code=201)
def upload_trends(file: UploadFile, session: SessionDep, ws: WorkspaceDep,
                  region: Annotated[str, Query(max_length=20, description="posts: region of posts without one")] = "cn",
                  segment: Annotated[str, Query(max_length=20, description="posts: segment of the series built")] = "all",
                  weighting: Literal["posts", "engagement"] = "posts") -> IngestOut:
    """Import weekly series (CSV, wide or long) or social posts (a `.jsonl` file name); a bad line
    rejects the whole file (422 with the line and reason). Posts the keywords do not map are mapped
    by embedding similarity with the workspace's text embedder."""
    raw = uploads.read_limited(file.file, ws.settings.max_upload_bytes)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid("file is not UTF-8 text", field="file") from None
    name = file.filename or "upload.csv"
    report = None
    if name.lower().endswith((".jsonl", ".ndjson")):
        built = posts_to_series(parse_posts_jsonl(text, ws.taxonomy, file=name), ws.taxonomy, default_region=region,
                                segment=segment, embed=ws.embedder.encode, weighting=weighting, language=ws.language)
        frame, report = built.frame, built.report()
    else:
        frame = parse_trend_csv(text, file=name, today=utcnow().date())
    res = trends.ingest_frame(session, frame, ws.taxonomy, source=name, language=ws.language, embed=ws.embedder.encode)
    return IngestOut(series=res.series, points=res.points, replaced=res.replaced, posts=report,
                     unmapped=list(res.unmapped))


@router.get("/designs")
def list_designs(session: SessionDep, ws: WorkspaceDep,
                 status: Literal[DESIGN_STATUSES] | None = None,  # type: ignore[valid-type]
                 limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                 offset: Annotated[int, Query(ge=0, le=2**31)] = 0) -> list[DesignOut]:
    rows = designs.list_designs(session, status=status, limit=limit, offset=offset)
    stats = interest.stats(session, [d.id for d in rows])
    return [DesignOut.of(d, stats[d.id].quantity, stats[d.id], taxonomy=ws.taxonomy, viewer="staff") for d in rows]


@router.get("/designs/{design_id}")
def get_design(design_id: DesignId, session: SessionDep, ws: WorkspaceDep) -> DesignOut:
    """A design in any status, with its interest so far (events, committed pieces, score)."""
    d = designs.get(session, design_id)
    stats = interest.stats(session, [d.id])[d.id]
    return DesignOut.of(d, stats.quantity, stats, taxonomy=ws.taxonomy, viewer="staff")


@router.post("/designs/generate", status_code=201)
def generate(body: GenerateIn, session: SessionDep, ws: WorkspaceDep) -> list[DesignOut]:
    """Compose drafts from the rising trends and render their images (blocking work: a plain def)."""
    pins = Pins(body.category, tuple(body.attributes.items()), body.max_price_cents)
    made = designs.generate(session, ws.taxonomy, ws.images, ws.settings.images_dir, n=body.n, pins=pins,
                            seed=body.seed, cost_share=ws.settings.cost_share, ws=ws)
    return [DesignOut.of(d, 0, taxonomy=ws.taxonomy, viewer="staff") for d in made]


@router.post("/designs/{design_id}/images", status_code=201)
def upload_image(design_id: DesignId, file: UploadFile, session: SessionDep, ws: WorkspaceDep) -> DesignOut:
    """Attach an image (PNG, JPEG or WebP, within the upload and pixel limits) to a design; it is
    stored re-encoded as PNG after the design's other images."""
    d = designs.get(session, design_id)
    img = uploads.decode_image(uploads.read_limited(file.file, ws.settings.max_upload_bytes),
                               max_pixels=ws.settings.max_image_pixels)
    uploads.attach_image(session, d, img, ws.settings.images_dir)
    stats = interest.stats(session, [d.id])[d.id]
    return DesignOut.of(d, stats.quantity, stats, taxonomy=ws.taxonomy, viewer="staff")


@router.post("/designs/{design_id}/publish")
def publish(design_id: DesignId, session: SessionDep, ws: WorkspaceDep) -> DesignOut:
    (d,) = designs.publish(session, ws, [design_id], now=utcnow())
    return DesignOut.of(d, 0, taxonomy=ws.taxonomy, viewer="staff")


@router.post("/decide")
def decide(session: SessionDep, ws: WorkspaceDep) -> dict[str, int]:
    """Decide every design under test now (the server also does this every `decide_every_s` seconds), after
    screening the buyers (`flagged`: how many were newly flagged, when any were)."""
    return interest.decide(ws.sessions, ws.demand_cache, utcnow(), np.random.default_rng(), rules_of(ws.settings))


@router.get("/buyers/flagged")
def flagged_buyers(session: SessionDep) -> list[FlaggedBuyerOut]:
    """Buyers whose behaviour is far outside the population (volume, speed, one design, cancels), most
    recent first: their interest is stored but counted nowhere until a merchandiser trusts them."""
    return [FlaggedBuyerOut.model_validate(b) for b in abuse.flagged(session)]


@router.post("/buyers/{buyer_id}/trust")
def trust_buyer(buyer_id: DesignId, session: SessionDep) -> FlaggedBuyerOut:
    """Clear a buyer's flag: what they confirmed and pre-ordered counts again (409 when not flagged)."""
    return FlaggedBuyerOut.model_validate(abuse.trust(session, buyer_id, utcnow()))


@router.get("/attention")
def needs_attention(session: SessionDep, ws: WorkspaceDep) -> list[AttentionOut]:
    """Every design batch whose pieces cannot move by themselves (declined by every factory, unplaced
    pieces, a reorder below every MOQ, a short shipment), with the actions each offers."""
    return [AttentionOut(**asdict(e), actions=list(e.actions)) for e in attention.entries(session, ws)]


@router.post("/attention/{design_id}/{action}")
def attend(design_id: DesignId, action: Literal[attention.ACTIONS], session: SessionDep,  # type: ignore[valid-type]
           ws: WorkspaceDep, batch: Annotated[int, Query(ge=1, le=10**6)] = 1,
           reason: Annotated[str, Query(max_length=500)] = "") -> AttentionActionOut:
    """Act on a queue entry: `replan` its missing pieces now, `reoffer` a shortfall, `raise_to_moq` a reorder,
    or `cancel` the design (its offers withdrawn, its buyers' pre-orders released). 404 when the design batch
    is not in the queue; 409 when the entry does not offer the action or the design's state no longer allows it."""
    results = attention.act(session, ws, design_id, action, batch=batch, now=utcnow(), reason=reason)
    d = designs.get(session, design_id)
    return AttentionActionOut(design_id=design_id, status=d.status,
                              offered=[FactoryOrderOut.model_validate(o) for r in results for o in r.orders],
                              unmatched_reasons=[r.unmatched_reason for r in results if r.unmatched_reason])


@router.post("/match/plan")
def plan_production(body: PlanIn, session: SessionDep, ws: WorkspaceDep) -> PlanOut:
    """Plan these orders on the factory registry with its free capacity now, all together at least cost
    (nothing is stored). Unknown categories, materials or processes answer 422 listing the known ones;
    demand no factory can take comes back in `unplaced` with the reason; 409 when no factory is registered."""
    orders = [Order(o.design_id, o.category, tuple(o.materials), tuple(o.processes), o.quantity, o.due_in_days,
                    o.description, o.base_unit_cost_cents) for o in body.orders]
    return PlanOut.of(production.plan_orders(session, ws, orders, exact=body.exact))


@router.post("/designs/{design_id}/sales", status_code=201, response_model=SalesOut)
def report_sales(design_id: DesignId, body: SaleIn, user: MerchandiserUser, session: SessionDep, ws: WorkspaceDep,
                 request: Request, key: idempotency.IdempotencyKey = None) -> JSONResponse:
    """Record pieces of a shipped design sold on. When its sell-through (sold / shipped) reaches
    `reorder_sell_through`, a reorder of the next batch is offered, to the factory that made the last batch
    first (once per batch, however often the threshold is crossed). 409 before anything shipped, 422 when
    more would be sold than shipped. A retry with the same `Idempotency-Key` records nothing new."""
    claim = idempotency.claim(session, user, key, request, body)
    if isinstance(claim, JSONResponse):
        return claim
    res = reorders.record_sale(session, ws, design_id, body.quantity, user_id=user.id, now=utcnow())
    return claim.done(201, SalesOut.of(res))

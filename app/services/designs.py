"""Designs: generate drafts from the trend signals, render their images, publish them for testing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from generation.concepts.composer import ConceptComposer, Pins
from generation.concepts.spec import DesignSpec
from generation.images.base import ImageGenerator
from generation.taxonomy import Taxonomy
from matching.factories.constraints import candidates

from app.errors import Conflict, Invalid, NotFound
from app.models import Design
from app.services import production, trends


def spec_of(design: Design) -> DesignSpec:
    return DesignSpec.from_dict(design.spec)


def get(session: Session, design_id: int) -> Design:
    design = session.get(Design, design_id)
    if design is None:
        raise NotFound(f"design {design_id} not found")
    return design


def list_designs(session: Session, *, status: str | None = None, limit: int = 200, offset: int = 0) -> list[Design]:
    q = select(Design).order_by(Design.id).limit(limit).offset(offset)
    if status is not None:
        q = q.where(Design.status == status)
    return list(session.scalars(q))


def generate(session: Session, taxonomy: Taxonomy, images: ImageGenerator, images_dir: Path, *, n: int,
             cost_share: float, pins: Pins = Pins(), seed: int = 0,
             on_progress: Callable[[int], None] | None = None) -> list[Design]:
    """Compose `n` draft designs that some factory can make, and render an image for each."""
    signals = [sig for _, sig in trends.signals(session)]
    if not signals:
        raise Conflict("no trend signals yet: import trend data first (trendloom trends ingest FILE)")
    taken = {tuple(d.spec[k] for k in ("category", "color", "material", "pattern"))
             for d in session.scalars(select(Design))}
    registry = production.factories(session)
    if not registry:
        raise Conflict("no factories yet: import a factory registry first (trendloom factories import FILE)")

    def makeable(spec: DesignSpec) -> bool:
        return bool(production.capable(registry, taxonomy, spec, cost_share=cost_share))

    specs = ConceptComposer(taxonomy, signals).compose(n, pins=pins, seed=seed, exclude=taken, accept=makeable)
    images_dir.mkdir(parents=True, exist_ok=True)
    out = []
    for i, spec in enumerate(specs):
        design = Design(name=spec.name, category=spec.category, spec=spec.to_dict(), status="draft", images=[])
        session.add(design)
        session.flush()  # assigns the id used in the file name
        paths = []
        for k, image in enumerate(images.generate(spec, n=1, seed=seed + i)):
            path = images_dir / f"design-{design.id}-{k}.png"
            image.save(path)
            paths.append(path.name)
        design.images = paths
        out.append(design)
        if on_progress is not None:
            on_progress(i + 1)
    return out


def publish(session: Session, taxonomy: Taxonomy, design_id: int, *, now: datetime, window_days: int,
            cost_share: float) -> Design:
    """draft -> published: set the production threshold and open the test window.

    The threshold is the smallest MOQ among the factories that can make the design. A design that no
    factory can make is not published: selling it would promise buyers something nobody can produce.
    """
    design = get(session, design_id)
    if design.status != "draft":
        raise Conflict(f"design {design_id} is {design.status}; only drafts can be published")
    if not design.images:
        raise Invalid(f"design {design_id} has no image; generate one before publishing", field="images")
    spec = spec_of(design)
    makers = production.capable(production.factories(session), taxonomy, spec, cost_share=cost_share)
    if not makers:
        registry = production.factories(session)
        req = production.requirement_for(spec, taxonomy, quantity=10**9, cost_share=cost_share)
        raise Conflict(f"design {design_id} cannot be published: "
                       f"{production.why_none(candidates(registry, req, {}), spec.category)}")
    best = min(makers, key=lambda f: f.moq)
    design.status = "published"
    design.production_threshold = best.moq
    design.published_at = now
    design.window_end = now + timedelta(days=window_days)
    design.note = (f"threshold = MOQ of {best.name} ({best.factory_id}), "
                   f"lowest of {len(makers)} capable factories")
    return design


def counts(session: Session) -> dict[str, int]:
    return dict(session.execute(select(Design.status, func.count()).group_by(Design.status)).all())

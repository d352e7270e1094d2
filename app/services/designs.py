"""Designs: generate drafts from the trend signals, render their images, publish them for testing."""

from __future__ import annotations

from collections.abc import Callable, Sequence
import math
from dataclasses import asdict, replace
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from generation.concepts.composer import ConceptComposer, Pins
from generation.concepts.spec import DesignSpec, PriceTier
from generation.images.base import ImageGenerator
from generation.images.flat import render_flat
from generation.taxonomy import Taxonomy, TaxonomyError
from matching.demand import Outcome, Prior, global_prior, neighbour_prior
from matching.factories.constraints import candidates
from matching.sales import sales_priors

from app import lifecycle
from app.db import delete_on_rollback, undo_on_rollback
from app.errors import Conflict, Invalid, NotFound
from app.lifecycle import DesignState
from app.models import Buyer, Design, utcnow
from app.services import catalog, notices, planning, production, trends
from app.services import wants as wants_svc
from app.workspace import Workspace

SKETCH_SIZE = 256  # pixels of the stored flat sketch


def spec_of(design: Design) -> DesignSpec:
    return DesignSpec.from_dict(design.spec)


def get(session: Session, design_id: int) -> Design:
    design = session.get(Design, design_id)
    if design is None:
        raise NotFound(f"design {design_id} not found")
    return design


def list_designs(session: Session, *, status: str | None = None, limit: int = 200, offset: int = 0,
                 newest_first: bool = False) -> list[Design]:
    q = select(Design).order_by(Design.id.desc() if newest_first else Design.id).limit(limit).offset(offset)
    if status is not None:
        q = q.where(Design.status == status)
    return list(session.scalars(q))


def catalog_similarity(ws: Workspace, session: Session | None = None) -> Callable[[np.ndarray], np.ndarray]:
    """(n, dim) spec embeddings -> (n,) cosine to the nearest published design or item of the
    merchandiser's catalogue (-1 when both are empty). The catalogue's embeddings are read from the
    database (through `session` when given) on the first call and kept as one matrix."""
    items: list[np.ndarray] = []

    def nearest(vecs: np.ndarray) -> np.ndarray:
        if not items:
            if session is not None:
                items.append(catalog.vectors(session, dim=ws.embedder.dim).vectors)
            else:
                with ws.sessions() as s:
                    items.append(catalog.vectors(s, dim=ws.embedder.dim).vectors)
        best = np.full(len(vecs), -1.0, dtype=np.float32)
        index = ws.design_index
        if len(index):
            with ws.index_lock:
                scores, _ = index.search(vecs, 1)
            best = scores[:, 0]
        if len(items[0]) and len(vecs):
            best = np.maximum(best, (vecs @ items[0].T).max(axis=1))  # (n, items) -> (n,)
        return best
    return nearest


def generate(session: Session, taxonomy: Taxonomy, images: ImageGenerator, images_dir: Path, *, n: int,
             cost_share: float, pins: Pins = Pins(), seed: int = 0,
             on_progress: Callable[[int], None] | None = None, ws: Workspace | None = None,
             render: Callable[[Sequence[DesignSpec], Sequence[int]], list[Image.Image]] | None = None) -> list[Design]:
    """Compose `n` draft designs that some factory can make, with their images.

    With the workspace `ws`, the batch is chosen for diversity (MMR over spec embeddings) and novelty
    against the published catalog (the design index). `images[0]` is the configured backend's picture; unless that backend is the flat sketch itself,
    the flat technical sketch (what a factory works from) is stored after it. `render(specs, seeds)`, when
    given, draws every backend picture in one batch (e.g. as Ray tasks, `app.batch.render_designs`) instead
    of one `images.generate` call per design; each design keeps its seed, so the pictures are the same.
    """
    stored = trends.signals(session)
    signals = [sig for _, sig in stored]
    about = {row.name: (row.category, row.kind, row.attribute) for row, _ in stored}
    if not signals:
        raise Conflict("no trend signals yet: import trend data first (trendloom trends ingest FILE)")
    every = [spec_of(d) for d in session.scalars(select(Design))]  # every design so far, whatever its state
    taken = {(s.category, s.color, s.material, s.pattern) for s in every}
    registry = production.factories(session)
    if not registry:
        raise Conflict("no factories yet: import a factory registry first (trendloom factories import FILE)")

    def makeable(spec: DesignSpec) -> bool:
        return bool(production.capable(registry, taxonomy, spec, cost_share=cost_share))

    diverse = {"embed": ws.embedder.encode, "catalog_similarity": catalog_similarity(ws, session)} if ws is not None else {}
    composer = ConceptComposer(taxonomy, signals, compatibility=trends.compatibility(session), about=about)
    # what buyers asked for comes first, unless the merchandiser pinned the batch themselves
    specs = answer_wants(session, taxonomy, composer, every, n=n, seed=seed, accept=makeable) if pins == Pins() else []
    taken |= {(s.category, s.color, s.material, s.pattern) for s in specs}
    if len(specs) < n:
        specs += composer.compose(n - len(specs), pins=pins, seed=seed, exclude=taken, accept=makeable, **diverse)
    images_dir.mkdir(parents=True, exist_ok=True)
    drawn = render(specs, [seed + i for i in range(len(specs))]) if render is not None else None
    out = []
    for i, spec in enumerate(specs):
        design = Design(name=spec.name, category=spec.category, spec=spec.to_dict(), status=DesignState.DRAFT, images=[])
        session.add(design)
        session.flush()  # assigns the id used in the file name
        pictures = [drawn[i]] if drawn is not None else images.generate(spec, n=1, seed=seed + i)
        if images.name != "flat":  # the factory's technical drawing always comes last
            pictures.append(render_flat(spec, taxonomy, size=SKETCH_SIZE))
        paths = []
        for k, image in enumerate(pictures):
            path = images_dir / f"design-{design.id}-{k}.png"
            delete_on_rollback(session, path)  # a rolled-back design leaves no picture behind
            image.save(path)
            paths.append(path.name)
        design.images = paths
        out.append(design)
        if on_progress is not None:
            on_progress(i + 1)
    return out


WANT_SHARE = 0.5  # at most this share of a batch (rounded up) answers buyers' wants; trends compose the rest
MIN_WANT_BUYERS = 2  # a want asked by fewer distinct buyers waits (one buyer's wish is no demand to make)
MIN_WANT_SHARE = 0.05  # ... and one asked by fewer than this share of the (unflagged) buyers: a design for
# a few askers replaces one the trends say many buyers like (scripts/bench_wants.py, BENCHMARKS.md)


def answer_wants(session: Session, taxonomy: Taxonomy, composer: ConceptComposer, every: Sequence[DesignSpec], *,
                 n: int, seed: int, accept: Callable[[DesignSpec], bool]) -> list[DesignSpec]:
    """Specs for the top unmet wants (`app.services.wants`): up to ceil(n * WANT_SHARE) designs, one per
    want asked by at least MIN_WANT_BUYERS distinct buyers and MIN_WANT_SHARE of all buyers, most first.
    What the buyers named is pinned; the trend signals choose the rest, as for any design. A want that a
    design of `every` already answers (whatever its state), that the taxonomy does not offer, or that no
    factory can make is skipped. Each spec keeps the buyers' words (`asked_for`)."""
    existing = [(s.category, set(s.attributes())) for s in every]
    buyers = session.scalar(select(func.count()).select_from(Buyer).where(Buyer.flagged_at.is_(None))) or 0
    enough = max(MIN_WANT_BUYERS, MIN_WANT_SHARE * buyers)
    out: list[DesignSpec] = []
    for i, want in enumerate(wants_svc.wants(session, utcnow().date())):
        if len(out) >= math.ceil(n * WANT_SHARE) or want.buyers < enough:
            break
        if wants_svc.unmakeable(want, taxonomy) or any(
                (want.category in (None, c)) and set(want.attributes) <= attrs for c, attrs in existing):
            continue
        try:
            (spec,) = composer.compose(1, pins=Pins(want.category, want.attributes), seed=seed + 7919 * (i + 1),
                                       exclude={(s.category, s.color, s.material, s.pattern) for s in out},
                                       accept=accept)
        except TaxonomyError:
            continue  # nothing a factory can make fits it: it stays on the trends page
        out.append(replace(spec, asked_for=want.texts))
        existing.append((spec.category, set(spec.attributes())))
    return out


MAX_NAME, MAX_DESCRIPTION = 200, 4000


def edit_draft(session: Session, taxonomy: Taxonomy, design_id: int, *, name: str, description: str,
               tier_prices_cents: Sequence[int], name_zh: str | None = None,
               description_zh: str | None = None) -> Design:
    """Change a draft's name, description and tier prices (the tiers' quantities stay as generated), and
    its Chinese name and description when given (None keeps them; "" has them written from the spec when
    shown, see `app.services.design_copy`).

    Only drafts can be edited: once published, buyers have seen and committed to the prices. Each tier
    must be a positive price no higher than the tier before it (more pieces never cost more per piece).
    """
    design = get(session, design_id)
    if design.status != DesignState.DRAFT:
        raise Conflict(f"design {design_id} is {design.status}; only drafts can be edited")
    name, description = name.strip(), description.strip()
    if not 1 <= len(name) <= MAX_NAME:
        raise Invalid(f"a name has 1 to {MAX_NAME} characters", field="name")
    if len(description) > MAX_DESCRIPTION:
        raise Invalid(f"a description has at most {MAX_DESCRIPTION} characters", field="description")
    spec = spec_of(design)
    name_zh = spec.name_zh if name_zh is None else name_zh.strip()
    description_zh = spec.description_zh if description_zh is None else description_zh.strip()
    if len(name_zh) > MAX_NAME:
        raise Invalid(f"a Chinese name has at most {MAX_NAME} characters", field="name_zh")
    if len(description_zh) > MAX_DESCRIPTION:
        raise Invalid(f"a Chinese description has at most {MAX_DESCRIPTION} characters", field="description_zh")
    if len(tier_prices_cents) != len(spec.price_tiers):
        raise Invalid(f"give a price for each of the {len(spec.price_tiers)} tiers", field="price_tiers")
    for i, cents in enumerate(tier_prices_cents):
        if cents <= 0:
            raise Invalid(f"tier {i + 1}: a price must be positive", field="price_tiers")
        if i and cents > tier_prices_cents[i - 1]:
            raise Invalid(f"tier {i + 1}: a larger quantity may not cost more per piece than tier {i}",
                          field="price_tiers")
    tiers = tuple(PriceTier(t.min_qty, int(c)) for t, c in zip(spec.price_tiers, tier_prices_cents))
    edited = replace(spec, name=name, description=description, name_zh=name_zh, description_zh=description_zh,
                     price_tiers=tiers).validate(taxonomy)
    design.name, design.spec = name, edited.to_dict()
    return design


def publish(session: Session, ws: Workspace, design_ids: Sequence[int], *, now: datetime,
            require_image: bool = True) -> list[Design]:
    """draft -> published: set each design's production threshold and demand prior, index its
    embedding and open its test window.

    The threshold is the smallest MOQ among the factories that can make the design; a design that no
    factory can make is not published (selling it would promise something nobody can produce). The
    prior comes from the most similar designs whose test has ended (`matching.demand`). All designs
    are checked before any is changed; their specs are embedded in one batch.
    """
    st = ws.settings
    registry = production.factories(session, production.estimate_rules(st))
    todo: list[tuple[Design, int, str]] = []
    for design_id in design_ids:
        design = get(session, design_id)
        lifecycle.require("design", design_id, design.status, DesignState.PUBLISHED)
        if require_image and not design.images:
            raise Invalid(f"design {design_id} has no image; generate one before publishing", field="images")
        spec = spec_of(design)
        makers = production.capable(registry, ws.taxonomy, spec, cost_share=st.cost_share)
        if not makers:
            req = planning.requirement_for(spec, ws.taxonomy, quantity=10**9, cost_share=st.cost_share)
            raise Conflict(f"design {design_id} cannot be published: "
                           f"{production.why_none(candidates(registry, req, {}), spec.category)}")
        best = min(makers, key=lambda f: f.plan_moq)
        todo.append((design, best.plan_moq, f"threshold = {'estimated ' if best.moq is None else ''}MOQ of "
                                            f"{best.name} ({best.factory_id}), "
                                       f"lowest of {len(makers)} capable factories"))
    if not todo:
        return []
    vectors = ws.embedder.encode([spec_of(d).text() for d, _, _ in todo])
    priors = demand_priors(session, ws, vectors)
    for (design, threshold, why), vec, prior in zip(todo, vectors, priors):
        lifecycle.move(session, design, DesignState.PUBLISHED)
        design.production_threshold = threshold
        design.published_at = now
        design.window_end = now + timedelta(days=st.test_window_days)
        design.impression_budget = st.test_impressions
        design.embedding = vec.tobytes()
        design.prior = asdict(prior)
        design.note = f"{why}; demand prior from {prior.source}"
        # the buyers who asked for what it is hear of it first (their inbox), before any feed shows it
        notices.tell_buyers(session, wants_svc.askers(session, spec_of(design), now.date()), kind="want",
                            design_id=design.id)
    ids = np.array([d.id for d, _, _ in todo], dtype=np.int64)
    with ws.index_lock:
        ws.design_index.add(ids, vectors)
    undo_on_rollback(session, lambda: _unindex(ws, ids))  # a rolled-back publish leaves no vector behind
    return [d for d, _, _ in todo]


def _unindex(ws: Workspace, ids: np.ndarray) -> None:
    with ws.index_lock:
        ws.design_index.remove(ids)


def demand_priors(session: Session, ws: Workspace, vectors: np.ndarray) -> list[Prior]:
    """For each embedding, a demand prior from its nearest designs whose test has ended; while fewer
    than `prior_neighbours` designs are decided, from the sales of its nearest catalogue items instead
    (`matching.sales`: their units relative to their category's median scale the pooled prior)."""
    decided = session.execute(select(Design.id, Design.impressions, Design.pre_order_count, Design.pieces_ordered)
                              .where(Design.status.not_in((DesignState.DRAFT, DesignState.PUBLISHED)),
                                     Design.embedding.is_not(None))).all()
    outcomes = {i: Outcome(n, o, p) for i, n, o, p in decided}
    base = global_prior(list(outcomes.values()), strength=ws.settings.prior_strength)
    if len(outcomes) < ws.settings.prior_neighbours:
        sold = catalog.vectors(session, dim=ws.embedder.dim, sold_only=True)
        if sold.units:
            return sales_priors(vectors, sold.vectors, np.array(sold.units), sold.categories, base,
                                k=ws.settings.prior_neighbours, strength=ws.settings.prior_strength)
    if not outcomes:
        return [base] * len(vectors)
    with ws.index_lock:
        sims, ids = ws.design_index.search(vectors, ws.settings.prior_neighbours,
                                           allowed_ids=np.array(sorted(outcomes), dtype=np.int64))
    out = []
    for row_s, row_i in zip(sims, ids):
        keep = row_i >= 0
        out.append(neighbour_prior(row_s[keep], [outcomes[int(i)] for i in row_i[keep]], base,
                                   strength=ws.settings.prior_strength))
    return out


def counts(session: Session) -> dict[str, int]:
    return dict(session.execute(select(Design.status, func.count()).group_by(Design.status)).all())

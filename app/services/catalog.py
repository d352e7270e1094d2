"""The merchandiser's catalogue: import it (all or nothing), load its embeddings, backtest its sales.

The catalogue is what new designs must be novel against (`designs.catalog_similarity`) and, where it
has `units_sold`, what seeds their demand prior before trendloom has decided designs of its own
(`designs.demand_priors`, `matching.sales`). Reading and checking the file is `catalog_file`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from generation.concepts.spec import DesignSpec
from generation.language.extract import ProductLanguage
from matching.sales_backtest import Backtest, backtest_sales

from app.errors import Conflict, Invalid
from app.models import CatalogItem
from app.services.catalog_file import ATTRIBUTE_FIELDS, CatalogRow, read_catalog

Embed = Callable[[Sequence[str]], np.ndarray]  # texts -> (n, dim) float32, unit rows
SHOWN_WITHOUT_CATEGORY = 10
MIN_BACKTEST = 5  # items with units_sold a backtest needs


@dataclass(frozen=True)
class ImportReport:
    """What an import stored and what it had to read from the text."""

    file: str
    rows: int
    replaced: int
    with_units: int
    inferred: dict[str, int]  # field -> rows where it was read from the name or description
    without_category: int
    without_category_first: list[str] = field(default_factory=list)  # "id: name", the first 10
    ignored_columns: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def item_text(category: str | None, color: str | None, material: str | None, pattern: str | None,
              silhouette: str | None, name: str) -> str:
    """What an item is embedded as: the words a design spec of the same attributes would be embedded
    as (`DesignSpec.text`), so a design identical to an item scores 1.0; its name when it has no category."""
    if category is None:
        return name
    return DesignSpec(category=category, color=color or "", material=material or "", pattern=pattern or "solid",
                      silhouette=silhouette).text()


def _text_of(row: CatalogRow) -> str:
    return item_text(row.category, row.color, row.material, row.pattern, row.silhouette, row.name)


def import_catalog(session: Session, *, text: str, file: str, language: ProductLanguage, embed: Embed) -> ImportReport:
    """Check every line of a catalogue CSV, then store (or replace, by id) every item with its embedding.
    A bad line raises `Invalid` before anything is written; the caller's transaction makes it all or nothing."""
    rows, ignored = read_catalog(text, file=file, language=language)
    vectors = embed([_text_of(r) for r in rows])  # (n, dim)
    ids = [r.item_id for r in rows]
    existing: dict[str, CatalogItem] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        existing.update((it.item_id, it) for it in session.scalars(select(CatalogItem).where(CatalogItem.item_id.in_(chunk))))
    for row, vec in zip(rows, vectors):
        item = existing.get(row.item_id) or CatalogItem(item_id=row.item_id)
        item.name, item.description, item.image = row.name, row.description, row.image
        item.category, item.color, item.material = row.category, row.color, row.material
        item.pattern, item.silhouette = row.pattern, row.silhouette
        item.price_cents, item.launch_date, item.units_sold = row.price_cents, row.launch_date, row.units_sold
        item.inferred, item.embedding = list(row.inferred), np.asarray(vec, dtype=np.float32).tobytes()
        session.add(item)
    session.flush()
    missing = [r for r in rows if r.category is None]
    return ImportReport(file, len(rows), len(existing), sum(r.units_sold is not None for r in rows),
                        {f: sum(f in r.inferred for r in rows) for f in ATTRIBUTE_FIELDS}, len(missing),
                        [f"{r.item_id}: {r.name}" for r in missing[:SHOWN_WITHOUT_CATEGORY]], ignored)


@dataclass(frozen=True)
class CatalogVectors:
    """Stored catalogue items as arrays: embeddings (n, dim), units sold (None: unknown), categories."""

    vectors: np.ndarray
    units: list[int | None]
    categories: list[str | None]


def vectors(session: Session, *, dim: int, sold_only: bool = False) -> CatalogVectors:
    """Every stored item's embedding (only those with `units_sold` when `sold_only`). `Conflict` when
    they were made by an embedder of another dimension: re-import the catalogue after changing embedder."""
    q = select(CatalogItem.embedding, CatalogItem.units_sold, CatalogItem.category).where(CatalogItem.embedding.is_not(None))
    if sold_only:
        q = q.where(CatalogItem.units_sold.is_not(None))
    rows = session.execute(q.order_by(CatalogItem.id)).all()
    if not rows:
        return CatalogVectors(np.zeros((0, dim), np.float32), [], [])
    blobs: list[bytes] = [r[0] for r in rows if r[0] is not None]  # all: the query asks for embeddings
    if {len(b) for b in blobs} != {4 * dim}:  # float32
        raise Conflict(f"the stored catalogue was embedded by another embedder (not {dim} dimensions); "
                       "import the catalogue again (trendloom catalog import FILE)")
    mat = np.stack([np.frombuffer(b, dtype=np.float32) for b in blobs])  # (n, dim)
    return CatalogVectors(mat, [r[1] for r in rows], [r[2] for r in rows])


def backtest(*, text: str, file: str, language: ProductLanguage, embed: Embed, k: int, folds: int,
             seed: int) -> Backtest:
    """How well the catalogue prior predicts held-out items' sales (`matching.sales_backtest`); nothing is stored."""
    rows, _ = read_catalog(text, file=file, language=language)
    sold = [r for r in rows if r.units_sold is not None]
    if len(sold) < max(MIN_BACKTEST, folds):
        raise Invalid(f"{file}: {len(sold)} items have units_sold; a backtest needs at least "
                      f"{max(MIN_BACKTEST, folds)}", field="units_sold")
    return backtest_sales(embed([_text_of(r) for r in sold]), np.array([r.units_sold for r in sold]),
                          [r.category for r in sold], [r.launch_date for r in sold], k=k, folds=folds, seed=seed)

"""Factory registries as people have them: import (any registry CSV, or trendloom's own format), the
list with what is known and what is estimated, and the product-type/sector mapping with corrections.

Import (`import_registry`): trendloom's own format is read strictly, as before (`matching.factories.
registry`); anything else is read by `matching.factories.registry_file` (recognised column names,
`--column` overrides). Each row then becomes a factory:

- categories: the registry's `categories` column if it has one (taxonomy names); else its product
  types, each read by the product-language module ("T-shirts; Hoodies" -> t-shirt, hoodie); else, when
  no product type names one of our categories, its sectors, by `SECTOR_WORDS` below ("Apparel" -> every
  category of the taxonomy's apparel sector; "Footwear" -> sneakers). A merchandiser's correction of a
  term (`correct_term`) comes before both, and is applied again to every stored factory using the term.
- materials and processes only from columns that list them (read as taxonomy names, or by the language
  module for materials); absent: None, "not disclosed".
- a material or component supplier (facility/processing type: fabric, trims, yarn...) is kept and
  listed, and never receives a finished-goods order (`matching.factories.constraints`).
- the id: the registry's factory id column if it has one, else a stable hash of country, name and
  address, so that importing the same list again updates the same factories.

Near-duplicates, in the file and against the stored registry, are merged (`matching.factories.dedupe`);
the report gives every row's outcome (imported, updated, merged, skipped) with its reason, and each
merge with both source lines. The caller's transaction makes an import all or nothing.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from app.errors import Invalid
from app.models import FactoryRow, FactoryTermMapping, utcnow
from app.services import production
from generation.language.extract import ProductLanguage
from generation.taxonomy import Taxonomy
from matching.errors import FactoryDataError
from matching.factories.dedupe import (
    Site,
    Thresholds,
    address_key,
    find_duplicates,
    name_key,
)
from matching.factories.estimates import EstimateRules
from matching.factories.registry import Factory, csv_lines, parse_factories_csv
from matching.factories.registry_file import (
    RegistryRow,
    is_own_format,
    read_registry,
    supplies_materials,
)

# A registry's sector (or a product type naming a whole sector) -> the taxonomy sectors it covers. The
# product-language module reads product words ("socks", "T恤"); sector names are not products, so they
# are read here. Keys are `term_key`s. Sectors not listed (Health, Mining, Textiles...) map to nothing
# and are listed as unmapped, for the merchandiser to correct.
SECTOR_WORDS: dict[str, tuple[str, ...]] = {
    "apparel": ("apparel",), "apparels": ("apparel",), "garment": ("apparel",), "garments": ("apparel",),
    "clothing": ("apparel",), "fashion": ("apparel",), "wearing apparel": ("apparel",), "ready made garments": ("apparel",),
    "服装": ("apparel",), "服饰": ("apparel",), "成衣": ("apparel",),
    "sportswear": ("sportswear",), "activewear": ("sportswear",), "athleisure": ("sportswear",),
    "sporting goods": ("sportswear",), "运动服": ("sportswear",),
    "footwear": ("footwear",), "shoes": ("footwear",), "shoe": ("footwear",), "鞋": ("footwear",), "鞋类": ("footwear",),
    "鞋业": ("footwear",),
    "accessories": ("bags-accessories",), "bags": ("bags-accessories",), "handbags": ("bags-accessories",),
    "leather goods": ("bags-accessories",), "headwear": ("bags-accessories",), "apparel accessories": ("bags-accessories",),
    "箱包": ("bags-accessories",), "配饰": ("bags-accessories",),
    "hosiery": ("hosiery",), "legwear": ("hosiery",), "袜业": ("hosiery",),
    "home textiles": ("home-textiles",), "home textile": ("home-textiles",), "bedding": ("home-textiles",),
    "home furnishings": ("home-textiles",), "家纺": ("home-textiles",),
    "household": ("household-cleaning",), "household products": ("household-cleaning",),
    "cleaning products": ("household-cleaning",), "日用品": ("household-cleaning",),
    "electronics": ("electronics-accessories",), "electronics accessories": ("electronics-accessories",),
    "consumer electronics": ("electronics-accessories",), "电子配件": ("electronics-accessories",),
    "drinkware": ("drinkware",), "housewares": ("drinkware",), "kitchenware": ("drinkware",), "杯壶": ("drinkware",),
}
# Words for the taxonomy's processes in registries' lists (longest first wins).
PROCESS_WORDS: dict[str, str] = {
    "cut and sew": "cut-and-sew", "cut & sew": "cut-and-sew", "cut make trim": "cut-and-sew", "sewing": "cut-and-sew",
    "stitching": "cut-and-sew", "injection mould": "injection-molding", "injection mold": "injection-molding",
    "screen print": "printing", "knit": "knitting", "weav": "weaving", "dye": "dyeing", "print": "printing",
    "embroider": "embroidery", "lasting": "shoe-lasting", "quilt": "quilting", "press": "pressing", "ironing": "pressing",
    "cutting": "cutting", "stamp": "stamping", "weld": "welding",
}
HOW = ("manual", "lexicon", "sector", "unmapped")


def term_key(text: str) -> str:
    """A product type or sector as compared and stored: lower-case, single spaces, no edge punctuation."""
    return " ".join(re.sub(r"[^\w&+\u4e00-\u9fff-]+", " ", text.lower()).split())[:200]


@dataclass(frozen=True)
class TermMapping:
    """What a product type or sector is read as: categories (empty: nothing we make), and how."""

    term: str
    categories: tuple[str, ...]
    how: str  # manual, lexicon, sector, unmapped
    other: str | None = None  # a product it names that we do not make ("jeans")
    factories: int = 0  # stored factories using the term (in lists)
    kinds: tuple[str, ...] = ()  # "product type", "sector" (in lists)

    @property
    def mapped(self) -> bool:
        return bool(self.categories)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "categories": list(self.categories), "kinds": list(self.kinds)}


class TermReader:
    """Reads product types and sectors as categories: the stored corrections, then the language module,
    then `SECTOR_WORDS` (module docstring); each term is read once."""

    def __init__(self, session: Session, taxonomy: Taxonomy, language: ProductLanguage) -> None:
        self.taxonomy, self.language = taxonomy, language
        self.corrections = {r.term: tuple(r.categories) for r in session.scalars(select(FactoryTermMapping))}
        self._cache: dict[str, TermMapping] = {}

    def read(self, text: str) -> TermMapping:
        key = term_key(text)
        if key not in self._cache:
            self._cache[key] = self._read(key)
        return self._cache[key]

    def _read(self, key: str) -> TermMapping:
        if key in self.corrections:
            return TermMapping(key, self.corrections[key], "manual")
        e = self.language.extract(key)
        if e.category is not None:
            return TermMapping(key, (e.category,), "lexicon")
        sectors = SECTOR_WORDS.get(key)
        if sectors:
            return TermMapping(key, tuple(c.name for c in self.taxonomy.categories.values() if c.sector in sectors),
                               "sector")
        return TermMapping(key, (), "unmapped", e.other)

    def categories(self, product_types: Sequence[str], sectors: Sequence[str]) -> tuple[tuple[str, ...], str]:
        """A factory's categories from its product types, else its sectors, and which gave them ('' neither)."""
        for terms, source in ((product_types, "product type"), (sectors, "sector")):
            cats = tuple(dict.fromkeys(c for t in terms for c in self.read(t).categories))
            if cats:
                return cats, source
        return (), ""


def _material(item: str, taxonomy: Taxonomy, language: ProductLanguage) -> str | None:
    slug = term_key(item).replace(" ", "-")
    if slug in taxonomy.materials:
        return slug
    return language.extract(item).material


def _process(item: str, processes: frozenset[str]) -> str | None:
    slug = term_key(item).replace(" ", "-")
    if slug in processes:
        return slug
    low = term_key(item)
    for word, process in sorted(PROCESS_WORDS.items(), key=lambda kv: -len(kv[0])):
        if word in low and process in processes:
            return process
    return None


def factory_id_for(country: str, name: str, address: str) -> str:
    """A stable id for a registry row without one: the same facility (country, name, address as
    de-duplication reads them) gets the same id in every import."""
    digest = hashlib.sha1(f"{country}|{name_key(name)}|{address_key(address, country)}".encode()).hexdigest()
    return f"{(country or 'XX')[:2]}-{digest[:12]}"


@dataclass(frozen=True)
class RowOutcome:
    """What became of one data row of the file."""

    line: int
    outcome: str  # imported, updated, merged, skipped
    factory_id: str
    reason: str


@dataclass(frozen=True)
class MergeReport:
    """A row merged into a factory: both source lines, as the file (or the registry) has them."""

    line: int
    into: str  # factory id
    kept: str  # "file:line name, address, country" or "registry ID name, address, country"
    merged: str
    reason: str


@dataclass
class RegistryImport:
    """The report of one import."""

    file: str
    format: str  # "trendloom" (our own columns) or "registry"
    rows: int = 0
    imported: int = 0
    updated: int = 0
    merged: list[MergeReport] = field(default_factory=list)
    skipped: list[RowOutcome] = field(default_factory=list)
    outcomes: list[RowOutcome] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)  # field -> header read
    ignored_columns: list[str] = field(default_factory=list)
    categories_from: dict[str, int] = field(default_factory=dict)  # registry / product type / sector / none
    unmapped_terms: dict[str, int] = field(default_factory=dict)  # term -> rows using it
    material_suppliers: int = 0
    unreadable_cells: int = 0

    def to_dict(self, *, outcomes: bool = True) -> dict[str, Any]:
        d = asdict(self)
        if not outcomes:
            d.pop("outcomes")
        return d


def _text(prefix: str, row: RegistryRow) -> str:
    return f"{prefix} {row.source_text()}"


def import_registry(session: Session, *, text: str, file: str, taxonomy: Taxonomy, language: ProductLanguage,
                    overrides: Mapping[str, str] | None = None,
                    thresholds: Thresholds | None = None) -> RegistryImport:
    """Import a registry CSV (module docstring). FactoryDataError before anything is stored when the
    header lacks a name or country column or an override names a header that is not there (the message
    lists the columns found); our own format is all or nothing as before."""
    header = next(csv_lines(csv.reader(io.StringIO(text, newline=None)), FactoryDataError, file), [])
    if not overrides and is_own_format([h.strip() for h in header]):
        return _import_own(session, text=text, file=file, taxonomy=taxonomy, header=[h.strip() for h in header])
    read = read_registry(text, overrides, file=file)
    report = RegistryImport(file, "registry", rows=read.total, columns=dict(read.columns.fields),
                            ignored_columns=list(read.columns.ignored), unreadable_cells=read.notes)
    for line, why in read.skipped:
        report.skipped.append(RowOutcome(line, "skipped", "", why))
    rows = read.rows
    ids = [r.factory_id or factory_id_for(r.country, r.name, r.address) for r in rows]
    stored = {r.id: r for r in session.scalars(select(FactoryRow).where(
        FactoryRow.country.in_(sorted({r.country for r in rows}))))} if rows else {}
    # Rows whose id is stored already, or repeats an earlier row's id, are that factory: no fuzzy step.
    first_at: dict[str, int] = {}
    same_id: dict[int, str] = {}
    for i, fid in enumerate(ids):
        if fid in stored or fid in first_at:
            same_id[i] = fid
        else:
            first_at[fid] = i
    fixed = list(stored.values())
    fresh = [i for i in range(len(rows)) if i not in same_id]
    sites = ([Site(s.name, s.address or "", s.country) for s in fixed]
             + [Site(rows[i].name, rows[i].address, rows[i].country) for i in fresh])
    root_of: dict[int, int] = {}  # row index -> row index it merged into (fresh rows)
    into_stored: dict[int, str] = {}  # row index -> stored id it merged into
    merge_of: dict[int, Any] = {}
    for m in find_duplicates(sites, thresholds or Thresholds(), fixed=len(fixed)):
        i = fresh[m.merged - len(fixed)]
        if m.kept < len(fixed):
            into_stored[i] = fixed[m.kept].id
        else:
            root_of[i] = fresh[m.kept - len(fixed)]
        merge_of[i] = m
    reader = TermReader(session, taxonomy, language)
    records: dict[str, dict[str, Any]] = {}  # new factories by id
    updates: dict[str, dict[str, Any]] = {}  # stored factories by id
    target: dict[int, str] = {}  # row index -> the factory id it ends up in
    for i, row in enumerate(rows):
        src = f"{file}:{row.line}"
        fid = ids[i]
        if i in same_id and fid in stored:
            target[i] = fid
            _combine(updates.setdefault(fid, _stored_record(stored[fid])), row, src, replace=True)
            report.updated += 1
            report.outcomes.append(RowOutcome(row.line, "updated", fid, f"already in the registry as {fid} "
                                              "(same id, or same name and address): updated"))
            continue
        if i in same_id or i in root_of:  # the same facility as an earlier row of the file
            k = first_at[fid] if i in same_id else root_of[i]
            into = target[k]
            reason = (f"same facility as line {rows[k].line}: " + (
                "same id, or same name and address" if i in same_id else merge_of[i].reason))
            kept = _text(f"{file}:{rows[k].line}", rows[k])
        elif i in into_stored:
            into = into_stored[i]
            s = stored[into]
            reason = f"same facility as {into} in the registry: {merge_of[i].reason}"
            kept = f"registry {into} " + ", ".join(p for p in (s.name, s.address, s.country) if p)
        else:
            target[i] = fid
            records[fid] = _new_record(fid, row, src)
            report.imported += 1
            report.outcomes.append(RowOutcome(row.line, "imported", fid, ""))
            continue
        target[i] = into
        rec = records.get(into) or updates.setdefault(into, _stored_record(stored[into]))
        _combine(rec, row, src, replace=False)
        report.merged.append(MergeReport(row.line, into, kept, _text(src, row), reason))
        report.outcomes.append(RowOutcome(row.line, "merged", into, reason))
    done = {**records, **updates}
    for rec in done.values():
        _finish(rec, reader, taxonomy, language)
    for o in report.skipped:
        report.outcomes.append(o)
    report.outcomes = [_explain(o, done) for o in sorted(report.outcomes, key=lambda o: o.line)]
    _tally(report, rows, reader, list(done.values()))
    _write(session, list(records.values()), list(updates.values()))
    return report


def _new_record(fid: str, row: RegistryRow, src: str) -> dict[str, Any]:
    return {"id": fid, "name": row.name[:300], "country": row.country[:50], "region": row.region[:100],
            "city": row.city[:100], "address": row.address, "categories": [], "explicit": list(row.categories),
            "materials": None if row.materials is None else list(row.materials),
            "processes": None if row.processes is None else list(row.processes),
            "moq": row.moq, "capacity": row.capacity, "lead_time_days": row.lead_time_days, "quality": row.quality,
            "price_index": row.price_index, "small_batch": row.small_batch, "workers": row.workers,
            "sectors": list(row.sectors), "product_types": list(row.product_types),
            "facility_type": row.facility_type[:300], "parent_company": row.parent_company[:300],
            "lat": row.lat, "lng": row.lng, "sources": [src], "categories_from": ""}


def _stored_record(s: FactoryRow) -> dict[str, Any]:
    """A stored factory as a record to combine rows into; its categories are kept as given when our own
    format (or a categories column) gave them."""
    rec = {c: getattr(s, c) for c in ("id", "name", "country", "region", "city", "address", "materials", "processes",
                                      "moq", "capacity", "lead_time_days", "quality", "price_index", "small_batch",
                                      "workers", "facility_type", "parent_company", "lat", "lng", "categories_from")}
    rec.update(categories=list(s.categories), sectors=list(s.sectors or []), product_types=list(s.product_types or []),
               sources=list(s.sources or []), explicit=list(s.categories) if s.categories_from == "registry" else [])
    return rec


_FACTS = ("moq", "capacity", "lead_time_days", "quality", "price_index", "workers", "lat", "lng")


def _combine(rec: dict[str, Any], row: RegistryRow, src: str, *, replace: bool) -> None:
    """Add what `row` says to `rec`: lists are united; a number the record lacks is taken (with `replace`,
    the row's known numbers win: a newer copy of the same list)."""
    for key, words in (("sectors", row.sectors), ("product_types", row.product_types), ("explicit", row.categories)):
        rec[key] = list(dict.fromkeys([*rec[key], *words]))
    for key, items in (("materials", row.materials), ("processes", row.processes)):
        if items is not None:
            rec[key] = list(dict.fromkeys([*(rec[key] or []), *items]))
    for key in _FACTS:
        value = getattr(row, key)
        if value is not None and (replace or rec[key] is None):
            rec[key] = value
    for key in ("address", "city", "region", "facility_type", "parent_company"):
        value = getattr(row, key)
        if value and (replace or not rec[key]):
            rec[key] = value
    rec["small_batch"] = bool(rec["small_batch"] or row.small_batch)
    if src not in rec["sources"]:
        rec["sources"].append(src)


def _finish(rec: dict[str, Any], reader: TermReader, taxonomy: Taxonomy, language: ProductLanguage) -> None:
    """Read categories, materials and processes into taxonomy names; decide the supplier flag."""
    explicit = rec.pop("explicit")
    if explicit:
        cats = []
        for item in explicit:
            name = term_key(item).replace(" ", "-")
            cats.extend([name] if name in taxonomy.categories else list(reader.read(item).categories))
        rec["categories"], rec["categories_from"] = list(dict.fromkeys(cats)), "registry"
    elif rec["categories_from"] != "registry" or not rec["categories"]:
        cats_t, source = reader.categories(rec["product_types"], rec["sectors"])
        rec["categories"], rec["categories_from"] = list(cats_t), source
    if rec["materials"] is not None:
        rec["materials"] = list(dict.fromkeys(m for m in (_material(x, taxonomy, language) for x in rec["materials"]) if m))
    if rec["processes"] is not None:
        known = frozenset(taxonomy.processes)
        rec["processes"] = list(dict.fromkeys(p for p in (_process(x, known) for x in rec["processes"]) if p))
    rec["supplies_materials"] = supplies_materials(rec["facility_type"] or "")
    if rec["capacity"] is not None and rec["moq"] is not None and rec["capacity"] < rec["moq"]:
        rec["capacity"] = None  # the two cannot both be right: capacity is estimated instead


def _explain(o: RowOutcome, done: Mapping[str, dict[str, Any]]) -> RowOutcome:
    """An imported row's reason: what its categories were read from, and what will be estimated."""
    if o.outcome != "imported":
        return o
    rec = done[o.factory_id]
    if rec["supplies_materials"]:
        why = f"material/component supplier ({rec['facility_type']}): listed, never given finished-goods orders"
    elif rec["categories"]:
        why = f"makes {', '.join(rec['categories'])} (from its {rec['categories_from'] or 'categories'})"
    else:
        terms = rec["product_types"] or rec["sectors"]
        why = ("makes nothing we sell as far as its " + ("product types" if rec["product_types"] else "sectors")
               + f" say ({'; '.join(terms[:3])}): listed, not matched until `trendloom factories map` corrects it"
               if terms else "no product type or sector given: listed, not matched")
    unknown = [k for k in ("capacity", "moq", "lead_time_days", "materials", "processes") if rec[k] is None]
    if unknown:
        why += "; not disclosed: " + ", ".join(u.replace("_days", "") for u in unknown)
    return RowOutcome(o.line, o.outcome, o.factory_id, f"new factory {o.factory_id}: {why}")


def _tally(report: RegistryImport, rows: Sequence[RegistryRow], reader: TermReader,
           records: Sequence[dict[str, Any]]) -> None:
    report.categories_from = dict(Counter(r["categories_from"] or "none" for r in records))
    report.material_suppliers = sum(bool(r["supplies_materials"]) for r in records)
    unmapped: Counter[str] = Counter()
    for row in rows:
        for term in {*row.product_types, *row.sectors}:
            if not reader.read(term).mapped:
                unmapped[term_key(term)] += 1
    report.unmapped_terms = dict(unmapped.most_common())


def _write(session: Session, new: list[dict[str, Any]], changed: list[dict[str, Any]]) -> None:
    """New factories in batches of one executemany each (Core: the ORM would split the batch wherever a
    row has other NULL columns); stored ones updated by primary key."""
    for chunk in range(0, len(new), 5_000):
        session.execute(insert(FactoryRow.__table__), new[chunk:chunk + 5_000])  # type: ignore[arg-type]
    if changed:
        session.execute(update(FactoryRow), changed)


def _import_own(session: Session, *, text: str, file: str, taxonomy: Taxonomy, header: list[str]) -> RegistryImport:
    """Our own format, strictly (all or nothing, known category and material names), as before."""
    factories = parse_factories_csv(text, file=file, known_categories=taxonomy.categories,
                                    known_materials=taxonomy.materials)
    existing = set(session.scalars(select(FactoryRow.id).where(FactoryRow.id.in_([f.factory_id for f in factories]))))
    lines = [i + 2 for i in range(len(factories))]  # our format has one line per row after the header
    production.import_factories(session, factories, sources=[f"{file}:{n}" for n in lines])
    report = RegistryImport(file, "trendloom", rows=len(factories),
                            imported=sum(f.factory_id not in existing for f in factories),
                            updated=sum(f.factory_id in existing for f in factories),
                            columns={c: c for c in header},
                            categories_from={"registry": len(factories)})
    report.outcomes = [RowOutcome(n, "updated" if f.factory_id in existing else "imported", f.factory_id,
                                  "trendloom's own format: every fact given") for n, f in zip(lines, factories)]
    return report


# --- the list -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """A number the registry gave (`known`) or planning estimates, with why (`note`, and `basis`: the
    parts of the estimate, for pages that say it in their own language)."""

    value: int | float | None
    known: bool
    note: str = ""
    basis: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class FactoryView:
    """A factory as the list shows it: what is known and what is estimated."""

    id: str
    name: str
    country: str
    city: str
    categories: tuple[str, ...]
    categories_from: str
    capacity: Figure
    moq: Figure
    lead_time_days: Figure
    workers: int | None
    materials: tuple[str, ...] | None
    facility_type: str
    supplies_materials: bool
    sources: int

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["categories"] = list(self.categories)
        d["materials"] = None if self.materials is None else list(self.materials)
        return d


def _note(f: Factory, word: str) -> str:
    return next((n for n in (f.estimate.notes if f.estimate else ()) if n.lower().startswith(word)), "")


def view(row: FactoryRow, rules: EstimateRules) -> FactoryView:
    f = production.factory_of(row, rules)
    per, category = rules.per_worker(row.categories)
    capacity_basis = {} if row.capacity is not None else {
        "workers": row.workers or rules.workers_assumed, "assumed": not row.workers, "per_worker": per,
        "category": None if category == "default" else category}
    moq_basis = {} if row.moq is not None else {"word": rules.moq_for(row.facility_type or "")[1],
                                                 "capped": f.plan_moq < rules.moq_for(row.facility_type or "")[0]}
    return FactoryView(
        row.id, row.name, row.country, row.city or "", tuple(row.categories), row.categories_from or "",
        Figure(f.plan_capacity, row.capacity is not None, _note(f, "capacity"), capacity_basis),
        Figure(f.plan_moq, row.moq is not None, _note(f, "moq"), moq_basis),
        Figure(row.lead_time_days, row.lead_time_days is not None,
               "" if row.lead_time_days is not None else "not disclosed: assumed to meet due dates"),
        row.workers, f.materials, row.facility_type or "", bool(row.supplies_materials), len(row.sources or []))


def list_factories(session: Session, rules: EstimateRules, *, country: str | None = None, limit: int | None = None,
                   offset: int = 0) -> list[FactoryView]:
    """Stored factories by country then name, with what is known and what is estimated."""
    q = select(FactoryRow).order_by(FactoryRow.country, FactoryRow.name, FactoryRow.id).offset(offset)
    if country:
        q = q.where(FactoryRow.country == country.upper())
    if limit is not None:
        q = q.limit(limit)
    return [view(r, rules) for r in session.scalars(q)]


@dataclass(frozen=True)
class RegistrySummary:
    factories: int
    countries: list[tuple[str, int]]
    capacity_known: int
    moq_known: int
    material_suppliers: int
    without_category: int


def summary(session: Session) -> RegistrySummary:
    """Counts over the whole registry (one pass over a few columns)."""
    rows = session.execute(select(FactoryRow.country, FactoryRow.capacity.is_not(None), FactoryRow.moq.is_not(None),
                                  FactoryRow.supplies_materials, FactoryRow.categories)).all()
    return RegistrySummary(len(rows), Counter(r[0] for r in rows).most_common(),
                           sum(bool(r[1]) for r in rows), sum(bool(r[2]) for r in rows),
                           sum(bool(r[3]) for r in rows), sum(not r[4] for r in rows))


# --- the mapping ----------------------------------------------------------------------------------


def term_mappings(session: Session, taxonomy: Taxonomy, language: ProductLanguage) -> list[TermMapping]:
    """Every product type and sector of the stored factories, what it is read as and how, and how many
    factories use it; unmapped first, then by use."""
    reader = TermReader(session, taxonomy, language)
    uses: Counter[str] = Counter()
    kinds: dict[str, set[str]] = {}
    for product_types, sectors in session.execute(select(FactoryRow.product_types, FactoryRow.sectors)):
        for kind, terms in (("product type", product_types or ()), ("sector", sectors or ())):
            for t in {term_key(x) for x in terms}:
                uses[t] += 1
                kinds.setdefault(t, set()).add(kind)
    for term in reader.corrections:
        kinds.setdefault(term, set())
    out = [TermMapping(**{**asdict(reader.read(t)), "factories": uses[t], "kinds": tuple(sorted(kinds[t]))})
           for t in kinds]
    return sorted(out, key=lambda m: (m.mapped, -m.factories, m.term))


def correct_term(session: Session, taxonomy: Taxonomy, language: ProductLanguage, *, term: str,
                 categories: Iterable[str]) -> tuple[TermMapping, int]:
    """The merchandiser says which categories a product type or sector means (none: nothing we make);
    kept for later imports and applied now to every stored factory whose categories came from its terms.
    Returns the mapping and how many factories changed. Invalid for an unknown category."""
    key = term_key(term)
    if not key:
        raise Invalid("term: a product type or sector of 1 to 200 characters", field="term")
    cats = list(dict.fromkeys(c.strip() for c in categories if c.strip()))
    unknown = [c for c in cats if c not in taxonomy.categories]
    if unknown:
        raise Invalid(f"unknown categories {unknown}; known: {', '.join(sorted(taxonomy.categories))}",
                      field="categories")
    row = session.get(FactoryTermMapping, key)
    if row is None:
        row = FactoryTermMapping(term=key, created_at=utcnow())
        session.add(row)
    row.categories = cats
    session.flush()
    reader = TermReader(session, taxonomy, language)
    changed = 0
    for f in session.scalars(select(FactoryRow).where(FactoryRow.categories_from != "registry")):
        terms = {term_key(x) for x in [*(f.product_types or ()), *(f.sectors or ())]}
        if key not in terms:
            continue
        cats_t, source = reader.categories(f.product_types or (), f.sectors or ())
        if list(cats_t) != list(f.categories) or source != f.categories_from:
            f.categories, f.categories_from = list(cats_t), source
            changed += 1
    return reader.read(key), changed


def outcomes_csv(report: RegistryImport) -> list[tuple[object, ...]]:
    """The report's rows for a CSV (line, outcome, factory_id, reason, and for a merge both sources)."""
    merges = {m.line: m for m in report.merged}
    return [(o.line, o.outcome, o.factory_id, o.reason, merges[o.line].kept if o.line in merges else "",
             merges[o.line].merged if o.line in merges else "") for o in report.outcomes]


__all__ = [
    "SECTOR_WORDS",
    "FactoryView",
    "Figure",
    "MergeReport",
    "RegistryImport",
    "RowOutcome",
    "TermMapping",
    "TermReader",
    "correct_term",
    "import_registry",
    "list_factories",
    "summary",
    "term_key",
    "term_mappings",
]

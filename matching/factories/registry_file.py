"""Read the factory registries people actually have: Open Supply Hub downloads, brands' published
supplier lists, a sourcing team's spreadsheet.

Columns are recognised by their usual names (`ALIASES`), compared case-, space- and separator-
insensitively ("Number of Workers", "number_of_workers" and "NUMBER-OF-WORKERS" are one name); the
caller names any other with `overrides` (`--column FIELD=HEADER`), FIELD one of `FIELDS`. A registry
needs a name and a country column; without one, or with an override naming a header that is not there,
the file is refused before anything is read further, with the columns it has.

Rows are read leniently, because real lists are messy: a row without a name or a country is skipped
with its reason; a value that cannot be read (a MOQ of "ask us") is kept unknown, with a note. Nothing
is guessed: what the file does not give is None. Worker counts may be ranges as registries publish them
("1001-5000": the midpoint, "Less than 1000": half, "More than 10000": the bound), said in a note.
Cells that a spreadsheet would run as formulas ("=HYPERLINK(...)") are kept as the text they are.

Interpreting the words (product types and sectors -> taxonomy categories, material names) needs the
product-language module and is the caller's (`app.services.factory_registry`); this module only splits
list cells into items and decides, from the facility and processing type, whether a facility is a
material or component supplier (`supplies_materials`).
"""

from __future__ import annotations

import csv
import functools
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from matching.errors import FactoryDataError
from matching.factories.countries import country_code
from matching.factories.registry import REQUIRED_COLUMNS, csv_lines

FIELDS: tuple[str, ...] = (
    "factory_id", "name", "address", "city", "region", "country", "sector", "product_type", "facility_type",
    "processing_type", "workers", "parent_company", "lat", "lng", "categories", "materials", "processes", "moq",
    "capacity", "lead_time_days", "price_index", "quality", "small_batch",
)
REQUIRED_FIELDS: tuple[str, ...] = ("name", "country")

# Each field's usual column names, most specific first; compared after `header_key`.
ALIASES: dict[str, tuple[str, ...]] = {
    "factory_id": ("factory_id", "factory id", "facility id", "os id", "osh id", "supplier id", "site id"),
    "name": ("name", "factory name", "facility name", "supplier name", "site name", "production site name",
             "manufacturer name", "company name", "name of factory", "name of facility", "factory", "facility",
             "manufacturer", "工厂名称", "工厂", "企业名称", "名称"),
    "address": ("address", "factory address", "facility address", "site address", "street address", "full address",
                "address line 1", "地址", "工厂地址"),
    "city": ("city", "town", "city town", "城市"),
    "region": ("region", "province", "state", "state province", "province state", "state region", "省份", "地区"),
    "country": ("country", "country name", "country code", "country region", "factory country", "facility country",
                "country of production", "国家", "国家地区"),
    "sector": ("sector", "sectors", "industry", "行业"),
    "product_type": ("product type", "product types", "products", "product category", "product categories",
                     "main products", "type of product", "types of product", "product", "产品", "产品类型", "主营产品"),
    "facility_type": ("facility type", "factory type", "facility types", "type of facility", "supplier type",
                      "processing type facility type raw", "facility type processing type", "工厂类型"),
    "processing_type": ("processing type", "processing types", "process type", "type of processing", "加工类型"),
    "workers": ("number of workers", "total workers", "workers", "no of workers", "number of employees",
                "total employees", "employees", "workforce", "headcount", "worker count", "工人数", "员工人数"),
    "parent_company": ("parent company", "parent company name", "parent", "group", "母公司"),
    "lat": ("lat", "latitude"),
    "lng": ("lng", "lon", "long", "longitude"),
    "categories": ("categories",),
    "materials": ("materials", "material"),
    "processes": ("processes",),
    "moq": ("moq", "minimum order quantity", "min order quantity", "min order qty", "minimum order"),
    "capacity": ("capacity", "monthly capacity", "production capacity", "capacity per month"),
    "lead_time_days": ("lead_time_days", "lead time", "lead time days", "leadtime"),
    "price_index": ("price_index", "price index"),
    "quality": ("quality",),
    "small_batch": ("small_batch", "small batch"),
}

# A facility or processing type naming one of these makes materials or components, not finished goods...
MATERIAL_WORDS: tuple[str, ...] = ("material", "fabric", "component", "trim", "yarn", "spinning", "tannery",
                                   "tanning", "textile mill", "raw", "label", "zipper", "button", "thread",
                                   "packaging", "面料", "辅料", "原料", "纱")
# ...unless it also names finished-goods work (a vertical mill that also sews is a maker).
FINISHED_WORDS: tuple[str, ...] = ("final product", "finished", "assembly", "garment", "sewing", "cut and sew",
                                   "cut & sew", "cut-and-sew", "cut make", "apparel", "footwear", "成衣", "服装", "缝")
_SPLIT = re.compile(r"\s*(?:[;|,/\n、，；]|\s&\s|\sand\s)\s*")
_LIST_SPLIT = re.compile(r"\s*[;|\n、；]\s*")


def header_key(text: str) -> str:
    """A column name compared case-, space- and separator-insensitively."""
    return re.sub(r"[^0-9a-z\u4e00-\u9fff]+", "", text.lower())


_ALIAS_KEYS = {f: tuple(header_key(a) for a in names) for f, names in ALIASES.items()}


def is_own_format(header: Sequence[str]) -> bool:
    """True when the header has every column of trendloom's own registry format (`registry.py`)."""
    return set(REQUIRED_COLUMNS) <= set(header)


@dataclass(frozen=True)
class ColumnMap:
    """Which header each field is read from, and the headers left unread."""

    fields: dict[str, str]
    ignored: tuple[str, ...]


def resolve_columns(header: Sequence[str], overrides: Mapping[str, str] | None = None, *,
                    file: str = "<registry>") -> ColumnMap:
    """Map `header` to trendloom's fields: `overrides` (field -> header) first, then `ALIASES`.

    FactoryDataError (line 1) for an unknown field, an override naming a header that is not there, or
    no name or country column; each message lists the columns found."""
    found = ", ".join(repr(h) for h in header) or "none"
    by_key: dict[str, str] = {}
    for h in header:
        by_key.setdefault(header_key(h), h)
    chosen: dict[str, str] = {}
    for fld, wanted in (overrides or {}).items():
        if fld not in FIELDS:
            raise FactoryDataError(file, 1, f"--column {fld}={wanted}: unknown field {fld!r}; fields: {', '.join(FIELDS)}")
        named = by_key.get(header_key(wanted))
        if named is None:
            raise FactoryDataError(file, 1, f"--column {fld}={wanted}: the file has no column {wanted!r}; "
                                   f"found columns: {found}")
        chosen[fld] = named
    used = set(chosen.values())
    for fld in FIELDS:
        if fld in chosen:
            continue
        for key in _ALIAS_KEYS[fld]:
            alias = by_key.get(key)
            if alias is not None and alias not in used:
                chosen[fld] = alias
                used.add(alias)
                break
    missing = [f for f in REQUIRED_FIELDS if f not in chosen]
    if missing:
        tried = "; ".join(f"{f}: {', '.join(ALIASES[f][:6])}" for f in missing)
        raise FactoryDataError(file, 1, f"no {' and no '.join(missing)} column (looked for {tried}); found columns: "
                               f"{found}; name it with --column {missing[0]}=HEADER")
    return ColumnMap(chosen, tuple(h for h in header if h not in used))


@functools.lru_cache(maxsize=65536)
def split_items(text: str, *, words: bool = False) -> tuple[str, ...]:
    """A list cell as its items: split at ; | newlines (and , / & "and" when `words`, for product types
    and sectors: "T-shirts, Hoodies & Socks")."""
    parts = (_SPLIT if words else _LIST_SPLIT).split(text.strip())
    return tuple(dict.fromkeys(p.strip(" .") for p in parts if p.strip(" .")))


def supplies_materials(facility_type: str) -> bool:
    """Whether a facility or processing type says materials or components (fabric, trims, yarn...) and
    no finished-goods work: such a facility is kept and shown, never given a finished-goods order."""
    text = facility_type.lower()
    return any(w in text for w in MATERIAL_WORDS) and not any(w in text for w in FINISHED_WORDS)


@dataclass(frozen=True)
class RegistryRow:
    """One facility as the file gives it; None (or empty) where it says nothing."""

    line: int
    name: str
    country: str  # ISO alpha-2 where known (`countries.country_code`), else as written, upper-cased
    factory_id: str = ""
    address: str = ""
    city: str = ""
    region: str = ""
    sectors: tuple[str, ...] = ()
    product_types: tuple[str, ...] = ()
    facility_type: str = ""  # facility type and processing type, " | "-joined
    workers: int | None = None
    parent_company: str = ""
    lat: float | None = None
    lng: float | None = None
    categories: tuple[str, ...] = ()  # as written; empty when not given
    materials: tuple[str, ...] | None = None
    processes: tuple[str, ...] | None = None
    moq: int | None = None
    capacity: int | None = None
    lead_time_days: int | None = None
    price_index: float | None = None
    quality: float | None = None
    small_batch: bool = False
    notes: tuple[str, ...] = ()  # values that could not be read and are kept unknown

    @property
    def supplies_materials(self) -> bool:
        return supplies_materials(self.facility_type)

    def source_text(self) -> str:
        """The row as a person recognises it: name, address, country."""
        return ", ".join(p for p in (self.name, self.address, self.city, self.country) if p)


@dataclass
class RegistryRead:
    """A registry file read: its rows, the rows skipped (line, reason), and the columns used."""

    rows: list[RegistryRow]
    skipped: list[tuple[int, str]]
    columns: ColumnMap
    total: int = 0
    notes: int = field(default=0)  # cells kept unknown because they could not be read


_NUM = re.compile(r"\d[\d,.\s]*")


def _whole(text: str) -> int | None:
    """'1,200' -> 1200, '1000 pcs' -> 1000; None when there is no single number."""
    nums = [re.sub(r"[,\s]", "", n).split(".")[0] for n in _NUM.findall(text)]
    return int(nums[0]) if len(nums) == 1 and nums[0] else None


@functools.lru_cache(maxsize=65536)
def read_workers(text: str) -> tuple[int | None, str]:
    """A head count as registries write it, and a note when it is not a plain number ('' otherwise)."""
    raw = text.strip()
    if not raw:
        return None, ""
    low = raw.lower()
    nums = [int(re.sub(r"[,\s.]", "", n)) for n in _NUM.findall(low) if re.sub(r"[,\s.]", "", n)]
    if len(nums) == 1 and re.fullmatch(r"[\d,.\s]+", low):
        return nums[0], ""
    if len(nums) == 2 and re.search(r"\d\s*(-|–|to)\s*\d", low):
        mid = (nums[0] + nums[1]) // 2
        return mid, f"workers {raw!r}: the midpoint {mid} used"
    if len(nums) == 1 and re.search(r"less than|fewer than|under|below|<", low):
        return max(1, nums[0] // 2), f"workers {raw!r}: half the bound, {max(1, nums[0] // 2)}, used"
    if len(nums) == 1 and re.search(r"more than|over|above|>|\+", low):
        return nums[0], f"workers {raw!r}: the bound {nums[0]} used"
    return None, f"workers {raw!r} not understood: unknown"


def _row(values: Mapping[str, str], line: int) -> RegistryRow | str:
    """A RegistryRow, or why the row is skipped."""
    clean = {f: " ".join(v.split()) for f, v in values.items() if v}
    get = clean.get
    name, country_text = get("name", ""), get("country", "")
    if not name:
        return "no name"
    if not country_text:
        return "no country"
    notes: list[str] = []

    def whole(f: str, lo: int) -> int | None:
        raw = get(f, "")
        if not raw:
            return None
        v = _whole(raw)
        if v is None or v < lo:
            notes.append(f"{f} {raw!r} not understood: unknown")
            return None
        return v

    def number(f: str, lo: float, hi: float) -> float | None:
        raw = get(f, "")
        if not raw:
            return None
        try:
            v = float(raw.replace(",", "."))
        except ValueError:
            v = float("nan")
        if not lo <= v <= hi:
            notes.append(f"{f} {raw!r} not understood (expected {lo}..{hi}): unknown")
            return None
        return v

    def items(f: str) -> tuple[str, ...] | None:
        raw = values.get(f) or ""
        return split_items(raw) if raw.strip() else None

    workers, note = read_workers(values.get("workers") or "")
    if note:
        notes.append(note)
    facility = " | ".join(p for p in (get("facility_type"), get("processing_type")) if p)
    small = get("small_batch", "").lower()
    return RegistryRow(
        line=line, name=name, country=country_code(country_text), factory_id=get("factory_id", "")[:50],
        address=get("address", ""), city=get("city", ""), region=get("region", ""),
        sectors=split_items(values.get("sector") or "", words=True),
        product_types=split_items(values.get("product_type") or "", words=True),
        facility_type=facility, workers=workers, parent_company=get("parent_company", ""),
        lat=number("lat", -90, 90), lng=number("lng", -180, 180),
        categories=items("categories") or (), materials=items("materials"), processes=items("processes"),
        moq=whole("moq", 1), capacity=whole("capacity", 1), lead_time_days=whole("lead_time_days", 1),
        price_index=number("price_index", 0.1, 10.0), quality=number("quality", 0.0, 1.0),
        small_batch=small in ("yes", "true", "1", "y"), notes=tuple(notes),
    )


def read_registry(text: str, overrides: Mapping[str, str] | None = None, *,
                  file: str = "<registry>") -> RegistryRead:
    """Every row of a registry CSV (module docstring). The header is checked before any row is read."""
    reader = csv.reader(io.StringIO(text, newline=None))  # CR, LF or CRLF line endings
    lines = csv_lines(reader, FactoryDataError, file)
    header = next(lines, None)
    if not header or not any(h.strip() for h in header):
        raise FactoryDataError(file, 1, "the file is empty (expected a header row)")
    header = [h.strip() for h in header]
    columns = resolve_columns(header, overrides, file=file)
    at = {f: header.index(h) for f, h in columns.fields.items()}
    rows: list[RegistryRow] = []
    skipped: list[tuple[int, str]] = []
    total = notes = 0
    for cells in lines:
        if not any(c.strip() for c in cells):
            continue  # a blank line is no row
        total += 1
        line = reader.line_num
        values = {f: cells[i] if i < len(cells) else "" for f, i in at.items()}
        row = _row(values, line)
        if isinstance(row, str):
            skipped.append((line, row))
        else:
            rows.append(row)
            notes += len(row.notes)
    return RegistryRead(rows, skipped, columns, total, notes)


def parse_overrides(specs: Iterable[str]) -> dict[str, str]:
    """`FIELD=HEADER` strings (the CLI's repeatable --column) as a mapping; FactoryDataError when one is
    not FIELD=HEADER, names an unknown field, or repeats a field."""
    out: dict[str, str] = {}
    for spec in specs:
        fld, sep, header = spec.partition("=")
        fld, header = fld.strip(), header.strip()
        if not sep or not fld or not header:
            raise FactoryDataError("--column", None, f"{spec!r} is not FIELD=HEADER (e.g. workers=\"Total headcount\")")
        if fld not in FIELDS:
            raise FactoryDataError("--column", None, f"unknown field {fld!r}; fields: {', '.join(FIELDS)}")
        if fld in out:
            raise FactoryDataError("--column", None, f"{fld} is named twice")
        out[fld] = header
    return out

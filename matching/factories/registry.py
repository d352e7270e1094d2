"""The factory registry: a capability profile per factory, read from CSV with strict validation.

CSV columns (more are allowed and ignored): factory_id, name, country, region, city, categories,
materials, processes, moq, capacity, lead_time_days, quality, price_index, small_batch. List fields
are ';'-separated. `moq` and `capacity` are pieces per month, `quality` is in [0, 1], `price_index` is
a cost multiplier (1.0 = the market's usual cost for the category).

Registries written by others (Open Supply Hub downloads, brands' supplier lists) are read by
`registry_file.py`; what they do not say is None here (materials, processes, MOQ, capacity, lead time,
quality, price level: "not disclosed", never a default that looks like a fact). Planning needs numbers
for MOQ, capacity, quality and price, so a factory may carry an `Estimate` of them (`estimates.py`); the
`plan_*` properties give the known value, else the estimate, and say which by `estimated`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TypeVar

from matching.errors import DataFileError, FactoryDataError, MatchingError
from matching.factories.csv_safe import safe_cell

_Row = TypeVar("_Row")

REQUIRED_COLUMNS: tuple[str, ...] = (
    "factory_id", "name", "country", "region", "categories", "materials", "processes",
    "moq", "capacity", "lead_time_days", "quality", "price_index",
)
OPTIONAL_COLUMNS: tuple[str, ...] = ("city", "small_batch", "workers")
CSV_COLUMNS: tuple[str, ...] = REQUIRED_COLUMNS + OPTIONAL_COLUMNS


@dataclass(frozen=True)
class Estimate:
    """Planning values for the facts a registry did not give, each with the reason it was estimated
    (`notes`, e.g. "capacity estimated from 690 workers x 250 pcs/worker/month (dress)")."""

    moq: int
    capacity: int
    quality: float
    price_index: float
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Factory:
    factory_id: str
    name: str
    country: str
    region: str
    categories: tuple[str, ...]
    materials: tuple[str, ...] | None  # None: not disclosed
    processes: tuple[str, ...] | None  # None: not disclosed
    moq: int | None  # pieces per design; None: not disclosed
    capacity: int | None  # pieces per month; None: not disclosed
    lead_time_days: int | None  # None: not disclosed (then no lead-time check, said as assumed)
    quality: float | None  # 0..1; None: not known
    price_index: float | None  # cost multiplier; None: not known
    city: str = ""
    small_batch: bool = False
    workers: int | None = None  # None: not known
    address: str = ""
    facility_type: str = ""  # as the registry wrote it (facility and processing type)
    supplies_materials: bool = False  # a material/component supplier: never given a finished-goods order
    estimate: Estimate | None = None  # planning values for the unknown numbers (`estimates.estimate`)

    def _plan(self, fact: str) -> float:
        value = getattr(self, fact)
        if value is not None:
            return value  # type: ignore[no-any-return]
        if self.estimate is None:
            raise MatchingError(f"factory {self.factory_id}: {fact} is not known and was not estimated "
                                "(see estimates.with_estimates)")
        return getattr(self.estimate, fact)  # type: ignore[no-any-return]

    @property
    def plan_moq(self) -> int:
        """The MOQ planning uses: the registry's, else the estimate."""
        return int(self._plan("moq"))

    @property
    def plan_capacity(self) -> int:
        """Monthly capacity planning uses: the registry's, else the estimate."""
        return int(self._plan("capacity"))

    @property
    def plan_quality(self) -> float:
        return float(self._plan("quality"))

    @property
    def plan_price_index(self) -> float:
        return float(self._plan("price_index"))

    @property
    def estimated(self) -> tuple[str, ...]:
        """The facts planning takes from the estimate (moq, capacity, quality, price_index): not known."""
        return tuple(k for k in ("moq", "capacity", "quality", "price_index") if getattr(self, k) is None)

    def capability_text(self) -> str:
        """Plain-text capability profile for people reading a match (what is embedded: `capability.capability_text`)."""
        def listed(items: tuple[str, ...] | None) -> str:
            return "not disclosed" if items is None else ", ".join(items)
        return (
            f"{self.name} in {self.city or self.region or self.country}: makes {', '.join(self.categories)}; "
            f"materials {listed(self.materials)}; processes {listed(self.processes)}"
        )

    def to_row(self) -> dict[str, str]:
        row = {k: "" if v is None else str(v) for k, v in asdict(self).items() if k in CSV_COLUMNS}
        for k in ("categories", "materials", "processes"):
            row[k] = ";".join(getattr(self, k) or ())
        row["small_batch"] = "yes" if self.small_batch else "no"
        return row


def whole_number(raw: str, column: str, minimum: int) -> int:
    """A CSV cell as a whole number >= `minimum`; ValueError naming the column and the value otherwise."""
    raw = raw.strip()
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"column {column!r}: {raw!r} is not a whole number") from None
    if value < minimum:
        raise ValueError(f"column {column!r}: {value} is below {minimum}")
    return value


def read_text(path: str | Path, error: type[DataFileError]) -> str:
    """A UTF-8 file's text (a BOM is dropped); `error` (file, no line, why) when it cannot be read."""
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise error(str(path), None, f"cannot read: {exc}") from exc


def csv_rows(text: str, required: Sequence[str], error: type[DataFileError], *,
             file: str) -> Iterator[tuple[int, dict[str, str]]]:
    """The data rows of a CSV with a header, each with the line it ends on.

    The header is checked at once: `error(file, 1, ...)` when the file is empty or lacks a `required`
    column; a row with more fields than the header raises `error(file, line, ...)` as it is reached."""
    reader = csv.DictReader(io.StringIO(text, newline=None))  # CR, LF or CRLF line endings
    try:
        fields = reader.fieldnames
    except csv.Error as exc:
        raise error(file, reader.reader.line_num, f"not readable as CSV: {exc}") from None
    if not fields:
        raise error(file, 1, "the file is empty (expected a header row)")
    missing = [c for c in required if c not in fields]
    if missing:
        raise error(file, 1, f"missing columns {missing}; required: {', '.join(required)}")
    return _checked_rows(reader, error, file)


def _checked_rows(reader: csv.DictReader[str], error: type[DataFileError],
                  file: str) -> Iterator[tuple[int, dict[str, str]]]:
    width = len(reader.fieldnames or ())
    for row in csv_lines(reader, error, file):
        if None in row:
            raise error(file, reader.line_num, f"more fields than the {width} columns of the header")
        yield reader.line_num, row


def csv_lines(reader: Iterator[_Row], error: type[DataFileError], file: str) -> Iterator[_Row]:
    """The rows of a csv reader (or DictReader); a line the csv module cannot read (a cell over its field
    limit) is `error` on its line, not a `csv.Error` the caller does not expect."""
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            lines = getattr(reader, "reader", reader)  # a DictReader's own line_num lags behind its reader's
            raise error(file, getattr(lines, "line_num", None), f"not readable as CSV: {exc}") from None
        yield row


def split_list(value: str) -> tuple[str, ...]:
    """A ';'-separated cell as its stripped, non-empty items."""
    return tuple(v.strip() for v in value.split(";") if v.strip())


def _parse_row(row: dict[str, str], known_categories: frozenset[str] | None,
               known_materials: frozenset[str] | None) -> Factory:
    def integer(col: str, minimum: int) -> int:
        return whole_number(row.get(col) or "", col, minimum)

    def number(col: str, lo: float, hi: float) -> float:
        raw = (row.get(col) or "").strip()
        try:
            v = float(raw)
        except ValueError:
            raise ValueError(f"column {col!r}: {raw!r} is not a number") from None
        if not lo <= v <= hi:
            raise ValueError(f"column {col!r}: {v} is outside [{lo}, {hi}]")
        return v

    for col in ("factory_id", "name", "country", "region", "categories", "materials", "processes"):
        if not (row.get(col) or "").strip():
            raise ValueError(f"column {col!r} is empty")
    categories, materials = split_list(row["categories"]), split_list(row["materials"])
    if known_categories is not None:
        unknown = sorted(set(categories) - known_categories)
        if unknown:
            raise ValueError(f"unknown categories {unknown}; known: {', '.join(sorted(known_categories))}")
    if known_materials is not None:
        unknown = sorted(set(materials) - known_materials)
        if unknown:
            raise ValueError(f"unknown materials {unknown}; known: {', '.join(sorted(known_materials))}")
    moq, capacity = integer("moq", 1), integer("capacity", 1)
    if capacity < moq:
        raise ValueError(f"capacity {capacity} is below the MOQ {moq}")
    small = (row.get("small_batch") or "no").strip().lower()
    if small not in ("yes", "no", "true", "false", "1", "0"):
        raise ValueError(f"column 'small_batch': {small!r} is not yes/no")
    workers = integer("workers", 0) if (row.get("workers") or "").strip() else None  # absent: unknown; bad: an error
    return Factory(
        factory_id=row["factory_id"].strip(),
        name=row["name"].strip(),
        country=row["country"].strip(),
        region=row["region"].strip(),
        city=(row.get("city") or "").strip(),
        categories=categories,
        materials=materials,
        processes=split_list(row["processes"]),
        moq=moq,
        capacity=capacity,
        lead_time_days=integer("lead_time_days", 1),
        quality=number("quality", 0.0, 1.0),
        price_index=number("price_index", 0.1, 10.0),
        small_batch=small in ("yes", "true", "1"),
        workers=workers,
    )


def parse_factories_csv(text: str, *, file: str = "<factories>",
                        known_categories: Iterable[str] | None = None,
                        known_materials: Iterable[str] | None = None) -> list[Factory]:
    """Parse a factory registry. Any bad row rejects the whole file with its line and the reason."""
    rows = csv_rows(text, REQUIRED_COLUMNS, FactoryDataError, file=file)
    cats = frozenset(known_categories) if known_categories is not None else None
    mats = frozenset(known_materials) if known_materials is not None else None
    out: list[Factory] = []
    seen: dict[str, int] = {}
    for line, row in rows:
        try:
            f = _parse_row(row, cats, mats)
        except ValueError as exc:
            raise FactoryDataError(file, line, str(exc)) from None
        if f.factory_id in seen:
            raise FactoryDataError(file, line, f"factory_id {f.factory_id!r} repeats line {seen[f.factory_id]}")
        seen[f.factory_id] = line
        out.append(f)
    if not out:
        raise FactoryDataError(file, None, "no factories in the file")
    return out


def read_factories_csv(path: str | Path, **kwargs: Iterable[str] | None) -> list[Factory]:
    """`parse_factories_csv` on a file."""
    return parse_factories_csv(read_text(path, FactoryDataError), file=str(path), **kwargs)  # type: ignore[arg-type]


def write_factories_csv(factories: Iterable[Factory], path: str | Path) -> None:
    """Our own registry format (module docstring); text cells are spreadsheet-safe (`safe_cell`)."""
    with Path(path).open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(CSV_COLUMNS))
        w.writeheader()
        for f in factories:
            w.writerow({k: safe_cell(v) for k, v in f.to_row().items()})

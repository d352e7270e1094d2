"""Read a merchandiser's product catalogue CSV into checked rows, reading missing attributes from the text.

Columns (header names case- and space-insensitive, in any order): `id` and `name` required; optional
`category, color, material, pattern, silhouette, price_cents, launch_date, units_sold, description, image`.
Other columns are ignored and reported. UTF-8 with or without a BOM; CR, LF or CRLF line endings.

An attribute the file gives must be a taxonomy name or a word the product-language module reads as
exactly one name of that kind ("navy blue" is navy); otherwise the file is refused with its line and
column and the allowed names. An attribute the file leaves out (no column, or an empty cell) is read
from the name, then the description (`ProductLanguage.extract`), and listed in the row's `inferred`;
where neither says, it stays None: unknown, never a default that looks like a fact. Any bad line
refuses the whole file (`Invalid` naming the file, line and column).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from generation.language.extract import SINGLE_KINDS, Extraction, ProductLanguage

from app.errors import Invalid

REQUIRED = ("id", "name")
ATTRIBUTE_FIELDS = ("category", *SINGLE_KINDS)
OPTIONAL = (*ATTRIBUTE_FIELDS, "price_cents", "launch_date", "units_sold", "description", "image")
MAX_LENGTH = {"id": 100, "name": 300, "image": 500}
Bad = Callable[[str, str], Invalid]  # (column, reason) -> the error naming the file, line and column


@dataclass(frozen=True)
class CatalogRow:
    """One checked catalogue line; attributes are taxonomy names or None, `inferred` those read from text."""

    line: int
    item_id: str
    name: str
    description: str = ""
    category: str | None = None
    color: str | None = None
    material: str | None = None
    pattern: str | None = None
    silhouette: str | None = None
    price_cents: int | None = None
    launch_date: date | None = None
    units_sold: int | None = None
    image: str | None = None
    inferred: tuple[str, ...] = ()


def read_text(path: Path) -> str:
    """The file's text (UTF-8, a BOM dropped); `Invalid` naming the line of a byte that is not UTF-8."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise Invalid(f"{path}: cannot be read ({exc.strerror or exc})", field="file") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].replace(b"\r\n", b"\n").replace(b"\r", b"\n").count(b"\n") + 1
        raise Invalid(f"{path}, line {line}: not UTF-8 text (byte {data[exc.start]:#04x}); save the file as "
                      "UTF-8", field="file") from None


def _column(header: str) -> str:
    return re.sub(r"[\s\-]+", "_", header.strip().lower())


def read_catalog(text: str, *, file: str, language: ProductLanguage) -> tuple[list[CatalogRow], list[str]]:
    """(rows, ignored column names) of a catalogue CSV's text (module docstring: what is checked)."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    reader = csv.reader(io.StringIO(text))
    lines = _csv_lines(reader, file)
    header = next(lines, None)
    if header is None or not any(h.strip() for h in header):
        raise Invalid(f"{file}, line 1: no header; a catalogue starts with the columns id,name[,{','.join(OPTIONAL)}]",
                      field="file")
    columns = [_column(h) for h in header]
    for col in REQUIRED:
        if col not in columns:
            raise Invalid(f"{file}, line 1: no {col!r} column; required: id, name; optional: {', '.join(OPTIONAL)}",
                          field=col)
    known = [c for c in columns if c in REQUIRED + OPTIONAL]
    if len(set(known)) < len(known):
        twice = sorted({c for c in known if known.count(c) > 1})
        raise Invalid(f"{file}, line 1: column {twice[0]!r} appears twice", field=twice[0])
    ignored = [h for h, c in zip(header, columns) if c not in REQUIRED + OPTIONAL]
    rows: list[CatalogRow] = []
    seen: dict[str, int] = {}
    end = reader.line_num
    for cells in lines:
        line, end = end + 1, reader.line_num
        if not any(c.strip() for c in cells):
            continue  # a blank line
        if len(cells) > len(columns):
            raise Invalid(f"{file}, line {line}: {len(cells)} cells but the header has {len(columns)} columns",
                          field="file")
        values = {c: v.strip() for c, v in zip(columns, cells) if c in REQUIRED + OPTIONAL}
        row = _row(values, line, file, language)
        if row.item_id in seen:
            raise Invalid(f"{file}, lines {seen[row.item_id]} and {line}: id {row.item_id!r} appears twice",
                          field="id")
        seen[row.item_id] = line
        rows.append(row)
    if not rows:
        raise Invalid(f"{file}: no catalogue rows after the header", field="file")
    return rows, ignored


def _csv_lines(reader: Iterator[list[str]], file: str) -> Iterator[list[str]]:
    """The reader's rows; a line the csv module cannot read (a cell over its field limit) is `Invalid` on its line."""
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            line = getattr(reader, "line_num", "?")
            raise Invalid(f"{file}, line {line}: not readable as CSV: {exc}", field="file") from None
        yield row


def _row(values: dict[str, str], line: int, file: str, language: ProductLanguage) -> CatalogRow:
    def bad(col: str, reason: str) -> Invalid:
        return Invalid(f"{file}, line {line}, column {col!r}: {reason}", field=col)

    for col, most in MAX_LENGTH.items():
        if len(values.get(col, "")) > most:
            raise bad(col, f"longer than {most} characters")
    for col in REQUIRED:
        if not values.get(col):
            raise bad(col, "empty; every row needs an id and a name")
    given = {kind: _resolve(kind, values[kind], language, bad) for kind in ATTRIBUTE_FIELDS if values.get(kind)}
    name, description = values["name"], values.get("description", "")
    texts: list[Extraction] = [language.extract(name)] + ([language.extract(description)] if description else [])
    attrs: dict[str, str | None] = {}
    inferred = []
    for kind in ATTRIBUTE_FIELDS:
        if kind in given:
            attrs[kind] = given[kind]
            continue
        found = next((v for e in texts if (v := getattr(e, kind)) is not None), None)
        attrs[kind] = found
        if found is not None:
            inferred.append(kind)
    return CatalogRow(line, values["id"], name, description, category=attrs["category"], color=attrs["color"],
                      material=attrs["material"], pattern=attrs["pattern"], silhouette=attrs["silhouette"],
                      price_cents=_count(values.get("price_cents", ""), "price_cents", bad),
                      launch_date=_date(values.get("launch_date", ""), bad),
                      units_sold=_count(values.get("units_sold", ""), "units_sold", bad),
                      image=values.get("image") or None, inferred=tuple(inferred))


def _resolve(kind: str, value: str, language: ProductLanguage, bad: Bad) -> str:
    """The taxonomy name of `kind` that the cell `value` gives: the name itself, or the one name the
    language module reads in it."""
    tax = language.taxonomy
    names = sorted(tax.categories) if kind == "category" else sorted(tax.attributes[kind])
    key = re.sub(r"\s+", "-", value.strip().lower())
    if key in names:
        return key
    found = sorted({m.name for m in language.mentions(value) if m.kind == kind})
    if len(found) == 1:
        return found[0]
    why = f"names {len(found)} {kind}s ({', '.join(found)})" if found else f"is not a known {kind}"
    raise bad(kind, f"{value!r} {why}; allowed: {', '.join(names)} (or a word for one of them)")


def _count(value: str, col: str, bad: Bad) -> int | None:
    if not value:
        return None
    if not value.isdigit() or not value.isascii():
        raise bad(col, f"{value!r} is not a non-negative whole number")
    return int(value)


def _date(value: str, bad: Bad) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise bad("launch_date", f"{value!r} is not an ISO date (YYYY-MM-DD)") from None

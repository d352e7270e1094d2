"""Spreadsheet-safe CSV cells: text that a spreadsheet would run as a formula is written as text.

A cell starting with `=`, `+`, `-` or `@` (or a tab or carriage return, which some spreadsheets skip
before one of those) is read by Excel, LibreOffice and Google Sheets as a formula: a factory called
"=HYPERLINK(...)" in a supplier list would become a live link in the merchandiser's spreadsheet. Such
text is stored as it came (it is only text to us) and written with a leading single quote, which the
spreadsheets show as text and do not display. Numbers (ints, floats, and strings that are plain
numbers such as "-0.25") are left alone: they are values, not formulas.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def safe_cell(value: object) -> object:
    """`value` as a CSV writer should write it: formula-like text gets a leading "'"; the rest unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def safe_row(values: Iterable[object]) -> list[object]:
    """`safe_cell` of every value of a row."""
    return [safe_cell(v) for v in values]

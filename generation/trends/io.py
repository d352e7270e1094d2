"""Reading and writing weekly trend series as CSV, with validation that names the line.

Wide CSV: the header is `date,<series 1>,<series 2>,...`; each following line is one week: an ISO
date, then one non-negative number per series. Weeks are consecutive (exactly 7 days apart), with no
duplicates or gaps.

Long CSV: the header is `date,series,value` (these three names, in any order); each following line
is one value of one series in one week, in any order. Every series must cover the same consecutive
weeks, each (date, series) at most once.

Any violation raises `TrendDataError(file, line, reason)`, the reason naming the column, and nothing
is returned, so a caller that stores the result stores all of a file or none of it.
`parse_trend_csv` tells the two formats apart by the header.
"""

from __future__ import annotations

import csv
import io
import math
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from generation.errors import TrendDataError
from generation.trends.frame import TrendFrame


def parse_wide_csv(text: str, *, file: str = "<trends>") -> TrendFrame:
    """Parse wide weekly CSV text into a TrendFrame; TrendDataError on the first bad line."""
    rows = csv.reader(io.StringIO(text))
    header = next(rows, None)
    if header is None or not any(h.strip() for h in header):
        raise TrendDataError(file, 1, "the file is empty (expected a header: date,<series>,...)")
    header = [h.strip() for h in header]
    if len(header) < 2:
        raise TrendDataError(file, 1, "only one column: expected a date column and at least one series column")
    names = header[1:]
    for col, name in enumerate(names, start=2):
        if not name:
            raise TrendDataError(file, 1, f"column {col} has an empty series name")
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise TrendDataError(file, 1, f"series names repeat: {dupes}")

    weeks: list[date] = []
    values: list[list[float]] = []
    for row in rows:
        line = rows.line_num
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise TrendDataError(file, line, f"{len(row)} fields, expected {len(header)} like the header")
        try:
            week = date.fromisoformat(row[0].strip())
        except ValueError:
            raise TrendDataError(file, line, f"column 1 ('{header[0]}'): {row[0]!r} is not an ISO date (YYYY-MM-DD)") from None
        if weeks:
            gap = (week - weeks[-1]).days
            if gap == 0:
                raise TrendDataError(file, line, f"week {week} appears twice")
            if gap != 7:
                expected = weeks[-1] + timedelta(days=7)
                what = "is earlier than the line before" if gap < 0 else f"skips weeks (expected {expected})"
                raise TrendDataError(file, line, f"week {week} {what}; rows must be consecutive weeks")
        out_row: list[float] = []
        for col, cell in enumerate(row[1:], start=2):
            out_row.append(_number(cell, file, line, f"column {col} ('{header[col - 1]}')"))
        weeks.append(week)
        values.append(out_row)
    if not weeks:
        raise TrendDataError(file, None, "no data rows after the header")
    return TrendFrame(tuple(weeks), tuple(names), np.asarray(values, dtype=np.float64))


def _read_text(path: str | Path) -> tuple[str, str]:
    """(text, file name) of a UTF-8 file, with or without BOM; TrendDataError if it cannot be read."""
    p = Path(path)
    try:
        return p.read_text(encoding="utf-8-sig"), str(p)
    except (OSError, UnicodeDecodeError) as exc:
        raise TrendDataError(str(p), None, f"cannot read: {exc}") from exc


def read_wide_csv(path: str | Path) -> TrendFrame:
    """`parse_wide_csv` on a file (UTF-8, with or without BOM)."""
    text, file = _read_text(path)
    return parse_wide_csv(text, file=file)


def write_wide_csv(frame: TrendFrame, path: str | Path, *, digits: int = 6) -> None:
    """Write a TrendFrame as wide CSV (the format `read_wide_csv` reads)."""
    with Path(path).open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["date", *frame.names])
        for week, row in zip(frame.weeks, frame.values):
            w.writerow([week.isoformat(), *(f"{v:.{digits}g}" for v in row)])


LONG_COLUMNS = ("date", "series", "value")


def is_long_header(header: list[str]) -> bool:
    """True when a header names exactly the long-format columns date, series and value."""
    return sorted(h.strip().lower() for h in header) == sorted(LONG_COLUMNS)


def _number(cell: str, file: str, line: int, where: str) -> float:
    try:
        v = float(cell)
    except ValueError:
        raise TrendDataError(file, line, f"{where}: {cell!r} is not a number") from None
    if math.isnan(v) or math.isinf(v) or v < 0:
        raise TrendDataError(file, line, f"{where}: {cell!r} must be a finite number >= 0")
    return v


def parse_long_csv(text: str, *, file: str = "<trends>") -> TrendFrame:
    """Parse long CSV text (`date,series,value`) into a TrendFrame; TrendDataError on the first bad line.

    Series keep the order of their first appearance. After the rows are read, each series must have
    consecutive weeks (a gap is reported at the line of the week after it) and every series the same
    weeks as the first one."""
    rows = csv.reader(io.StringIO(text))
    header = next(rows, None)
    if header is None or not any(h.strip() for h in header):
        raise TrendDataError(file, 1, "the file is empty (expected a header: date,series,value)")
    if len(header) < 2:
        raise TrendDataError(file, 1, "only one column: expected the columns date,series,value")
    if not is_long_header(header):
        raise TrendDataError(file, 1, f"header {header} must name exactly the columns date, series and value")
    col = {h.strip().lower(): i for i, h in enumerate(header)}
    cells: dict[str, dict[date, tuple[float, int]]] = {}
    for row in rows:
        line = rows.line_num
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != 3:
            raise TrendDataError(file, line, f"{len(row)} fields, expected 3 (date,series,value)")
        raw_date, name, raw_value = (row[col[c]].strip() for c in LONG_COLUMNS)
        try:
            week = date.fromisoformat(raw_date)
        except ValueError:
            raise TrendDataError(file, line, f"column {col['date'] + 1} ('date'): {raw_date!r} is not an ISO date (YYYY-MM-DD)") from None
        if not name:
            raise TrendDataError(file, line, f"column {col['series'] + 1} ('series') is empty")
        value = _number(raw_value, file, line, f"column {col['value'] + 1} ('value')")
        series = cells.setdefault(name, {})
        if week in series:
            raise TrendDataError(file, line, f"series {name!r} has week {week} twice (first on line {series[week][1]})")
        series[week] = (value, line)
    if not cells:
        raise TrendDataError(file, None, "no data rows after the header")
    names = tuple(cells)
    weeks: tuple[date, ...] | None = None
    for name in names:
        own = sorted(cells[name])
        for prev, week in zip(own, own[1:]):
            if (week - prev).days != 7:
                line = cells[name][week][1]
                what = (f"skips weeks (expected {prev + timedelta(days=7)} after {prev})"
                        if (week - prev).days % 7 == 0 else f"is not 7 days after the series' previous week {prev}")
                raise TrendDataError(file, line, f"series {name!r}: week {week} {what}; weeks must be consecutive")
        if weeks is None:
            weeks = tuple(own)
        elif tuple(own) != weeks:
            missing = sorted(set(weeks) - set(own))
            extra = sorted(set(own) - set(weeks))
            line = cells[name][extra[0]][1] if extra else cells[name][own[0]][1]
            detail = f"lacks week {missing[0]}" if missing else f"has week {extra[0]} that {names[0]!r} lacks"
            raise TrendDataError(file, line, f"series {name!r} {detail}; every series must cover the same weeks "
                                 f"({weeks[0]} to {weeks[-1]})")
    assert weeks is not None
    values = np.array([[cells[name][w][0] for name in names] for w in weeks], dtype=np.float64)
    return TrendFrame(weeks, names, values)


def parse_trend_csv(text: str, *, file: str = "<trends>") -> TrendFrame:
    """Wide or long CSV, told apart by the header (`date,series,value` means long)."""
    first = next(csv.reader(io.StringIO(text)), None)
    if first is not None and is_long_header(first):
        return parse_long_csv(text, file=file)
    return parse_wide_csv(text, file=file)


def read_trend_csv(path: str | Path) -> TrendFrame:
    """`parse_trend_csv` on a file (UTF-8, with or without BOM)."""
    text, file = _read_text(path)
    return parse_trend_csv(text, file=file)

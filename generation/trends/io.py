"""Reading and writing weekly trend series as *wide* CSV, with validation that names the line.

Wide CSV: the header is `date,<series 1>,<series 2>,...`; each following line is one week: an ISO
date, then one non-negative number per series. Weeks are consecutive (exactly 7 days apart), with no
duplicates or gaps. Any violation raises `TrendDataError(file, line, reason)` and nothing is returned,
so a caller that stores the result stores all of a file or none of it.
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
            try:
                v = float(cell)
            except ValueError:
                raise TrendDataError(file, line, f"column {col} ('{header[col - 1]}'): {cell!r} is not a number") from None
            if math.isnan(v) or math.isinf(v) or v < 0:
                raise TrendDataError(file, line, f"column {col} ('{header[col - 1]}'): {cell!r} must be a finite number >= 0")
            out_row.append(v)
        weeks.append(week)
        values.append(out_row)
    if not weeks:
        raise TrendDataError(file, None, "no data rows after the header")
    return TrendFrame(tuple(weeks), tuple(names), np.asarray(values, dtype=np.float64))


def read_wide_csv(path: str | Path) -> TrendFrame:
    """`parse_wide_csv` on a file (UTF-8, with or without BOM)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise TrendDataError(str(p), None, f"cannot read: {exc}") from exc
    return parse_wide_csv(text, file=str(p))


def write_wide_csv(frame: TrendFrame, path: str | Path, *, digits: int = 6) -> None:
    """Write a TrendFrame as wide CSV (the format `read_wide_csv` reads)."""
    with Path(path).open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["date", *frame.names])
        for week, row in zip(frame.weeks, frame.values):
            w.writerow([week.isoformat(), *(f"{v:.{digits}g}" for v in row)])

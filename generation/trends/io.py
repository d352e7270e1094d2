"""Reading and writing weekly trend series as CSV, with validation that names the line.

Wide CSV: the header is `date,<series 1>,<series 2>,...`; each following line is one week: an ISO
date, then one non-negative number per series. Weeks are consecutive (exactly 7 days apart), with no
duplicates or gaps.

Long CSV: the header names a date, a series and a value column, in any order, under the names exports
use (`date`/`week`/`day`; `series`/`trend_id`/`term`/`keyword`; `value`/`raw_signal`/`interest`), and
may have other columns (`source`), which are ignored; each following line is one value of one series in
one week, in any order. Every series must cover the same consecutive weeks, each (date, series) at most
once.

A Google Trends download is read as it comes: the lines before its `Week,...` header ("Category: All
categories") are skipped, a column `sage green: (United States)` is the series `sage green`, and "<1"
(below one on Google's scale) is 0.

Series names are free: what a name means is decided later (`generation.language.series`). Weeks
before 1990 are refused, and so are weeks more than a week after `today` when the caller passes it (it
imports history: a typo in a year, or a forecast file given as history). Line endings may be LF, CRLF or CR alone (old spreadsheet exports), with or without BOM.

A file holds at most MAX_SERIES series and MAX_CELLS values, and a series name at most MAX_NAME
characters; a cell the csv module cannot read (over its 128 KiB field limit) is a bad line like any other.
So whatever its shape, a file is refused in one linear pass, as soon as it passes a limit.

Any violation raises `TrendDataError(file, line, reason)`, the reason naming the column, and nothing
is returned, so a caller that stores the result stores all of a file or none of it.
`parse_trend_csv` tells the two formats apart by the header.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from generation.errors import TrendDataError
from generation.trends.frame import TrendFrame


FIRST_WEEK = date(1990, 1, 1)
# What one file may hold: enough for every trend export we know (Google Trends: 5 series; a market
# research panel: some hundreds; our sample: 784 series x 156 weeks), small enough that any file is read,
# mapped, stored and forecast in seconds. A file above either is refused at its header (or at the line
# that passes the values) before any more of it is read.
MAX_SERIES = 2_000
MAX_CELLS = 200_000  # weeks x series
MAX_NAME = 200  # characters of a series name (the database column)


def _lines(text: str) -> str:
    """LF line endings whatever the file had (CRLF, or CR alone from old spreadsheet exports), no BOM."""
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def _week(raw: str, file: str, line: int, where: str, today: date | None) -> date:
    """An ISO date from 1990 on and, given `today` (history being imported, not a forecast being read
    back), at most a week after it; TrendDataError naming the line otherwise."""
    try:
        week = date.fromisoformat(raw.strip())
    except ValueError:
        raise TrendDataError(file, line, f"{where}: {raw!r} is not an ISO date (YYYY-MM-DD)") from None
    latest = today + timedelta(days=7) if today is not None else date.max
    if not FIRST_WEEK <= week <= latest:
        raise TrendDataError(file, line, f"{where}: week {week} is outside {FIRST_WEEK} to {latest} (a week after "
                             "today): history cannot start before 1990 or lie in the future")
    return week


def _csv_rows(text: str, file: str, skipped: int = 0) -> Iterator[tuple[int, list[str]]]:
    """(line number of the row's last line, row) for each CSV row; a row the csv module cannot read (a
    cell over its 128 KiB field limit, a NUL byte) is a TrendDataError on its line, not a crash."""
    reader = csv.reader(io.StringIO(text))
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise TrendDataError(file, reader.line_num + skipped, f"not readable as CSV: {exc}") from None
        yield reader.line_num + skipped, row


def _check_names(names: list[str], file: str, line: int, first_col: int = 2) -> None:
    if len(names) > MAX_SERIES:
        raise TrendDataError(file, line, f"{len(names):,} series; a file may hold at most {MAX_SERIES:,}")
    for col, name in enumerate(names, start=first_col):
        if not name:
            raise TrendDataError(file, line, f"column {col} has an empty series name")
        if len(name) > MAX_NAME:
            raise TrendDataError(file, line, f"column {col}: a series name has at most {MAX_NAME} characters")


def parse_wide_csv(text: str, *, file: str = "<trends>", today: date | None = None) -> TrendFrame:
    """Parse wide weekly CSV text into a TrendFrame; TrendDataError on the first bad line."""
    text, skipped = _without_preamble(_lines(text))
    rows = _csv_rows(text, file, skipped)
    first = next(rows, None)
    if first is None or not any(h.strip() for h in first[1]):
        raise TrendDataError(file, 1 + skipped, "the file is empty (expected a header: date,<series>,...)")
    header_line, header = first
    if len(header) > MAX_SERIES + 1:  # before any per-column work
        raise TrendDataError(file, header_line, f"{len(header) - 1:,} series; a file may hold at most {MAX_SERIES:,}")
    header = [_series_column(h) for h in header]
    if len(header) < 2:
        raise TrendDataError(file, header_line, "only one column: expected a date column and at least one series column")
    names = header[1:]
    _check_names(names, file, header_line)
    seen: set[str] = set()
    dupes = sorted({n for n in names if n in seen or seen.add(n)})  # type: ignore[func-returns-value]
    if dupes:
        raise TrendDataError(file, header_line, f"series names repeat: {dupes[:10]}")

    weeks: list[date] = []
    values: list[list[float]] = []
    for line, row in rows:
        if not row or all(not c.strip() for c in row):
            continue
        if (len(weeks) + 1) * len(names) > MAX_CELLS:
            raise TrendDataError(file, line, f"more than {MAX_CELLS:,} values (weeks x series); split the file")
        if len(row) != len(header):
            raise TrendDataError(file, line, f"{len(row)} fields, expected {len(header)} like the header")
        week = _week(row[0], file, line, f"column 1 ('{header[0]}')", today)
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


def _without_preamble(text: str) -> tuple[str, int]:
    """A Google Trends download opens with "Category: ..." and a blank line before its `Week,` header:
    the text from the header on, and how many lines were skipped (so errors keep the file's line numbers)."""
    lines = text.split("\n", 5)
    if not lines or not lines[0].lower().startswith("category:"):
        return text, 0
    for i, line in enumerate(lines[1:5], start=1):
        if line.split(",", 1)[0].strip().lower() in DATE_NAMES:
            return text.split("\n", i)[i], i
    return text, 0


def _series_column(header: str) -> str:
    """A column name as a series name: "sage green: (United States)" is "sage green"; a name written
    spreadsheet-safe ("'=x", `_spreadsheet_safe`) is read back as it was ("=x")."""
    name = _without_region(header)
    return name[1:] if name[:1] == "'" and name[1:2] in _FORMULA_START else name


def _without_region(header: str) -> str:
    """The name before a Google Trends region: what comes before the first ':' that is followed (after
    spaces) by a '(' whose parenthesis closes only at the end. Found in one pass: a regular expression
    for it backtracked quadratically on a cell like ':(:(:(...' (a 128 KiB header cell took minutes)."""
    h = header.strip()
    if not h.endswith(")"):
        return h
    inner = h.rfind(")", 0, len(h) - 1)  # the last "(...)" holds no other ")"
    for p in range(inner + 1, len(h) - 1):
        if h[p] != "(":
            continue
        q = p - 1
        while q >= 0 and h[q].isspace():
            q -= 1
        if q >= 0 and h[q] == ":":
            name = h[:q]
            return h if "\n" in name else name.strip()
    return h


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _spreadsheet_safe(name: str) -> str:
    """A series name a spreadsheet would run as a formula ("=HYPERLINK(...)") written with a leading
    "'", which spreadsheets show as text; `_series_column` reads it back."""
    return "'" + name if name.startswith(_FORMULA_START) else name


def _read_text(path: str | Path) -> tuple[str, str]:
    """(text, file name) of a UTF-8 file, with or without BOM; TrendDataError if it cannot be read."""
    p = Path(path)
    try:
        return p.read_text(encoding="utf-8-sig"), str(p)
    except (OSError, UnicodeDecodeError) as exc:
        raise TrendDataError(str(p), None, f"cannot read: {exc}") from exc


def read_wide_csv(path: str | Path, *, today: date | None = None) -> TrendFrame:
    """`parse_wide_csv` on a file (UTF-8, with or without BOM)."""
    text, file = _read_text(path)
    return parse_wide_csv(text, file=file, today=today)


def write_wide_csv(frame: TrendFrame, path: str | Path, *, digits: int = 6) -> None:
    """Write a TrendFrame as wide CSV (the format `read_wide_csv` reads)."""
    with Path(path).open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["date", *(_spreadsheet_safe(n) for n in frame.names)])
        for week, row in zip(frame.weeks, frame.values):
            w.writerow([week.isoformat(), *(f"{v:.{digits}g}" for v in row)])


LONG_COLUMNS = ("date", "series", "value")
DATE_NAMES = frozenset({"date", "week", "day", "month", "time", "period", "ds"})
# what exports call the three columns of the long format
LONG_NAMES = {
    "date": DATE_NAMES,
    "series": frozenset({"series", "trend_id", "trend", "term", "keyword", "query", "name", "series_id", "unique_id"}),
    "value": frozenset({"value", "raw_signal", "signal", "interest", "search_interest", "score", "y", "count"}),
}


def long_columns(header: list[str]) -> dict[str, int] | None:
    """Column index of date, series and value when `header` names each exactly once (other columns may
    be there), else None: the file is wide."""
    found: dict[str, int] = {}
    for i, h in enumerate(header):
        key = h.strip().lower().replace(" ", "_")
        for role, names in LONG_NAMES.items():
            if key in names:
                if role in found:
                    return None
                found[role] = i
    return found if len(found) == 3 else None


def is_long_header(header: list[str]) -> bool:
    """True when a header names a date, a series and a value column (`long_columns`)."""
    return long_columns(header) is not None


def _number(cell: str, file: str, line: int, where: str) -> float:
    if cell.strip() == "<1":  # Google Trends: below one on its 0-100 scale
        return 0.0
    try:
        v = float(cell)
    except ValueError:
        raise TrendDataError(file, line, f"{where}: {cell!r} is not a number") from None
    if math.isnan(v) or math.isinf(v) or v < 0:
        raise TrendDataError(file, line, f"{where}: {cell!r} must be a finite number >= 0")
    return v


def parse_long_csv(text: str, *, file: str = "<trends>", today: date | None = None) -> TrendFrame:
    """Parse long CSV text (`date,series,value`) into a TrendFrame; TrendDataError on the first bad line.

    Series keep the order of their first appearance. After the rows are read, each series must have
    consecutive weeks (a gap is reported at the line of the week after it) and every series the same
    weeks as the first one."""
    rows = _csv_rows(_lines(text), file)
    first = next(rows, None)
    if first is None or not any(h.strip() for h in first[1]):
        raise TrendDataError(file, 1, "the file is empty (expected a header: date,series,value)")
    header = first[1]
    if len(header) < 2:
        raise TrendDataError(file, 1, "only one column: expected the columns date,series,value")
    col = long_columns(header)
    if col is None:
        raise TrendDataError(file, 1, f"header {header[:10]} must name a date, a series and a value column once each "
                             f"(e.g. date,series,value or week,trend_id,raw_signal)")
    cells: dict[str, dict[date, tuple[float, int]]] = {}
    count = 0
    for line, row in rows:
        if not row or all(not c.strip() for c in row):
            continue
        count += 1
        if count > MAX_CELLS:
            raise TrendDataError(file, line, f"more than {MAX_CELLS:,} values; split the file")
        if len(row) != len(header):
            raise TrendDataError(file, line, f"{len(row)} fields, expected {len(header)} like the header")
        raw_date, name, raw_value = (row[col[c]].strip() for c in LONG_COLUMNS)
        week = _week(raw_date, file, line, f"column {col['date'] + 1} ('{header[col['date']].strip()}')", today)
        if not name:
            raise TrendDataError(file, line, f"column {col['series'] + 1} ('{header[col['series']].strip()}') is empty")
        value = _number(raw_value, file, line, f"column {col['value'] + 1} ('{header[col['value']].strip()}')")
        if name not in cells:
            if len(cells) == MAX_SERIES:
                raise TrendDataError(file, line, f"more than {MAX_SERIES:,} series; a file may hold at most {MAX_SERIES:,}")
            if len(name) > MAX_NAME:
                raise TrendDataError(file, line, f"column {col['series'] + 1}: a series name has at most {MAX_NAME} characters")
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


def parse_trend_csv(text: str, *, file: str = "<trends>", today: date | None = None) -> TrendFrame:
    """Wide or long CSV, told apart by the header (a date, a series and a value column means long)."""
    first = next(_csv_rows(_lines(text), file), None)
    if first is not None and len(first[1]) > MAX_SERIES + 1:  # refused here: reading a huge header twice is slow
        raise TrendDataError(file, first[0], f"{len(first[1]) - 1:,} series; a file may hold at most {MAX_SERIES:,}")
    if first is not None and is_long_header(first[1]):
        return parse_long_csv(text, file=file, today=today)
    return parse_wide_csv(text, file=file, today=today)


def read_trend_csv(path: str | Path, *, today: date | None = None) -> TrendFrame:
    """`parse_trend_csv` on a file (UTF-8, with or without BOM)."""
    text, file = _read_text(path)
    return parse_trend_csv(text, file=file, today=today)

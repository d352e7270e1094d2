"""Every trend reader against hostile input: the whole class of bad files is refused on its own line as
a TrendDataError (never a crash), in time linear in the file."""

import json
import re
import time

import pytest

from generation.errors import TrendDataError
from generation.taxonomy import load_taxonomy
from generation.trends import io as trend_io
from generation.trends.io import MAX_CELLS, MAX_NAME, MAX_SERIES, parse_long_csv, parse_trend_csv, parse_wide_csv
from generation.trends.posts import MAX_POSTS, parse_posts_jsonl

TX = load_taxonomy()
OLD_RULE = re.compile(r"^(.*?):\s*\([^)]*\)$")  # what `_without_region` did with a regular expression
POST = {"text": "navy cotton socks", "timestamp": "2025-01-07T10:00:00Z"}


def refused(parse, text, **kw) -> TrendDataError:
    with pytest.raises(TrendDataError) as caught:
        parse(text, **kw)
    return caught.value


@pytest.mark.parametrize("header", ["sage green: (United States)", "a: (b) : (c)", "a:(x:(y)", "plain", ":(x)",
                                    "a: ( b )", "no close: (x", "x(y)", "a :\t(b)", "two\nlines: (x)", "a: (b)) ",
                                    "a:(b)(c)", "  padded : (US)  "])
def test_series_column_names_what_the_old_expression_did(header):
    m = OLD_RULE.match(header.strip())
    assert trend_io._without_region(header) == (m.group(1) if m else header).strip()


def test_a_header_cell_made_to_backtrack_is_read_in_linear_time():
    # ':(' repeated: the old expression tried every ':' against the rest of the cell (0.9 s at 16 KB,
    # quadratic: minutes at the 128 KB a CSV cell may hold)
    started = time.perf_counter()
    assert trend_io._without_region(":(" * 60_000) == ":(" * 60_000
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize("parse", [parse_wide_csv, parse_long_csv, parse_trend_csv])
def test_a_cell_over_the_csv_field_limit_is_refused_on_its_line(parse):
    header = "date,series,value" if parse is parse_long_csv else "date,a"
    text = f"{header}\n2025-01-06,{'1' * 200_000}{',1' if parse is parse_long_csv else ''}\n"
    err = refused(parse, text)
    assert err.line == 2 and "not readable as CSV" in str(err)


@pytest.mark.parametrize("parse", [parse_wide_csv, parse_trend_csv])
def test_more_series_than_a_file_may_hold_are_refused_at_the_header_at_once(parse):
    text = "date," + ",".join(f"s{i}" for i in range(300_000)) + "\n2025-01-06," + ",".join("1" * 300_000) + "\n"
    started = time.perf_counter()
    err = refused(parse, text)
    assert err.line == 1 and f"at most {MAX_SERIES:,}" in str(err)
    assert time.perf_counter() - started < 2


def test_a_long_file_with_more_series_than_allowed_is_refused_on_the_line_that_passes_it():
    rows = "".join(f"2025-01-06,s{i},1\n" for i in range(MAX_SERIES + 1))
    err = refused(parse_long_csv, "date,series,value\n" + rows)
    assert err.line == MAX_SERIES + 2 and "series" in str(err)


def test_more_values_than_allowed_are_refused_on_the_line_that_passes_them():
    n = 1000
    weeks = MAX_CELLS // n + 1
    rows = "".join(f"{_week(i)}," + ",".join(["1"] * n) + "\n" for i in range(weeks))
    err = refused(parse_wide_csv, "date," + ",".join(f"s{i}" for i in range(n)) + "\n" + rows)
    assert err.line == weeks + 1 and "values" in str(err)


def test_a_series_name_longer_than_the_database_holds_is_refused():
    assert "at most" in str(refused(parse_wide_csv, f"date,{'x' * (MAX_NAME + 1)}\n2025-01-06,1\n"))
    assert refused(parse_long_csv, f"date,series,value\n2025-01-06,{'x' * (MAX_NAME + 1)},1\n").line == 2


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("text, line", [
    ("date,series,value{e}2025-01-06,a,1{e}2025-01-13,a,x{e}", 3),  # long
    ("date,a{e}2025-01-06,1{e}2025-01-13,x{e}", 3),  # wide
    ("date,series,value{e}2025-01-06,a,1{e}2025-01-13,a,1{e}2025-01-06,b,1{e}2025-01-27,b,1{e}", 5),
])
def test_errors_name_their_own_line_whatever_the_line_endings(text, line, ending):
    assert refused(parse_trend_csv, text.format(e=ending)).line == line


def _week(i: int) -> str:
    from datetime import date, timedelta
    return (date(1995, 1, 2) + timedelta(weeks=i)).isoformat()


# --- posts (JSONL) ---------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, reason", [
    ("[" * 100_000 + "]" * 100_000, "nests too deeply"),
    ('{"text": "x", "timestamp": "2025-01-07", "engagement": NaN}', "NaN is not a JSON number"),
    ('{"text": "x", "timestamp": "2025-01-07", "engagement": Infinity}', "Infinity"),
    ('{"text": "\\ud800", "timestamp": "2025-01-07"}', "lone surrogate"),
    ('{"text": {"a": ' * 5000 + "1" + "}" * 5000 + ', "timestamp": "2025-01-07"}', "nests too deeply"),
    ('{"text": "' + "a" * 10_001 + '", "timestamp": "2025-01-07"}', "a post may hold at most 10,000"),
])
def test_a_hostile_post_line_is_refused_on_its_line(raw, reason):
    text = json.dumps(POST) + "\n" + raw + "\n"
    err = refused(parse_posts_jsonl, text, taxonomy=TX)
    assert err.line == 2 and reason in str(err)


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"])
def test_posts_are_read_with_any_line_ending_and_a_line_separator_inside_text(ending):
    text = ending.join(json.dumps({**POST, "text": t}, ensure_ascii=False) for t in ("navy\u2028socks", "red socks"))
    posts = parse_posts_jsonl(text + ending, TX)
    assert [p.text for p in posts] == ["navy\u2028socks", "red socks"] and [p.line for p in posts] == [1, 2]


def test_more_posts_than_a_file_may_hold_are_refused_on_the_line_that_passes_them():
    line = json.dumps(POST)
    err = refused(parse_posts_jsonl, "\n".join([line] * (MAX_POSTS + 1)), taxonomy=TX)
    assert err.line == MAX_POSTS + 1 and "posts" in str(err)

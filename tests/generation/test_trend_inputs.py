"""Long CSV and social-post JSONL: parsing, bad input named by line, mapping and aggregation."""

import json
from datetime import date

import numpy as np
import pytest

from generation.errors import TrendDataError
from generation.taxonomy import load_taxonomy
from generation.trends.io import parse_long_csv, parse_trend_csv, parse_wide_csv
from generation.language.extract import ProductLanguage
from generation.trends.mapping import EmbeddingMapper, match_post, phrases
from generation.trends.posts import map_posts, parse_posts_jsonl, posts_to_series

TX = load_taxonomy()
LONG = ("date,series,value\n"
        "2025-01-06,cn_all_socks_color_navy,0.1\n2025-01-06,cn_all_socks_color_red,0.2\n"
        "2025-01-13,cn_all_socks_color_red,0\n2025-01-13,cn_all_socks_color_navy,0.15\n")


def test_long_csv_matches_the_wide_format():
    frame = parse_long_csv(LONG)
    wide = parse_wide_csv("date,cn_all_socks_color_navy,cn_all_socks_color_red\n2025-01-06,0.1,0.2\n2025-01-13,0.15,0\n")
    assert frame.names == wide.names and frame.weeks == wide.weeks and np.array_equal(frame.values, wide.values)
    assert parse_trend_csv(LONG).names == frame.names  # told apart by the header
    shuffled = "value,date,series\n0.5,2025-01-13,a\n0.25,2025-01-06,a\n"
    assert parse_trend_csv(shuffled).values[:, 0].tolist() == [0.25, 0.5]


@pytest.mark.parametrize("text, line, reason", [
    ("", 1, "empty"),
    ("date\n2025-01-06\n", 1, "only one column"),
    ("date,series,value\n", None, "no data rows"),
    ("date,series,value\n2025-01-06,a,x\n", 2, "column 3 \\('value'\\): 'x' is not a number"),
    ("date,series,value\n2025-01-06,a,-1\n", 2, "column 3 \\('value'\\): '-1' must be a finite number >= 0"),
    ("date,series,value\n2025-01-06,a,nan\n", 2, "finite"),
    ("date,series,value\n2025-01-06,a,1\n2025-01-06,a,2\n", 3, "week 2025-01-06 twice \\(first on line 2\\)"),
    ("date,series,value\n2025-01-06,a,1\n2025-01-20,a,2\n", 3, "series 'a': week 2025-01-20 skips weeks \\(expected 2025-01-13"),
    ("date,series,value\n2025-01-06,a,1\n2025-01-14,a,2\n", 3, "not 7 days after"),
    ("date,series,value\n06/01/2025,a,1\n", 2, "column 1 \\('date'\\): '06/01/2025' is not an ISO date"),
    ("date,series,value\n2025-01-06,,1\n", 2, "column 2 \\('series'\\) is empty"),
    ("date,series,value\n2025-01-06,a,1,2\n", 2, "4 fields, expected 3"),
    ("date,series,value\n2025-01-06,a,1\n2025-01-13,a,1\n2025-01-13,b,1\n", 4,
     "series 'b' lacks week 2025-01-06; every series must cover the same weeks"),
])
def test_bad_long_csv_names_the_line_and_column(text, line, reason):
    with pytest.raises(TrendDataError, match=reason) as exc:
        parse_trend_csv(text, file="long.csv")
    assert exc.value.line == line and exc.value.file == "long.csv"


def test_a_long_parse_needs_the_long_header():
    with pytest.raises(TrendDataError, match="must name a date, a series and a value column") as exc:
        parse_long_csv("date,series,amount\n2025-01-06,a,1\n", file="l.csv")
    assert exc.value.line == 1


def test_an_export_with_its_own_column_names_and_cr_line_endings_is_read():
    text = "trend_id,source,week,raw_signal\rcolor_sage_green,gt,2025-01-07,21\rcolor_sage_green,gt,2025-01-14,<1\r"
    frame = parse_trend_csv(text, file="gt.csv")
    assert frame.names == ("color_sage_green",) and frame.values[:, 0].tolist() == [21.0, 0.0]


def test_a_google_trends_download_is_read_as_it_comes():
    text = ("\ufeffCategory: All categories\n\nWeek,sage green: (United States),corduroy: (United States)\n"
            "2025-01-05,40,12\n2025-01-12,<1,13\n")
    frame = parse_trend_csv(text.lstrip("\ufeff"), file="multiTimeline.csv")
    assert frame.names == ("sage green", "corduroy") and frame.values[1].tolist() == [0.0, 13.0]
    with pytest.raises(TrendDataError, match="not a number") as exc:
        parse_trend_csv(text.replace("13\n", "x\n"), file="multiTimeline.csv")
    assert exc.value.line == 5  # the file's own line, preamble counted


@pytest.mark.parametrize("week", ["1989-12-25", "2026-12-21"])
def test_weeks_before_1990_or_after_next_week_are_refused_with_their_line(week):
    text = f"date,a\n2026-12-07,1\n{week},2\n" if week > "2000" else f"date,a\n{week},1\n1990-01-01,2\n"
    with pytest.raises(TrendDataError, match="outside 1990-01-01 to 2026-12-14") as exc:
        parse_trend_csv(text, file="w.csv", today=date(2026, 12, 7))
    assert exc.value.line == (3 if week > "2000" else 2)


def _jsonl(*objs: object) -> str:
    return "\n".join(o if isinstance(o, str) else json.dumps(o, ensure_ascii=False) for o in objs) + "\n"


GOOD_POST = {"text": "navy socks", "timestamp": "2025-01-07T10:00:00Z"}


@pytest.mark.parametrize("lines, line, reason", [
    ([], 1, "no posts"),
    ([GOOD_POST, "{not json"], 2, "not valid JSON"),
    ([GOOD_POST, "[1, 2]"], 2, "expected a JSON object"),
    ([{"timestamp": "2025-01-07"}], 1, "field 'text' must be a non-empty string"),
    ([GOOD_POST, {"text": "x", "timestamp": "yesterday"}], 2, "field 'timestamp': 'yesterday' is not an ISO 8601"),
    ([{"text": "x"}], 1, "field 'timestamp' must be an ISO 8601 string"),
    ([{**GOOD_POST, "engagement": -3}], 1, "field 'engagement': -3 must be a finite number >= 0"),
    ([{**GOOD_POST, "engagement": "many"}], 1, "field 'engagement'"),
    ([{**GOOD_POST, "region": "mars"}], 1, "field 'region': unknown region 'mars'; allowed: cn"),
])
def test_bad_posts_name_the_line_and_field(lines, line, reason):
    with pytest.raises(TrendDataError, match=reason) as exc:
        parse_posts_jsonl(_jsonl(*lines) if lines else "\n", TX, file="p.jsonl")
    assert exc.value.line == line and exc.value.file == "p.jsonl"


def test_keywords_map_english_chinese_synonyms_and_prefer_the_longest_match():
    language = ProductLanguage(TX)
    m = match_post(language, "Loving these DARK GREEN dresses with pockets!")
    assert (m.category, m.attributes, m.how) == ("dress", {"color": ["forest-green"], "detail": ["pocket"]}, "keyword")
    zh = match_post(language, "今年超火的藏青色连衣裙，真丝质感很好")
    assert zh.category == "dress" and zh.attributes == {"color": ["navy"], "material": ["silk"]}
    assert match_post(language, "merino sock").attributes == {"material": ["wool"]}
    assert match_post(language, "leather socks").attributes == {}  # leather does not apply to socks
    assert match_post(language, "what a sunny day").category is None


def test_posts_aggregate_to_weekly_shares_named_by_the_convention():
    text = _jsonl(
        {"text": "navy socks", "timestamp": "2025-01-07T10:00:00Z", "region": "eu"},
        {"text": "red socks", "timestamp": "2025-01-08T10:00:00+08:00", "region": "eu", "engagement": 100},
        {"text": "plain socks", "timestamp": "2025-01-09", "region": "eu"},
        {"text": "navy socks again", "timestamp": "2025-01-21T00:00:00Z"},  # no region: the default
        {"text": "nice weather", "timestamp": "2025-01-21T00:00:00Z"},
    )
    built = posts_to_series(parse_posts_jsonl(text, TX), TX, default_region="cn")
    f = built.frame
    assert f.weeks == (date(2025, 1, 6), date(2025, 1, 13), date(2025, 1, 20))  # Mondays, gap week kept
    assert f.names == ("cn_all_socks_color_navy", "eu_all_socks_color_navy", "eu_all_socks_color_red",
                       "eu_all_socks_pattern_solid")
    assert f.values[:, 1].tolist() == pytest.approx([1 / 3, 0, 0]) and f.values[:, 0].tolist() == [0, 0, 1]
    assert built.report() == {"posts": 5, "keyword": 4, "embedding": 0, "mixed": 0, "unmapped": 1,
                              "category-only": 0, "series": 4}
    heavy = posts_to_series(parse_posts_jsonl(text, TX), TX, default_region="cn", weighting="engagement").frame
    assert heavy.values[0, 2] > f.values[0, 2]  # the engaged red post weighs more
    with pytest.raises(TrendDataError, match="none of the 1 posts"):
        posts_to_series(parse_posts_jsonl(_jsonl({"text": "hello", "timestamp": "2025-01-07"}), TX), TX, default_region="cn")


class FakeEmbed:
    """Deterministic stand-in for MiniLM: one axis per distinct text; aliases share their target's axis."""

    def __init__(self, aliases: dict[str, str]) -> None:
        self.aliases, self.axes, self.calls = aliases, {}, []

    def __call__(self, texts):
        self.calls.append(list(texts))
        out = np.zeros((len(texts), 4096), dtype=np.float32)
        for i, t in enumerate(texts):
            key = self.aliases.get(t, t)
            out[i, self.axes.setdefault(key, len(self.axes))] = 1.0
        return out


def test_embeddings_fill_in_only_what_keywords_missed():
    fake = FakeEmbed({"ballgown": "dress", "midnight sky": "navy blue"})  # words the lexicon does not know
    posts = parse_posts_jsonl(_jsonl(
        {"text": "my new ballgown, midnight sky", "timestamp": "2025-01-07"},
        {"text": "navy socks", "timestamp": "2025-01-07"},
        {"text": "dress, midnight sky", "timestamp": "2025-01-07"},
    ), TX)
    matches = map_posts(posts, TX, embed=fake)
    assert (matches[0].category, matches[0].attributes, matches[0].how) == ("dress", {"color": ["navy"]}, "embedding")
    assert matches[1].how == "keyword"
    assert (matches[2].attributes, matches[2].how) == ({"color": ["navy"]}, "mixed")
    embedded = {t for call in fake.calls[1:] for t in call}
    assert "navy socks" not in embedded and "socks" not in embedded  # mapped posts are never embedded
    assert phrases("Loving my new gown") == ["loving gown", "gown"]  # stopwords dropped, generic only in pairs


def test_embedding_threshold_and_margin_reject_weak_or_ambiguous_matches():
    mapper = EmbeddingMapper(TX, FakeEmbed({}), threshold=0.65)
    # an orthogonal phrase is far from every label
    assert mapper.nearest(["sunny afternoon"]) == {}
    with pytest.raises(ValueError, match="threshold"):
        EmbeddingMapper(TX, FakeEmbed({}), threshold=1.5)


def test_a_formula_like_series_name_is_written_as_text_and_read_back(tmp_path):
    from generation.trends.frame import TrendFrame
    from generation.trends.io import read_wide_csv, write_wide_csv

    frame = TrendFrame((date(2025, 1, 6), date(2025, 1, 13)), ("=HYPERLINK(\"x\")", "linen"), np.ones((2, 2)))
    write_wide_csv(frame, tmp_path / "f.csv")
    assert (tmp_path / "f.csv").read_text().splitlines()[0].startswith("date,\"'=HYPERLINK")
    assert read_wide_csv(tmp_path / "f.csv").names == frame.names

"""Social posts (JSONL) -> weekly attribute-share series on the taxonomy.

Input: one JSON object per line with `text` (string), `timestamp` (ISO 8601; a trailing `Z` or an
offset is converted to UTC), and optionally `engagement` (number >= 0) and `region` (a region of the
taxonomy). Any bad line raises `TrendDataError(file, line, reason)` naming the field, and nothing is
returned: an import is all or nothing. A post with no `region` gets the caller's `default_region`.

Each post is mapped to a category and attributes (`mapping.py`: keywords first, embeddings for the
rest when an `embed` function is given). Posts are bucketed by the week (Monday, UTC) of their
timestamp, and the value of series `region_segment_category_kind_attribute` in a week is

    share = weight of that region's posts about the category that mention the attribute
            / weight of all that region's posts about the category in that week

so it is comparable across weeks of different post volume. With `weighting="posts"` (the default)
every post weighs 1; with `"engagement"` a post weighs 1 + log(1 + engagement), so a viral post
counts more without one post drowning a week. A week with no post about a category has share 0 for
all its attributes. Posts mapped to no category are counted in the report, not silently dropped.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

from generation.errors import TrendDataError
from generation.taxonomy import Taxonomy
from generation.trends.frame import SeriesName, TrendFrame
from generation.language.extract import ProductLanguage
from generation.trends.mapping import (EMBED_ATTRIBUTE_THRESHOLD, EMBED_THRESHOLD, Embed, EmbeddingMapper, PostMatch,
                                       match_post)

WEIGHTINGS = ("posts", "engagement")


@dataclass(frozen=True)
class Post:
    text: str
    timestamp: datetime  # UTC, naive
    engagement: float | None
    region: str | None
    line: int

    @property
    def week(self) -> date:
        d = self.timestamp.date()
        return d - timedelta(days=d.weekday())


@dataclass(frozen=True)
class PostSeries:
    """The weekly series built from posts, each post's mapping, and how many were mapped how."""

    frame: TrendFrame
    posts: tuple[Post, ...]
    matches: tuple[PostMatch, ...]
    regions: tuple[str, ...]  # the region used for each post

    def report(self) -> dict[str, int]:
        counts = {"posts": len(self.posts), "keyword": 0, "embedding": 0, "mixed": 0, "unmapped": 0,
                  "category-only": 0}
        for m in self.matches:
            counts[m.how] += 1
            if m.category is not None and not m.attributes:
                counts["category-only"] += 1
        counts["series"] = len(self.frame.names)
        return counts


def parse_posts_jsonl(text: str, taxonomy: Taxonomy, *, file: str = "<posts>") -> list[Post]:
    """Validate every line of JSONL posts; TrendDataError naming the line and field on the first bad one.

    Lines end in LF, CRLF or CR alone; a line separator inside a JSON string (U+2028) is text, not an end
    of line. A line that is not one JSON object (NaN and Infinity are not JSON; nesting is limited), or
    whose text holds a lone surrogate or is longer than MAX_POST_CHARS, is refused on its line, and so is a file
    of more than MAX_POSTS."""
    posts: list[Post] = []
    lines = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for line, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        if len(posts) == MAX_POSTS:
            raise TrendDataError(file, line, f"more than {MAX_POSTS:,} posts; split the file")
        try:
            obj = json.loads(raw, parse_constant=_not_json)
        except json.JSONDecodeError as exc:
            raise TrendDataError(file, line, f"not valid JSON ({exc.msg} at column {exc.colno})") from None
        except ValueError as exc:
            raise TrendDataError(file, line, f"not valid JSON ({exc})") from None
        except RecursionError:
            raise TrendDataError(file, line, "not a post: the JSON nests too deeply") from None
        if not isinstance(obj, dict):
            raise TrendDataError(file, line, f"expected a JSON object with text and timestamp, got {type(obj).__name__}")
        body = obj.get("text")
        if not isinstance(body, str) or not body.strip():
            raise TrendDataError(file, line, "field 'text' must be a non-empty string")
        if len(body) > MAX_POST_CHARS:
            raise TrendDataError(file, line, f"field 'text' is {len(body):,} characters; a post may hold at most "
                                             f"{MAX_POST_CHARS:,}")
        if not _is_text(body):
            raise TrendDataError(file, line, "field 'text' holds a lone surrogate (\\ud800-\\udfff), which is not text")
        stamp = obj.get("timestamp")
        if not isinstance(stamp, str):
            raise TrendDataError(file, line, "field 'timestamp' must be an ISO 8601 string, e.g. 2025-01-06T12:00:00Z")
        try:
            when = datetime.fromisoformat(stamp.strip())
        except ValueError:
            raise TrendDataError(file, line, f"field 'timestamp': {stamp!r} is not an ISO 8601 date-time") from None
        if when.tzinfo is not None:
            when = when.astimezone(UTC).replace(tzinfo=None)
        engagement = obj.get("engagement")
        if engagement is not None:
            if isinstance(engagement, bool) or not isinstance(engagement, (int, float)) \
                    or not math.isfinite(engagement) or engagement < 0:
                raise TrendDataError(file, line, f"field 'engagement': {engagement!r} must be a finite number >= 0")
            engagement = float(engagement)
        region = obj.get("region")
        if region is not None and region not in taxonomy.regions:
            raise TrendDataError(file, line, f"field 'region': unknown region {region!r}; allowed: {', '.join(taxonomy.regions)}")
        posts.append(Post(body, when, engagement, region, line))
    if not posts:
        raise TrendDataError(file, 1, "the file has no posts (expected one JSON object per line)")
    return posts


MAX_POSTS = 20_000  # a file of posts, read and mapped in seconds (the sample has 4,000)
MAX_POST_CHARS = 10_000  # a post longer than this is not a social post; its one word could take the embedder minutes


def _not_json(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def _is_text(s: str) -> bool:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def read_posts_jsonl(path: str | Path, taxonomy: Taxonomy) -> list[Post]:
    """`parse_posts_jsonl` on a UTF-8 file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise TrendDataError(str(p), None, f"cannot read: {exc}") from exc
    return parse_posts_jsonl(text, taxonomy, file=str(p))


def map_posts(posts: Sequence[Post], taxonomy: Taxonomy, *, embed: Embed | None = None,
              threshold: float = EMBED_THRESHOLD, attribute_threshold: float = EMBED_ATTRIBUTE_THRESHOLD,
              language: ProductLanguage | None = None) -> list[PostMatch]:
    """Map each post: the product-language module first (`language`, built on `taxonomy` if not given);
    `embed` (if given) only for posts it left incomplete."""
    language = language if language is not None else ProductLanguage(taxonomy)
    matches = [match_post(language, p.text) for p in posts]
    if embed is not None:
        todo = [i for i, m in enumerate(matches) if m.category is None or not m.attributes]
        if todo:
            mapper = EmbeddingMapper(taxonomy, embed, threshold=threshold, attribute_threshold=attribute_threshold)
            mapper.complete([posts[i].text for i in todo], [matches[i] for i in todo])
    return matches


def posts_to_series(posts: Sequence[Post], taxonomy: Taxonomy, *, default_region: str, segment: str = "all",
                    embed: Embed | None = None, threshold: float = EMBED_THRESHOLD,
                    attribute_threshold: float = EMBED_ATTRIBUTE_THRESHOLD, weighting: str = "posts",
                    language: ProductLanguage | None = None) -> PostSeries:
    """Map posts and aggregate them into weekly share series named by the convention."""
    if default_region not in taxonomy.regions:
        raise TrendDataError("<posts>", None, f"default region {default_region!r} is unknown; allowed: {', '.join(taxonomy.regions)}")
    if segment not in taxonomy.segments:
        raise TrendDataError("<posts>", None, f"segment {segment!r} is unknown; allowed: {', '.join(taxonomy.segments)}")
    if weighting not in WEIGHTINGS:
        raise ValueError(f"weighting must be one of {WEIGHTINGS}, got {weighting!r}")
    if not posts:
        raise TrendDataError("<posts>", None, "no posts to aggregate")
    matches = map_posts(posts, taxonomy, embed=embed, threshold=threshold, attribute_threshold=attribute_threshold,
                        language=language)
    regions = tuple(p.region or default_region for p in posts)
    first = min(p.week for p in posts)
    n_weeks = (max(p.week for p in posts) - first).days // 7 + 1
    weeks = tuple(first + timedelta(weeks=i) for i in range(n_weeks))
    totals: dict[tuple[str, str], np.ndarray] = {}
    hits: dict[str, np.ndarray] = {}
    for post, match, region in zip(posts, matches, regions):
        if match.category is None:
            continue
        w = 1.0 if weighting == "posts" else 1.0 + math.log1p(post.engagement or 0.0)
        t = (post.week - first).days // 7
        totals.setdefault((region, match.category), np.zeros(n_weeks))[t] += w
        for kind, name in match.pairs():
            key = str(SeriesName(region, segment, match.category, kind, name))
            hits.setdefault(key, np.zeros(n_weeks))[t] += w
    names = tuple(sorted(hits))
    if not names:
        raise TrendDataError("<posts>", None, f"none of the {len(posts)} posts mentions a category with an attribute "
                             "of the taxonomy; nothing to build series from")
    values = np.zeros((n_weeks, len(names)))
    for j, key in enumerate(names):
        name = SeriesName.split(key)
        if name is None:  # only when a region, segment or category of the taxonomy has a '_' in it
            raise ValueError(f"series name {key!r} does not split into region_segment_category_kind_attribute")
        total = totals[(name.region, name.category)]
        np.divide(hits[key], total, out=values[:, j], where=total > 0)
    return PostSeries(TrendFrame(weeks, names, values), tuple(posts), tuple(matches), regions)

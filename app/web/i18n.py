"""Languages of the web pages: one JSON message catalogue per language, and how a request picks one.

The catalogues (`locales/<code>.json`) map a message key to its text; `str.format` fields name the
values a message takes (`"{n} pieces"`). Every language has exactly the keys of English (a test checks
it), so a missing translation is a failing test, never an English word on a Chinese page.

A request's language is the one the user picked with the switch (a cookie; signed-in users also get it
stored as their preference), else the best match of the browser's `Accept-Language`, else English.
Taxonomy names (categories, colours, materials...) come from `generation/taxonomy.json`, whose `zh`
field is the Simplified Chinese name (an entry of a custom taxonomy without one shows its slug).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from generation.taxonomy import Taxonomy
from generation.trends.frame import SeriesName
from generation.trends.rising import TrendSignal

from app.models import Design, TrendSeries
from app.services.design_copy import copy_of
from app.services.trends import SIGNAL_WINDOW, DataEnd

LOCALES = Path(__file__).with_name("locales")
LANGUAGES: tuple[str, ...] = ("en", "zh-CN")  # the same codes as `app.models.LANGUAGES`
DEFAULT_LANGUAGE = "en"
LANG_COOKIE = "trendloom_lang"


@cache
def catalogue(lang: str) -> dict[str, str]:
    """The message catalogue of `lang` (read once per process)."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; allowed: {', '.join(LANGUAGES)}")
    return json.loads((LOCALES / f"{lang}.json").read_text(encoding="utf-8"))


def _match(tag: str) -> str | None:
    """The supported language for one language tag (`zh`, `zh-Hans-CN`, `en-GB` ...), if any."""
    tag = tag.strip().lower()
    if tag.startswith("zh"):
        return "zh-CN" if tag in ("zh", "zh-cn", "zh-sg", "zh-hans") or tag.startswith("zh-hans") else None
    if tag == "en" or tag.startswith("en-"):
        return "en"
    return None


def from_accept_language(header: str | None) -> str | None:
    """The supported language the browser prefers most (RFC 9110 quality values), or None."""
    best: tuple[float, int, str] | None = None
    for pos, item in enumerate((header or "").split(",")):
        tag, _, params = item.partition(";")
        q = 1.0
        for p in params.split(";"):
            key, _, value = p.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        lang = _match(tag)
        if lang is not None and q > 0 and (best is None or (q, -pos) > (best[0], best[1])):
            best = (q, -pos, lang)
    return best[2] if best else None


def negotiate(cookie: str | None, accept_language: str | None) -> str:
    """The page language: the user's pick (cookie), else the browser's preference, else English."""
    if cookie in LANGUAGES:
        return cookie
    return from_accept_language(accept_language) or DEFAULT_LANGUAGE


@dataclass(frozen=True)
class Translator:
    """Messages and taxonomy names in one language; `t("common.pieces", n=3)` formats a catalogue entry."""

    lang: str
    taxonomy: Taxonomy

    def __call__(self, key: str, **values: object) -> str:
        text = catalogue(self.lang)[key]  # a missing key is a KeyError: the catalogue test names it
        return text.format(**values) if values else text

    @property
    def html_lang(self) -> str:
        return "zh-Hans" if self.lang == "zh-CN" else self.lang

    def category(self, slug: str) -> str:
        """A category's display name: its taxonomy `zh` in Chinese, the slug in words in English."""
        c = self.taxonomy.category(slug)
        return c.zh if self.lang == "zh-CN" else _words(c.name)

    def attribute(self, kind: str, slug: str) -> str:
        """An attribute's display name (colour, material, pattern, silhouette, detail)."""
        a = self.taxonomy.attribute(kind, slug)
        return (a.zh or _words(a.name)) if self.lang == "zh-CN" else _words(a.name)

    def spec_title(self, spec: Mapping[str, Any]) -> str:
        """A design's attributes in this language (colour, pattern, material, silhouette, category), e.g.
        "薰衣草紫 有机棉 方形 抱枕套": shown beside the design's own name, which is written in English."""
        words = [self.attribute("color", spec["color"])]
        if spec.get("pattern", "solid") != "solid":
            words.append(self.attribute("pattern", spec["pattern"]))
        words.append(self.attribute("material", spec["material"]))
        if spec.get("silhouette"):
            words.append(self.attribute("silhouette", spec["silhouette"]))
        words.append(self.category(spec["category"]))
        return " ".join(words)

    def design_name(self, design: Design) -> str:
        """A design's name in this language: on Chinese pages its Chinese name (`app.services.design_copy`)."""
        return copy_of(design, self.taxonomy, self.lang)[0]

    def design_description(self, design: Design, evidence: bool = False) -> str:
        """A design's description in this language, like `design_name`; the trend evidence only with
        `evidence` (staff pages: buyers and factories do not see trend statistics)."""
        return copy_of(design, self.taxonomy, self.lang, evidence=evidence)[1]

    def process(self, slug: str) -> str:
        """A production process's name; one the catalogue does not know (a custom taxonomy's) shows its slug."""
        return catalogue(self.lang).get(f"process.{slug}", _words(slug))

    def why(self, sig: TrendSignal, end: DataEnd | None = None) -> str:
        """The reason for a rising/fading signal in words: the translated form of `trends.signals`' why
        (`rising.explain`, then where the data ends for a series whose `end` is before the newest week)."""
        return self._reason(sig) + ("" if end is None else self(
            "why.ends", last=end.last.isoformat(), weeks=end.weeks_behind, newest=end.newest.isoformat()))

    def _reason(self, sig: TrendSignal) -> str:
        if sig.method == "all-zero":
            return self("why.all-zero")
        values = {"change": growth_pct(sig.growth), "lo": growth_pct(sig.lo), "hi": growth_pct(sig.hi), "weeks": SIGNAL_WINDOW}
        if sig.method.startswith("forecast"):
            return self("why.forecast", **values)
        return self("why.yoy" if sig.method == "yoy" else "why.short-history", **values)

    def series(self, name: str, about: TrendSeries | None = None) -> str:
        """A trend series in words: what it measures (from its stored mapping `about`, or trendloom's naming
        convention), with the merchandiser's own name beside a free-named one; an unmapped one by its name."""
        if about is not None and about.how != "convention":
            if about.kind is None or about.attribute is None:
                return f"{name} ({self('trends.unmapped')})"
            where = self.category(about.category) if about.category else self("trends.every_category")
            return f"{where} · {self(f'kind.{about.kind}')}: {self.attribute(about.kind, about.attribute)} ({name})"
        parts = SeriesName.split(name)
        if parts is None:
            return name
        return (f"{self.category(parts.category)} · {self(f'kind.{parts.kind}')}: "
                f"{self.attribute(parts.kind, parts.attribute)} ({parts.who})")


def _words(slug: str) -> str:
    return slug.replace("-", " ")


def growth_pct(log_ratio: float) -> str:
    """A log growth ratio as a signed percentage change ("+84%")."""
    return f"{100 * math.expm1(log_ratio):+.0f}%"

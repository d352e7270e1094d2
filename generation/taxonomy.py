"""The attribute taxonomy: product categories and the attributes (colour, material, pattern,
silhouette, detail) that can describe them, with synonyms in English and Chinese.

The data lives in `taxonomy.json` beside this file so a merchandiser can extend it without code;
`load_taxonomy(path)` reads another file when given one.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

from generation.errors import TaxonomyError

DEFAULT_TAXONOMY_PATH = Path(__file__).with_name("taxonomy.json")
ATTRIBUTE_KINDS: tuple[str, ...] = ("color", "material", "pattern", "silhouette", "detail")


@dataclass(frozen=True)
class Category:
    name: str
    sector: str
    zh: str
    synonyms: tuple[str, ...]
    buyer_moq: int  # pieces: the smallest pre-order one buyer may place
    base_price_cents: int  # wholesale unit price of the smallest tier
    processes: tuple[str, ...]  # what any factory making this category must be able to do
    due_days: int  # usual days from order to shipment


@dataclass(frozen=True)
class Attribute:
    kind: str
    name: str
    zh: str
    synonyms: tuple[str, ...]
    categories: tuple[str, ...] | None  # None = applies to every category
    processes: tuple[str, ...] = ()
    rgb: str | None = None  # colours only, "#rrggbb"
    family: str | None = None  # colours only: the plain colour it is a shade of ("navy" -> "blue")

    def applies_to(self, category: str) -> bool:
        return self.categories is None or category in self.categories

    @property
    def rgb_tuple(self) -> tuple[int, int, int]:
        if self.rgb is None:
            raise TaxonomyError(f"attribute {self.kind}:{self.name} has no colour value")
        h = self.rgb.lstrip("#")
        return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


@dataclass(frozen=True)
class Taxonomy:
    categories: dict[str, Category]
    attributes: dict[str, dict[str, Attribute]]  # kind -> name -> attribute
    regions: dict[str, str] = field(default_factory=dict)
    segments: dict[str, str] = field(default_factory=dict)
    # words for products trendloom does not sell: a text that names one as its product has no category
    other_products: tuple[str, ...] = ()
    # phrases that contain such a word but name nothing ("cap sleeves", "网红"): read whole and ignored
    phrases: tuple[str, ...] = ()

    def category(self, name: str) -> Category:
        """The category called `name`; TaxonomyError naming the allowed ones otherwise."""
        try:
            return self.categories[name]
        except KeyError:
            raise TaxonomyError(
                f"unknown category {name!r}; allowed: {', '.join(sorted(self.categories))}"
            ) from None

    def attribute(self, kind: str, name: str, category: str | None = None) -> Attribute:
        """The attribute `kind:name`, checked to apply to `category` when one is given."""
        if kind not in self.attributes:
            raise TaxonomyError(f"unknown attribute kind {kind!r}; allowed: {', '.join(ATTRIBUTE_KINDS)}")
        by_name = self.attributes[kind]
        if name not in by_name:
            allowed = self.allowed(kind, category) if category else sorted(by_name)
            raise TaxonomyError(f"unknown {kind} {name!r}; allowed: {', '.join(allowed)}")
        attr = by_name[name]
        if category is not None and not attr.applies_to(category):
            raise TaxonomyError(
                f"{kind} {name!r} does not apply to category {category!r}; "
                f"allowed: {', '.join(self.allowed(kind, category))}"
            )
        return attr

    def allowed(self, kind: str, category: str) -> list[str]:
        """Names of the `kind` attributes that apply to `category`, sorted."""
        return sorted(a.name for a in self.attributes[kind].values() if a.applies_to(category))

    @cached_property
    def materials(self) -> frozenset[str]:
        return frozenset(self.attributes["material"])

    @cached_property
    def processes(self) -> frozenset[str]:
        """Every process named anywhere in the taxonomy."""
        found = {p for c in self.categories.values() for p in c.processes}
        found |= {p for kind in self.attributes.values() for a in kind.values() for p in a.processes}
        return frozenset(found)


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """Read a taxonomy JSON file (the shipped one by default) and check it is consistent."""
    p = Path(path) if path is not None else DEFAULT_TAXONOMY_PATH
    try:
        raw = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise TaxonomyError(f"cannot read taxonomy {p}: {exc}") from exc
    categories = {
        c["name"]: Category(
            name=c["name"],
            sector=c["sector"],
            zh=c["zh"],
            synonyms=tuple(c.get("synonyms", ())),
            buyer_moq=int(c["buyer_moq"]),
            base_price_cents=int(c["base_price_cents"]),
            processes=tuple(c.get("processes", ())),
            due_days=int(c["due_days"]),
        )
        for c in raw["categories"]
    }
    attributes: dict[str, dict[str, Attribute]] = {}
    for kind in ATTRIBUTE_KINDS:
        attributes[kind] = {}
        for a in raw["attributes"].get(kind, []):
            cats = a.get("categories", "*")
            cats_t = None if cats == "*" else tuple(cats)
            for c in cats_t or ():
                if c not in categories:
                    raise TaxonomyError(f"{p}: {kind} {a['name']!r} names unknown category {c!r}")
            if "_" in a["name"]:
                raise TaxonomyError(f"{p}: {kind} name {a['name']!r} contains '_' (use '-')")
            attributes[kind][a["name"]] = Attribute(
                kind=kind,
                name=a["name"],
                zh=a.get("zh", ""),
                synonyms=tuple(a.get("synonyms", ())),
                categories=cats_t,
                processes=tuple(a.get("processes", ())),
                rgb=a.get("rgb"),
                family=a.get("family", a["name"] if kind == "color" else None),
            )
    others = tuple(raw.get("other_products", {}).get("words", ()))
    phrases = tuple(raw.get("phrases", {}).get("words", ()))
    return Taxonomy(categories, attributes, dict(raw.get("regions", {})), dict(raw.get("segments", {})), others,
                    phrases)


@dataclass(frozen=True)
class AttributeAddition:
    """An attribute a merchandiser adds (with its Chinese name), or more words for one that exists."""

    kind: str
    name: str
    zh: str = ""
    synonyms: tuple[str, ...] = ()
    categories: tuple[str, ...] | None = None  # None: every category
    rgb: str | None = None  # colours: "#rrggbb"


_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_RGB = re.compile(r"^#[0-9a-fA-F]{6}$")


def check_addition(taxonomy: Taxonomy, add: AttributeAddition) -> None:
    """TaxonomyError saying what is wrong with `add` and what is allowed; nothing otherwise."""
    if add.kind not in ATTRIBUTE_KINDS:
        raise TaxonomyError(f"unknown attribute kind {add.kind!r}; allowed: {', '.join(ATTRIBUTE_KINDS)}")
    if not _SLUG.match(add.name):
        raise TaxonomyError(f"name {add.name!r} must be lowercase letters and digits joined by '-', e.g. 'teal' or "
                            "'dusty-rose'")
    if any(not s.strip() or len(s) > 50 for s in add.synonyms):
        raise TaxonomyError("words must be 1 to 50 characters")
    if add.name in taxonomy.attributes[add.kind]:
        return  # more words for an attribute that exists: nothing else to check
    if not add.zh.strip() or len(add.zh) > 50:
        raise TaxonomyError(f"a new {add.kind} needs its Chinese name (1 to 50 characters), e.g. 蓝绿色 for teal")
    for c in add.categories or ():
        taxonomy.category(c)
    if add.kind == "color" and (add.rgb is None or not _RGB.match(add.rgb)):
        raise TaxonomyError("a new colour needs its colour value as #rrggbb, e.g. #008080 for teal")


def extended(taxonomy: Taxonomy, additions: list[AttributeAddition]) -> Taxonomy:
    """`taxonomy` with the merchandiser's additions: new attributes, and new words for existing ones."""
    attributes = {kind: dict(by_name) for kind, by_name in taxonomy.attributes.items()}
    for add in additions:
        check_addition(taxonomy, add)
        old = attributes[add.kind].get(add.name)
        if old is not None:
            words = tuple(dict.fromkeys((*old.synonyms, *add.synonyms)))
            attributes[add.kind][add.name] = replace(old, synonyms=words)
        else:
            attributes[add.kind][add.name] = Attribute(
                kind=add.kind, name=add.name, zh=add.zh.strip(), synonyms=add.synonyms, categories=add.categories,
                rgb=add.rgb, family=add.name if add.kind == "color" else None)
    return replace(taxonomy, attributes=attributes)

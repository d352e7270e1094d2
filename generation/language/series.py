"""What a trend series is about, from its name, whatever the merchandiser's tool called it.

Two kinds of names:
- trendloom's convention `region_segment_category_kind_attribute` (`cn_all_dress_color_sage-green`):
  read field by field (`how="convention"`);
- the convention with a word the taxonomy lacks (`cn_all_socks_color_dark-blue`): its kind and
  category fields stand, its attribute is read by the language module as that kind;
- anything else (`color_sage_green`, `fabric_corduroy`, `silhouette_wide-leg_trousers`, `藏蓝卫衣`,
  `linen dress`): '_' is read as a space, a leading kind word ("color", "fabric", "print", "silhouette",
  "颜色", "面料" ...) says which kind to take, and the rest goes through the product-language module
  (`how="lexicon"`). Without a kind word, the name must name exactly one attribute kind, or it stays
  unmapped: "navy linen" could be either series, and a wrong attribute is worse than none. A category
  is kept when the name names one of ours ("linen dress" -> dress); otherwise the series has none and
  feeds every category its attribute applies to.
- names the lexicon cannot read may be matched by embedding (`how="embedding"`) when the caller passes
  an `embed` function, with the strict attribute threshold of `EmbeddingMapper`.
A name that maps to nothing is `SeriesMapping(kind=None, ...)`: stored and listed, never an error.
"""

from __future__ import annotations

from dataclasses import dataclass

from generation.errors import TaxonomyError
from generation.language.extract import ProductLanguage
from generation.taxonomy import ATTRIBUTE_KINDS, Taxonomy
from generation.trends.frame import SeriesName, parse_series_name
from generation.trends.mapping import Embed, EmbeddingMapper

KIND_WORDS = {
    "color": "color", "colour": "color", "colors": "color", "colours": "color", "颜色": "color", "色彩": "color",
    "fabric": "material", "material": "material", "fabrics": "material", "materials": "material",
    "面料": "material", "材质": "material", "pattern": "pattern", "print": "pattern", "patterns": "pattern",
    "prints": "pattern", "图案": "pattern", "花型": "pattern", "silhouette": "silhouette", "shape": "silhouette",
    "fit": "silhouette", "cut": "silhouette", "版型": "silhouette", "廓形": "silhouette", "detail": "detail",
    "details": "detail", "trim": "detail", "细节": "detail",
}
HOW = ("convention", "lexicon", "embedding", "manual", "unmapped")


@dataclass(frozen=True)
class SeriesMapping:
    """What one series measures: an attribute (kind + name), optionally within one category."""

    series: str
    kind: str | None
    attribute: str | None
    category: str | None
    how: str  # one of HOW
    region: str | None = None  # only names in trendloom's convention carry region and segment
    segment: str | None = None

    @property
    def mapped(self) -> bool:
        return self.kind is not None

    def to_dict(self) -> dict[str, str | None]:
        return {"series": self.series, "kind": self.kind, "attribute": self.attribute, "category": self.category,
                "how": self.how}


def map_series_name(name: str, taxonomy: Taxonomy, language: ProductLanguage, *,
                    embed: Embed | None = None) -> SeriesMapping:
    """The (kind, attribute[, category]) a series name stands for (module docstring: how)."""
    try:
        sn = parse_series_name(name, taxonomy)
        return SeriesMapping(name, sn.kind, sn.attribute, sn.category, "convention", sn.region, sn.segment)
    except TaxonomyError:
        pass
    parts = SeriesName.split(name)
    if parts is not None and parts.kind in ATTRIBUTE_KINDS:
        # trendloom's convention with a word the taxonomy lacks ("cn_all_socks_color_plaid-ish"): its kind
        # field says which kind to read the attribute as, its category field which category
        found = language.extract(parts.attribute.replace("-", " "))
        attr = next((m.name for m in found.mentions if m.kind == parts.kind), None)
        category = parts.category if parts.category in taxonomy.categories else None
        region = parts.region if parts.region in taxonomy.regions else None
        segment = parts.segment if parts.segment in taxonomy.segments else None
        how = "lexicon" if attr is not None else "unmapped"
        return SeriesMapping(name, parts.kind if attr else None, attr, category, how, region, segment)
    words = name.replace("_", " ").strip()
    first, _, rest = words.partition(" ")
    kind = KIND_WORDS.get(first.lower())
    text = rest if kind is not None and rest.strip() else words
    found = language.extract(text)
    attrs = found.attributes()
    if kind is not None:
        pick = next(((k, a) for m in found.mentions if (k := m.kind) == kind for a in [m.name]), None)
    else:
        kinds = {k for k, _ in attrs}
        pick = attrs[0] if len(kinds) == 1 else None
    if pick is not None:
        return SeriesMapping(name, pick[0], pick[1], found.category, "lexicon")
    if embed is not None and not attrs:
        hit = EmbeddingMapper(taxonomy, embed).nearest([text]).get(text)
        if hit is not None and hit[0][0] in ATTRIBUTE_KINDS and (kind is None or hit[0][0] == kind):
            return SeriesMapping(name, hit[0][0], hit[0][1], found.category, "embedding")
    return SeriesMapping(name, None, None, found.category, "unmapped")

"""A design's Chinese name and description, written from its spec with the taxonomy's Chinese words.

The copy is composed, not translated: every word is a taxonomy `zh` name (the same words the product-language
module reads), put in the order Chinese product titles use — colour, pattern, material, silhouette, category
("藏青色条纹纯棉宽松卫衣"). The description says the same in short clauses and adds the details
("藏青色纯棉卫衣，宽松版型，条纹图案，细节：刺绣、口袋。"). Trend evidence stays out: the copy is what
buyers read, and the English `describe` in `generation.concepts.composer` is where the figures are.

A few rules make the taxonomy's words read as Chinese rather than a list; each is here and nowhere else:

1. A one-character colour takes 色 (红 -> 红色): a bare hue character does not stand before a noun.
2. A one-character material takes 纯 before it (棉 -> 纯棉), the form product titles use.
3. The solid pattern (纯色) is left out: it is what a design without a pattern is anyway.
4. A silhouette word that ends in the category's last character loses it (薄款壳 + 手机壳 -> 薄款手机壳),
   so the head noun is not said twice.
5. In the description a silhouette is a garment's cut (宽松版型) for garments, a style (厚底款) for
   everything else, and stands alone when it already ends in 款 (短款).
6. An attribute without a Chinese name is left out: the copy never falls back to English.
"""

from __future__ import annotations

from generation.concepts.spec import DesignSpec
from generation.taxonomy import Taxonomy

# sectors whose products have a cut (版型); the silhouettes of everything else are styles (款)
GARMENT_SECTORS: frozenset[str] = frozenset({"apparel", "sportswear"})


def _color(zh: str) -> str:
    return zh + "色" if len(zh) == 1 else zh  # rule 1


def _material(zh: str) -> str:
    return "纯" + zh if len(zh) == 1 else zh  # rule 2


def _silhouette(zh: str, category_zh: str) -> str:
    if len(zh) > 1 and category_zh and zh[-1] == category_zh[-1]:  # rule 4
        return zh[:-1]
    return zh


def describe_zh(spec: DesignSpec, taxonomy: Taxonomy) -> tuple[str, str]:
    """(name, description) of `spec` in Chinese, from the taxonomy's `zh` names (see the module's rules).

    TaxonomyError if the spec names a category or attribute the taxonomy does not have."""
    category = taxonomy.category(spec.category)
    color = _color(taxonomy.attribute("color", spec.color).zh)
    material = _material(taxonomy.attribute("material", spec.material).zh)
    pattern = taxonomy.attribute("pattern", spec.pattern).zh if spec.pattern != "solid" else ""  # rule 3
    silhouette = (_silhouette(taxonomy.attribute("silhouette", spec.silhouette).zh, category.zh)
                  if spec.silhouette else "")
    details = [z for z in (taxonomy.attribute("detail", d).zh for d in spec.details) if z]  # rule 6

    name = "".join((color, pattern, material, silhouette, category.zh))
    clauses = [color + material + category.zh]
    if silhouette:  # rule 5
        if silhouette.endswith("款"):
            clauses.append(silhouette)
        else:
            clauses.append(silhouette + ("版型" if category.sector in GARMENT_SECTORS else "款"))
    if pattern:
        clauses.append(pattern + "图案")
    if details:
        clauses.append("细节：" + "、".join(details))
    return name, "，".join(clauses) + "。"

"""A design's name and description in both languages, as the pages and the API show them.

Designs composed since Chinese copy exists carry it in their spec (`name_zh`, `description_zh`, written by
`generation.language.copy.describe_zh`, or by a merchandiser). Specs stored before that, or whose Chinese
copy a merchandiser left blank, get it written from their attributes when read, so an old workspace shows
Chinese too; nothing is written back. This is the one place that fills it in.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from generation.concepts.spec import DesignSpec
from generation.language.copy import describe_zh
from generation.taxonomy import Taxonomy

from app.models import Design


def with_chinese_copy(spec: DesignSpec, taxonomy: Taxonomy) -> DesignSpec:
    """`spec` with a Chinese name and description: its own where it has them, else written from it."""
    if spec.name_zh and spec.description_zh:
        return spec
    name, description = describe_zh(spec, taxonomy)
    return replace(spec, name_zh=spec.name_zh or name, description_zh=spec.description_zh or description)


def bilingual_spec(design: Design, taxonomy: Taxonomy) -> DesignSpec:
    """The design's spec with its Chinese copy filled in (see `with_chinese_copy`)."""
    return with_chinese_copy(DesignSpec.from_dict(design.spec), taxonomy)


# The composer ends an English description with the trend evidence ("Why now: sage green +35% year on
# year (95% interval ...)."): trend statistics are trendloom's own, for staff only.
_WHY_NOW = re.compile(r"\s*Why now:.*\Z", re.DOTALL)


def without_evidence(description: str) -> str:
    """A description as buyers and factories read it: without the trend statistics the composer adds."""
    return _WHY_NOW.sub("", description)


def copy_of(design: Design, taxonomy: Taxonomy, lang: str, *, evidence: bool = False) -> tuple[str, str]:
    """(name, description) of `design` in `lang` ("zh-CN" or anything else for English). The English
    description keeps its trend evidence only with `evidence` (staff pages)."""
    if lang == "zh-CN":
        spec = bilingual_spec(design, taxonomy)
        return spec.name_zh, spec.description_zh
    spec_data: dict[str, Any] = design.spec
    description = str(spec_data.get("description", ""))
    return design.name, description if evidence else without_evidence(description)

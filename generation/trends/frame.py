"""`TrendFrame`: weekly trend series as one array, and the series-name convention.

Series names are `region_segment_category_kind_attribute`, every field a slug without '_', e.g.
`cn_all_dress_color_sage-green`: the share of Chinese posts about dresses that mention sage green.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from generation.errors import TaxonomyError
from generation.taxonomy import ATTRIBUTE_KINDS, Taxonomy


@dataclass(frozen=True)
class SeriesName:
    region: str
    segment: str
    category: str
    kind: str
    attribute: str

    def __str__(self) -> str:
        return "_".join((self.region, self.segment, self.category, self.kind, self.attribute))

    @classmethod
    def split(cls, name: str) -> SeriesName | None:
        """The five fields of `name`, unchecked; None if it has not exactly five (a free-form column)."""
        parts = name.split("_")
        return cls(*parts) if len(parts) == 5 else None

    @property
    def who(self) -> str:
        """Region, and the segment when it is not everyone: "cn" or "cn/teen"."""
        return self.region if self.segment == "all" else f"{self.region}/{self.segment}"


def parse_series_name(name: str, taxonomy: Taxonomy) -> SeriesName:
    """Split a series name and check each field against the taxonomy (TaxonomyError if not)."""
    parts = name.split("_")
    if len(parts) != 5:
        raise TaxonomyError(
            f"series name {name!r} must be region_segment_category_kind_attribute "
            f"(5 fields separated by '_'), got {len(parts)} field(s)"
        )
    region, segment, category, kind, attribute = parts
    if region not in taxonomy.regions:
        raise TaxonomyError(f"series {name!r}: unknown region {region!r}; allowed: {', '.join(taxonomy.regions)}")
    if segment not in taxonomy.segments:
        raise TaxonomyError(f"series {name!r}: unknown segment {segment!r}; allowed: {', '.join(taxonomy.segments)}")
    if kind not in ATTRIBUTE_KINDS:
        raise TaxonomyError(f"series {name!r}: unknown kind {kind!r}; allowed: {', '.join(ATTRIBUTE_KINDS)}")
    try:
        taxonomy.attribute(kind, attribute, category)
    except TaxonomyError as exc:
        raise TaxonomyError(f"series {name!r}: {exc}") from None
    return SeriesName(region, segment, category, kind, attribute)


@dataclass(frozen=True)
class TrendFrame:
    """Weekly series on a shared calendar: `values[t, s]` is series `names[s]` in week `weeks[t]`."""

    weeks: tuple[date, ...]  # consecutive Mondays (or any weekday, 7 days apart)
    names: tuple[str, ...]
    values: np.ndarray  # (T, S) float64, non-negative

    def __post_init__(self) -> None:
        if self.values.shape != (len(self.weeks), len(self.names)):
            raise ValueError(f"values shape {self.values.shape} != ({len(self.weeks)}, {len(self.names)})")

    def series(self, name: str) -> np.ndarray:
        return self.values[:, self.names.index(name)]

"""`DesignSpec`: the structured description of one virtual product.

A spec is what the merchandiser reviews, what buyers see, what the image model is conditioned on and
what a factory produces from. It is plain data (JSON round-trip via `to_dict`/`from_dict`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from generation.errors import TaxonomyError
from generation.taxonomy import Taxonomy


@dataclass(frozen=True)
class PriceTier:
    min_qty: int  # pieces: this tier applies from this total committed quantity up
    unit_price_cents: int


@dataclass(frozen=True)
class Evidence:
    """One trend series behind a design attribute: how much it grew year on year, with its interval."""

    series: str
    kind: str
    attribute: str
    growth: float  # log ratio of recent weeks to the same weeks a year earlier
    lo: float
    hi: float


@dataclass(frozen=True)
class DesignSpec:
    category: str
    color: str
    material: str
    pattern: str = "solid"
    silhouette: str | None = None
    details: tuple[str, ...] = ()
    segment: str = "all"
    name: str = ""
    description: str = ""
    name_zh: str = ""  # the Chinese copy (`generation.language.copy.describe_zh`); "" in specs made before it
    description_zh: str = ""
    price_tiers: tuple[PriceTier, ...] = ()
    moq: int = 1  # pieces per buyer
    evidence: tuple[Evidence, ...] = field(default=())
    asked_for: tuple[str, ...] = ()  # buyers' words this design answers (`app.services.wants`), most buyers first

    def attributes(self) -> list[tuple[str, str]]:
        """(kind, name) for every attribute of the spec, in a fixed order."""
        out = [("color", self.color), ("material", self.material), ("pattern", self.pattern)]
        if self.silhouette:
            out.append(("silhouette", self.silhouette))
        out += [("detail", d) for d in self.details]
        return out

    def text(self) -> str:
        """A one-line description used for embeddings and as the text-to-image prompt."""
        words = [self.color, self.pattern if self.pattern != "solid" else "", self.material]
        words += [self.silhouette or "", self.category.replace("-", " ")]
        base = " ".join(w.replace("-", " ") for w in words if w)
        if self.details:
            base += " with " + ", ".join(d.replace("-", " ") for d in self.details)
        return base

    def unit_price_cents(self, total_qty: int) -> int:
        """Unit price of the tier reached by `total_qty` pieces committed across all buyers."""
        if not self.price_tiers:
            raise TaxonomyError("spec has no price tiers")
        price = self.price_tiers[0].unit_price_cents
        for tier in self.price_tiers:
            if total_qty >= tier.min_qty:
                price = tier.unit_price_cents
        return price

    def required_processes(self, taxonomy: Taxonomy) -> list[str]:
        """Processes a factory needs for this spec: the category's, plus those of pattern and details."""
        procs = list(taxonomy.category(self.category).processes)
        for kind, name in self.attributes():
            for p in taxonomy.attribute(kind, name).processes:
                if p not in procs:
                    procs.append(p)
        return procs

    def validate(self, taxonomy: Taxonomy) -> DesignSpec:
        """Check every field against the taxonomy; raise TaxonomyError naming the allowed values."""
        taxonomy.category(self.category)
        for kind, name in self.attributes():
            taxonomy.attribute(kind, name, self.category)
        if self.segment not in taxonomy.segments:
            raise TaxonomyError(f"unknown segment {self.segment!r}; allowed: {', '.join(taxonomy.segments)}")
        if self.moq < 1:
            raise TaxonomyError(f"moq must be at least 1 piece, got {self.moq}")
        mins = [t.min_qty for t in self.price_tiers]
        if self.price_tiers and (mins[0] != 1 or mins != sorted(set(mins))):
            raise TaxonomyError(f"price tiers must start at 1 piece and increase, got {mins}")
        if any(t.unit_price_cents <= 0 for t in self.price_tiers):
            raise TaxonomyError("tier prices must be positive integers (cents)")
        return self

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DesignSpec:
        """Build a spec from JSON-like data; unknown keys are an error, missing optional keys default."""
        known = set(cls.__dataclass_fields__)
        extra = set(data) - known
        if extra:
            raise TaxonomyError(f"unknown spec fields {sorted(extra)}; allowed: {sorted(known)}")
        for required in ("category", "color", "material"):
            if required not in data:
                raise TaxonomyError(f"spec field {required!r} is required")
        d = dict(data)
        d["details"] = tuple(d.get("details", ()))
        d["price_tiers"] = tuple(PriceTier(**t) for t in d.get("price_tiers", ()))
        d["evidence"] = tuple(Evidence(**e) for e in d.get("evidence", ()))
        d["asked_for"] = tuple(d.get("asked_for", ()))
        return cls(**d)

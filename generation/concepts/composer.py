"""Compose design specs from rising trend signals.

For each concept we pick a category (weighted by how much is rising in it), then for each attribute
kind the attribute with the strongest confident growth in that category, sampling among the top few
so a batch is varied; kinds with nothing rising fall back to the attribute most present now. A batch
never repeats a (category, colour, material, pattern) combination. Names and descriptions are written
from the attributes in English (`describe`) and Chinese (`generation.language.copy.describe_zh`), prices from category norms, and the evidence lists the series behind each choice.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from generation.concepts.diversity import MAX_CATALOG_SIMILARITY, CatalogSimilarity, Embed, select_diverse
from generation.concepts.pricing import buyer_moq, price_tiers
from generation.concepts.spec import DesignSpec, Evidence
from generation.errors import TaxonomyError
from generation.language.copy import describe_zh
from generation.taxonomy import Taxonomy
from generation.trends.frame import SeriesName
from generation.trends.rising import TrendSignal


@dataclass(frozen=True)
class Pins:
    """What the merchandiser fixed: a category, attributes ("kind" -> name), a price ceiling."""

    category: str | None = None
    attributes: tuple[tuple[str, str], ...] = ()
    max_price_cents: int | None = None


def _title(slug: str) -> str:
    return " ".join(w.capitalize() for w in slug.split("-"))


def describe(spec: DesignSpec, taxonomy: Taxonomy) -> tuple[str, str]:
    """A product name and a short description written from the spec and its evidence."""
    cat = taxonomy.category(spec.category)
    parts = [_title(spec.color)]
    if spec.pattern != "solid":
        parts.append(_title(spec.pattern))
    parts += [_title(spec.material), _title(spec.silhouette) if spec.silhouette else "", _title(spec.category)]
    name = " ".join(p for p in parts if p)
    desc = f"{_title(spec.silhouette or '')} {spec.category.replace('-', ' ')} in {spec.color.replace('-', ' ')} {spec.material.replace('-', ' ')}".strip()
    if spec.pattern != "solid":
        desc += f" with a {spec.pattern.replace('-', ' ')} pattern"
    if spec.details:
        desc += ", finished with " + " and ".join(d.replace("-", " ") for d in spec.details)
    desc += f" ({cat.zh})."
    risers = [e for e in spec.evidence if e.growth > 0]
    if risers:
        why = "; ".join(
            f"{e.attribute.replace('-', ' ')} {100 * (math.exp(e.growth) - 1):+.0f}% year on year "
            f"(95% interval {100 * (math.exp(e.lo) - 1):+.0f}% to {100 * (math.exp(e.hi) - 1):+.0f}%)"
            for e in risers
        )
        desc += f" Why now: {why}."
    return name, desc.strip()


About = tuple[str | None, str | None, str | None]  # (category, kind, attribute) a series measures


def _about(series: str, about: Mapping[str, About] | None) -> About:
    """What `series` measures: from `about` (the stored mapping of free-named series) when given, else
    from trendloom's naming convention."""
    if about is not None and series in about:
        return about[series]
    name = SeriesName.split(series)
    return (None, None, None) if name is None else (name.category, name.kind, name.attribute)


class Compatible(Protocol):
    """Says when two attributes must not share a design (e.g. `generation.trends.cooccur.Compatibility`)."""

    def incompatible(self, category: str, a: tuple[str, str], b: tuple[str, str]) -> bool: ...


class _NoOption(Exception):
    """Every attribute of a kind clashes with what was already chosen: this attempt is abandoned."""


class ConceptComposer:
    """Turns trend signals into a batch of distinct, priced design specs.

    `compatibility`, when given, vetoes attribute pairs that do not go together: each attribute is
    chosen among those compatible with the ones already chosen for the design (pins always stand).
    Without it the composer behaves exactly as before."""

    def __init__(self, taxonomy: Taxonomy, signals: Sequence[TrendSignal], *, top_k: int = 3,
                 compatibility: Compatible | None = None, about: Mapping[str, About] | None = None) -> None:
        self.taxonomy = taxonomy
        self.top_k = top_k
        self.compatibility = compatibility
        # category -> kind -> [(signal, attribute)] best first
        self.by_cat: dict[str, dict[str, list[tuple[TrendSignal, str]]]] = {}
        for sig in signals:
            category, kind, attribute = _about(sig.series, about)
            if kind is None or attribute not in taxonomy.attributes.get(kind, {}):
                continue  # a series that measures nothing we know (an unmapped free name): nothing to compose from
            # a series without a category speaks for every category its attribute applies to
            for cat in [category] if category is not None else taxonomy.categories:
                if taxonomy.attributes[kind][attribute].applies_to(cat):
                    self.by_cat.setdefault(cat, {}).setdefault(kind, []).append((sig, attribute))
        for kinds in self.by_cat.values():
            for lst in kinds.values():
                lst.sort(key=lambda p: (p[0].confidence, p[0].recent_mean), reverse=True)

    def category_momentum(self) -> dict[str, float]:
        """Sum of confident growth of the rising series in each category."""
        return {
            cat: sum(max(0.0, s.confidence) for lst in kinds.values() for s, _ in lst)
            for cat, kinds in self.by_cat.items()
        }

    def _choose(self, rng: np.random.Generator, category: str, kind: str, pinned: str | None,
                exclude: set[str] = frozenset(), explore: float = 0.0) -> tuple[str, TrendSignal | None]:
        """An attribute of `kind` for a design of `category`: a confident riser mostly, else one steady
        now, else any. With probability `explore` (it grows as `accept` turns candidates down) any allowed
        one, so an attribute no signal favours (a solid pattern the only factory can make) is reachable."""
        allowed = self.taxonomy.allowed(kind, category)
        if pinned is not None:
            self.taxonomy.attribute(kind, pinned, category)
            sig = next((s for s, a in self.by_cat.get(category, {}).get(kind, []) if a == pinned), None)
            return pinned, sig
        ranked = [(s, a) for s, a in self.by_cat.get(category, {}).get(kind, []) if a in allowed and a not in exclude]
        if explore > 0 and rng.random() < explore:
            options = [a for a in allowed if a not in exclude]
            if options:
                a = options[int(rng.integers(0, len(options)))]
                return a, next((s for s, b in ranked if b == a), None)
        rising = [(s, a) for s, a in ranked if s.direction == "rising"][: self.top_k]
        if rising and rng.random() < 0.85:
            w = np.array([max(1e-3, s.confidence) for s, _ in rising])
            s, a = rising[int(rng.choice(len(rising), p=w / w.sum()))]
            return a, s
        steady = [(s, a) for s, a in ranked if s.direction != "fading"]
        if steady:
            steady.sort(key=lambda p: p[0].recent_mean, reverse=True)
            s, a = steady[int(rng.integers(0, min(len(steady), self.top_k)))]
            return a, s
        options = [a for a in allowed if a not in exclude]
        if not options:
            raise _NoOption(kind)
        return options[int(rng.integers(0, len(options)))], None

    def _clashes(self, category: str, kind: str, chosen: dict[str, str], details: Sequence[str]) -> set[str]:
        """Attributes of `kind` that the compatibility evidence says not to combine with the chosen ones."""
        if self.compatibility is None:
            return set()
        picked = [(k, v) for k, v in chosen.items()] + [("detail", d) for d in details]
        return {a for a in self.taxonomy.allowed(kind, category)
                if any(self.compatibility.incompatible(category, (kind, a), p) for p in picked)}

    def compose(self, n: int, *, pins: Pins = Pins(), seed: int = 0, max_tries: int = 50,
                exclude: Collection[tuple[str, str, str, str]] = (),
                accept: Callable[[DesignSpec], bool] | None = None, embed: Embed | None = None,
                catalog_similarity: CatalogSimilarity | None = None, pool: int = 3) -> list[DesignSpec]:
        """`n` distinct specs, none repeating a (category, colour, material, pattern) in `exclude`.

        `accept`, when given, must approve each spec (the service passes "some factory can make it").
        With `embed`, `pool * n` candidates are composed and `select_diverse` keeps `n`: novel against
        the catalog (`catalog_similarity`) and spread out by maximal marginal relevance.
        TaxonomyError if a pin is unknown or not enough distinct acceptable designs fit the pins."""
        if n < 1:
            raise TaxonomyError(f"n must be at least 1, got {n}")
        if embed is not None:
            wanted = n * max(1, pool)
            candidates = self._compose(wanted, pins, seed, max_tries, exclude, accept, minimum=n)
            specs = select_diverse(candidates, n, embed, catalog_similarity=catalog_similarity)
            if len(specs) < n:
                raise TaxonomyError(f"only {len(specs)} of {len(candidates)} candidate designs are novel against "
                                    f"the catalog (similarity below {MAX_CATALOG_SIMILARITY}); loosen the pins")
            return specs
        return self._compose(n, pins, seed, max_tries, exclude, accept, minimum=n)

    def _compose(self, n: int, pins: Pins, seed: int, max_tries: int,
                 exclude: Collection[tuple[str, str, str, str]], accept: Callable[[DesignSpec], bool] | None,
                 *, minimum: int) -> list[DesignSpec]:
        """Up to `n` distinct specs; TaxonomyError if fewer than `minimum` can be found."""
        rng = np.random.default_rng(seed)
        pinned = dict(pins.attributes)
        for kind in pinned:
            if kind not in self.taxonomy.attributes:
                raise TaxonomyError(f"unknown attribute kind {kind!r}; allowed: {', '.join(self.taxonomy.attributes)}")
        if pins.category is not None:
            self.taxonomy.category(pins.category)
            categories = [pins.category]
        else:
            categories = [c for c in self.taxonomy.categories
                          if all(self.taxonomy.attributes[k][v].applies_to(c) for k, v in pinned.items()
                                 if v in self.taxonomy.attributes[k])]
            if not categories:
                raise TaxonomyError(f"no category accepts all pinned attributes {pinned}")
        momentum = self.category_momentum()
        weights = np.array([momentum.get(c, 0.0) + 0.05 for c in categories])
        seen: set[tuple[str, str, str, str]] = set(exclude)
        specs: list[DesignSpec] = []
        tries = refused = 0
        while len(specs) < n and tries < n * max_tries:
            tries += 1
            explore = min(0.5, refused / max_tries)  # no extra draws until a candidate was refused
            category = categories[int(rng.choice(len(categories), p=weights / weights.sum()))]
            evidence: list[Evidence] = []
            chosen: dict[str, str] = {}
            details: list[str] = []
            try:
                for kind in ("color", "material", "pattern", "silhouette"):
                    attr, sig = self._choose(rng, category, kind, pinned.get(kind),
                                             exclude=self._clashes(category, kind, chosen, details), explore=explore)
                    chosen[kind] = attr
                    if sig is not None and sig.direction == "rising":
                        evidence.append(Evidence(sig.series, kind, attr, sig.growth, sig.lo, sig.hi))
                n_details = min(int(rng.integers(0, 3)), len(self.taxonomy.allowed("detail", category)))
                for _ in range(n_details):
                    attr, sig = self._choose(rng, category, "detail", None,
                                             exclude=set(details) | self._clashes(category, "detail", chosen, details))
                    details.append(attr)
                    if sig is not None and sig.direction == "rising":
                        evidence.append(Evidence(sig.series, "detail", attr, sig.growth, sig.lo, sig.hi))
            except _NoOption:
                continue
            if "detail" in pinned and pinned["detail"] not in details:
                details.insert(0, pinned["detail"])
            key = (category, chosen["color"], chosen["material"], chosen["pattern"])
            if key in seen:
                continue
            tiers = price_tiers(self.taxonomy, category, chosen["material"], len(details))
            if pins.max_price_cents is not None and tiers[0].unit_price_cents > pins.max_price_cents:
                refused += 1
                continue
            spec = DesignSpec(
                category=category, color=chosen["color"], material=chosen["material"],
                pattern=chosen["pattern"], silhouette=chosen["silhouette"], details=tuple(details),
                price_tiers=tiers, moq=buyer_moq(self.taxonomy, category), evidence=tuple(evidence),
            )
            if accept is not None and not accept(spec):
                refused += 1
                continue
            seen.add(key)
            name, description = describe(spec, self.taxonomy)
            name_zh, description_zh = describe_zh(spec, self.taxonomy)
            specs.append(replace(spec, name=name, description=description, name_zh=name_zh,
                                 description_zh=description_zh).validate(self.taxonomy))
        if len(specs) < minimum:
            raise TaxonomyError(
                f"could only compose {len(specs)} distinct designs out of {minimum} with pins {pins}"
                + (" that a factory can make" if accept is not None else "")
                + "; loosen the pins or raise the price ceiling"
            )
        return specs

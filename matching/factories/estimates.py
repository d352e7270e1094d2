"""Estimates for what a registry does not say, so that factories with unknown numbers can be planned.

Registries list names, addresses, sectors, product types and often the number of workers; almost none
give MOQ, capacity, quality or price level. Unknown is not "no": such a factory stays a candidate, with
planning values estimated by the rules below and every estimate said in its match reasons
("capacity estimated from 690 workers x 250 pcs/worker/month (dress)"). The facts themselves stay None.

- capacity = workers x the monthly pieces per worker of the factory's slowest category (the rules'
  `output_per_worker`, "default" for a category not listed; a factory making dresses and t-shirts is
  held to the dress figure). Without a head count, `workers_assumed` workers.
- MOQ = the rules' figure for the first word of `moq_by_facility_type` found in the facility type
  (longest words first, so "small batch" wins over "batch"), else its "default"; never above the
  capacity used.
- quality and price level: `quality_assumed` and `price_index_assumed` (the market's usual cost).
- lead time: not estimated. An unknown lead time is no constraint; the reasons say it is assumed.

The figures are judgement, not measurement: they live in `app/settings.py`, where a deployment
overrides them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from matching.errors import MatchingError
from matching.factories.registry import Estimate, Factory


@dataclass(frozen=True)
class EstimateRules:
    """The figures behind the estimates (module docstring); each mapping needs a "default" entry."""

    output_per_worker: Mapping[str, int]  # category -> pieces per worker per month
    moq_by_facility_type: Mapping[str, int]  # word in the facility type -> MOQ (pieces per design)
    workers_assumed: int = 100
    quality_assumed: float = 0.5
    price_index_assumed: float = 1.0
    _words: tuple[tuple[re.Pattern[str], str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("output_per_worker", "moq_by_facility_type"):
            table = getattr(self, name)
            if "default" not in table:
                raise MatchingError(f"estimate rules: {name} needs a 'default' entry")
            bad = {k: v for k, v in table.items() if not isinstance(v, int) or v < 1}
            if bad:
                raise MatchingError(f"estimate rules: {name} values must be whole numbers >= 1, got {bad}")
        if self.workers_assumed < 1 or not 0 <= self.quality_assumed <= 1 or not 0.1 <= self.price_index_assumed <= 10:
            raise MatchingError("estimate rules: workers_assumed >= 1, quality_assumed in [0, 1], "
                                "price_index_assumed in [0.1, 10]")
        words = sorted((k for k in self.moq_by_facility_type if k != "default"), key=lambda k: (-len(k), k))
        object.__setattr__(self, "_words", tuple(
            (re.compile(r"\b" + r"[\s_-]*".join(map(re.escape, k.lower().split())) + r"\b"), k) for k in words))

    def per_worker(self, categories: Iterable[str]) -> tuple[int, str]:
        """Monthly pieces per worker for a factory making `categories`: the slowest one's, and its name."""
        figures = [(self.output_per_worker.get(c, self.output_per_worker["default"]), c) for c in categories]
        return min(figures) if figures else (self.output_per_worker["default"], "default")

    def moq_for(self, facility_type: str) -> tuple[int, str | None]:
        """MOQ for a facility type and the word that set it (None: the default)."""
        text = facility_type.lower()
        for pattern, word in self._words:
            if pattern.search(text):
                return self.moq_by_facility_type[word], word
        return self.moq_by_facility_type["default"], None


def estimate(f: Factory, rules: EstimateRules) -> Estimate:
    """Planning values for `f`'s unknown numbers, and a note for each one estimated."""
    notes: list[str] = []
    capacity = f.capacity
    if capacity is None:
        per, category = rules.per_worker(f.categories)
        what = f"{category}" if category != "default" else "no category known"
        if f.workers is not None and f.workers > 0:
            capacity = f.workers * per
            notes.append(f"capacity estimated from {f.workers} workers x {per} pcs/worker/month ({what})")
        else:
            capacity = rules.workers_assumed * per
            notes.append(f"capacity estimated from an assumed {rules.workers_assumed} workers (number of workers "
                         f"not given) x {per} pcs/worker/month ({what})")
    moq = f.moq
    if moq is None:
        moq, word = rules.moq_for(f.facility_type)
        why = (f"facility type '{f.facility_type}'" if word is not None
               else f"default; facility type '{f.facility_type}' not in the rules" if f.facility_type
               else "default; facility type not given")
        if moq > capacity:
            moq = capacity
            why += f", lowered to the capacity {capacity}"
        notes.append(f"MOQ estimated {moq} pcs ({why})")
    quality = f.quality
    if quality is None:
        quality = rules.quality_assumed
        notes.append(f"quality not known ({quality:.2f} assumed)")
    price = f.price_index
    if price is None:
        price = rules.price_index_assumed
        notes.append(f"price level not known ({price:.2f} x the usual cost assumed)")
    return Estimate(moq=moq, capacity=capacity, quality=quality, price_index=price, notes=tuple(notes))


def with_estimates(factories: Iterable[Factory], rules: EstimateRules) -> list[Factory]:
    """`factories`, each with an `Estimate` where some number is unknown (unchanged where all are known)."""
    return [replace(f, estimate=estimate(f, rules)) if f.estimated else f for f in factories]

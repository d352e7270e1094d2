"""Wholesale price tiers and buyer MOQ from category norms and the spec's material and details."""

from __future__ import annotations

from generation.concepts.spec import PriceTier
from generation.taxonomy import Taxonomy

# Cost of a material relative to the category's usual one (1.0).
MATERIAL_PREMIUM: dict[str, float] = {
    "organic-cotton": 1.2, "linen": 1.3, "recycled-polyester": 1.1, "wool": 1.6, "cashmere": 2.6,
    "silk": 2.2, "leather": 1.7, "vegan-leather": 1.2, "bamboo-fiber": 1.15, "stainless-steel": 1.1,
}
DETAIL_PREMIUM = 0.05  # each construction detail adds about 5% to the unit cost
TIER_BREAKS: tuple[tuple[int, float], ...] = ((1, 1.0), (10, 0.88), (50, 0.78))  # (min pieces, price factor)


def price_tiers(taxonomy: Taxonomy, category: str, material: str, n_details: int) -> tuple[PriceTier, ...]:
    """Tiered unit prices (cents, rounded to 10) for 1-9, 10-49 and 50+ pieces."""
    base = taxonomy.category(category).base_price_cents
    base *= MATERIAL_PREMIUM.get(material, 1.0) * (1.0 + DETAIL_PREMIUM * n_details)
    return tuple(PriceTier(q, max(10, int(round(base * f / 10.0)) * 10)) for q, f in TIER_BREAKS)


def buyer_moq(taxonomy: Taxonomy, category: str) -> int:
    """The smallest pre-order one buyer may place, from the category's norm."""
    return taxonomy.category(category).buyer_moq

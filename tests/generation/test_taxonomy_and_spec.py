import pytest

from generation.concepts.spec import DesignSpec, PriceTier
from generation.errors import TaxonomyError
from generation.taxonomy import load_taxonomy

TX = load_taxonomy()


def test_taxonomy_covers_the_sectors_the_product_needs():
    sectors = {c.sector for c in TX.categories.values()}
    assert {"apparel", "footwear", "bags-accessories", "hosiery", "household-cleaning", "home-textiles"} <= sectors
    assert len(TX.categories) >= 10
    for cat in TX.categories:
        assert TX.allowed("material", cat), cat
        assert TX.allowed("color", cat), cat


def test_unknown_values_name_the_allowed_ones():
    with pytest.raises(TaxonomyError, match="allowed: .*socks"):
        TX.category("sock-puppet")
    with pytest.raises(TaxonomyError, match="allowed: .*cotton"):
        TX.attribute("material", "kevlar", "socks")
    with pytest.raises(TaxonomyError, match="does not apply to category 'socks'"):
        TX.attribute("material", "silk", "socks")


def test_spec_round_trip_and_validation():
    spec = DesignSpec(category="socks", color="navy", material="cotton", pattern="stripe", silhouette="crew",
                      details=("ribbed",), moq=24,
                      price_tiers=(PriceTier(1, 300), PriceTier(10, 260), PriceTier(50, 230)))
    assert DesignSpec.from_dict(spec.to_dict()) == spec
    spec.validate(TX)
    assert "navy stripe cotton crew socks with ribbed" == spec.text()
    assert set(spec.required_processes(TX)) == {"knitting", "printing"}
    with pytest.raises(TaxonomyError, match="unknown spec fields"):
        DesignSpec.from_dict({**spec.to_dict(), "colour": "red"})
    with pytest.raises(TaxonomyError, match="'material' is required"):
        DesignSpec.from_dict({"category": "socks", "color": "navy"})


def test_group_quantity_reaches_lower_tiers():
    spec = DesignSpec(category="socks", color="navy", material="cotton",
                      price_tiers=(PriceTier(1, 300), PriceTier(10, 260), PriceTier(50, 230)))
    assert [spec.unit_price_cents(q) for q in (1, 9, 10, 49, 50, 500)] == [300, 300, 260, 260, 230, 230]

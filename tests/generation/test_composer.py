import pytest

from generation.concepts.composer import ConceptComposer, Pins
from generation.errors import TaxonomyError
from generation.taxonomy import load_taxonomy
from generation.trends.rising import rank_rising
from generation.trends.synthetic import make_trend_sample

TX = load_taxonomy()
SAMPLE = make_trend_sample(TX, seed=0)
SIGNALS = rank_rising(SAMPLE.frame)


def test_batch_is_distinct_valid_priced_and_evidenced():
    specs = ConceptComposer(TX, SIGNALS).compose(12, seed=0)
    keys = {(s.category, s.color, s.material, s.pattern) for s in specs}
    assert len(keys) == 12
    for s in specs:
        s.validate(TX)
        assert s.name and s.description
        assert [t.min_qty for t in s.price_tiers] == [1, 10, 50]
        assert s.price_tiers[0].unit_price_cents > s.price_tiers[-1].unit_price_cents
        assert s.moq == TX.category(s.category).buyer_moq
    # Most concepts rest on a planted rising series, and their evidence names it.
    planted = set(SAMPLE.rising)
    backed = [s for s in specs if any(e.series in planted for e in s.evidence)]
    assert len(backed) >= 8


def test_pins_are_respected():
    specs = ConceptComposer(TX, SIGNALS).compose(4, pins=Pins("socks", (("color", "navy"),), 400), seed=1)
    assert all(s.category == "socks" and s.color == "navy" for s in specs)
    assert all(s.price_tiers[0].unit_price_cents <= 400 for s in specs)


def test_bad_pins_are_rejected_with_allowed_values():
    comp = ConceptComposer(TX, SIGNALS)
    with pytest.raises(TaxonomyError, match="allowed"):
        comp.compose(2, pins=Pins("spaceship"))
    with pytest.raises(TaxonomyError, match="allowed"):
        comp.compose(2, pins=Pins("socks", (("material", "silk"),)))
    with pytest.raises(TaxonomyError, match="could only compose"):
        comp.compose(3, pins=Pins("socks", (), 10))

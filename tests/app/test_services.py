"""Service rules that need a registry of our own making."""

import pytest

from app.db import transaction
from app.errors import Conflict
from app.models import Design, utcnow
from app.services import designs, production, trends
from app.settings import Settings
from app.workspace import Workspace
from generation.concepts.composer import Pins
from generation.concepts.pricing import price_tiers
from generation.concepts.spec import DesignSpec
from generation.errors import TaxonomyError
from generation.trends.synthetic import make_trend_sample
from matching.factories.registry import Factory

SOCK_MILL = Factory("S1", "Sock mill", "CN", "Zhejiang", ("socks",), ("cotton",), ("knitting",), moq=100,
                    capacity=10_000, lead_time_days=10, quality=0.8, price_index=1.0)


@pytest.fixture
def ws(tmp_path):
    ws = Workspace.open(Settings(home=tmp_path))
    with transaction(ws.sessions) as s:
        trends.ingest_frame(s, make_trend_sample(ws.taxonomy, weeks=104).frame, ws.taxonomy, source="t")
    yield ws
    ws.close()


def test_generation_needs_a_factory_registry(ws):
    with transaction(ws.sessions) as s, pytest.raises(Conflict, match="import a factory registry first"):
        designs.generate(s, ws.taxonomy, ws.images, ws.settings.images_dir, n=1, cost_share=0.5)


def test_only_makeable_designs_are_generated_and_published(ws):
    with transaction(ws.sessions) as s:
        production.import_factories(s, [SOCK_MILL])
        made = designs.generate(s, ws.taxonomy, ws.images, ws.settings.images_dir, n=2, cost_share=0.5,
                                pins=Pins("socks", (("material", "cotton"),)))
        for d in made:
            assert d.spec["category"] == "socks" and d.spec["material"] == "cotton"
            assert set(designs.spec_of(d).required_processes(ws.taxonomy)) <= {"knitting"}
        with pytest.raises(TaxonomyError, match="that a factory can make"):
            designs.generate(s, ws.taxonomy, ws.images, ws.settings.images_dir, n=1, cost_share=0.5,
                             pins=Pins("tote-bag"))
        (published,) = designs.publish(s, ws, [made[0].id], now=utcnow())
        assert published.production_threshold == SOCK_MILL.moq and "S1" in published.note

        spec = DesignSpec(category="tote-bag", color="navy", material="canvas",
                          price_tiers=price_tiers(ws.taxonomy, "tote-bag", "canvas", 0), moq=10)
        tote = Design(name="tote", category="tote-bag", spec=spec.to_dict(), images=["x.png"])
        s.add(tote)
        s.flush()
        with pytest.raises(Conflict, match="no factory in the registry makes tote-bag"):
            designs.publish(s, ws, [tote.id], now=utcnow())
        assert tote.status == "draft"


COTTON_SOCKS = Pins("socks", (("material", "cotton"),))  # what SOCK_MILL makes


def test_generation_that_fails_leaves_no_pictures_behind(ws):
    """The pictures are written inside the transaction; a failure later in it (here the second design's
    image) rolls back the designs and takes the first design's files with it."""
    with transaction(ws.sessions) as s:
        production.import_factories(s, [SOCK_MILL])
    calls = 0
    real = ws.images.generate

    def fail_on_second(spec, **kw):
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("image backend failed")
        return real(spec, **kw)

    ws.images.generate = fail_on_second
    with pytest.raises(RuntimeError, match="image backend failed"), transaction(ws.sessions) as s:
        designs.generate(s, ws.taxonomy, ws.images, ws.settings.images_dir, n=2, cost_share=0.5, pins=COTTON_SOCKS)
    assert calls == 2
    assert list(ws.settings.images_dir.glob("*.png")) == []
    with ws.sessions() as s:
        assert s.query(Design).count() == 0
    ws.images.generate = real
    with transaction(ws.sessions) as s:
        made = designs.generate(s, ws.taxonomy, ws.images, ws.settings.images_dir, n=1, cost_share=0.5, pins=COTTON_SOCKS)
    assert sorted(p.name for p in ws.settings.images_dir.glob("*.png")) == sorted(made[0].images)


def test_a_publish_that_rolls_back_leaves_nothing_in_the_index(ws):
    with transaction(ws.sessions) as s:
        production.import_factories(s, [SOCK_MILL])
        (draft,) = designs.generate(s, ws.taxonomy, ws.images, ws.settings.images_dir, n=1, cost_share=0.5,
                                    pins=COTTON_SOCKS)
    before = len(ws.design_index)
    with pytest.raises(RuntimeError, match="later in the request"), transaction(ws.sessions) as s:
        designs.publish(s, ws, [draft.id], now=utcnow())
        assert len(ws.design_index) == before + 1
        raise RuntimeError("something failed later in the request")
    assert len(ws.design_index) == before  # the novelty filter must not see a design that was never published
    with transaction(ws.sessions) as s:
        designs.publish(s, ws, [draft.id], now=utcnow())
    assert len(ws.design_index) == before + 1

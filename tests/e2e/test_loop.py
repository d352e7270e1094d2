"""The whole loop through the real CLI on a fresh workspace, checked at every stage."""

import json

import pytest
from PIL import Image
from sqlalchemy import func, select
from typer.testing import CliRunner

from app.cli import cli
from app.models import Design, FactoryOrder, FactoryRow, PreOrder, TrendSeries, TrendSignalRow
from app.settings import Settings
from app.workspace import Workspace
from generation.concepts.spec import DesignSpec

WON_OR_LATER = ("won", "matched", "in_production", "shipped")


@pytest.fixture(scope="module")
def loop(tmp_path_factory):
    home = tmp_path_factory.mktemp("loop")
    env = {"TRENDLOOM_HOME": str(home)}
    runner = CliRunner()
    result = runner.invoke(cli, ["demo", "--no-serve"], env=env)
    assert result.exit_code == 0, result.output
    status = runner.invoke(cli, ["status", "--json"], env=env)
    assert status.exit_code == 0, status.output
    ws = Workspace.open(Settings(home=home))
    yield ws, json.loads(status.stdout), home
    ws.close()


def test_status_shows_every_stage_populated(loop):
    _, status, _ = loop
    assert status["trends"]["series"] >= 500 and status["trends"]["rising"] > 0
    assert sum(status["designs"].values()) == 12 + 6  # the tested batch and the next drop
    assert status["designs"]["published"] == 6 and status["designs"].get("dropped", 0) >= 1
    assert status["buyers"] > 0 and status["events"]["view"] > 0 and status["events"]["pre_order"] > 0
    assert status["pre_orders"]["committed_pieces"] > 0
    assert status["factories"] >= 200 and sum(status["factory_orders"].values()) > 0


def test_rising_attributes_include_the_planted_ones(loop):
    ws, _, home = loop
    truth = json.loads((home / "sample" / "trends_ground_truth.json").read_text())
    with ws.sessions() as s:
        rising = set(s.scalars(select(TrendSeries.name).join(TrendSignalRow, TrendSignalRow.series_id == TrendSeries.id)
                              .where(TrendSignalRow.direction == "rising")))
    assert len(rising & set(truth["rising"])) >= 0.85 * len(truth["rising"])
    assert len(rising - set(truth["rising"])) <= 2


def test_designs_have_images_on_disk_and_trend_evidence(loop):
    ws, _, _ = loop
    with ws.sessions() as s:
        designs = s.scalars(select(Design)).all()
    for d in designs:
        assert d.images, d.id
        for name in d.images:
            with Image.open(ws.settings.images_dir / name) as img:
                assert img.format == "PNG" and img.size == (ws.settings.image_size,) * 2
        spec = DesignSpec.from_dict(d.spec).validate(ws.taxonomy)
        assert spec.price_tiers and spec.name == d.name
    assert sum(bool(DesignSpec.from_dict(d.spec).evidence) for d in designs) >= 10


def test_a_winner_exists_and_its_factory_orders_satisfy_the_constraints(loop):
    ws, _, _ = loop
    with ws.sessions() as s:
        winners = s.scalars(select(Design).where(Design.status.in_(WON_OR_LATER))).all()
        assert winners
        matched = [d for d in winners if d.status == "matched"]
        assert matched
        for d in matched:
            spec = DesignSpec.from_dict(d.spec)
            committed = s.scalar(select(func.sum(PreOrder.quantity)).where(
                PreOrder.design_id == d.id, PreOrder.status == "confirmed"))
            assert committed >= d.production_threshold
            orders = s.scalars(select(FactoryOrder).where(FactoryOrder.design_id == d.id)).all()
            assert sum(o.quantity for o in orders) == committed
            for o in orders:
                f = s.get(FactoryRow, o.factory_id)
                assert spec.category in f.categories and spec.material in f.materials
                assert set(spec.required_processes(ws.taxonomy)) <= set(f.processes)
                assert f.moq <= o.quantity
                assert f.lead_time_days <= ws.taxonomy.category(spec.category).due_days
                assert o.unit_price_cents > 0
        load = dict(s.execute(select(FactoryOrder.factory_id, func.sum(FactoryOrder.quantity))
                              .group_by(FactoryOrder.factory_id)).all())
        for fid, q in load.items():
            assert q <= s.get(FactoryRow, fid).capacity
        # A closed book: every pre-order pays the tier its design reached at close. An open book (won on
        # probability, still filling): nothing is confirmed yet and the active orders add up to `committed`.
        for d in winners:
            spec = DesignSpec.from_dict(d.spec)
            rows = s.scalars(select(PreOrder).where(PreOrder.design_id == d.id)).all()
            if d.book_closed_at is not None:
                total = sum(p.quantity for p in rows if p.status == "confirmed")
                assert total == d.committed >= d.production_threshold
                assert {p.unit_price_cents for p in rows if p.status == "confirmed"} == {spec.unit_price_cents(total)}
            else:
                assert d.status == "won" and not [p for p in rows if p.status == "confirmed"]
                assert sum(p.quantity for p in rows if p.status == "active") == d.committed < d.production_threshold


def test_dropped_designs_release_their_preorders(loop):
    ws, _, _ = loop
    with ws.sessions() as s:
        for d in s.scalars(select(Design).where(Design.status == "dropped")):
            assert not s.scalars(select(PreOrder).where(PreOrder.design_id == d.id, PreOrder.status == "active")).all()

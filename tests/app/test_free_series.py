"""Trend series under the merchandiser's own names: mapped on import, listed when unmapped, corrected
(and the correction kept), and the taxonomy grown with their words; CLI, API and the trends page."""

import json
import re
from datetime import date, timedelta

import numpy as np
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.api.main import create_app
from app.cli import cli
from app.db import transaction
from app.errors import Invalid
from app.services import taxonomy as taxonomy_service
from app.services import trends
from app.settings import Settings
from app.workspace import Workspace
from generation.concepts.composer import ConceptComposer, Pins
from generation.taxonomy import AttributeAddition
from generation.trends.frame import TrendFrame

runner = CliRunner()
NAMES = ("color_sage_green", "fabric_linen", "color_teal", "silhouette_trench_coat")


def frame(names=NAMES, weeks=110) -> TrendFrame:
    start = date(2024, 1, 1)
    t = np.arange(weeks)[:, None]
    values = 20 + 5 * np.sin(t / 8.0) + np.linspace(0, 1, len(names))[None, :] + np.where(t > weeks - 30, 15, 0)
    return TrendFrame(tuple(start + timedelta(weeks=i) for i in range(weeks)), tuple(names), values.astype(float))


@pytest.fixture
def ws(tmp_path):
    ws = Workspace.open(Settings(home=tmp_path))
    yield ws
    ws.close()


def ingest(ws, f=None):
    with transaction(ws.sessions) as s:
        return trends.ingest_frame(s, f or frame(), ws.taxonomy, source="gt.csv", language=ws.language)


def stored(ws) -> dict:
    with ws.sessions() as s:
        return {m.series: (m.kind, m.attribute, m.category, m.how) for m in trends.mappings(s)}


def test_free_names_are_mapped_and_the_unmapped_stored_and_listed(ws):
    res = ingest(ws)
    assert res.series == 4 and res.unmapped == ("color_teal", "silhouette_trench_coat")
    got = stored(ws)
    assert got["color_sage_green"] == ("color", "sage-green", None, "lexicon")
    assert got["fabric_linen"] == ("material", "linen", None, "lexicon")
    assert got["color_teal"] == (None, None, None, "unmapped")
    with ws.sessions() as s:
        assert list(trends.mappings(s))[0].series == "color_teal"  # unmapped first


def test_a_correction_is_kept_for_the_next_import(ws):
    ingest(ws)
    with transaction(ws.sessions) as s:
        trends.correct_mapping(s, ws.taxonomy, series="silhouette_trench_coat", kind="silhouette",
                               attribute="oversized", category="hoodie")
    ingest(ws)  # the same file again
    assert stored(ws)["silhouette_trench_coat"] == ("silhouette", "oversized", "hoodie", "manual")


@pytest.mark.parametrize("kind, attribute, category, says", [
    ("color", "ultraviolet", None, "unknown color"),
    ("material", "leather", "socks", "does not apply"),
    (None, "navy", None, "nothing we make"),
])
def test_a_bad_correction_is_refused(ws, kind, attribute, category, says):
    with transaction(ws.sessions) as s, pytest.raises(Invalid, match=says):
        trends.correct_mapping(s, ws.taxonomy, series="color_teal", kind=kind, attribute=attribute, category=category)


def test_an_added_attribute_maps_the_series_that_named_it(ws):
    ingest(ws)
    with transaction(ws.sessions) as s:
        added = taxonomy_service.add_attribute(s, ws.taxonomy, AttributeAddition("color", "teal", "蓝绿色", (), None,
                                                                                 "#008080"))
        ws.reload_taxonomy_on_commit(s)
    assert added.new and added.remapped == 1
    assert stored(ws)["color_teal"] == ("color", "teal", None, "lexicon")
    assert ws.taxonomy.attributes["color"]["teal"].zh == "蓝绿色"
    reopened = Workspace.open(ws.settings)  # the addition lives in the database
    assert "teal" in reopened.taxonomy.attributes["color"]


def test_a_series_without_a_category_speaks_for_every_category_it_applies_to(ws):
    ingest(ws)
    with ws.sessions() as s:
        dress = {row.name for row, _ in trends.signals(s, category="dress", taxonomy=ws.taxonomy)}
        socks = {row.name for row, _ in trends.signals(s, category="socks", taxonomy=ws.taxonomy)}
        stored_signals = trends.signals(s)
    assert {"color_sage_green", "fabric_linen"} <= dress
    assert "fabric_linen" not in socks and "color_sage_green" in socks  # linen does not apply to socks
    about = {row.name: (row.category, row.kind, row.attribute) for row, _ in stored_signals}
    spec, = ConceptComposer(ws.taxonomy, [g for _, g in stored_signals], about=about).compose(
        1, pins=Pins("dress"), seed=0)
    assert {e.series for e in spec.evidence} <= {"color_sage_green", "fabric_linen"}


def test_cli_ingest_warns_lists_and_corrects(tmp_path, monkeypatch):
    monkeypatch.setenv("TRENDLOOM_HOME", str(tmp_path / "home"))
    src = tmp_path / "export.csv"
    f = frame()
    src.write_text("trend_id,source,week,raw_signal\r" + "".join(
        f"{n},gt,{w},{f.values[i, j]:.1f}\r" for j, n in enumerate(f.names) for i, w in enumerate(f.weeks)))
    r = runner.invoke(cli, ["trends", "ingest", str(src)])
    assert r.exit_code == 0, r.output
    assert "2 series name(s) map to nothing we know" in r.output
    r = runner.invoke(cli, ["trends", "map", "color_teal", "--kind", "color", "--attribute", "sky-blue"])
    assert r.exit_code == 0, r.output
    lines = [json.loads(x) for x in runner.invoke(cli, ["trends", "mapping", "--json"]).output.splitlines()]
    assert {"series": "color_teal", "kind": "color", "attribute": "sky-blue", "category": None, "how": "manual"} in lines
    r = runner.invoke(cli, ["taxonomy", "add", "material", "crochet", "--zh", "钩织", "--category", "tote-bag"])
    assert r.exit_code == 0 and "added material 'crochet'" in r.output
    r = runner.invoke(cli, ["taxonomy", "add", "color", "mauve"])
    assert r.exit_code == 1 and "Chinese name" in r.output


def test_cli_text_extract_prints_one_json_object_per_line(tmp_path, monkeypatch):
    monkeypatch.setenv("TRENDLOOM_HOME", str(tmp_path / "home"))
    r = runner.invoke(cli, ["text", "extract", "--json"], input="Navy blue linen dress\n藏蓝卫衣\n\nMen Black Watch\n")
    assert r.exit_code == 0, r.output
    rows = [json.loads(x) for x in r.output.splitlines()]
    assert [(x["category"], x["color"]) for x in rows] == [("dress", "navy"), ("hoodie", "navy"), (None, "black")]
    assert rows[0] == {"text": "Navy blue linen dress", "category": "dress", "color": "navy", "material": "linen",
                       "pattern": None, "silhouette": None, "details": []}


@pytest.fixture
def api(tmp_path, clients_of):
    app = create_app(Settings(home=tmp_path, decide_every_s=0))
    with TestClient(app):
        yield clients_of(app)


def test_api_upload_lists_the_unmapped_and_takes_corrections_and_additions(api):
    merch = api.new("merchandiser")
    f = frame()
    body = "date," + ",".join(f.names) + "\n" + "".join(
        f"{w}," + ",".join(f"{v:.1f}" for v in row) + "\n" for w, row in zip(f.weeks, f.values))
    r = merch.post("/api/v1/merchandiser/trends", files={"file": ("gt.csv", body, "text/csv")})
    assert r.status_code == 201 and r.json()["unmapped"] == ["color_teal", "silhouette_trench_coat"]
    r = merch.put("/api/v1/merchandiser/trends/mapping/color_teal", json={"kind": "color", "attribute": "ultraviolet"})
    assert r.status_code == 422 and "unknown color" in r.text
    r = merch.post("/api/v1/merchandiser/taxonomy/attributes",
                   json={"kind": "color", "name": "teal", "zh": "蓝绿色", "rgb": "#008080"})
    assert r.status_code == 201 and r.json() == {"kind": "color", "name": "teal", "new": True, "remapped": 1}
    mapping = {m["series"]: m for m in merch.get("/api/v1/merchandiser/trends/mapping").json()}
    assert mapping["color_teal"]["attribute"] == "teal"
    assert api.ws.taxonomy.attributes["color"]["teal"].zh == "蓝绿色"  # reloaded once the request committed
    assert api.new("buyer").get("/api/v1/merchandiser/trends/mapping").status_code == 403


def test_trends_page_shows_the_mapping_and_takes_a_correction(api):
    ws = api.ws
    ingest(ws)
    from tests.app.test_web_pages import browser, post  # the signed-in browser helpers
    with transaction(ws.sessions) as s:
        from app.services import accounts
        from tests.app.conftest import PASSWORD
        accounts.create_user(s, "mapper", PASSWORD, "merchandiser")
    c = browser(api.app, "mapper", lang="zh-CN")
    page = c.get("/merchandiser/trends").text
    assert "各序列衡量的内容" in page and "2 条序列的名称无法识别" in page
    assert "color_teal" in page and "所有品类" in page
    page = post(c, "/merchandiser/trends", "/merchandiser/trends/mapping",
                {"series": "color_teal", "attribute": "color:sky-blue", "category": ""}).text
    assert "已保存序列 color_teal 的含义" in page
    assert stored(ws)["color_teal"] == ("color", "sky-blue", None, "manual")
    assert re.search(r"1 条序列的名称无法识别", page)

"""`trendloom factories import/list/mapping/map` and `match --orders --out` on the workspace registry, with the
registries people have: recognised and named columns, unknown facts stored as NULL and estimated for
planning, near-duplicates merged with both lines, material suppliers kept but never given orders, bad
headers refused before anything is stored, formula-like cells written as text."""

import csv
import json

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from app.cli import cli
from app.models import FactoryRow
from app.settings import Settings
from app.workspace import Workspace

runner = CliRunner()
BRAND_LIST = """Factory Name,Address,City,Country,Sector,Product Type,Facility Type,Number of Workers,Parent Company
"Haining Hosiery Co., Ltd.","No. 8 Jinhu Road, Xucun Town",Haining,China,Apparel,Socks,Final Product Assembly,690,Jiaxin Group
HAINING HOSIERY CO LTD,"No.8 Jinhu Rd., Xucun Town",Haining,CN,Apparel,Socks; Tights,,,
"Haining Hosiery Co., Ltd.","No. 12 Jinhu Road, Xucun Town",Haining,CHINA,Apparel,Socks,,,
Jinjiang Sneaker Works,"No. 3 Shoe City Road",Jinjiang,China,Footwear,,Final Product Assembly,,
Guangzhou Tee Factory,"No. 5 Baiyun Road",Guangzhou,China,Apparel,,Final Product Assembly,1200,
Zhejiang Yarn Mill,"No. 9 Spinning Road",Shaoxing,China,Apparel,Socks,Textile or Material Production,300,
Dhaka Knit Composite,"Plot 4, Tongi",Gazipur,Bangladesh,Apparel,Knitwear,Final Product Assembly,1000-2000,
"=HYPERLINK(""http://evil.example"",""click"")","Lot 1, Nowhere",Hanoi,Viet Nam,Apparel,T-shirts,,,
,"No name Road",Shenzhen,China,Apparel,,,,
"""


@pytest.fixture
def brand_list(tmp_path):
    path = tmp_path / "suppliers.csv"
    path.write_text(BRAND_LIST, encoding="utf-8")
    return path


def _stored(home):
    """The stored factories by name (the second Haining Hosiery, at No. 12, under "... (No. 12)")."""
    ws = Workspace.open(Settings(home=home))
    try:
        with ws.sessions() as s:
            return {r.name + (" (No. 12)" if "No. 12" in r.address else ""): r for r in s.scalars(select(FactoryRow))}
    finally:
        ws.close()


def _import(path, *args):
    r = runner.invoke(cli, ["factories", "import", str(path), *args])
    assert r.exit_code == 0, r.output
    return r


def test_a_brand_supplier_list_is_imported_with_every_row_accounted_for(home, brand_list, tmp_path):
    r = _import(brand_list, "--report", str(tmp_path / "report.csv"))
    out = " ".join(r.output.split())
    assert "9 rows" in out and "7 new factories" in out and "1 merged" in out and "1 skipped" in out
    report = list(csv.DictReader((tmp_path / "report.csv").open(newline="")))
    assert [x["line"] for x in report] == [str(n) for n in range(2, 11)]
    assert all(x["reason"] for x in report)  # every row imported, merged or skipped, with a reason
    merged = next(x for x in report if x["outcome"] == "merged")
    assert merged["line"] == "3" and "same facility as line 2" in merged["reason"]
    assert merged["kept"].endswith("Haining Hosiery Co., Ltd., No. 8 Jinhu Road, Xucun Town, Haining, CN")
    assert merged["merged"].startswith(f"{brand_list}:3 HAINING HOSIERY CO LTD, No.8 Jinhu Rd., Xucun Town")
    assert next(x for x in report if x["line"] == "10") ["reason"] == "no name"
    # the factory at No. 12 is another factory of the same name: kept apart
    assert sum(x["outcome"] == "imported" and "makes socks" in x["reason"] for x in report) == 2
    mill = next(x for x in report if x["line"] == "7")
    assert "material/component supplier (Textile or Material Production)" in mill["reason"]
    assert "not disclosed: capacity, moq, lead_time, materials, processes" in mill["reason"]


def test_unknown_facts_are_stored_as_null_and_categories_read_from_product_types_and_sectors(home, brand_list):
    _import(brand_list)
    rows = _stored(home)
    sock = rows["Haining Hosiery Co., Ltd."]
    assert (sock.country, sock.workers, sock.moq, sock.capacity, sock.lead_time_days, sock.materials,
            sock.processes, sock.quality, sock.price_index) == ("CN", 690, None, None, None, None, None, None, None)
    assert sock.categories == ["socks", "tights"] and sock.categories_from == "product type"  # merged: union
    assert sock.sources == [f"{sock.sources[0].split(':')[0]}:2", f"{sock.sources[0].split(':')[0]}:3"]
    assert rows["Jinjiang Sneaker Works"].categories == ["sneakers"]  # sector Footwear
    assert rows["Guangzhou Tee Factory"].categories == ["t-shirt", "dress", "hoodie"]  # sector Apparel
    assert rows["Dhaka Knit Composite"].categories == ["t-shirt", "dress", "hoodie"]  # Knitwear: no product, so the sector
    assert rows["Dhaka Knit Composite"].workers == 1500
    mill = rows["Zhejiang Yarn Mill"]
    assert mill.supplies_materials and mill.categories == ["socks"]  # kept and shown, never given orders
    assert '=HYPERLINK("http://evil.example","click")' in rows  # stored as the text it is


def test_importing_the_same_list_again_updates_instead_of_adding(home, brand_list):
    _import(brand_list)
    r = _import(brand_list, "--json")
    report = json.loads(r.stdout)
    assert report["imported"] == 0 and report["updated"] + len(report["merged"]) == 8
    assert len(_stored(home)) == 7


def test_factories_list_says_what_is_known_and_what_is_estimated(home, brand_list):
    _import(brand_list)
    r = runner.invoke(cli, ["factories", "list", "--json"])
    assert r.exit_code == 0, r.output
    views = {v["name"]: v for v in map(json.loads, r.stdout.splitlines())}
    sock = views["Haining Hosiery Co., Ltd."]
    assert sock["capacity"] == {"value": 690 * 3000, "known": False, "basis": {
        "workers": 690, "assumed": False, "per_worker": 3000, "category": "tights"},
        "note": "capacity estimated from 690 workers x 3000 pcs/worker/month (tights)"}
    assert sock["moq"]["known"] is False and sock["moq"]["value"] == 500
    assert views["Zhejiang Yarn Mill"]["supplies_materials"] is True
    table = runner.invoke(cli, ["factories", "list"])
    assert "(est.)" in table.output and "material supplier" in table.output


def test_the_mapping_is_listed_and_a_correction_applies_now_and_to_later_imports(home, brand_list, tmp_path):
    _import(brand_list)
    rows = {m["term"]: m for m in map(json.loads, runner.invoke(cli, ["factories", "mapping", "--json"]).stdout.splitlines())}
    assert rows["socks"]["categories"] == ["socks"] and rows["socks"]["how"] == "lexicon"
    assert rows["footwear"]["categories"] == ["sneakers"] and rows["footwear"]["how"] == "sector"
    assert rows["knitwear"]["how"] == "unmapped" and rows["knitwear"]["kinds"] == ["product type"]
    r = runner.invoke(cli, ["factories", "map", "Knitwear", "--category", "t-shirt", "--category", "hoodie"])
    assert r.exit_code == 0 and "1 stored factories changed" in r.output
    assert _stored(home)["Dhaka Knit Composite"].categories == ["t-shirt", "hoodie"]
    later = tmp_path / "later.csv"
    later.write_text("name,country,product type\nChittagong Knits,BD,KNITWEAR\n")
    _import(later)
    assert _stored(home)["Chittagong Knits"].categories == ["t-shirt", "hoodie"]
    bad = runner.invoke(cli, ["factories", "map", "Knitwear", "--category", "rockets"])
    assert bad.exit_code == 1 and "unknown categories ['rockets']" in bad.output


@pytest.mark.parametrize("header, args, message", [
    ("Supplier,Country\nA,CN\n", [], "no name column"),
    ("Factory Name,Site\nA,CN\n", [], "no country column"),
    ("Factory Name,Country\nA,CN\n", ["--column", "workers=Headcount"], "the file has no column 'Headcount'"),
    ("Factory Name,Country\nA,CN\n", ["--column", "wrkers=Country"], "unknown field 'wrkers'"),
])
def test_a_registry_that_cannot_be_read_is_refused_before_anything_is_stored(home, tmp_path, header, args, message):
    path = tmp_path / "bad.csv"
    path.write_text(header)
    r = runner.invoke(cli, ["factories", "import", str(path), *args])
    out = " ".join(r.output.split())
    assert r.exit_code == 1 and message in out, out
    if "wrkers" not in message:
        assert "found columns: " in out
    assert json.loads(runner.invoke(cli, ["status", "--json"]).stdout)["factories"] == 0


def test_columns_named_with_column(home, tmp_path):
    path = tmp_path / "sourcing.csv"
    path.write_text("Supplier,Land,Headcount,Makes\nYiwu Cap Co,China,80,Caps\n")
    _import(path, "--column", "name=supplier", "--column", "country=LAND", "--column", "workers=Headcount",
            "--column", "product_type=Makes")
    cap = _stored(home)["Yiwu Cap Co"]
    assert (cap.country, cap.workers, cap.categories) == ("CN", 80, ["cap"])


def test_match_plans_orders_on_the_workspace_registry(home, brand_list, tmp_path, fake_embedder):
    """Without --factories: the imported registry. Socks go to one of the two Haining sock factories (capacity
    estimated from 690 workers, or from 100 assumed; MOQ estimated 500), never to the yarn mill that also
    lists socks; 300 pcs of t-shirts are below every estimated MOQ and unplaced with that reason."""
    _import(brand_list)
    orders = tmp_path / "o.csv"
    orders.write_text("design_id,category,materials,processes,quantity,due_in_days,description\n"
                      "A,socks,cotton,knitting,2000,20,crew socks\n"
                      "B,t-shirt,cotton,,300,30,boxy tee\n"
                      "=C,sneakers,leather,,600,45,court sneaker\n")
    r = runner.invoke(cli, ["match", "--orders", str(orders), "--out", str(tmp_path / "a.csv")])
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader((tmp_path / "a.csv").open(newline="")))
    ids = {f.id: name for name, f in _stored(home).items()}
    placed = {(x["design_id"], ids[x["factory_id"]].removesuffix(" (No. 12)")): int(x["quantity"]) for x in rows}
    assert placed == {("A", "Haining Hosiery Co., Ltd."): 2000, ("'=C", "Jinjiang Sneaker Works"): 600}
    unplaced = {x["design_id"]: x for x in csv.DictReader((tmp_path / "a.unplaced.csv").open(newline=""))}
    assert unplaced["B"]["reason"].startswith("MOQ") and "500 pcs, 300 ordered" in unplaced["B"]["reason"]
    cands = [c for c in csv.DictReader((tmp_path / "a.candidates.csv").open(newline="")) if c["design_id"] == "A"]
    kept = [c for c in cands if c["kept"] == "yes"]
    assert len(kept) == 2 and all("materials not disclosed" in c["assumed"] for c in kept)
    assert any("capacity estimated from 690 workers x 3000 pcs/worker/month" in c["assumed"] for c in kept)
    mill = next(c for c in cands if ids[c["factory_id"]] == "Zhejiang Yarn Mill")
    assert mill["kept"] == "no" and "material or component supplier" in mill["reasons"]
    r = runner.invoke(cli, ["match", "--orders", str(orders)])
    assert r.exit_code != 0 and "go together" in r.output


def test_a_factory_whose_capacity_is_not_known_takes_its_own_word_for_it(tmp_path):
    """Accepting checks the committed load against the capacity; with none on record the factory's accept is
    its word. Setting one is checked against the MOQ only when the MOQ is known."""
    from datetime import date

    from app.db import make_engine, migrate, session_factory, transaction
    from app.errors import Invalid
    from app.models import Design, FactoryOrder
    from app.services import production

    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    migrate(engine)
    sessions = session_factory(engine)
    with transaction(sessions) as s:
        s.add(FactoryRow(id="R1", name="Listed only", country="BD", region="", categories=["t-shirt"],
                         materials=None, processes=None, moq=None, capacity=None, lead_time_days=None, quality=None,
                         price_index=None, workers=None))
        design = Design(name="d", category="t-shirt", spec={}, status="matched")
        s.add(design)
        s.flush()
        order = FactoryOrder(design_id=design.id, factory_id="R1", round=1, quantity=50_000, unit_price_cents=100,
                             due_date=date(2030, 1, 1), status="offered")
        s.add(order)
        s.flush()
        oid = order.id
    with transaction(sessions) as s:
        assert production.accept(s, "R1", oid).status == "accepted"
    with transaction(sessions) as s, pytest.raises(Invalid, match="the MOQ is not known and 50000 pcs are committed"):
        production.set_capacity(s, "R1", 1_000)
    with transaction(sessions) as s:
        assert production.set_capacity(s, "R1", 60_000).capacity == 60_000
    with sessions() as s:
        f = production.factory_of(s.get(FactoryRow, "R1"))
        assert (f.capacity, f.plan_capacity, f.moq, f.plan_moq) == (60_000, 60_000, None, 500)
    engine.dispose()

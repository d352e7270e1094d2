"""`trendloom match --factories F.csv --orders O.csv --out A.csv [--exact]`: a plan whose optimum is worked out
by hand, the unplaced file with the constraint behind each reason, and all-or-nothing validation of the orders."""

import csv

import pytest
from typer.testing import CliRunner

from app.cli import cli

runner = CliRunner()
FACTORIES = """factory_id,name,country,region,categories,materials,processes,moq,capacity,lead_time_days,quality,price_index
F1,Zhuji Sock Co.,CN,Zhejiang,socks,cotton,knitting,100,500,10,0.8,1.0
F2,Haining Hosiery,CN,Zhejiang,socks,cotton;nylon,knitting,200,1000,10,0.6,1.2
F3,Humen Tee Works,CN,Guangdong,t-shirt,cotton,knitting;cut-and-sew,50,300,30,0.9,1.0
"""
HEADER = "design_id,category,materials,processes,quantity,due_in_days,description,base_unit_cost_cents\n"
ORDERS = HEADER + """A,socks,cotton,knitting,400,20,navy crew socks,100
B,socks,cotton,knitting,300,20,striped ankle socks,200
C,t-shirt,cotton,,100,20,boxy tee,100
D,socks,nylon,knitting,150,20,sheer socks,100
E,tights,nylon,knitting,100,20,opaque tights,100
"""


def _files(tmp_path, orders: str = ORDERS):
    (tmp_path / "f.csv").write_text(FACTORIES)
    (tmp_path / "o.csv").write_text(orders)
    return ["match", "--factories", str(tmp_path / "f.csv"), "--orders", str(tmp_path / "o.csv"),
            "--out", str(tmp_path / "a.csv")]


def _rows(path):
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_plan_matches_the_optimum_worked_by_hand(home, tmp_path, fake_embedder):
    """A (400 pcs) and B (300 pcs) both want F1 (capacity 500): A costs 100 there and 120 at F2, B 200 and 240.
    S = 5,000 per lane. All at F2: 120,000 + 2S = 130,000. A at F1, B at F2: 40,000 + 72,000 + 2S = 122,000.
    B at F1, A at F2: 60,000 + 48,000 + 2S = 118,000. Filling F1 (B 300 + A 200, A 200 at F2):
    60,000 + 20,000 + 24,000 + 3S = 119,000. Optimum 118,000: B -> F1, A -> F2.
    C: the only t-shirt factory needs 30 days (due 20); D: the only nylon sock factory's MOQ is 200 > 150;
    E: nobody makes tights. Their penalty is 0 (no lanes), so the objective is 118,000."""
    r = runner.invoke(cli, [*_files(tmp_path), "--exact"])
    assert r.exit_code == 0, r.output
    rows = {(x["design_id"], x["factory_id"]): x for x in _rows(tmp_path / "a.csv")}
    assert sorted(rows) == [("A", "F2"), ("B", "F1")]
    assert rows["A", "F2"] == {"design_id": "A", "factory_id": "F2", "quantity": "400", "unit_cost": "120",
                               "total_cost": "48000"}
    assert rows["B", "F1"]["quantity"] == "300" and rows["B", "F1"]["total_cost"] == "60000"
    unplaced = {x["design_id"]: x for x in _rows(tmp_path / "a.unplaced.csv")}
    assert {d: x["quantity"] for d, x in unplaced.items()} == {"C": "100", "D": "150", "E": "100"}
    assert unplaced["C"]["reason"].startswith("lead time") and "30 days, due in 20" in unplaced["C"]["reason"]
    assert unplaced["D"]["reason"].startswith("MOQ") and "200 pcs, 150 ordered" in unplaced["D"]["reason"]
    assert unplaced["E"]["reason"] == "no factory makes tights"
    out = " ".join(r.output.split())
    assert "objective 118000 cents" in out and "exact MILP objective 118000" in out and "gap heuristic vs exact" in out
    cands = _rows(tmp_path / "a.candidates.csv")
    f3_for_a = next(c for c in cands if c["design_id"] == "A" and c["factory_id"] == "F3")
    assert f3_for_a["kept"] == "no" and "does not make socks" in f3_for_a["reasons"]
    assert all("capability match" in c["reasons"] for c in cands)


def test_without_split_cost_filling_the_cheap_factory_wins(home, tmp_path, fake_embedder, monkeypatch):
    """S = 0: the split plan of the docstring above costs 104,000 < 108,000, so F1 is filled (B 300 + A 200)."""
    monkeypatch.setenv("TRENDLOOM_SPLIT_COST_CENTS", "0")
    r = runner.invoke(cli, _files(tmp_path))
    assert r.exit_code == 0, r.output
    got = sorted((x["design_id"], x["factory_id"], x["quantity"]) for x in _rows(tmp_path / "a.csv"))
    assert got == [("A", "F1", "200"), ("A", "F2", "200"), ("B", "F1", "300")]
    assert "objective 104000 cents" in " ".join(r.output.split())


@pytest.mark.parametrize("row, reason", [
    ("X,rockets,cotton,knitting,10,20,,", "unknown category 'rockets'; known: cap, cleaning-cloth"),
    ("X,socks,unobtainium,knitting,10,20,,", "unknown materials ['unobtainium']; known: "),
    ("X,socks,cotton,teleporting,10,20,,", "unknown processes ['teleporting']; known: "),
    ("X,socks,cotton,knitting,0,20,,", "'quantity': 0 is below 1"),
    ("X,socks,cotton,knitting,-5,20,,", "'quantity': -5 is below 1"),
    ("X,socks,cotton,knitting,2.5,20,,", "'quantity': '2.5' is not a whole number"),
    ("A,socks,cotton,knitting,10,20,,", "design_id 'A' repeats line 2"),
])
def test_bad_orders_reject_the_file_with_the_line(home, tmp_path, fake_embedder, row, reason):
    r = runner.invoke(cli, _files(tmp_path, HEADER + "A,socks,cotton,knitting,400,20,,\n" + row + "\n"))
    assert r.exit_code == 1
    out = " ".join(r.output.split())
    assert "line 3" in out and reason in out, out
    assert not (tmp_path / "a.csv").exists()


def test_options_go_together_and_plain_match_still_offers_winners(home, tmp_path):
    r = runner.invoke(cli, ["match", "--orders", str(tmp_path / "o.csv")])
    assert r.exit_code != 0 and "go together" in r.output
    r = runner.invoke(cli, ["match"])
    assert r.exit_code == 0 and "no winning designs waiting for a factory" in r.output

"""`trendloom catalog import | backtest`: the merchandiser's catalogue, its novelty check and its sales prior."""

import json
from itertools import product

import numpy as np
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from app.cli import cli
from app.db import transaction
from app.errors import Invalid
from app.models import CatalogItem
from app.services import catalog, designs
from app.services.catalog_file import read_text
from app.settings import Settings
from app.workspace import Workspace
from generation.concepts.spec import DesignSpec
from generation.language.extract import ProductLanguage
from generation.taxonomy import load_taxonomy

runner = CliRunner()


@pytest.fixture(scope="module")
def language():
    return ProductLanguage(load_taxonomy())


@pytest.fixture
def ws(tmp_path):
    ws = Workspace.open(Settings(home=tmp_path / "ws"))
    yield ws
    ws.close()


def _import(ws, language, text, file="catalogue.csv"):
    with transaction(ws.sessions) as s:
        return catalog.import_catalog(s, text=text, file=file, language=language, embed=ws.embedder.encode)


def _items(ws):
    with ws.sessions() as s:
        return {i.item_id: i for i in s.scalars(select(CatalogItem))}


def test_import_reads_missing_attributes_from_the_text_and_reports_them(ws, language):
    report = _import(ws, language, "id,name,category,description\n"
                                   "A1,Navy Blue Cotton Socks,,\n"
                                   "A2,Summer dress,dress,striped linen\n"
                                   "A3,Men Black Watch,,\n")
    assert report.rows == 3 and report.inferred["color"] == 2 and report.inferred["category"] == 1
    assert report.without_category == 1 and report.without_category_first == ["A3: Men Black Watch"]
    a1, a2, a3 = (_items(ws)[k] for k in ("A1", "A2", "A3"))
    assert (a1.category, a1.color, a1.material, a1.pattern) == ("socks", "navy", "cotton", None)
    assert set(a1.inferred) == {"category", "color", "material"}
    assert (a2.pattern, a2.material, "category" in a2.inferred) == ("stripe", "linen", False)
    assert a3.category is None and a3.units_sold is None


def test_a_bad_value_is_refused_with_its_line_and_column_and_nothing_is_stored(ws, language):
    with pytest.raises(Invalid, match=r"catalogue.csv, line 3, column 'color': 'zzz' is not a known color; allowed: .*navy"):
        _import(ws, language, "id,name,color\nA1,Socks,navy blue\nA2,Socks,zzz\n")
    assert _items(ws) == {}


def test_cr_only_line_endings_and_a_bom_are_read(ws, language, tmp_path):
    path = tmp_path / "mac.csv"
    path.write_bytes("\ufeffID,Name,Units Sold\r1,红色T恤,12\r2,藏蓝 tote bag,3\r".encode("utf-8"))
    report = _import(ws, language, read_text(path), file=str(path))
    items = _items(ws)
    assert report.rows == 2 and (items["1"].category, items["1"].color, items["1"].units_sold) == ("t-shirt", "red", 12)
    assert (items["2"].category, items["2"].color) == ("tote-bag", "navy")


def test_a_duplicate_id_is_refused_naming_both_lines(ws, language):
    with pytest.raises(Invalid, match=r"lines 2 and 4: id 'A1' appears twice"):
        _import(ws, language, "id,name\nA1,Socks\nA2,Cap\nA1,Dress\n")
    assert _items(ws) == {}


def test_reimporting_an_id_replaces_it(ws, language):
    _import(ws, language, "id,name,units_sold\nA1,Red socks,5\n")
    report = _import(ws, language, "id,name,units_sold\nA1,Navy socks,50\n")
    items = _items(ws)
    assert report.replaced == 1 and len(items) == 1 and (items["A1"].color, items["A1"].units_sold) == ("navy", 50)


def test_a_design_identical_to_a_catalogue_item_is_not_novel(ws, language):
    _import(ws, language, "id,name,category,color,material\nA1,Our classic,socks,navy,cotton\n")
    same, other = DesignSpec("socks", "navy", "cotton"), DesignSpec("tote-bag", "sage-green", "canvas", "stripe")
    sims = designs.catalog_similarity(ws)(ws.embedder.encode([same.text(), other.text()]))
    assert sims[0] == pytest.approx(1.0, abs=1e-5) and sims[1] < 0.8


def test_catalogue_sales_seed_the_prior_of_new_designs(ws, language):
    _import(ws, language, "id,name,category,color,material,units_sold\n"
                          "A1,a,socks,navy,cotton,900\nA2,b,socks,red,cotton,3\nA3,c,socks,grey,cotton,60\n")
    near_best, near_flop = DesignSpec("socks", "navy", "bamboo-fiber"), DesignSpec("socks", "red", "bamboo-fiber")
    with ws.sessions() as s:
        a, b = designs.demand_priors(s, ws, ws.embedder.encode([near_best.text(), near_flop.text()]))
    assert a.conversion_mean * a.size_mean > b.conversion_mean * b.size_mean
    assert a.source.startswith("catalogue sales of 3 similar items")


COLOUR_SALES = {"navy": 8.0, "black": 4.0, "white": 2.0, "grey": 1.0, "red": 0.5, "pink": 0.25}


def _colour_catalogue(path):
    """54 items; units = category scale x colour factor x noise: colour, not material, drives sales."""
    rng = np.random.default_rng(0)
    cats = {"socks": ("cotton", "bamboo-fiber", "wool"), "t-shirt": ("cotton", "linen", "polyester"),
            "tote-bag": ("canvas", "cotton", "polyester")}
    lines = ["id,name,category,color,material,units_sold"]
    for (cat, mats), colour in product(cats.items(), COLOUR_SALES):
        for mat in mats:
            units = round({"socks": 200, "t-shirt": 60, "tote-bag": 20}[cat] * COLOUR_SALES[colour]
                          * np.exp(rng.normal(0, 0.3)))
            lines.append(f"{cat}-{colour}-{mat},{colour} {mat} {cat},{cat},{colour},{mat},{units}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_backtest_json_beats_the_category_mean_when_colour_drives_sales(home, tmp_path):
    path = tmp_path / "catalogue.csv"
    _colour_catalogue(path)
    result = runner.invoke(cli, ["catalog", "backtest", str(path), "--json", "--folds", "4", "--seed", "1"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["items"] == out["held_out"] == 54 and "4 random folds, seed 1" in out["method"]
    assert out["spearman"] > out["baseline"]["category_mean"]["spearman"]
    assert out["mae_log"] < out["baseline"]["category_mean"]["mae_log"] < out["baseline"]["global_mean"]["mae_log"]
    ws = Workspace.open(Settings())
    with ws.sessions() as s:
        assert s.scalar(select(func.count()).select_from(CatalogItem)) == 0  # nothing stored
    ws.close()


@pytest.mark.parametrize("text, line", [
    ('"' + "x" * 200_000 + '"\n', 1),  # one cell over the csv module's field limit, in the header
    ("id,name\nA1,Socks\nA2," + "x" * 200_000 + "\n", 3),  # and in a row
    ("id,name\nA1,Socks\nA2,\"" + "a\n" * 100_000 + "\"\n", 65_539),  # a quoted cell of many lines
])
def test_a_line_the_csv_module_cannot_read_is_refused_on_its_line(language, text, line):
    from app.services.catalog_file import read_catalog

    with pytest.raises(Invalid, match=rf"c.csv, line {line}: not readable as CSV: field larger than field limit"):
        read_catalog(text, file="c.csv", language=language)

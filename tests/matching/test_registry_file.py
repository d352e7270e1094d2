"""Reading the registries people have: column names recognised, --column overrides, bad headers refused
with the columns found, messy cells kept unknown, material suppliers told apart, countries normalised."""

import csv
import io

import pytest

from matching.errors import FactoryDataError
from matching.factories.countries import country_code
from matching.factories.csv_safe import safe_cell, safe_row
from matching.factories.orders import Vocabulary, write_rows_csv
from matching.factories.registry_file import (
    parse_overrides,
    read_registry,
    read_workers,
    resolve_columns,
    split_items,
    supplies_materials,
)

OSH_DOWNLOAD = ["os_id", "contribution_date", "name", "address", "country_code", "country_name", "lat", "lng",
                "sector", "contributor (list)", "number_of_workers", "parent_company",
                "processing_type_facility_type_raw", "facility_type", "processing_type", "product_type", "is_closed"]


def test_open_supply_hub_download_columns_are_recognised():
    cols = resolve_columns(OSH_DOWNLOAD).fields
    assert cols == {"factory_id": "os_id", "name": "name", "address": "address", "country": "country_name",
                    "lat": "lat", "lng": "lng", "sector": "sector", "workers": "number_of_workers",
                    "parent_company": "parent_company", "facility_type": "facility_type",
                    "processing_type": "processing_type", "product_type": "product_type"}


@pytest.mark.parametrize("header", [
    ["Factory Name", "Address", "Country", "Number of Workers", "Product Type"],
    ["FACTORY_NAME", "ADDRESS", "COUNTRY", "NUMBER-OF-WORKERS", "product types"],
    ["  facility name ", "Facility Address", "Country Name", "Total Workers", "Products"],
])
def test_brand_list_columns_are_recognised_whatever_the_case_spacing_and_separators(header):
    cols = resolve_columns(header).fields
    assert set(cols) == {"name", "address", "country", "workers", "product_type"}


def test_column_overrides_name_the_rest_and_win_over_the_recognised_names():
    header = ["Supplier", "Site location", "Land", "Headcount (2024)", "name"]
    cols = resolve_columns(header, {"name": "supplier", "address": "SITE LOCATION", "country": "land",
                                    "workers": "headcount (2024)"})
    assert cols.fields == {"name": "Supplier", "address": "Site location", "country": "Land", "workers": "Headcount (2024)"}
    assert cols.ignored == ("name",)


def test_an_override_naming_a_missing_header_is_refused_with_the_columns_found():
    with pytest.raises(FactoryDataError, match=r"--column workers=Staff: the file has no column 'Staff'; "
                                               r"found columns: 'Factory Name', 'Country'") as exc:
        resolve_columns(["Factory Name", "Country"], {"workers": "Staff"}, file="list.csv")
    assert exc.value.line == 1 and exc.value.file == "list.csv"


@pytest.mark.parametrize("header, missing", [(["Supplier", "Country"], "no name column"),
                                             (["Factory Name", "Address"], "no country column"),
                                             (["id", "city"], "no name and no country column")])
def test_a_registry_without_name_or_country_is_refused_with_the_columns_found(header, missing):
    with pytest.raises(FactoryDataError, match=missing) as exc:
        read_registry(",".join(header) + "\nA,B\n", file="list.csv")
    assert "found columns: " + ", ".join(repr(h) for h in header) in str(exc.value) and "--column" in str(exc.value)


def test_overrides_are_field_equals_header():
    assert parse_overrides(["workers=Total headcount", " moq = MOQ (pcs) "]) == {"workers": "Total headcount",
                                                                                "moq": "MOQ (pcs)"}
    for bad, reason in (("workers", "is not FIELD=HEADER"), ("wrkers=x", "unknown field 'wrkers'"),
                        ("=x", "is not FIELD=HEADER")):
        with pytest.raises(FactoryDataError, match=reason):
            parse_overrides([bad])
    with pytest.raises(FactoryDataError, match="named twice"):
        parse_overrides(["moq=a", "moq=b"])


def test_rows_are_read_leniently_unknown_stays_unknown():
    text = ("Factory Name,Address,Country,Number of Workers,MOQ,Product Type,Sector,Facility Type,Processing Type\n"
            "Haining Sock Co.,No. 8 Road,China,690,,Socks; Tights,Apparel|Footwear,Final Product Assembly,Knitting\n"
            ",No name Road,CN,10,,,,,\n"
            "Nowhere Ltd,Somewhere,,10,,,,,\n"
            "Ask Us Co,X,VN,about forty,ask us,,,,\n"
            "=HYPERLINK(\"http://x\"),Y,Viet Nam,1001-5000,500 pcs,,,,\n")
    read = read_registry(text, file="list.csv")
    assert read.total == 5 and read.skipped == [(3, "no name"), (4, "no country")]
    a, b, c = read.rows
    assert (a.line, a.name, a.country, a.workers, a.moq, a.capacity, a.materials) == (2, "Haining Sock Co.", "CN", 690,
                                                                                      None, None, None)
    assert a.product_types == ("Socks", "Tights") and a.sectors == ("Apparel", "Footwear")
    assert a.facility_type == "Final Product Assembly | Knitting" and not a.supplies_materials
    assert (b.workers, b.moq) == (None, None)
    assert b.notes == ("workers 'about forty' not understood: unknown", "moq 'ask us' not understood: unknown")
    assert c.name == '=HYPERLINK("http://x")' and c.country == "VN"  # kept as the text it is
    assert (c.workers, c.moq) == (3000, 500) and "midpoint 3000" in c.notes[0]
    assert read.notes == 3


@pytest.mark.parametrize("text, workers", [("690", 690), ("1,200", 1200), ("100-500", 300), ("1001 to 5000", 3000),
                                           ("Less than 1000", 500), ("More than 10000", 10000), ("500+", 500),
                                           ("", None), ("many", None)])
def test_worker_counts_as_registries_write_them(text, workers):
    assert read_workers(text)[0] == workers


def test_list_cells_split_into_items():
    assert split_items("T-shirts; Hoodies", words=True) == ("T-shirts", "Hoodies")
    assert split_items("Bags & Accessories|Footwear, Socks and Tights", words=True) == (
        "Bags", "Accessories", "Footwear", "Socks", "Tights")
    assert split_items("cut and sew; knitting") == ("cut and sew", "knitting")  # our lists: only ; | split
    assert split_items("  ") == ()


@pytest.mark.parametrize("facility, materials", [
    ("Textile or Material Production", True), ("Fabric mill", True), ("Trims and components", True),
    ("Raw Material Processing or Production", True), ("Yarn spinning", True),
    ("Final Product Assembly", False), ("Cut and sew", False), ("Printing, Product Dyeing and Laundering", False),
    ("Textile or Material Production | Final Product Assembly", False),  # a vertical mill that also sews
    ("", False),
])
def test_material_and_component_suppliers_are_told_by_their_facility_type(facility, materials):
    assert supplies_materials(facility) is materials


@pytest.mark.parametrize("written, code", [("China", "CN"), ("CHINA", "CN"), ("cn", "CN"), ("P.R. China", "CN"),
                                           ("Viet Nam", "VN"), ("USA", "US"), ("United States", "US"),
                                           ("Slovak Republic", "SK"), ("Atlantis", "ATLANTIS"), ("", "")])
def test_countries_as_registries_write_them(written, code):
    assert country_code(written) == code


def test_formula_like_cells_are_written_as_text(tmp_path):
    assert safe_row(["=1+2", "+CMD", "-x", "@SUM(A1)", "\t=1", "plain", "-0.25", "+3", 7, -2.5, None]) == [
        "'=1+2", "'+CMD", "'-x", "'@SUM(A1)", "'\t=1", "plain", "-0.25", "+3", 7, -2.5, None]
    assert safe_cell("") == ""
    path = tmp_path / "out.csv"
    write_rows_csv(path, ("factory_id", "reason"), [("=HYPERLINK(\"http://x\")", "-rejected")])
    rows = list(csv.reader(io.StringIO(path.read_text())))
    assert rows == [["factory_id", "reason"], ["'=HYPERLINK(\"http://x\")", "'-rejected"]]


BIG = "x" * (csv.field_size_limit() + 1)  # one cell more than the csv module reads


@pytest.mark.parametrize("where, line", [("header", 1), ("row", 2)])
@pytest.mark.parametrize("reader", ["registry", "own format", "orders"])
def test_a_cell_over_the_csv_field_limit_is_refused_on_its_line(reader, where, line):
    from matching.errors import DataFileError
    from matching.factories.orders import ORDER_COLUMNS, Vocabulary, parse_orders_csv
    from matching.factories.registry import CSV_COLUMNS, parse_factories_csv

    header = {"registry": "name,country,address", "own format": ",".join(CSV_COLUMNS),
              "orders": ",".join(ORDER_COLUMNS)}[reader]
    width = header.count(",") + 1
    text = f'"{BIG}"\n' if where == "header" else f'{header}\n"{BIG}"' + ",a" * (width - 1) + "\n"
    parse = {"registry": lambda t: read_registry(t, file="f.csv"),
             "own format": lambda t: parse_factories_csv(t, file="f.csv"),
             "orders": lambda t: parse_orders_csv(t, Vocabulary(frozenset(), frozenset(), frozenset()), file="f.csv")}[reader]
    with pytest.raises(DataFileError, match=rf"f.csv, line {line}: not readable as CSV: field larger than field limit"):
        parse(text)


@pytest.mark.parametrize("ending", ["\r", "\r\n"])
def test_registries_and_orders_are_read_with_any_line_ending(ending):
    from matching.factories.orders import parse_orders_csv
    from matching.factories.registry import CSV_COLUMNS, parse_factories_csv

    def both(text: str) -> tuple[str, str]:
        return text, text.replace("\n", ending)

    osh, osh_other = both("name,address,country_name,product_type\nMill A,1 Road,China,socks\nMill B,2 Road,Viet Nam,caps\n")
    assert read_registry(osh_other).rows == read_registry(osh).rows and len(read_registry(osh).rows) == 2
    own, own_other = both(",".join(CSV_COLUMNS) + "\nF1,Mill,CN,Zhejiang,socks,cotton,knitting,100,5000,10,0.8,1.0,,,\n")
    assert parse_factories_csv(own_other) == parse_factories_csv(own)
    vocab = Vocabulary(frozenset({"socks"}), frozenset({"cotton"}), frozenset({"knitting"}))
    orders, orders_other = both("design_id,category,materials,processes,quantity,due_in_days,description\n"
                                "1,socks,cotton,knitting,500,30,navy socks\n")
    assert parse_orders_csv(orders_other, vocab) == parse_orders_csv(orders, vocab)

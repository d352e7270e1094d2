import pytest

from matching.errors import FactoryDataError
from matching.factories.constraints import Requirement, candidates, check_factory
from matching.factories.registry import Factory, parse_factories_csv
from matching.interest import InterestStats

F = Factory("F1", "Zhuji Sock Co.", "CN", "Zhejiang", ("socks",), ("cotton", "nylon"), ("knitting", "printing"),
            moq=200, capacity=5000, lead_time_days=15, quality=0.7, price_index=0.8, city="Zhuji")
REQ = Requirement("socks", ("cotton",), ("knitting",), quantity=600, due_in_days=20, base_unit_cost_cents=100)


def test_interest_score_by_hand():
    s = InterestStats(views=100, clicks=10, favourites=4, inquiries=2, pre_orders=3, quantity=90)
    assert s.score == pytest.approx((10 + 12 + 10 + 30) / 110)


def test_constraints_explain_themselves():
    ok = check_factory(F, REQ, free_capacity=5000)
    assert ok.feasible and ok.unit_cost_cents == 80 and all(r.startswith("ok") for r in ok.reasons)
    bad = check_factory(F, Requirement("socks", ("silk",), ("knitting", "dyeing"), 100, 10, 100), free_capacity=100)
    assert not bad.feasible
    text = " | ".join(bad.reasons)
    for expected in ("does not work silk", "lacks process dyeing", "lead time 15 d > due 10 d",
                     "MOQ 200 > 100 pcs ordered", "free capacity 100 < MOQ 200"):
        assert expected in text
    (excluded,) = candidates([F], REQ, {}, exclude={"F1"})
    assert not excluded.feasible and "declined" in excluded.reasons[0]
    (full,) = candidates([F], REQ, {"F1": 4900})
    assert not full.feasible


HEADER = "factory_id,name,country,region,categories,materials,processes,moq,capacity,lead_time_days,quality,price_index\n"


@pytest.mark.parametrize("row, reason", [
    ("F1,A,CN,Zhejiang,socks,cotton,knitting,500,100,10,0.5,1.0", "capacity 100 is below the MOQ 500"),
    ("F1,A,CN,Zhejiang,socks,cotton,knitting,x,100,10,0.5,1.0", "'moq': 'x' is not a whole number"),
    ("F1,A,CN,Zhejiang,socks,cotton,knitting,5,100,10,1.5,1.0", "'quality': 1.5 is outside"),
    ("F1,A,CN,Zhejiang,rockets,cotton,knitting,5,100,10,0.5,1.0", "unknown categories \\['rockets'\\]"),
    ("F1,,CN,Zhejiang,socks,cotton,knitting,5,100,10,0.5,1.0", "'name' is empty"),
])
def test_bad_factory_rows_name_the_line(row, reason):
    text = HEADER + "F0,Ok,CN,Zhejiang,socks,cotton,knitting,5,100,10,0.5,1.0\n" + row + "\n"
    with pytest.raises(FactoryDataError, match=reason) as exc:
        parse_factories_csv(text, file="f.csv", known_categories={"socks"}, known_materials={"cotton"})
    assert exc.value.line == 3


def test_factory_file_structure_errors():
    with pytest.raises(FactoryDataError, match="missing columns"):
        parse_factories_csv("factory_id,name\nF1,A\n")
    with pytest.raises(FactoryDataError, match="repeats line 2"):
        row = "F1,A,CN,Zhejiang,socks,cotton,knitting,5,100,10,0.5,1.0\n"
        parse_factories_csv(HEADER + row + row)


def test_workers_must_be_a_whole_number_when_given():
    header = HEADER.rstrip("\n") + ",workers\n"
    ok = parse_factories_csv(header + "F1,A,CN,Zhejiang,socks,cotton,knitting,5,100,10,0.5,1.0,\n"
                             "F2,B,CN,Zhejiang,socks,cotton,knitting,5,100,10,0.5,1.0,35\n")
    assert [f.workers for f in ok] == [None, 35]  # an empty cell is "not known": None, never 0
    for bad, reason in (("about 40", "'workers': 'about 40' is not a whole number"), ("-3", "'workers': -3 is below 0")):
        with pytest.raises(FactoryDataError, match=reason) as exc:
            parse_factories_csv(header + "F1,A,CN,Zhejiang,socks,cotton,knitting,5,100,10,0.5,1.0,12\n"
                                f"F2,B,CN,Zhejiang,socks,cotton,knitting,5,100,10,0.5,1.0,{bad}\n", file="f.csv")
        assert exc.value.line == 3

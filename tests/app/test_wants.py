"""What buyers ask for and cannot find (issue 18): searches with no or weak results, inquiries and variant
requests read into wants, counted per distinct buyer and week, unread texts kept as evidence."""

import json
from datetime import datetime, timedelta

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.db import transaction
from app.models import Buyer, Design, WantSignal, utcnow
from app.services import interest, wants
from app.services.search import query_of
from app.settings import Settings
from app.workspace import Workspace
from matching.search import SearchDoc

NOW = datetime(2026, 12, 2, 10, 0)  # a Wednesday
GREY_HOODIE = SearchDoc(1, "hoodie", frozenset({("color", "grey"), ("material", "cotton")}), frozenset(), ())
NAVY_CORDUROY_HOODIE = SearchDoc(2, "hoodie", frozenset({("color", "navy"), ("material", "corduroy")}),
                                 frozenset(), ())


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    ws = Workspace.open(Settings(home=tmp_path_factory.mktemp("wants")))
    yield ws
    ws.close()


@pytest.fixture
def buyers(ws):
    """Three fresh buyers; the module's workspace is emptied of wants first."""
    with transaction(ws.sessions) as s:
        s.query(WantSignal).delete()
        return [interest.create_buyer(s, f"b{i}-{id(s)}", "shop").id for i in range(3)]


def search(ws, buyer, text, results=(), at=NOW) -> bool:
    with transaction(ws.sessions) as s:
        return wants.record_search(s, buyer_id=buyer, text=text, query=query_of(text, ws.language),
                                   results=list(results), now=at)


def top(ws, today=NOW.date(), **kw):
    with ws.sessions() as s:
        return wants.wants(s, today, **kw)


def test_a_search_answered_only_by_other_hoodies_is_a_want_for_what_it_named(ws, buyers):
    assert search(ws, buyers[0], "navy corduroy hoodie", [GREY_HOODIE])
    (want,) = top(ws)
    assert (want.category, want.attributes) == ("hoodie", (("color", "navy"), ("material", "corduroy")))
    assert want.buyers == 1 and want.texts == ("navy corduroy hoodie",) and want.sources == {"search": 1}


def test_a_search_a_result_satisfies_is_no_want(ws, buyers):
    assert not search(ws, buyers[0], "navy corduroy hoodie", [GREY_HOODIE, NAVY_CORDUROY_HOODIE])
    assert top(ws) == []


def test_chinese_and_english_words_for_one_thing_are_one_want_of_two_buyers(ws, buyers):
    search(ws, buyers[0], "navy corduroy hoodie")
    search(ws, buyers[1], "藏蓝灯芯绒帽衫")
    (want,) = top(ws)
    assert want.buyers == 2 and set(want.texts) == {"navy corduroy hoodie", "藏蓝灯芯绒帽衫"}


def test_one_buyer_repeating_a_search_moves_a_want_by_one(ws, buyers):
    for _ in range(5):
        search(ws, buyers[0], "navy  corduroy hoodie")
    search(ws, buyers[0], "hoodie navy corduroy")  # other words, same want, same buyer
    search(ws, buyers[0], "navy corduroy hoodie", at=NOW + timedelta(days=7))  # next week
    (want,) = top(ws, today=NOW.date() + timedelta(days=7))
    assert want.buyers == 1
    assert want.weekly[-2:] == (1, 1) and sum(want.weekly) == 2  # one buyer in each of the two weeks
    with ws.sessions() as s:
        assert s.query(WantSignal).count() == 3  # the repeats were not stored


def test_wants_rank_by_distinct_buyers_and_leave_out_the_weeks_before_the_window(ws, buyers):
    search(ws, buyers[0], "linen dress")
    search(ws, buyers[0], "leopard phone case", at=NOW - timedelta(weeks=9))  # outside 8 weeks
    for b in buyers:
        search(ws, b, "green t-shirt")
    got = [(w.category, w.buyers) for w in top(ws)]
    assert got == [("t-shirt", 3), ("dress", 1)]


def test_nonsense_is_unread_evidence_never_a_want(ws, buyers):
    assert search(ws, buyers[0], "zzzqqq")  # found nothing: kept
    assert not search(ws, buyers[1], "something nice", [GREY_HOODIE])  # found things by meaning: no want
    assert top(ws) == []
    with ws.sessions() as s:
        assert [(u.text, u.buyers, u.other) for u in wants.unread(s, NOW.date())] == [("zzzqqq", 1, None)]


def test_a_product_nobody_here_makes_is_listed_with_its_words_not_turned_into_its_material(ws, buyers):
    search(ws, buyers[0], "denim jeans")
    assert top(ws) == []  # not a want for "anything denim"
    with ws.sessions() as s:
        assert [(u.text, u.other) for u in wants.unread(s, NOW.date())] == [("denim jeans", "jeans")]


def test_an_inquiry_on_an_item_wants_the_item_in_what_it_names(ws, buyers):
    with transaction(ws.sessions) as s:
        wants.record_request(s, buyer_id=buyers[0], source="inquiry", text="do you have this in navy?",
                             language=ws.language, design_id=None, design_category="hoodie", now=NOW)
        wants.record_request(s, buyer_id=buyers[1], source="variant", text="想要藏蓝色的",
                             language=ws.language, design_id=None, design_category="hoodie", now=NOW)
        wants.record_request(s, buyer_id=buyers[2], source="inquiry", text="when does it ship?",
                             language=ws.language, design_id=None, design_category="hoodie", now=NOW)
    (want,) = top(ws)
    assert (want.category, want.attributes, want.buyers) == ("hoodie", (("color", "navy"),), 2)
    assert want.sources == {"inquiry": 1, "variant": 1}


def test_a_flagged_buyer_moves_no_want(ws, buyers):
    search(ws, buyers[0], "linen dress")
    with transaction(ws.sessions) as s:
        s.get(Buyer, buyers[0]).flagged_at = NOW
    assert top(ws) == []


def test_demand_wants_cli_lists_category_attributes_buyers_and_words(ws, buyers, monkeypatch):
    search(ws, buyers[0], "藏蓝灯芯绒帽衫", at=utcnow())
    search(ws, buyers[1], "navy corduroy hoodie", at=utcnow())
    monkeypatch.setenv("TRENDLOOM_HOME", str(ws.settings.home))
    out = CliRunner().invoke(cli, ["demand", "wants", "--json"])
    assert out.exit_code == 0, out.output
    (line,) = [json.loads(x) for x in out.output.splitlines() if x.startswith("{")]
    assert line["category"] == "hoodie" and line["attributes"] == {"color": "navy", "material": "corduroy"}
    assert line["buyers"] == 2 and set(line["texts"]) == {"藏蓝灯芯绒帽衫", "navy corduroy hoodie"}
    table = CliRunner().invoke(cli, ["demand", "wants"])
    assert table.exit_code == 0 and "hoodie" in table.output and "藏蓝灯芯绒帽衫" in table.output


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    """The served shop with two open designs: navy striped cotton socks and red solid wool socks."""
    from fastapi.testclient import TestClient

    from app.api.main import create_app
    from app.services import accounts, designs, production, trends
    from generation.concepts.pricing import price_tiers
    from generation.trends.synthetic import make_trend_sample
    from generation.concepts.spec import DesignSpec
    from matching.factories.registry import Factory
    from matching.factories.synthetic import make_factory_registry

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TRENDLOOM_IMAGE_BACKEND", "flat")
        app = create_app(Settings(home=tmp_path_factory.mktemp("wanted"), decide_every_s=0))
    with TestClient(app):
        ws = app.state.workspace
        with transaction(ws.sessions) as s:
            made = []
            for color, material, pattern in (("navy", "cotton", "stripe"), ("red", "wool", "solid")):
                spec = DesignSpec(category="socks", color=color, material=material, pattern=pattern,
                                  name=f"{color} {pattern} {material} socks", moq=ws.taxonomy.category("socks").buyer_moq,
                                  price_tiers=price_tiers(ws.taxonomy, "socks", material, 0))
                made.append(Design(name=spec.name, category="socks", spec=spec.to_dict(), status="draft", images=[]))
            s.add_all(made)
            s.flush()
            production.import_factories(s, [Factory("S1", "Sock mill", country="CN", region="Zhejiang",
                                                    categories=("socks",), materials=("cotton", "wool"),
                                                    processes=("knitting", "printing", "dyeing", "weaving"), moq=100,
                                                    capacity=5_000, lead_time_days=10, quality=0.8, price_index=1.0)]
                                         + make_factory_registry(240))
            designs.publish(s, ws, [d.id for d in made], now=utcnow(), require_image=False)
            trends.ingest_frame(s, make_trend_sample(ws.taxonomy, weeks=104).frame, ws.taxonomy, source="t")
            for login in ("shopper", "shopper2"):
                accounts.create_user(s, login, "correct horse battery", "buyer")
        ws.demand_cache.sync(full=True)  # every design open now, whatever a concurrent timed sync saw
        yield app


def test_a_buyers_search_on_the_shop_records_what_its_first_page_lacks(shop):
    from fastapi.testclient import TestClient
    ws = shop.state.workspace

    def searched(login, q):
        c = TestClient(shop, follow_redirects=False)
        assert c.post("/login", data={"login": login, "password": "correct horse battery"},
                      headers={"Origin": "http://testserver"}).status_code == 303
        assert c.get("/shop", params={"q": q}).status_code == 200

    searched("shopper", "藏蓝条纹袜子")  # navy striped socks: found, nothing to record
    with ws.sessions() as s:
        assert wants.wants(s, utcnow().date()) == [], ws.demand_cache.arrays().ids
    searched("shopper", "wool navy socks")  # navy socks and wool socks, but no navy wool ones: a want
    searched("shopper", "wool navy socks")  # the same again moves nothing
    searched("shopper2", "藏蓝羊毛袜")  # the same want in Chinese, another buyer
    with ws.sessions() as s:
        got = wants.wants(s, utcnow().date())
    assert len(got) == 1, [(w.category, w.attributes, w.texts) for w in got]
    (want,) = got
    assert (want.category, want.attributes, want.buyers) == ("socks", (("color", "navy"), ("material", "wool")), 2)
    assert set(want.texts) == {"wool navy socks", "藏蓝羊毛袜"}


def test_a_batch_answers_the_wants_of_two_or_more_buyers_first_and_trends_compose_the_rest(shop):
    from app.services import designs
    ws = shop.state.workspace
    with transaction(ws.sessions) as s:
        s.query(WantSignal).delete()
        b = [interest.create_buyer(s, f"asker-{i}", "shop").id for i in range(5)]
    search(ws, b[0], "black wool socks", at=utcnow())
    search(ws, b[1], "黑色羊毛袜", at=utcnow())
    search(ws, b[2], "navy socks", at=utcnow())  # answered already: navy striped cotton socks are open
    search(ws, b[3], "navy sock", at=utcnow())
    search(ws, b[4], "white linen tote bag", at=utcnow())  # one buyer: not yet a reason to design
    with transaction(ws.sessions) as s:
        made = designs.generate(s, ws.taxonomy, ws.images, ws.settings.images_dir, n=2, seed=3,
                                cost_share=ws.settings.cost_share, ws=ws)
        specs = [designs.spec_of(d) for d in made]
    assert (specs[0].category, specs[0].color, specs[0].material) == ("socks", "black", "wool")
    assert set(specs[0].asked_for) == {"black wool socks", "黑色羊毛袜"}
    from app.models import NoticeRow
    with transaction(ws.sessions) as s:  # published: the two who asked hear of it, nobody else
        designs.publish(s, ws, [made[0].id], now=utcnow(), require_image=False)
    with ws.sessions() as s:
        told = {(n.buyer_id, n.kind) for n in s.query(NoticeRow).filter_by(design_id=made[0].id)}
    assert told == {(b[0], "want"), (b[1], "want")}
    assert specs[1].asked_for == ()  # ceil(2 * WANT_SHARE) = 1: the trends compose the other
    from fastapi.testclient import TestClient
    from app.services import accounts
    with transaction(ws.sessions) as s:
        accounts.create_user(s, "reviewing-merch", "correct horse battery", "merchandiser")
    c = TestClient(shop, headers={"Accept-Language": "zh-CN"}, follow_redirects=False)
    assert c.post("/login", data={"login": "reviewing-merch", "password": "correct horse battery"},
                  headers={"Origin": "http://testserver"}).status_code == 303
    page = c.get(f"/merchandiser/designs/{made[0].id}").text
    assert "买家的原话" in page and "<q>黑色羊毛袜</q>" in page and "<q>black wool socks</q>" in page
    with transaction(ws.sessions) as s:  # the want now has a design: the next batch does not repeat it
        again = designs.generate(s, ws.taxonomy, ws.images, ws.settings.images_dir, n=2, seed=4,
                                 cost_share=ws.settings.cost_share, ws=ws)
        assert all(designs.spec_of(d).asked_for == () for d in again)


def test_a_variant_request_is_a_want_limited_to_what_factories_make_and_answered_by_open_designs(shop):
    from fastapi.testclient import TestClient
    from app.services import accounts
    ws = shop.state.workspace
    with transaction(ws.sessions) as s:
        s.query(WantSignal).delete()
        token = accounts.issue_token(s, accounts.user_by_login(s, "shopper"), utcnow(), timedelta(hours=1))
        merch = accounts.create_user(s, "wants-merch", "correct horse battery", "merchandiser")
        merch_token = accounts.issue_token(s, merch, utcnow(), timedelta(hours=1))
        navy, red = sorted(d.id for d in s.query(Design).filter(Design.category == "socks")
                           if d.spec["pattern"] in ("stripe", "solid") and d.spec["color"] in ("navy", "red"))[:2]
    c = TestClient(shop, headers={"Authorization": f"Bearer {token}"})
    options = c.get(f"/api/v1/designs/{red}/variants").json()
    assert "navy" in options["color"] and "red" not in options["color"]  # its own colour is not a variant
    assert "cotton" in options["material"] and "silk" not in options["material"]  # no factory knits silk socks
    r = c.post(f"/api/v1/designs/{red}/variant-requests", json={"color": "navy"})
    assert r.status_code == 201, r.text
    assert r.json() == {"category": "socks", "attributes": {"color": "navy", "material": "wool", "pattern": "solid"},
                        "recorded": True, "answered_by": []}
    assert c.post(f"/api/v1/designs/{red}/variant-requests", json={"color": "navy"}).json()["recorded"] is False
    # the navy striped cotton socks answer "these in navy, striped, cotton"
    r = c.post(f"/api/v1/designs/{red}/variant-requests", json={"color": "navy", "material": "cotton", "pattern": "stripe"})
    assert r.json()["answered_by"] == [navy]
    bad = c.post(f"/api/v1/designs/{red}/variant-requests", json={"material": "silk"})
    assert bad.status_code == 422 and "silk" in bad.text and "cotton" in bad.text
    assert c.post(f"/api/v1/designs/{red}/variant-requests", json={"color": "red"}).status_code == 422  # nothing changed
    assert c.post(f"/api/v1/designs/{red}/variant-requests", json={"size": "XL"}).status_code == 422
    with transaction(ws.sessions) as s:  # no row was left by the refused requests
        assert s.query(WantSignal).count() == 2
    listed = TestClient(shop, headers={"Authorization": f"Bearer {merch_token}"}).get("/api/v1/merchandiser/wants").json()
    assert {(w["attributes"]["color"], w["buyers"], tuple(w["sources"])) for w in listed} == {("navy", 1, ("variant",))}
    assert c.get("/api/v1/merchandiser/wants").status_code == 403  # buyers do not see what other buyers asked for


def test_the_item_page_asks_for_a_variant_in_both_languages(shop):
    import html as _html
    import re
    from fastapi.testclient import TestClient
    ws = shop.state.workspace
    with transaction(ws.sessions) as s:
        s.query(WantSignal).delete()
        red = next(d.id for d in s.query(Design) if d.spec["color"] == "red" and d.category == "socks")
    c = TestClient(shop, follow_redirects=False, headers={"Accept-Language": "zh-CN"})
    assert c.post("/login", data={"login": "shopper2", "password": "correct horse battery"},
                  headers={"Origin": "http://testserver"}).status_code == 303
    item = _html.unescape(c.get(f"/shop/designs/{red}").text)
    assert "想要其他款式？" in item and f'href="/shop/designs/{red}/variant"' in item
    form = _html.unescape(c.get(f"/shop/designs/{red}/variant").text)
    assert "保持原样（红色）" in form and 'value="navy"' in form and 'value="silk"' not in form
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    r = c.post(f"/shop/designs/{red}/variant", data={"csrf_token": token, "color": "navy"},
               headers={"Referer": f"http://testserver/shop/designs/{red}/variant"})
    assert r.status_code == 303 and r.headers["location"] == f"/shop/designs/{red}"
    with ws.sessions() as s:
        (want,) = wants.wants(s, utcnow().date())
    assert (want.attributes, want.sources) == ((("color", "navy"), ("material", "wool"), ("pattern", "solid")), {"variant": 1})
    en = TestClient(shop, follow_redirects=False, cookies=c.cookies)
    assert "Ask for this item another way" in en.get(f"/shop/designs/{red}/variant").text


def test_a_buyers_api_search_counts_as_a_want_and_a_merchandisers_does_not(shop):
    from fastapi.testclient import TestClient
    from app.services import accounts
    ws = shop.state.workspace
    with transaction(ws.sessions) as s:
        s.query(WantSignal).delete()
        buyer = accounts.issue_token(s, accounts.user_by_login(s, "shopper"), utcnow(), timedelta(hours=1))
        merch = accounts.issue_token(s, accounts.create_user(s, "searching-merch", "correct horse battery",
                                                             "merchandiser"), utcnow(), timedelta(hours=1))
    for token in (buyer, merch):  # the buyer's search is served (impressions) after its want is stored
        r = TestClient(shop, headers={"Authorization": f"Bearer {token}"}).get("/api/v1/search", params={"q": "yellow socks"})
        assert r.status_code == 200 and r.json()  # the socks open now: none of them yellow
    with ws.sessions() as s:
        assert [(w.category, w.attributes, w.buyers) for w in wants.wants(s, utcnow().date())] == [
            ("socks", (("color", "yellow"),), 1)]


def test_an_inquiry_is_a_conversation_on_both_sides_and_a_want_for_what_it_asks(shop):
    import html as _html
    import re
    from fastapi.testclient import TestClient
    from app.models import InquiryMessage, InterestEvent
    from app.services import accounts
    ws = shop.state.workspace
    with transaction(ws.sessions) as s:
        s.query(WantSignal).delete()
        accounts.create_user(s, "answering-merch", "correct horse battery", "merchandiser")
        red = next(d.id for d in s.query(Design) if d.spec["color"] == "red" and d.category == "socks")

    def client(login, lang="en"):
        c = TestClient(shop, follow_redirects=False, headers={"Accept-Language": lang})
        assert c.post("/login", data={"login": login, "password": "correct horse battery"},
                      headers={"Origin": "http://testserver"}).status_code == 303
        return c

    def submit(c, page, action, **data):
        token = re.search(r'name="csrf_token" value="([^"]+)"', c.get(page).text).group(1)
        return c.post(action, data={"csrf_token": token, **data}, headers={"Referer": f"http://testserver{page}"})

    buyer, merch = client("shopper2", "zh-CN"), client("answering-merch")
    item = f"/shop/designs/{red}"
    for bad in ("   ", "bad \u202e text", "x" * 1001):  # refused, back to the page with the reason
        r = submit(buyer, item, f"{item}/inquire", text=bad)
        assert r.status_code == 303 and "error" in r.cookies.get("flash", "error")
    assert submit(buyer, item, f"{item}/inquire", text="有藏蓝色的吗？").status_code == 303
    assert submit(buyer, item, f"{item}/inquire", text="什么时候发货？").status_code == 303
    with ws.sessions() as s:
        assert s.query(InquiryMessage).count() == 2
        assert s.query(InterestEvent).filter_by(design_id=red, kind="inquiry", counted=True).count() == 1  # once per buyer
        (want,) = wants.wants(s, utcnow().date())
    assert (want.category, want.attributes, want.sources) == ("socks", (("color", "navy"),), {"inquiry": 1})
    dashboard = _html.unescape(merch.get("/merchandiser").text)
    assert "Inquiries waiting for an answer: 1" in dashboard and "有藏蓝色的吗？" in dashboard
    buyer_id = int(re.search(rf'action="/merchandiser/inquiries/{red}/(\d+)"', dashboard).group(1))
    r = submit(merch, "/merchandiser", f"/merchandiser/inquiries/{red}/{buyer_id}", text="Navy is coming next month.")
    assert r.status_code == 303
    assert "Inquiries waiting" not in merch.get("/merchandiser").text  # answered: off the queue
    page = _html.unescape(buyer.get(item).text)
    assert page.index("有藏蓝色的吗？") < page.index("什么时候发货？") < page.index("Navy is coming next month.")
    assert "商品运营" in page
    # the answer is a notice in the buyer's inbox: counted in the header until the inbox is opened
    assert 'aria-label="1 条未读"' in page
    inbox = _html.unescape(buyer.get("/notices").text)
    assert "你关于" in inbox and "的咨询已有回复" in inbox and f'href="/shop/designs/{red}"' in inbox
    assert 'class="badge count"' not in buyer.get("/notices").text  # read now
    # a buyer who never asked has no thread to be answered in
    r = submit(merch, "/merchandiser", f"/merchandiser/inquiries/{red}/999999", text="hello")
    assert r.status_code in (303, 404)
    with ws.sessions() as s:
        assert s.query(InquiryMessage).count() == 3  # the two questions and the answer: nothing else stored


def test_a_repeated_search_is_stored_once_and_says_so_on_postgres(pg_url):
    from app.db import make_engine, migrate, session_factory
    from app.services.search import query_of as read
    from generation.language.extract import ProductLanguage
    from generation.taxonomy import load_taxonomy
    engine = make_engine(pg_url)
    migrate(engine)
    sessions = session_factory(engine)
    language = ProductLanguage(load_taxonomy())
    with transaction(sessions) as s:
        buyer = interest.create_buyer(s, "pg asker", "shop").id
    stored = []
    for _ in range(2):  # psycopg reports -1 rows for INSERT ... ON CONFLICT: the answer must not come from it
        with transaction(sessions) as s:
            stored.append(wants.record_search(s, buyer_id=buyer, text="藏蓝灯芯绒帽衫",
                                              query=read("藏蓝灯芯绒帽衫", language), results=[], now=NOW))
    assert stored == [True, False]
    engine.dispose()

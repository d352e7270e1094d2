"""The web pages through FastAPI's test client: sign-in, roles, CSRF, languages, and each role's
flow from generating a design to the factory shipping it, with bad input along the way."""

import html
import re
import threading

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.api.main import create_app
from app.db import transaction
from app.errors import Invalid
from app.models import Design, FactoryOrder, IdempotencyRecord, PreOrder, Reorder, Sale, User, utcnow
from app.services import accounts, production, trends
from app.settings import Settings
from app.web.rendering import parse_money
from generation.concepts.pricing import price_tiers
from generation.concepts.spec import DesignSpec
from generation.trends.synthetic import make_trend_sample
from matching.factories.registry import Factory

PASSWORD = "correct horse battery"
SAME_SITE = {"Origin": "http://testserver"}  # what a browser sends with a form posted from a page of the site
MILL = dict(country="CN", region="Zhejiang", categories=("socks",), materials=("cotton",), processes=("knitting",),
            moq=100, capacity=5_000, lead_time_days=10, quality=0.8)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    home = tmp_path_factory.mktemp("web")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TRENDLOOM_IMAGE_BACKEND", "flat")  # the procedural sketch: the pages, not the model, are tested
        app = create_app(Settings(home=home, decide_every_s=0))
    with TestClient(app):
        ws = app.state.workspace
        with transaction(ws.sessions) as s:
            trends.ingest_frame(s, make_trend_sample(ws.taxonomy, weeks=104).frame, ws.taxonomy, source="t")
            # S1 is the cheaper mill, so the allocation offers the order to S1
            production.import_factories(s, [Factory("S1", "Sock mill one", price_index=0.9, **MILL),
                                            Factory("S2", "Sock mill two", price_index=1.2, **MILL)])
            for login, role, extra in (("merch", "merchandiser", {}), ("buyer", "buyer", {}),
                                       ("buyer2", "buyer", {}), ("linguist", "buyer", {}), ("mill1", "factory", {"factory_id": "S1"}),
                                       ("mill2", "factory", {"factory_id": "S2"})):
                accounts.create_user(s, login, PASSWORD, role, **extra)
        yield app


def browser(site, login=None, lang="en") -> TestClient:
    """A client with its own cookies, signed in as `login` when given."""
    c = TestClient(site, headers={"Accept-Language": lang}, follow_redirects=False)
    if login:
        r = c.post("/login", data={"login": login, "password": PASSWORD}, headers=SAME_SITE)
        assert r.status_code == 303, r.text
    return c


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def post(c: TestClient, page: str, action: str, data: dict | None = None):
    """Submit a form of `page` (its CSRF token and Referer) and follow the redirect."""
    token = csrf(c.get(page).text)
    r = c.post(action, data={"csrf_token": token, **(data or {})}, headers={"Referer": f"http://testserver{page}"})
    assert r.status_code == 303, r.text
    return c.get(r.headers["location"])


def test_pages_need_a_sign_in_and_come_back_after_it(site):
    c = browser(site)
    assert c.get("/").headers["location"] == "/login"
    r = c.get("/merchandiser/trends?category=socks")
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/merchandiser/trends%3Fcategory%3Dsocks"
    r = c.post("/login", data={"login": "merch", "password": "wrong password", "next": "/merchandiser/trends"},
               headers=SAME_SITE)
    assert r.status_code == 401 and "Wrong login or password" in r.text and 'value="merch"' in r.text
    r = c.post("/login", data={"login": "merch", "password": PASSWORD, "next": "/merchandiser/trends"},
               headers=SAME_SITE)
    assert r.status_code == 303 and r.headers["location"] == "/merchandiser/trends"
    assert c.get("/").headers["location"] == "/merchandiser"
    r = browser(site).post("/login", data={"login": "buyer", "password": PASSWORD, "next": "//evil.example/x"},
                           headers=SAME_SITE)
    assert r.headers["location"].partition("?pt=")[0] == "/shop"  # only paths on this site (with the page token)


@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example"},  # the attacker's page posts the attacker's login and password
    {"Origin": "null"},  # the same from a sandboxed frame or a data: URL
    {"Origin": "http://testserver.evil.example"},
    {"Origin": "https://testserver"},  # another scheme or port is another site
    {"Origin": "http://testserver:8080"},
    {"Origin": "https://evil.example", "Referer": "http://testserver/login"},  # the Origin decides
    {"Referer": "https://evil.example/page"},  # no Origin (an old browser): the Referer decides
    {},  # neither (a script, or a page that suppressed the Referer): refused too
])
def test_a_sign_in_form_posted_from_another_site_is_refused(site, headers):
    c = browser(site)
    r = c.post("/login", data={"login": "buyer", "password": PASSWORD, "next": "/shop/preorders"}, headers=headers)
    assert r.status_code == 403 and "was not sent from this site&#39;s sign-in page" in r.text
    assert "trendloom_session" not in r.headers.get("set-cookie", "") and "trendloom_session" not in c.cookies
    assert c.get("/").headers["location"] == "/login"  # the browser is not signed in


def test_a_sign_in_form_posted_from_the_site_itself_works(site):
    for headers in (SAME_SITE, {"Origin": "http://TestServer:80"}, {"Referer": "http://testserver/login?next=/shop"}):
        c = browser(site)
        r = c.post("/login", data={"login": "buyer", "password": PASSWORD}, headers=headers)
        assert r.status_code == 303 and "trendloom_session=" in r.headers["set-cookie"], headers
        assert c.get("/").headers["location"] == "/shop"
    r = browser(site, lang="zh-CN").post("/login", data={"login": "buyer", "password": PASSWORD},
                                         headers={"Origin": "https://evil.example"})
    assert r.status_code == 403 and "此登录请求不是从本站的登录页面发出的" in r.text
    # the API's token endpoint answers JSON and sets no cookie: a browser's Origin does not matter to it
    r = TestClient(site).post("/api/v1/auth/token", json={"login": "buyer", "password": PASSWORD},
                              headers={"Origin": "https://evil.example"})
    assert r.status_code == 201 and r.json()["access_token"]


def test_each_role_sees_only_its_own_pages(site):
    buyer, factory = browser(site, "buyer"), browser(site, "mill1")
    for c, path in ((buyer, "/merchandiser"), (buyer, "/factory"), (factory, "/shop"), (factory, "/merchandiser/trends")):
        r = c.get(path)
        assert r.status_code == 403 and "may not open this page" in r.text, path
    r = buyer.get("/shop/designs/999999")
    assert r.status_code == 404 and "does not exist" in r.text and "design 999999 not found" in r.text
    r = buyer.get("/shop/nothing-here")
    assert r.status_code == 404 and "<html" in r.text
    assert buyer.get("/api/v1/designs/999999").json() == {"detail": "design 999999 not found"}  # the API keeps JSON
    r = buyer.post("/merchandiser/decide", data={"csrf_token": csrf(buyer.get("/shop").text)})
    assert r.status_code == 303 and "trendloom_flash" in r.headers["set-cookie"]


def test_forms_without_the_csrf_token_are_refused(site):
    c = browser(site, "merch")
    r = c.post("/merchandiser/generate", data={"n": 1}, headers={"Referer": "http://testserver/merchandiser/generate"})
    assert r.status_code == 303 and r.headers["location"] == "/merchandiser/generate"
    page = c.get(r.headers["location"]).text
    assert "CSRF" in page and 'class="flash error"' in page
    with site.state.workspace.sessions() as s:
        assert s.scalars(select(Design)).all() == []
    r = c.post("/logout", data={"csrf_token": "forged"})
    assert c.get("/merchandiser").status_code == 200  # still signed in


def test_the_language_follows_the_browser_until_the_user_picks_one(site):
    c = browser(site, "linguist", lang="zh-CN,zh;q=0.9,en;q=0.5")
    page = c.get("/shop").text
    assert '<html lang="zh-Hans">' in page and "虚拟商品" in page and "袜子" in page
    page = post(c, "/shop", "/language", {"lang": "en", "next": "/shop?category=socks"}).text
    assert '<html lang="en">' in page and "Virtual items" in page and 'value="socks" selected' in page
    with site.state.workspace.sessions() as s:
        assert s.scalar(select(User.language).where(User.login == "linguist")) == "en"
    post(c, "/shop", "/language", {"lang": "zh-CN"})
    # a new browser of the same user starts in the language the user picked
    other = browser(site, lang="en")
    r = other.post("/login", data={"login": "linguist", "password": PASSWORD}, headers=SAME_SITE)
    assert "trendloom_lang=zh-CN" in r.headers["set-cookie"]
    assert "虚拟商品" in other.get("/shop").text
    assert browser(site, lang="fr").get("/login").text.count("Sign in") >= 2  # English by default


def test_the_trend_report_draws_the_top_movers(site):
    c = browser(site, "merch")
    page = c.get("/merchandiser/trends").text
    assert page.count('<figure class="chart">') == 6 and page.count('class="band ') == 6
    assert "forecast for the next 26 weeks" in page
    page = c.get("/merchandiser/trends?category=socks", headers={"Accept-Language": "zh-CN"}).text
    assert "袜子" in page and "未来 26 周预测" in page
    r = c.get("/merchandiser/trends?category=spaceship")
    assert r.status_code == 422 and "unknown category" in r.text


def test_generate_edit_publish_preorder_match_and_produce(site):
    ws = site.state.workspace
    merch, buyer, other_buyer = browser(site, "merch"), browser(site, "buyer"), browser(site, "buyer2")
    mill1, mill2 = browser(site, "mill1"), browser(site, "mill2")

    page = post(merch, "/merchandiser/generate", "/merchandiser/generate",
                {"n": 1, "category": "socks", "color": "navy", "material": "cotton", "seed": 3}).text
    assert "Generated 1 draft designs" in page
    did = int(re.search(r'data-design="(\d+)"', page).group(1))
    review = f"/merchandiser/designs/{did}"
    assert buyer.get(f"/web/images/{did}/0").status_code == 404  # drafts are the merchandiser's
    assert merch.get(f"/web/images/{did}/0").headers["content-type"] == "image/png"

    page = post(merch, review, f"{review}/edit", {"name": "Cloud Walk Socks", "description": "Soft.",
                                                  "price": ["12.00", "13.00", "9.50"]}).text
    assert "a larger quantity may not cost more" in page and "Cloud Walk Socks" not in page
    page = post(merch, review, f"{review}/edit", {"name": "Cloud Walk Socks", "description": "Soft.",
                                                  "price": ["12.00", "10.50", "9.5"]}).text
    assert "Changes saved" in page and "Cloud Walk Socks" in page and "10.50" in page
    page = post(merch, review, f"{review}/publish").text
    assert "Published" in page and "under test" in page and 'id="edit"' not in page
    assert "Changes saved" not in merch.get(review).text  # a flash is shown once

    assert f'data-design="{did}"' in buyer.get("/shop").text
    assert f'data-design="{did}"' in buyer.get("/shop", params={"q": "cloud walk socks", "category": "socks"}).text
    # a buyer pays at least the MOQ's tier (24 pcs: 10.50); the 1-9 pcs tier (12.00) is not theirs to pay
    assert f'data-design="{did}"' in buyer.get("/shop", params={"max_price": "10.50"}).text
    assert f'data-design="{did}"' not in buyer.get("/shop", params={"max_price": "10.49"}).text
    detail = buyer.get(f"/shop/designs/{did}").text
    assert "10.50" in detail and "12.00" not in detail and "0 of 100 pcs committed" in detail
    page = post(buyer, f"/shop/designs/{did}", f"/shop/designs/{did}/favourite").text
    assert "Added to your favourites" in page
    page = post(buyer, f"/shop/designs/{did}", f"/shop/designs/{did}/preorder",
                {"quantity": 1, "idempotency_key": "k0"}).text
    assert "below this design&#39;s minimum order" in page

    key = re.search(r'name="idempotency_key" value="([^"]+)"', detail).group(1)
    for _ in range(2):  # a double submit of the same form places one pre-order
        r = buyer.post(f"/shop/designs/{did}/preorder", data={"csrf_token": csrf(detail), "quantity": 40,
                                                              "idempotency_key": key})
        assert r.status_code == 303
    mine = buyer.get("/shop/preorders").text
    assert "already placed" in mine and mine.count("data-preorder=") == 1
    (pid,) = re.findall(r'data-preorder="(\d+)"', mine)
    r = other_buyer.post(f"/shop/preorders/{pid}/cancel", data={"csrf_token": csrf(other_buyer.get("/shop").text)},
                         headers={"Referer": "http://testserver/shop/preorders"})
    assert "not found" in other_buyer.get(r.headers["location"]).text  # another buyer's pre-order
    page = post(buyer, "/shop/preorders", f"/shop/preorders/{pid}/cancel").text
    assert "Pre-order cancelled" in page and "cancelled" in page

    page = post(buyer, f"/shop/designs/{did}", f"/shop/designs/{did}/preorder",
                {"quantity": 100, "idempotency_key": "k1"}).text
    assert "Pre-order placed for 100 pcs" in page and "confirmed" in page  # the threshold is reached: won
    closed = html.unescape(buyer.get(f"/shop/designs/{did}").text)
    assert "Pre-orders are closed (target reached: going to a factory)." in closed  # buyer words, not "won"
    mine = html.unescape(buyer.get("/shop/preorders").text)
    assert "target reached: going to a factory" in mine and ">won<" not in mine
    inbox = html.unescape(buyer.get("/notices").text)  # the lifecycle's notice of the win, in buyer words
    assert "Cloud Walk Socks: target reached: going to a factory" in inbox
    assert "won" in html.unescape(merch.get("/notices").text)  # the merchandisers' inbox, in their words

    page = post(merch, "/merchandiser", "/merchandiser/match").text
    assert "Offered 1 orders to factories" in page
    with ws.sessions() as s:
        order = s.scalars(select(FactoryOrder).where(FactoryOrder.design_id == did)).one()
    assert order.factory_id == "S1" and order.quantity == 100
    assert f'data-order="{order.id}"' not in mill2.get("/factory").text
    page = post(mill2, "/factory", f"/factory/orders/{order.id}/accept").text
    assert "not found" in page  # another factory's order
    inbox = mill1.get("/factory").text
    assert f'data-order="{order.id}"' in inbox and "Cloud Walk Socks" in inbox and "knitting" in inbox
    assert mill1.get(f"/web/images/{did}/0").status_code == 200
    page = post(mill1, "/factory", f"/factory/orders/{order.id}/accept").text
    assert "Order accepted" in page
    page = post(mill1, "/factory", f"/factory/orders/{order.id}/status", {"status": "in_production",
                                                                         "idempotency_key": "k1"}).text
    assert "Production status updated" in page and "Pieces shipped" in page
    page = post(mill1, "/factory", f"/factory/orders/{order.id}/status",
                {"status": "shipped", "shipped_quantity": 101, "idempotency_key": "k2"}).text
    assert "shipped_quantity must be between 1 and the ordered 100 pcs" in page
    post(mill1, "/factory", f"/factory/orders/{order.id}/status",
         {"status": "shipped", "shipped_quantity": 98, "idempotency_key": "k3"})
    page = post(mill1, "/factory", f"/factory/orders/{order.id}/status",  # the same form sent again
                {"status": "shipped", "shipped_quantity": 98, "idempotency_key": "k3"}).text
    assert "This report was already recorded" in page
    with ws.sessions() as s:
        assert s.get(FactoryOrder, order.id).shipped_quantity == 98 and s.get(Design, did).status == "shipped"
        assert [p.status for p in s.scalars(select(PreOrder).where(PreOrder.design_id == did))] == ["cancelled", "confirmed"]

    page = post(mill1, "/factory/capacity", "/factory/capacity", {"capacity": 50}).text
    assert "capacity must be at least 100 pcs" in page
    page = post(mill1, "/factory/capacity", "/factory/capacity", {"capacity": 7000}).text
    assert "Capacity saved" in page and "7000 pcs" in page


def test_a_declined_order_goes_to_the_next_factory(site):
    ws = site.state.workspace
    merch, buyer, mill1, mill2 = (browser(site, u) for u in ("merch", "buyer", "mill1", "mill2"))
    page = post(merch, "/merchandiser/generate", "/merchandiser/generate",
                {"n": 1, "category": "socks", "color": "black", "material": "cotton", "seed": 11}).text
    did = int(re.search(r'data-design="(\d+)"', page).group(1))
    post(merch, f"/merchandiser/designs/{did}", f"/merchandiser/designs/{did}/publish")
    post(buyer, f"/shop/designs/{did}", f"/shop/designs/{did}/preorder", {"quantity": 100, "idempotency_key": "d1"})
    post(merch, "/merchandiser", "/merchandiser/match")
    with ws.sessions() as s:
        (order,) = s.scalars(select(FactoryOrder).where(FactoryOrder.design_id == did)).all()
    r = mill1.post(f"/factory/orders/{order.id}/decline", data={"csrf_token": csrf(mill1.get("/factory").text)})
    assert r.status_code == 303  # no reason: refused, back to the inbox with the message
    page = post(mill1, "/factory", f"/factory/orders/{order.id}/decline", {"reason": "Knitting line is full"}).text
    assert "Order declined" in page and "Declined: Knitting line is full" in page
    assert "Sock mill two" in mill2.get("/factory").text and f'data-design' not in mill2.get("/factory").text
    with ws.sessions() as s:
        again = s.scalars(select(FactoryOrder).where(FactoryOrder.design_id == did, FactoryOrder.status == "offered")).one()
    assert again.factory_id == "S2" and f'data-order="{again.id}"' in mill2.get("/factory").text
    with ws.sessions() as s:  # the note (who was offered, who declined) is the merchandisers' alone
        note = html.escape(s.get(Design, did).note, quote=False)
    assert note and note in merch.get(f"/merchandiser/designs/{did}").text
    assert note not in mill2.get("/factory").text and note not in buyer.get(f"/shop/designs/{did}").text


def test_the_dashboard_shows_designs_under_test_in_both_languages(site):
    merch = browser(site, "merch")
    page = post(merch, "/merchandiser/generate", "/merchandiser/generate", {"n": 1, "category": "socks", "color": "white", "material": "cotton", "seed": 21}).text
    assert "Generated 1 draft designs" in page, re.findall(r'class="flash[^"]*"[^>]*>([^<]*)', page)
    with site.state.workspace.sessions() as s:
        draft = s.scalars(select(Design).where(Design.status == "draft")).first()
    post(merch, f"/merchandiser/designs/{draft.id}", f"/merchandiser/designs/{draft.id}/publish")
    page = merch.get("/merchandiser").text
    assert f'data-design="{draft.id}"' in page and "P(reach)" in page and "0 of 100 pcs committed" in page
    page = merch.get("/merchandiser", headers={"Accept-Language": "zh-CN"}).text
    assert "测款中的设计" in page and "已预订 0 / 100 件" in page and "白色" in page and "袜子" in page


def _produced(site, shipped: int) -> int:
    """A socks design whose 200 pcs order at S1 has shipped `shipped` pcs (0: still in production)."""
    ws = site.state.workspace
    spec = DesignSpec(category="socks", color="navy", material="cotton", name="Harbour socks",
                      price_tiers=price_tiers(ws.taxonomy, "socks", "cotton", 0), moq=ws.taxonomy.category("socks").buyer_moq)
    with transaction(ws.sessions) as s:
        d = Design(name=spec.name, category="socks", spec=spec.to_dict(), images=[], production_threshold=200,
                   status="shipped" if shipped else "in_production")
        s.add(d)
        s.flush()
        s.add(FactoryOrder(design_id=d.id, factory_id="S1", quantity=200, unit_price_cents=300, due_date=utcnow().date(),
                           status="shipped" if shipped else "in_production", shipped_quantity=shipped))
        return d.id


def _sold(site, design_id: int) -> int:
    with site.state.workspace.sessions() as s:
        return s.scalar(select(func.coalesce(func.sum(Sale.quantity), 0)).where(Sale.design_id == design_id))


def _sales_form(c: TestClient, page: str) -> dict:
    """The sales report form's hidden fields, read from the design page."""
    html = c.get(page).text
    key = re.search(r'name="idempotency_key" value="([^"]+)"', html).group(1)
    return {"csrf_token": csrf(html), "idempotency_key": key}


def test_a_shipped_design_takes_sales_reports_once_per_form(site):
    merch = browser(site, "merch")
    made, shipped = _produced(site, 0), _produced(site, 200)
    page = merch.get(f"/merchandiser/designs/{made}").text
    assert 'id="sales"' not in page and 'id="report-sales"' not in page  # nothing shipped: nothing to sell
    review = f"/merchandiser/designs/{shipped}"
    page = merch.get(review).text
    assert 'id="report-sales"' in page and 'data-shipped="200"' in page and 'data-sold="0"' in page
    assert "a reorder is offered at 70%" in page and 'max="200"' in page
    assert "上报销量" in merch.get(review, headers={"Accept-Language": "zh-CN"}).text

    form = _sales_form(merch, review)
    r = merch.post(f"{review}/sales", data={**form, "quantity": "100"})
    assert r.status_code == 303 and r.headers["location"] == review
    page = merch.get(review).text
    assert "100 pcs recorded; sell-through 50% (100 of 200 pcs sold)." in page and 'data-sold="100"' in page
    r = merch.post(f"{review}/sales", data={**form, "quantity": "100"})  # the same form sent again
    page = merch.get(r.headers["location"]).text
    assert "already recorded; nothing was added" in page and "sell-through 50%" in page
    assert _sold(site, shipped) == 100

    form = _sales_form(merch, review)
    r = merch.post(f"{review}/sales", data={**form, "quantity": "150"})  # 250 sold > 200 shipped
    assert r.status_code == 422 and "250 pcs sold would exceed the 200 pcs shipped" in r.text
    assert re.search(r'name="quantity" value="150"', r.text) and 'role="alert"' in r.text
    r = merch.post(f"{review}/sales", data={**form, "quantity": "ten"})
    assert r.status_code == 422 and "not a whole number of pieces" in r.text and 'value="ten"' in r.text
    with site.state.workspace.sessions() as s:  # a refused report keeps nothing, not even its key
        assert s.get(IdempotencyRecord, (s.scalar(select(User.id).where(User.login == "merch")),
                                         f"web:{form['idempotency_key']}")) is None
    assert _sold(site, shipped) == 100

    r = merch.post(f"{review}/sales", data={**form, "quantity": "50"})  # 150 / 200 = 75%: a reorder of 150 pcs
    page = merch.get(r.headers["location"]).text
    assert ("50 pcs recorded; sell-through 75% (150 of 200 pcs sold); a reorder of 150 pcs was offered to "
            "Sock mill one.") in page
    assert 'data-reorder="2"' in page and "Reorder 2: 150 pcs, at 75% sell-through" in page
    assert "Sock mill one · 150 pcs" in page and 'data-sold="150"' in page
    with site.state.workspace.sessions() as s:
        (reorder,) = s.scalars(select(Reorder).where(Reorder.design_id == shipped)).all()
        assert (reorder.quantity, reorder.sold, reorder.shipped) == (150, 150, 200)

    r = merch.post(f"/merchandiser/designs/{made}/sales", data={**_sales_form(merch, review), "quantity": "5"})
    assert r.status_code == 409 and "has shipped nothing yet" in r.text and 'id="report-sales"' not in r.text
    assert _sold(site, made) == 0


def test_a_double_click_on_report_sales_records_one_report(site):
    merch = browser(site, "merch")
    review = f"/merchandiser/designs/{_produced(site, 100)}"
    form = {**_sales_form(merch, review), "quantity": "10"}
    answers: list[int] = []
    start = threading.Barrier(2)

    def send() -> None:
        start.wait()
        answers.append(merch.post(f"{review}/sales", data=form).status_code)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == [303, 303] and _sold(site, int(review.rsplit("/", 1)[1])) == 10


@pytest.mark.parametrize("login", ["buyer", "mill1"])
def test_only_merchandisers_report_sales(site, login):
    design_id = _produced(site, 100)
    c = browser(site, login)
    assert c.get(f"/merchandiser/designs/{design_id}").status_code == 403
    home = "/shop" if login == "buyer" else "/factory"
    r = c.post(f"/merchandiser/designs/{design_id}/sales", data={"csrf_token": csrf(c.get(home).text), "quantity": "10",
                                                                 "idempotency_key": "k"},
               headers={"Referer": f"http://testserver{home}"})
    assert r.status_code == 303 and r.headers["location"] == home  # refused, back with the reason
    assert "this page is for the merchandiser or admin role" in c.get(home).text
    assert _sold(site, design_id) == 0


@pytest.mark.parametrize(("text", "cents"), [("12", 1200), ("12.5", 1250), ("0.01", 1), (" 7.05 ", 705)])
def test_prices_typed_in_forms(text, cents):
    assert parse_money(text, "price") == cents


@pytest.mark.parametrize("text", ["", "abc", "1.005", "-3", "0", "NaN", "Infinity", "1e12", "12,50"])
def test_bad_prices_typed_in_forms(text):
    with pytest.raises(Invalid):
        parse_money(text, "price")


def test_chinese_pages_show_the_chinese_name_which_the_merchandiser_can_edit(site):
    """A draft stored before designs had Chinese copy is shown with copy written from its spec."""
    ws, merch = site.state.workspace, browser(site, "merch")
    spec = DesignSpec(category="socks", color="grey", material="cotton", silhouette="crew", name="Grey Crew Socks",
                      description="Grey cotton socks.", price_tiers=price_tiers(ws.taxonomy, "socks", "cotton", 0))
    old = {k: v for k, v in spec.to_dict().items() if k not in ("name_zh", "description_zh")}
    with transaction(ws.sessions) as s:
        d = Design(name=spec.name, category="socks", spec=old, images=[], status="draft")
        s.add(d)
        s.flush()
        review = f"/merchandiser/designs/{d.id}"
    zh = merch.get(review, headers={"Accept-Language": "zh-CN"}).text
    assert "<h1>灰色纯棉中筒袜子 " in zh and "<p>灰色纯棉袜子，中筒款。</p>" in zh
    assert "<h1>Grey Crew Socks " in merch.get(review).text  # English pages keep the English name
    prices = [f"{t.unit_price_cents / 100:.2f}" for t in spec.price_tiers]
    post(merch, review, f"{review}/edit", {"name": spec.name, "description": "Soft.", "name_zh": "云朵袜",
                                           "description_zh": "", "price": prices})
    zh = merch.get(review, headers={"Accept-Language": "zh-CN"}).text
    assert "<h1>云朵袜 " in zh and "<p>灰色纯棉袜子，中筒款。</p>" in zh  # left empty: written from the spec
    assert "<p>Soft.</p>" in merch.get(review).text


def test_a_search_that_finds_nothing_says_so_and_offers_what_is_open(site):
    merch = browser(site, "merch")
    made = post(merch, "/merchandiser/generate", "/merchandiser/generate",
                {"n": 1, "category": "socks", "color": "burgundy", "material": "cotton", "seed": 11}).text
    assert "Generated 1 draft designs" in made
    ws = site.state.workspace
    with ws.sessions() as s:
        draft = s.scalars(select(Design).where(Design.status == "draft").order_by(Design.id.desc())).first()
    post(merch, f"/merchandiser/designs/{draft.id}", f"/merchandiser/designs/{draft.id}/publish")
    page = browser(site, "buyer", lang="zh-CN").get("/shop", params={"q": "zzzqqq"}).text
    assert "没有与“zzzqqq”相符的商品。" in page and 'href="/shop?category=socks&amp;pt=' in page
    page = browser(site, "buyer").get("/shop", params={"q": "酒红色袜子"}).text
    assert "Nothing we offer matches" not in page and f"/shop/designs/{draft.id}" in page


def test_prices_carry_their_currency_in_the_page_language(site):
    zh = browser(site, "buyer", lang="zh-CN").get("/shop").text
    en = browser(site, "buyer").get("/shop").text
    assert re.search(r"¥\d", zh) and "CN¥" not in zh
    assert re.search(r"CN¥\d", en)


def test_the_trends_page_shows_what_buyers_asked_for_and_a_one_click_design_of_it(site):
    from app.services import interest, wants
    from app.services.search import query_of
    ws = site.state.workspace
    with transaction(ws.sessions) as s:
        for name, text in (("wants-a", "藏蓝灯芯绒帽衫"), ("wants-b", "navy corduroy hoodie"), ("wants-c", "qzqzqz"),
                           ("wants-d", "袜子 黄色")):
            b = interest.create_buyer(s, name, "shop").id
            wants.record_search(s, buyer_id=b, text=text, query=query_of(text, ws.language), results=[], now=utcnow())
    merch = browser(site, "merch")
    en = html.unescape(merch.get("/merchandiser/trends").text)
    section = en[en.index('id="wants"'):en.index("</table>", en.index('id="wants"'))]
    assert "What buyers asked for and could not find" in en
    rows = re.findall(r"<tr>\s*<td>(.*?)</td>\s*<td>(\d+)</td>(.*?)</tr>", section, re.S)  # other tests' wants too
    hoodie = next(r for r in rows if "corduroy" in r[0] and "hoodie" in r[0].lower())
    socks = next(r for r in rows if "yellow" in r[0].lower() and "socks" in r[0].lower())
    assert "navy" in hoodie[0] and hoodie[1] == "2" and "藏蓝灯芯绒帽衫" in hoodie[2]
    assert "<q>qzqzqz</q> (1)" in en
    # corduroy is no hoodie material in the taxonomy: the row says so instead of a button that makes nothing
    assert "corduroy is not offered on hoodie yet" in hoodie[2].lower() and "/merchandiser/generate" not in hoodie[2]
    form = socks[2][socks[2].index('action="/merchandiser/generate"'):]
    assert all(f'name="{k}" value="{v}"' in form for k, v in (("category", "socks"), ("color", "yellow")))
    zh = html.unescape(browser(site, "merch", lang="zh-CN").get("/merchandiser/trends").text)
    assert "买家想要但没找到的" in zh and "据此设计" in zh and "卫衣暂不提供灯芯绒" in zh
    before = {d.id for d in ws.sessions().scalars(select(Design))}
    page = post(merch, "/merchandiser/trends", "/merchandiser/generate",
         {"n": "1", "category": "socks", "color": "yellow"})  # what the form sends
    with ws.sessions() as s:
        made = [d for d in s.scalars(select(Design)) if d.id not in before]
    assert made and all((d.category, d.spec["color"]) == ("socks", "yellow") for d in made), re.findall(r"class=\"flash[^>]*>(.*?)<", page.text, re.S)

"""The storefront: filters, sorts and pages (the shop page and the buyer API), favourites, and the group
order of an item page."""

import html
import re
from dataclasses import replace
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.api.main import create_app
from app.db import make_engine, migrate, session_factory, transaction
from app.models import Design, Favourite, InterestEvent, User, utcnow
from app.services import accounts, designs, favourites, interest, production
from app.services.group_order import Tier, buyer_tiers
from app.settings import Settings
from generation.concepts.pricing import PriceTier, price_tiers
from generation.concepts.spec import DesignSpec
from matching.factories.registry import Factory

PASSWORD = "correct horse battery"
SAME_SITE = {"Origin": "http://testserver"}
# (name, colour, material, pattern, price factor): socks whose filters and sorts are known by hand
SOCKS = [("Navy stripe cotton", "navy", "cotton", "stripe", 1.0), ("Navy solid wool", "navy", "wool", "solid", 1.6),
         ("Red stripe cotton", "red", "cotton", "stripe", 0.8), ("Red check wool", "red", "wool", "check", 1.2),
         ("Black solid cotton", "black", "cotton", "solid", 0.9)]


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    home = tmp_path_factory.mktemp("storefront")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TRENDLOOM_IMAGE_BACKEND", "flat")
        app = create_app(Settings(home=home, decide_every_s=0))
    with TestClient(app):
        ws = app.state.workspace
        ids = {}
        with transaction(ws.sessions) as s:
            made = []
            for name, color, material, pattern, factor in SOCKS:
                tiers = tuple(replace(t, unit_price_cents=int(t.unit_price_cents * factor))
                              for t in price_tiers(ws.taxonomy, "socks", material, 0))
                spec = DesignSpec(category="socks", color=color, material=material, pattern=pattern, name=f"{name} socks",
                                  price_tiers=tiers, moq=ws.taxonomy.category("socks").buyer_moq)
                d = Design(name=spec.name, category="socks", spec=spec.to_dict(), status="draft", images=[])
                s.add(d)
                s.flush()
                made.append(d)
            production.import_factories(s, [Factory("S1", "Sock mill", country="CN", region="Zhejiang",
                                                    categories=("socks",), materials=("cotton", "wool"),
                                                    processes=("knitting", "printing", "dyeing", "weaving"), moq=100, capacity=5_000,
                                                    lead_time_days=10, quality=0.8, price_index=1.0)])
            for d in designs.publish(s, ws, [d.id for d in made], now=utcnow(), require_image=False):
                ids[d.name.removesuffix(" socks")] = d.id
            accounts.create_user(s, "buyer", PASSWORD, "buyer")
            user = accounts.create_user(s, "api-buyer", PASSWORD, "buyer")
            token = accounts.issue_token(s, user, utcnow(), timedelta(hours=1))
            buyer_id = user.buyer_id
        app.state.ids, app.state.token, app.state.buyer_id = ids, token, buyer_id
        yield app


def page_client(app, lang="en") -> TestClient:
    c = TestClient(app, headers={"Accept-Language": lang}, follow_redirects=False)
    assert c.post("/login", data={"login": "buyer", "password": PASSWORD}, headers=SAME_SITE).status_code == 303
    return c


def api(app) -> TestClient:
    return TestClient(app, headers={"Authorization": f"Bearer {app.state.token}"})


def shown(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-design="(\d+)"', page)]


def names(app, ids: list[int]) -> list[str]:
    by_id = {v: k for k, v in app.state.ids.items()}
    return [by_id[i] for i in ids]


def test_the_shop_filters_by_colour_material_and_pattern(shop):
    c = page_client(shop)
    assert sorted(names(shop, shown(c.get("/shop", params={"color": "red"}).text))) == ["Red check wool", "Red stripe cotton"]
    assert names(shop, shown(c.get("/shop", params={"color": "red", "material": "cotton"}).text)) == ["Red stripe cotton"]
    assert sorted(names(shop, shown(c.get("/shop", params={"pattern": "solid"}).text))) == ["Black solid cotton", "Navy solid wool"]
    assert names(shop, shown(c.get("/shop", params={"q": "socks", "pattern": "check"}).text)) == ["Red check wool"]
    assert shown(c.get("/shop", params={"color": "red", "pattern": "solid"}).text) == []
    assert c.get("/shop", params={"color": "plaid-ish"}).status_code == 422  # not a colour we know


def test_the_shop_sorts_by_price_progress_and_end(shop):
    c = page_client(shop)
    cheap_first = ["Red stripe cotton", "Black solid cotton", "Navy stripe cotton", "Red check wool", "Navy solid wool"]
    assert names(shop, shown(c.get("/shop", params={"sort": "price"}).text)) == cheap_first
    assert names(shop, shown(c.get("/shop", params={"sort": "price_desc"}).text)) == cheap_first[::-1]
    assert names(shop, shown(c.get("/shop", params={"q": "socks", "sort": "price"}).text)) == cheap_first
    # every design is at 0 committed and closes at the same time: ties keep the feed's order, all shown
    for sort in ("progress", "ending", "relevance"):
        assert sorted(shown(c.get("/shop", params={"sort": sort}).text)) == sorted(shop.state.ids.values())
    assert c.get("/shop", params={"sort": "cheapest"}).status_code == 422


def test_the_shop_pages_and_its_links_keep_the_other_parameters(shop, monkeypatch):
    from app.web import buyer_pages
    monkeypatch.setattr(buyer_pages, "PAGE_SIZE", 2)
    c = page_client(shop)
    first = c.get("/shop", params={"sort": "price", "material": "cotton"}).text
    assert names(shop, shown(first)) == ["Red stripe cotton", "Black solid cotton"]
    found = html.unescape(c.get("/shop", params={"q": "socks", "sort": "price"}).text)
    assert "Results for “socks”, page 1." in found and "2 results" not in found  # a page is not all there is
    assert "Results for “socks”, page 3." in html.unescape(c.get("/shop", params={"q": "socks", "page": 3}).text)
    nxt = html.unescape(re.search(r'<a rel="next" href="([^"]+)"', first).group(1))
    params = parse_qs(urlsplit(nxt).query)
    assert params["sort"] == ["price"] and params["material"] == ["cotton"] and params["page"] == ["2"] and params["pt"]
    second = c.get(nxt).text
    assert names(shop, shown(second)) == ["Navy stripe cotton"] and 'rel="next"' not in second
    prev = html.unescape(re.search(r'<a rel="prev" href="([^"]+)"', second).group(1))
    assert "page=" not in prev and "material=cotton" in prev
    # the feed's own order: the next page carries the first page's exploration seed
    feed1 = c.get("/shop").text
    link = html.unescape(re.search(r'<a rel="next" href="([^"]+)"', feed1).group(1))
    seed = parse_qs(urlsplit(link).query)["seed"]
    feed2 = c.get(link).text
    assert len(shown(feed2)) == 2 and parse_qs(urlsplit(html.unescape(
        re.search(r'<a rel="next" href="([^"]+)"', feed2).group(1))).query)["seed"] == seed


def test_the_sort_and_filter_labels_are_in_chinese(shop):
    page = page_client(shop, "zh-CN").get("/shop", params={"color": "red"}).text
    assert "价格从低到高" in page and "即将截止" in page and ">不限<" in page and 'value="red" selected>红色<' in page


def test_the_search_api_filters_sorts_and_pages(shop):
    c, ids = api(shop), shop.state.ids
    hits = c.get("/api/v1/search", params={"q": "socks"}).json()
    assert {h["design"]["id"] for h in hits} == set(ids.values())
    assert all({"id", "name", "category", "spec"} <= set(h["design"]) and "score" in h for h in hits)
    hits = c.get("/api/v1/search", params={"q": "socks", "color": "navy", "sort": "price"}).json()
    assert [h["design"]["id"] for h in hits] == [ids["Navy stripe cotton"], ids["Navy solid wool"]]
    page2 = c.get("/api/v1/search", params={"q": "socks", "sort": "price", "limit": 2, "page": 2}).json()
    assert [h["design"]["id"] for h in page2] == [ids["Navy stripe cotton"], ids["Red check wool"]]
    assert c.get("/api/v1/search", params={"q": "socks", "pattern": "paisley-ish"}).status_code == 422
    assert c.get("/api/v1/search", params={"q": "socks", "sort": "nope"}).status_code == 422


def test_the_feed_api_filters_sorts_and_pages(shop):
    c, ids, buyer = api(shop), shop.state.ids, shop.state.buyer_id
    got = c.get(f"/api/v1/buyers/{buyer}/feed", params={"material": "wool", "sort": "price_desc"}).json()
    assert [d["id"] for d in got] == [ids["Navy solid wool"], ids["Red check wool"]]
    got = c.get(f"/api/v1/buyers/{buyer}/feed", params={"sort": "price", "limit": 2, "page": 3}).json()
    assert [d["id"] for d in got] == [ids["Navy solid wool"]]
    one = c.get(f"/api/v1/buyers/{buyer}/feed", params={"limit": 3, "seed": 7}).json()
    two = c.get(f"/api/v1/buyers/{buyer}/feed", params={"limit": 3, "seed": 7, "page": 2}).json()
    assert {d["id"] for d in one} | {d["id"] for d in two} == set(ids.values())


def favourite_events(app, buyer_id: int, design_id: int) -> int:
    with app.state.workspace.sessions() as s:
        return s.scalar(select(func.count()).select_from(InterestEvent).where(
            InterestEvent.buyer_id == buyer_id, InterestEvent.design_id == design_id, InterestEvent.kind == "favourite"))


def test_favourite_records_each_change_once_through_the_api(shop):
    c, buyer, did = api(shop), shop.state.buyer_id, shop.state.ids["Navy solid wool"]
    url = f"/api/v1/buyers/{buyer}/favourites"
    assert c.put(f"{url}/{did}").json() == {"design_id": did, "favourite": True, "changed": True}
    assert c.put(f"{url}/{did}").json()["changed"] is False  # already one: nothing recorded
    assert favourite_events(shop, buyer, did) == 1
    assert [d["id"] for d in c.get(url).json()] == [did]
    assert c.delete(f"{url}/{did}").json() == {"design_id": did, "favourite": False, "changed": True}
    assert c.delete(f"{url}/{did}").json()["changed"] is False
    assert c.get(url).json() == [] and favourite_events(shop, buyer, did) == 1
    with shop.state.workspace.sessions() as s:
        row = s.get(Favourite, (buyer, did))
        assert row.active is False and row.changed_at >= row.since  # the un-favourite is recorded
    assert c.put(f"{url}/{did}").json()["changed"] is True and favourite_events(shop, buyer, did) == 2
    assert c.put(f"{url}/999999").status_code == 404
    c.delete(f"{url}/{did}")


def test_two_favourites_at_once_make_one_change(shop, race):
    buyer, did = shop.state.buyer_id, shop.state.ids["Red check wool"]
    now = utcnow()
    got = race(shop.state.workspace.sessions, [lambda s: str(favourites.flip(s, buyer, did, True, now))] * 2, refused=())
    assert sorted(got) == ["False", "True"]
    got = race(shop.state.workspace.sessions, [lambda s: str(favourites.flip(s, buyer, did, False, now))] * 2, refused=())
    assert sorted(got) == ["False", "True"]


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_the_favourite_button_toggles_and_the_list_shows_them(shop, lang):
    zh = lang == "zh-CN"
    c, did = page_client(shop, lang), shop.state.ids["Black solid cotton"]
    item = f"/shop/designs/{did}"
    page = c.get(item).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert 'aria-pressed="false"' in page and ("♡ 收藏" if zh else "♡ Favourite") in page

    def press(on: str, back: str = "") -> str:
        r = c.post(f"{item}/favourite", data={"csrf_token": token, "on": on, "back": back},
                   headers={"Referer": f"http://testserver{item}"})
        assert r.status_code == 303
        return c.get(r.headers["location"]).text

    with shop.state.workspace.sessions() as s:
        buyer = s.scalar(select(User.buyer_id).where(User.login == "buyer"))
    before = favourite_events(shop, buyer, did)
    page = press("true")
    assert 'aria-pressed="true"' in page and ("已收藏" if zh else "Favourited") in page
    press("true")  # a second click of the same button (a double submit): no second event
    assert favourite_events(shop, buyer, did) == before + 1
    mine = c.get("/shop/favourites").text
    assert f'data-design="{did}"' in mine and ("我的收藏" if zh else "My favourites") in mine
    mine = press("false", back="/shop/favourites")
    assert f'data-design="{did}"' not in mine and ("还没有收藏" if zh else "No favourites yet") in mine
    assert 'aria-pressed="false"' in c.get(item).text and favourite_events(shop, buyer, did) == before + 1


def test_buyer_tiers_start_at_the_moq():
    spec = DesignSpec(category="socks", color="navy", material="cotton", moq=24,
                      price_tiers=(PriceTier(1, 1000), PriceTier(10, 900), PriceTier(50, 800)))
    assert buyer_tiers(spec) == (Tier(24, 49, 900), Tier(50, None, 800))
    assert buyer_tiers(replace(spec, moq=10)) == (Tier(10, 49, 900), Tier(50, None, 800))
    assert buyer_tiers(replace(spec, moq=60)) == (Tier(60, None, 800),)


def test_the_group_order_on_the_item_page(shop):
    ws, did = shop.state.workspace, shop.state.ids["Red stripe cotton"]
    with ws.sessions() as s:
        page_buyer = s.scalar(select(User.buyer_id).where(User.login == "buyer"))
        moq, tiers = s.get(Design, did).spec["moq"], s.get(Design, did).spec["price_tiers"]
    assert (moq, [t["min_qty"] for t in tiers]) == (24, [1, 10, 50])
    with transaction(ws.sessions) as s:
        for buyer in (page_buyer, shop.state.buyer_id):
            interest.place_preorder(s, buyer, did, 24, utcnow())
    c = page_client(shop)
    page = c.get(f"/shop/designs/{did}").text
    price = {t["min_qty"]: t["unit_price_cents"] for t in tiers}
    money = lambda cents: f"CN¥{cents / 100:,.2f}"  # noqa: E731
    assert "Buyers joined: 2" in page and "Pieces committed: 48" in page
    assert f"2 more pcs to the next price: {money(price[50])} per piece" in page
    assert "1–9 pcs" not in page and "10–49 pcs" not in page and "24–49 pcs" in page and "50+ pcs" in page
    assert re.search(r"Closes in \d+ d \d+ h \d+ min", page)
    # 24 more pieces take the group to 72, the 50+ tier: the total is at that tier's price
    assert f"24 pcs at {money(price[50])} per piece: {money(24 * price[50])} in all" in page
    zh = page_client(shop, "zh-CN").get(f"/shop/designs/{did}").text
    assert "已有 2 位买家参团" in zh and "再凑 2 件即享下一档价格" in zh and re.search(r"距截止还有 \d+ 天", zh)
    r = api(shop).get(f"/api/v1/designs/{did}")
    assert r.status_code == 200


@pytest.mark.parametrize("path", ["/nothing-here", "/shop/nothing-here", "/no/such/page.html", "/favicon.png"])
def test_an_unknown_page_path_gets_the_styled_error_page_with_the_nav(shop, path):
    r = page_client(shop).get(path)
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert '<header class="top">' in r.text and 'href="/shop/preorders"' in r.text  # the signed-in buyer's nav
    zh = page_client(shop, "zh-CN").get(path)
    assert zh.status_code == 404 and "我的预订" in zh.text
    anonymous = TestClient(shop).get(path)
    assert anonymous.status_code == 404 and anonymous.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize("path", ["/api/v1/nothing", "/api/nothing", "/api"])
def test_an_unknown_api_path_keeps_json(shop, path):
    r = page_client(shop).get(path)
    assert r.status_code == 404 and r.headers["content-type"] == "application/json" and "detail" in r.json()


def test_the_pages_have_a_favicon(shop):
    c = page_client(shop)
    assert '<link rel="icon" href="/web/static/favicon.svg" type="image/svg+xml">' in c.get("/shop").text
    r = c.get("/favicon.ico")
    assert r.status_code == 301 and r.headers["location"] == "/web/static/favicon.svg"
    icon = c.get("/web/static/favicon.svg")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml") and b"<svg" in icon.content


def test_favourites_flip_once_per_change_on_postgres(pg_url):
    engine = make_engine(pg_url)
    migrate(engine)
    sessions = session_factory(engine)
    with transaction(sessions) as s:
        buyer = interest.create_buyer(s, "pg shop", "shop").id
        d = Design(name="Plain", category="socks", spec={}, status="published", images=[])
        s.add(d)
        s.flush()
        did = d.id
    now = utcnow()
    flips = []
    for on in (True, True, False, False, True):
        with transaction(sessions) as s:
            flips.append(favourites.flip(s, buyer, did, on, now))
    assert flips == [True, False, True, False, True]
    with sessions() as s:
        assert [d.id for d in favourites.favourite_designs(s, buyer)] == [did]
    engine.dispose()

"""The buyer's storefront in a real browser (Debian's Chromium through Playwright, the real server), in
English and Chinese: filters, sorts and pages; favourites; the group order; phone layouts."""

import re
from dataclasses import replace

import pytest
from playwright.sync_api import expect

from app.db import transaction
from app.models import Design, utcnow
from app.server_process import api_server
from app.services import accounts, designs, production
from app.settings import Settings
from app.workspace import Workspace
from generation.concepts.pricing import price_tiers
from generation.concepts.spec import DesignSpec
from generation.images.base import FlatSketchGenerator
from matching.factories.registry import Factory
from test_browser import CHROMIUM, ENV, LAPTOP, PASSWORD, browser, shot, sign_in  # noqa: F401

MILL = Factory("S1", "Sock mill", "CN", "Zhejiang", ("socks",), ("cotton", "wool"), ("knitting", "printing", "dyeing"),
               moq=100, capacity=5_000, lead_time_days=10, quality=0.8, price_index=1.0)
COLOURS = ("navy", "red", "black", "white", "grey", "pink", "green")
N = 26  # more than a page (24)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The real server with N published socks in several colours, materials and prices, and one buyer."""
    home = tmp_path_factory.mktemp("storefront")
    with pytest.MonkeyPatch.context() as mp:
        for k, v in ENV.items():
            mp.setenv(k, v)
        ws = Workspace.open(Settings(home=home))
    try:
        sketches = FlatSketchGenerator(ws.taxonomy, size=64)
        with transaction(ws.sessions) as s:
            production.import_factories(s, [MILL])
            made = []
            for i in range(N):
                material = ("cotton", "wool")[i % 2]
                color = COLOURS[i % len(COLOURS)]
                tiers = tuple(replace(t, unit_price_cents=t.unit_price_cents + 100 * i)
                              for t in price_tiers(ws.taxonomy, "socks", material, 0))
                spec = DesignSpec(category="socks", color=color, material=material, price_tiers=tiers,
                                  moq=ws.taxonomy.category("socks").buyer_moq, name=f"Sock {i:02d} {color} {material}")
                d = Design(name=spec.name, category="socks", spec=spec.to_dict(), status="draft", images=[])
                s.add(d)
                s.flush()
                sketches.generate(spec)[0].save(ws.settings.images_dir / f"design-{d.id}-0.png")
                d.images = [f"design-{d.id}-0.png"]
                made.append(d.id)
            designs.publish(s, ws, made, now=utcnow())
            accounts.create_user(s, "shop", PASSWORD, "buyer", display_name="Corner shop")
    finally:
        ws.close()
    with api_server(home, env=ENV) as url:
        yield url


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_a_buyer_filters_sorts_and_pages_the_shop(server, browser, locale):
    zh = locale == "zh-CN"
    page = sign_in(browser, server, "shop", locale=locale)
    page.select_option("select[name=color]", "red")
    page.select_option("select[name=sort]", "price_desc")
    expect(page.locator("select[name=sort] option:checked")).to_have_text("价格从高到低" if zh else "Price: high to low")
    page.click("form.filters button[type=submit]")
    cards = page.locator("article.item")
    expect(cards).to_have_count(4)  # socks 1, 8, 15, 22 are red
    names = cards.locator("h3 a").all_inner_texts()
    if not zh:
        assert [n.split()[1] for n in names] == ["22", "15", "08", "01"]  # dearest first
    expect(page.locator("select[name=color] option:checked")).to_have_text("红色" if zh else "red")
    shot(page, f"storefront-filtered-{locale}")
    # every design on two pages; the next page keeps the sort and the filters
    page.select_option("select[name=color]", "")
    page.select_option("select[name=sort]", "price")
    page.click("form.filters button[type=submit]")
    expect(cards).to_have_count(24)
    page.click("a[rel=next]")
    expect(cards).to_have_count(N - 24)
    expect(page.locator("nav.pager span")).to_have_text("第 2 页" if zh else "Page 2")
    assert re.search(r"sort=price(&|$)", page.url) and "page=2" in page.url
    expect(page.locator("select[name=sort] option:checked")).to_have_text("价格从低到高" if zh else "Price: low to high")
    page.click("a[rel=prev]")
    expect(cards).to_have_count(24)
    page.context.close()


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_the_favourite_button_toggles_and_my_favourites_lists_them(server, browser, locale):
    zh = locale == "zh-CN"
    page = sign_in(browser, server, "shop", locale=locale)
    page.locator("article.item h3 a").nth(2 if zh else 3).click()
    name = page.locator("h1").inner_text()
    button = page.locator("form.favourite button")
    expect(button).to_have_attribute("aria-pressed", "false")
    button.click()
    expect(page.locator(".flash.ok")).to_contain_text("已加入收藏" if zh else "Added to your favourites")
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(button).to_contain_text("已收藏" if zh else "Favourited")
    page.click("nav >> text=" + ("我的收藏" if zh else "My favourites"))
    expect(page.locator("h1")).to_have_text("我的收藏" if zh else "My favourites")
    expect(page.locator("article.item h3")).to_have_text([name])
    shot(page, f"favourites-{locale}")
    page.locator("article.item form.favourite button").click()
    expect(page.locator(".flash.ok")).to_contain_text("已从收藏中移除" if zh else "Removed from your favourites")
    expect(page.locator("article.item")).to_have_count(0)
    page.context.close()


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_the_group_order_shows_tiers_from_the_moq_and_the_total_for_the_typed_quantity(server, browser, locale):
    zh = locale == "zh-CN"
    page = sign_in(browser, server, "shop", locale=locale)
    page.locator("article.item h3 a").nth(5 if zh else 6).click()
    tiers = page.locator("#group table.tiers tbody td:first-child")
    expect(tiers).to_have_text(["24–49 件", "50 件以上"] if zh else ["24–49 pcs", "50+ pcs"])  # no 1–9 under a 24 MOQ
    expect(page.locator("[data-group=buyers]")).to_have_text("已有 0 位买家参团" if zh else "Buyers joined: 0")
    expect(page.locator("[data-group=countdown]")).to_contain_text("距截止还有" if zh else "Closes in")
    prices = page.locator("#group table.tiers tbody td:nth-child(2)").all_inner_texts()
    total = page.locator("[data-group=total]")
    page.fill("#preorder input[name=quantity]", "30")
    expect(total).to_contain_text(f"30 件，每件 {prices[0]}" if zh else f"30 pcs at {prices[0]} per piece")
    page.fill("#preorder input[name=quantity]", "60")  # the group would reach the 50+ tier
    expect(total).to_contain_text(f"60 件，每件 {prices[1]}" if zh else f"60 pcs at {prices[1]} per piece")
    shot(page, f"group-order-{locale}")
    page.fill("#preorder input[name=quantity]", "24")
    page.click("#preorder button[type=submit]")
    page.wait_for_url("**/shop/preorders")
    page.go_back()
    page.reload()
    expect(page.locator("[data-group=buyers]")).to_have_text("已有 1 位买家参团" if zh else "Buyers joined: 1")
    expect(page.locator("[data-group=next]")).to_contain_text("再凑 26 件" if zh else "26 more pcs to the next price")
    page.context.close()


PHONE_375 = {"width": 375, "height": 740}


def no_sideways_scroll(page) -> None:
    wide, inner = page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
    assert wide <= inner, f"{page.url}: {wide} px wide on a {inner} px screen"


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_every_buyer_page_fits_a_phone(server, browser, locale):
    zh = locale == "zh-CN"
    page = sign_in(browser, server, "shop", viewport=PHONE_375, locale=locale)
    no_sideways_scroll(page)
    for path in ("/shop?q=socks", "/shop?color=red&sort=price", "/shop?q=zzzqqq", "/shop?sort=price&page=2",
                 "/shop/favourites", "/shop/nothing-here", "/no/such/page"):
        page.goto(path)
        expect(page.locator("h1")).to_be_visible()
        no_sideways_scroll(page)
    expect(page.locator("header nav")).to_contain_text("我的预订" if zh else "My pre-orders")  # the error page has the nav
    page.goto("/shop")
    page.locator("article.item h3 a").nth(10 if zh else 11).click()
    no_sideways_scroll(page)
    shot(page, f"phone-item-{locale}")
    page.click("#preorder button[type=submit]")
    page.wait_for_url("**/shop/preorders")
    no_sideways_scroll(page)
    cancel = page.locator("tr[data-preorder] form button").first
    expect(cancel).to_have_text("取消" if zh else "Cancel")
    box = cancel.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE_375["width"]
    expect(cancel).to_be_in_viewport()
    shot(page, f"phone-preorders-{locale}")
    page.context.close()

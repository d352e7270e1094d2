"""Each role's main journey in a real browser: Debian's Chromium, driven by Playwright, against the
real server (a uvicorn process) on a fresh workspace. Screenshots go to test-output/screenshots/.

The merchandiser generates a design and publishes it; a buyer finds it by search and pre-orders the
whole production threshold; the merchandiser offers the winner to factories; the factory accepts
it. The trend report is checked in Chinese, the language the browser asks for, and switched to English.
"""

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from app.db import transaction
from app.server_process import api_server
from app.services import accounts, production, trends
from app.settings import Settings
from app.workspace import Workspace
from generation.trends.synthetic import make_trend_sample
from matching.factories.registry import Factory

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
PASSWORD = "browser test password"
ENV = {"TRENDLOOM_IMAGE_BACKEND": "flat", "TRENDLOOM_DECIDE_EVERY_S": "0"}
LAPTOP, PHONE = {"width": 1280, "height": 860}, {"width": 390, "height": 844}
SOCK_MILL = Factory("S1", "Sock mill", "CN", "Zhejiang", ("socks",), ("cotton",), ("knitting",), moq=100,
                    capacity=5_000, lead_time_days=10, quality=0.8, price_index=1.0)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The real server on a workspace with trend data, one sock mill and one user per role."""
    home = tmp_path_factory.mktemp("browser")
    with pytest.MonkeyPatch.context() as mp:
        for k, v in ENV.items():
            mp.setenv(k, v)
        ws = Workspace.open(Settings(home=home))
    try:
        with transaction(ws.sessions) as s:
            trends.ingest_frame(s, make_trend_sample(ws.taxonomy, weeks=104).frame, ws.taxonomy, source="sample")
            production.import_factories(s, [SOCK_MILL])
            accounts.create_user(s, "merch", PASSWORD, "merchandiser", display_name="Mia")
            accounts.create_user(s, "shop", PASSWORD, "buyer", display_name="Corner shop")
            accounts.create_user(s, "mill", PASSWORD, "factory", display_name="Sock mill", factory_id="S1")
    finally:
        ws.close()
    with api_server(home, env=ENV) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail("the browser tests need Debian's Chromium at /usr/bin/chromium: apt-get install chromium "
                    "(.ci/run installs it)")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                              args=["--no-sandbox", "--disable-background-networking"])
        yield b
        b.close()


def sign_in(browser: Browser, url: str, login: str, *, viewport=LAPTOP, locale="en-US") -> Page:
    page = browser.new_context(base_url=url, viewport=viewport, locale=locale).new_page()
    page.set_default_timeout(20_000)
    page.goto("/login")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(re.compile(r"/(merchandiser|shop|factory)(\?pt=[0-9a-f]+)?$"))  # the shop's page token
    return page


def shot(page: Page, name: str) -> None:
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


def test_a_design_goes_from_the_merchandiser_to_a_buyer_to_the_factory(server, browser):
    # The merchandiser reads the trends, generates a pinned design, renames it and publishes it.
    merch = sign_in(browser, server, "merch")
    merch.click("nav >> text=Trends")
    expect(merch.locator("figure.chart").first).to_be_visible()
    assert merch.locator("figure.chart svg polygon.band").count() == merch.locator("figure.chart").count() > 0
    shot(merch, "merchandiser-trends")
    merch.click("nav >> text=Generate")
    merch.fill("input[name=n]", "1")
    merch.select_option("select[name=category]", "socks")
    merch.select_option("select[name=color]", "navy")
    merch.select_option("select[name=material]", "cotton")
    merch.click("text=Generate >> nth=-1")
    merch.wait_for_url("**/merchandiser/designs?status=draft")
    expect(merch.locator(".flash.ok")).to_contain_text("Generated 1 draft designs")
    merch.locator("article.item h3 a").first.click()
    expect(merch.locator(".gallery img").first).to_be_visible()
    assert merch.locator(".gallery img").first.evaluate("img => img.naturalWidth") > 0
    merch.fill("input[name=name]", "Cloud Walk Socks")
    merch.click("text=Save changes")
    expect(merch.locator(".flash.ok")).to_contain_text("Changes saved")
    merch.click("form.publish button")
    expect(merch.locator(".flash.ok")).to_contain_text("Published")
    expect(merch.locator("h1")).to_contain_text("Cloud Walk Socks")
    expect(merch.locator("h1 .badge")).to_have_text("under test")
    shot(merch, "merchandiser-published")

    # A buyer on a phone finds it by search and pre-orders the whole threshold (100 pcs): it wins.
    buyer = sign_in(browser, server, "shop", viewport=PHONE)
    buyer.fill("input[name=q]", "navy cotton socks cloud walk")
    buyer.click("text=Find")
    card = buyer.locator("article.item", has_text="Cloud Walk Socks")
    expect(card).to_be_visible()
    shot(buyer, "buyer-search")
    card.locator("h3 a").click()
    expect(buyer.locator(".progress + small")).to_have_text("0 of 100 pcs committed")
    buyer.fill("input[name=quantity]", "100")
    buyer.click("text=Pre-order >> nth=-1")
    buyer.wait_for_url("**/shop/preorders")
    expect(buyer.locator(".flash.ok")).to_contain_text("Pre-order placed for 100 pcs")
    expect(buyer.locator("tr[data-preorder] .badge.confirmed")).to_have_count(1)
    shot(buyer, "buyer-preorders")

    # The merchandiser offers the winner to factories; the sock mill accepts the order.
    merch.click("nav >> text=Dashboard")
    merch.click("text=Offer 1 winners to factories")
    expect(merch.locator(".flash.ok")).to_contain_text("Offered 1 orders to factories")
    factory = sign_in(browser, server, "mill")
    order = factory.locator("article.order", has_text="Cloud Walk Socks")
    expect(order).to_contain_text("100 pcs")
    assert order.locator(".gallery img").first.evaluate("img => img.naturalWidth") > 0
    order.locator("text=Accept").click()
    expect(factory.locator(".flash.ok")).to_contain_text("Order accepted")
    expect(factory.locator("article.order .badge.accepted")).to_have_count(1)
    shot(factory, "factory-accepted")
    for page in (merch, buyer, factory):
        page.context.close()


def test_pages_speak_the_browsers_chinese_until_the_user_switches(server, browser):
    merch = sign_in(browser, server, "merch", locale="zh-CN")
    merch.click("nav >> text=趋势")
    expect(merch.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(merch.locator("h1")).to_have_text("趋势报告")
    expect(merch.locator("figure.chart figcaption").first).to_contain_text(re.compile("上升|下降"))
    expect(merch.locator("table.data td small").first).to_contain_text("未来 26 周预测")
    merch.select_option("select[name=category]", "socks")
    merch.click("text=应用")
    expect(merch.locator("select[name=category] option:checked")).to_have_text("袜子")
    expect(merch.locator("figure.chart figcaption").first).to_contain_text("袜子")
    shot(merch, "merchandiser-trends-zh")
    merch.click("text=English")
    expect(merch.locator("h1")).to_have_text("Trend report")
    expect(merch.locator("select[name=category] option:checked")).to_have_text("socks")
    merch.click("nav >> text=Dashboard")
    expect(merch.locator("h1")).to_have_text("Designs under test")  # the pick is remembered
    merch.context.close()

"""What buyers read: designs composed from real trend data carry trendloom's evidence ("Why now: mustard
+105% year on year (95% interval ...)"); no buyer page or buyer API field shows it, or any trend
statistic, and Chinese pages show the Chinese name and description."""

import html
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from app.api.main import create_app
from app.db import transaction
from app.models import utcnow
from app.sample import write_sample
from app.services import accounts, production
from app.settings import Settings
from matching.factories.registry import read_factories_csv

V1 = "/api/v1"
PASSWORD = "correct horse battery"
# trend statistics and analytics words, in both languages
STATISTICS = re.compile(r"Why now|interval|year on year|[+−-]\d+(\.\d+)?\s*%|forecast|\btrends?\b|evidence|p_reach|"
                        r"为什么是现在|区间|同比|预测|趋势|置信", re.IGNORECASE)


@pytest.fixture(scope="module")
def market(tmp_path_factory, clients_of):
    home = tmp_path_factory.mktemp("copy")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TRENDLOOM_IMAGE_BACKEND", "flat")
        app = create_app(Settings(home=home, decide_every_s=0))
    with TestClient(app):
        ws = app.state.workspace
        clients = clients_of(app)
        merch = clients.new("merchandiser")
        files = write_sample(ws.taxonomy, home / "sample", n_factories=240, n_posts=10)
        with files.trends.open("rb") as fh:
            assert merch.post(f"{V1}/merchandiser/trends", files={"file": ("trends.csv", fh, "text/csv")}).status_code == 201
        with transaction(ws.sessions) as s:
            production.import_factories(s, read_factories_csv(files.factories, known_categories=ws.taxonomy.categories))
            user = accounts.create_user(s, "shopper", PASSWORD, "buyer")
            token = accounts.issue_token(s, user, utcnow(), timedelta(hours=1))
            buyer_id = user.buyer_id
        drafts = merch.post(f"{V1}/merchandiser/designs/generate", json={"n": 8, "seed": 3}).json()
        published = [merch.post(f"{V1}/merchandiser/designs/{d['id']}/publish") for d in drafts]
        ids = [r.json()["id"] for r in published if r.status_code == 200]
        assert len(ids) >= 4
        app.state.merch, app.state.ids, app.state.buyer = merch, ids, (buyer_id, token)
        yield app


def pages(app, lang: str) -> TestClient:
    c = TestClient(app, headers={"Accept-Language": lang}, follow_redirects=False)
    assert c.post("/login", data={"login": "shopper", "password": PASSWORD},
                  headers={"Origin": "http://testserver"}).status_code == 303
    return c


def visible_text(page: str) -> str:
    """The text of a page a person reads (tags, scripts and attribute values other than alt/title out)."""
    page = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", page, flags=re.DOTALL)
    shown = " ".join(re.findall(r'(?:alt|title|aria-label|placeholder)="([^"]*)"', page))
    return html.unescape(re.sub(r"<[^>]+>", " ", page) + " " + shown)


def test_the_designs_carry_trend_evidence_for_staff(market):
    staff = market.state.merch.get(f"{V1}/merchandiser/designs/{market.state.ids[0]}").json()
    assert "Why now:" in staff["description"] and staff["spec"]["evidence"]  # what the buyer must not see


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_no_buyer_page_shows_trend_statistics(market, lang):
    c, ids = pages(market, lang), market.state.ids
    c.post(f"/shop/designs/{ids[0]}/favourite", data={"csrf_token": re.search(
        r'name="csrf_token" value="([^"]+)"', c.get("/shop").text).group(1)}, headers={"Referer": "http://testserver/shop"})
    paths = ["/shop", "/shop?q=cotton", "/shop?sort=ending", "/shop/favourites", "/shop/preorders",
             *(f"/shop/designs/{i}" for i in ids)]
    for path in paths:
        r = c.get(path)
        assert r.status_code == 200, path
        found = STATISTICS.search(visible_text(r.text))
        assert found is None, f"{path}: {found.group(0)!r} in {visible_text(r.text)[max(0, found.start() - 80):found.end() + 80]!r}"


def test_no_buyer_api_field_carries_trend_statistics(market):
    (buyer_id, token), ids = market.state.buyer, market.state.ids
    c = TestClient(market, headers={"Authorization": f"Bearer {token}"})
    c.put(f"{V1}/buyers/{buyer_id}/favourites/{ids[0]}")
    answers = [c.get(f"{V1}/designs/{i}").json() for i in ids]
    answers += [h["design"] for h in c.get(f"{V1}/search", params={"q": "cotton"}).json()]
    answers += c.get(f"{V1}/buyers/{buyer_id}/feed").json() + c.get(f"{V1}/buyers/{buyer_id}/favourites").json()
    assert len(answers) > len(ids)
    for d in answers:
        assert "evidence" not in d["spec"] and d["note"] is None and d["interest"] is None
        text = repr({k: v for k, v in d.items() if k != "image_urls"})
        found = STATISTICS.search(text)
        assert found is None, f"design {d['id']}: {found.group(0)!r} in {text[max(0, found.start() - 80):found.end() + 80]!r}"


def test_chinese_pages_name_and_describe_designs_in_chinese(market):
    zh, en = pages(market, "zh-CN"), pages(market, "en")
    (_, token), ids = market.state.buyer, market.state.ids
    api = TestClient(market, headers={"Authorization": f"Bearer {token}"})
    for i in ids:
        d = api.get(f"{V1}/designs/{i}").json()
        assert re.search(r"[\u4e00-\u9fff]", d["name_zh"]) and re.search(r"[\u4e00-\u9fff]", d["description_zh"])
        page = visible_text(zh.get(f"/shop/designs/{i}").text)
        assert d["name_zh"] in page and d["description_zh"] in page and d["name"] not in page
        english = visible_text(en.get(f"/shop/designs/{i}").text)
        assert d["name"] in english and d["name_zh"] not in english
    feed = visible_text(zh.get("/shop").text)
    assert all(api.get(f"{V1}/designs/{i}").json()["name"] not in feed for i in ids)

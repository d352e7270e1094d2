"""The merchandiser's factory page: every factory with its country, what is known and what is estimated,
in English and Chinese, and the product-type correction form."""

import re

import pytest
from fastapi.testclient import TestClient

from app.api.main import create_app
from app.db import transaction
from app.services import accounts, factory_registry
from app.settings import Settings

PASSWORD = "correct horse battery"
LIST = """Factory Name,Country,Product Type,Number of Workers,Facility Type
Haining Hosiery Co.,China,Socks,690,
Dhaka Knit Composite,BD,Knitwear,,
Shaoxing Fabric Mill,CN,Socks,300,Fabric mill
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TRENDLOOM_IMAGE_BACKEND", "flat")
        app = create_app(Settings(home=tmp_path_factory.mktemp("registry-page"), decide_every_s=0))
    with TestClient(app):
        ws = app.state.workspace
        with transaction(ws.sessions) as s:
            factory_registry.import_registry(s, text=LIST, file="list.csv", taxonomy=ws.taxonomy, language=ws.language)
            accounts.create_user(s, "merch", PASSWORD, "merchandiser")
            accounts.create_user(s, "shopper", PASSWORD, "buyer")
        yield app


def _browser(site, login, lang="en") -> TestClient:
    c = TestClient(site, headers={"Accept-Language": lang}, follow_redirects=False)
    assert c.post("/login", data={"login": login, "password": PASSWORD},
                  headers={"Origin": "http://testserver"}).status_code == 303
    return c


def test_the_page_lists_factories_with_what_is_known_and_estimated_in_both_languages(site):
    en = _browser(site, "merch").get("/merchandiser/factories")
    assert en.status_code == 200
    page = en.text
    assert "Haining Hosiery Co." in page and "3 factories in 2 countries" in page
    assert "690 workers × 4000 pcs/worker/month (socks)" in page and "estimated" in page
    assert "100 workers assumed (none given)" in page and "material supplier" in page
    assert 'href="/merchandiser/factories"' in page  # in the navigation
    zh = _browser(site, "merch", "zh-CN").get("/merchandiser/factories?country=cn").text
    assert "共 3 家工厂" in zh and "690 名工人 × 每人每月 4000 件（袜子）" in zh and "面辅料供应商" in zh
    assert "Dhaka Knit Composite" not in zh  # only China's


def test_a_product_type_is_corrected_on_the_page(site):
    c = _browser(site, "merch")
    page = c.get("/merchandiser/factories").text
    assert re.search(r"<td>knitwear</td>\s*<td>product type</td>", page)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    r = c.post("/merchandiser/factories/mapping", data={"csrf_token": token, "term": "Knitwear",
                                                       "category": ["t-shirt", "hoodie"]},
               headers={"Referer": "http://testserver/merchandiser/factories"})
    assert r.status_code == 303
    after = c.get(r.headers["location"]).text
    assert "Saved what “knitwear” means; 1 factories changed." in after
    assert re.search(r"Dhaka Knit Composite.*?</td>\s*<td>BD</td>\s*<td>t shirt, hoodie</td>", after, re.DOTALL)


def test_only_merchandisers_see_it(site):
    assert _browser(site, "shopper").get("/merchandiser/factories").status_code == 403

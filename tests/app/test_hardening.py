"""The low findings of issue 16, each as a class: every JSON body refuses NaN, Infinity, lone surrogates and
deep nesting with 422 (the sign-in endpoint included); pages carry security headers and a CSP they
satisfy; buyers and factories see no trend statistics, factories no buyer tier prices; a link from
another site records nothing; racing production reports lose nothing."""

import re
from datetime import timedelta
from functools import partial
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.api.guards import CSP
from app.api.main import create_app
from app.db import make_engine, migrate, session_factory, transaction
from app.errors import Conflict
from app.models import Design, FactoryOrder, FactoryRow, InterestEvent, ServedImpression, utcnow
from app.services import accounts, designs, production, trends
from app.settings import Settings
from generation.trends.synthetic import make_trend_sample
from matching.factories.synthetic import make_factory_registry

PASSWORD = "correct horse battery"
SAME_SITE = {"Origin": "http://testserver"}
TEMPLATES = Path(__file__).resolve().parents[2] / "app" / "web" / "templates"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    app = create_app(Settings(home=tmp_path_factory.mktemp("hardening"), decide_every_s=0))
    with TestClient(app):
        ws = app.state.workspace
        with transaction(ws.sessions) as s:
            production.import_factories(s, make_factory_registry(60))
            trends.ingest_frame(s, make_trend_sample(ws.taxonomy, weeks=104, seed=2).frame, ws.taxonomy, source="t")
            made = designs.generate(s, ws.taxonomy, ws.images, ws.settings.images_dir, n=1, cost_share=ws.settings.cost_share)
            designs.publish(s, ws, [made[0].id], now=utcnow())
            for login, role in (("root", "admin"), ("merch", "merchandiser"), ("shop", "buyer")):
                accounts.create_user(s, login, PASSWORD, role)
            app.state.design_id = made[0].id
        yield app


def api(app, login: str | None) -> TestClient:
    c = TestClient(app)
    if login:
        token = c.post("/api/v1/auth/token", json={"login": login, "password": PASSWORD}).json()["access_token"]
        c.headers["Authorization"] = f"Bearer {token}"
    return c


def browser(app, login: str) -> TestClient:
    c = TestClient(app, follow_redirects=False)
    assert c.post("/login", data={"login": login, "password": PASSWORD}, headers=SAME_SITE).status_code == 303
    return c


HOSTILE = {
    "NaN": b'{"login": "root", "password": NaN}',
    "Infinity": b'{"quantity": Infinity, "design_id": -Infinity}',
    "lone surrogate": b'{"login": "root", "password": "\\ud800\\udfff\\ud800"}',
    "surrogate key": b'{"\\udc00": 1}',
    "deep": b'{"a": ' * 200 + b"1" + b"}" * 200,
    "very deep": b"[" * 100_000 + b"]" * 100_000,
}


@pytest.mark.parametrize("body", HOSTILE.values(), ids=list(HOSTILE))
def test_every_json_body_refuses_what_is_not_json_text_with_422(site, body):
    admin = api(site, "root")
    paths = site.openapi()["paths"]
    posted = [(m.upper(), p) for p, ops in paths.items() for m, op in ops.items()
              if "application/json" in op.get("requestBody", {}).get("content", {})]
    assert ("POST", "/api/v1/auth/token") in posted and len(posted) >= 10
    for method, path in posted:
        url = re.sub(r"\{\w+\}", "1", path)
        for client in (admin, api(site, None)):  # signed in, and not (the sign-in endpoint)
            r = client.request(method, url, content=body, headers={"Content-Type": "application/json"})
            assert r.status_code in (401, 403, 422), (method, path, r.status_code, r.text[:200])
            if client is admin or path == "/api/v1/auth/token":
                assert r.status_code == 422, (method, path, r.text[:200])


def test_a_sign_in_form_with_undecodable_bytes_is_not_a_server_error(site):
    r = TestClient(site).post("/login", content=b"login=root&password=%ED%A0%80%FF", headers={
        **SAME_SITE, "Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code < 500


def test_pages_and_api_answers_carry_the_security_headers(site):
    web = browser(site, "merch")
    for path in ("/merchandiser", "/merchandiser/trends", "/login", "/api/v1/me", "/web/static/style.css"):
        r = web.get(path)
        assert r.headers["X-Frame-Options"] == "DENY" and r.headers["X-Content-Type-Options"] == "nosniff", path
        assert r.headers["Referrer-Policy"] == "same-origin" and r.headers["Content-Security-Policy"] == CSP, path
    assert "frame-ancestors 'none'" in CSP and "'unsafe-inline'" not in CSP
    docs = TestClient(site).get("/docs")
    assert docs.headers["Content-Security-Policy"] == "frame-ancestors 'none'"  # Swagger UI's CDN script stays allowed


def test_the_pages_satisfy_their_csp_no_inline_script_style_or_handler():
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), template  # a script only from a file
        assert "<style" not in text and not re.search(r"\sstyle=", text), template
        assert not re.search(r"\son[a-z]+=", text), template
        assert "javascript:" not in text, template


def test_buyers_and_factories_see_no_trend_statistics_and_factories_no_tier_prices(site):
    did = site.state.design_id
    with site.state.workspace.sessions() as s:
        d = s.get(Design, did)
        assert d.spec["evidence"] and "Why now:" in d.spec["description"]  # what staff see
    buyer = api(site, "shop").get(f"/api/v1/designs/{did}").json()
    assert "evidence" not in buyer["spec"] and "Why now" not in buyer["description"] + buyer["spec"]["description"]
    assert buyer["spec"]["price_tiers"]
    staff = api(site, "merch").get(f"/api/v1/merchandiser/designs/{did}").json()
    assert staff["spec"]["evidence"] and "Why now" in staff["description"]
    shop_page = browser(site, "shop").get(f"/shop/designs/{did}").text
    assert "Why now" not in shop_page and "year on year" not in shop_page
    from app.api.schemas import DesignOut

    with site.state.workspace.sessions() as s:
        seen = DesignOut.of(s.get(Design, did), taxonomy=site.state.workspace.taxonomy, viewer="factory")
    assert "price_tiers" not in seen.spec and "evidence" not in seen.spec and "Why now" not in seen.description


def test_a_link_from_another_site_to_the_shop_records_nothing(site):
    ws = site.state.workspace
    shop = browser(site, "shop")

    def recorded() -> tuple[int, int]:
        with ws.sessions() as s:
            return (s.scalar(select(func.count()).select_from(InterestEvent)) or 0,
                    s.scalar(select(func.count()).select_from(ServedImpression)) or 0)

    before = recorded()
    did = site.state.design_id
    for path in ("/shop", "/shop?q=socks", f"/shop/designs/{did}", "/shop?pt=guessed", f"/shop/designs/{did}?pt=x"):
        assert shop.get(path, headers={"Referer": "https://evil.example/"}).status_code == 200
    assert recorded() == before
    page = shop.get("/shop").text
    link = re.search(r'href="(/shop/designs/\d+\?pt=[0-9a-f]+)"', page) or re.search(r'href="(/shop\?pt=[0-9a-f]+)"', page)
    assert link, "the shop's own links carry the page token"
    pt = re.search(r"pt=([0-9a-f]+)", link.group(1)).group(1)
    assert shop.get(f"/shop/designs/{did}?pt={pt}").status_code == 200
    events, served = recorded()
    assert events == before[0] + 2 and served <= before[1] + 1  # viewed and clicked, as served
    other = browser(site, "shop")  # another session's token is not this one's
    assert other.get(f"/shop?pt={pt}").status_code == 200 and recorded() == (events, served)


# --- racing production reports ---------------------------------------------------------------------

def _ship(order_id: int, quantity: int, s) -> str:
    production.update_status(s, "F1", order_id, "shipped", quantity)
    return f"shipped {quantity}"


def _race_shipped(url: str, race) -> tuple[list[str], int]:
    engine = make_engine(url)
    migrate(engine)
    sessions = session_factory(engine)
    with transaction(sessions) as s:
        s.add(FactoryRow(id="F1", name="Mill", country="CN", region="Zhejiang", categories=["socks"],
                         materials=["cotton"], processes=["knitting"], moq=100, capacity=5000, lead_time_days=10,
                         quality=0.8, price_index=1.0))
        design = Design(name="d", category="socks", spec={}, status="in_production")
        s.add(design)
        s.flush()
        order = FactoryOrder(design_id=design.id, factory_id="F1", quantity=100, unit_price_cents=100,
                             due_date=utcnow().date() + timedelta(days=30), status="in_production")
        s.add(order)
        s.flush()
        oid = order.id
    outcome = race(sessions, [partial(_ship, oid, q) for q in (60, 70, 80, 90, 100)], refused=(Conflict,))
    with sessions() as s:
        stored = s.get(FactoryOrder, oid).shipped_quantity
    engine.dispose()
    return outcome, stored


def _check_one_report_won(outcome: list[str], stored: int) -> None:
    won = [o for o in outcome if o.startswith("shipped")]
    assert len(won) == 1 and won[0] == f"shipped {stored}", outcome  # the stored quantity is the winner's
    assert all("is shipped; it can move to nothing further" in o for o in outcome if o not in won), outcome


def test_racing_shipped_reports_store_one_and_refuse_the_rest_on_sqlite(tmp_path, race):
    _check_one_report_won(*_race_shipped(f"sqlite:///{tmp_path / 'db.sqlite'}", race))


def test_racing_shipped_reports_store_one_and_refuse_the_rest_on_postgres(pg_url, race):
    _check_one_report_won(*_race_shipped(pg_url, race))


def test_the_factory_status_forms_carry_a_one_time_key():
    """The web form's key (the handler requires it): a form sent twice records one report."""
    text = (TEMPLATES / "factory" / "inbox.html").read_text()
    forms = re.findall(r'<form[^>]*action="[^"]*/status"[^>]*>(.*?)</form>', text, re.S)
    assert len(forms) == 2, forms
    assert all('name="idempotency_key" value="{{ form_key() }}"' in f for f in forms), forms


# --- a 20 MiB upload of any shape is answered in under 5 s -------------------------------------------

MiB = 2**20


def _shapes() -> dict[str, tuple[str, bytes]]:
    long_row = b"2025-01-06,cn_all_socks_color_navy,1\n"
    post = b'{"text": "navy cotton socks", "timestamp": "2025-01-07T10:00:00Z"}\n'
    wide_head = b"date," + b",".join(b"s%d" % i for i in range(2000)) + b"\n"
    wide_row = b"2025-01-06," + b",".join([b"1"] * 2000) + b"\n"
    return {
        "one line of ten million columns": ("t.csv", b"date" + b",a" * (10 * MiB)),
        "one cell of 20 MiB": ("t.csv", b"date,a\n2025-01-06," + b"1" * (20 * MiB - 20)),
        "a header cell made to backtrack": ("t.csv", b"date,x" + b":(" * 60_000 + b"\n2025-01-06,1\n"),
        "half a million long rows": ("t.csv", b"date,series,value\n" + long_row * (20 * MiB // len(long_row))),
        "2,000 series, rows until 20 MiB": ("t.csv", wide_head + wide_row * ((20 * MiB - len(wide_head)) // len(wide_row))),
        "binary": ("t.csv", bytes(range(256)) * (20 * MiB // 256)),
        "300,000 posts": ("p.jsonl", post * (20 * MiB // len(post))),
        "one post nested 10 million deep": ("p.jsonl", b"[" * (10 * MiB) + b"]" * (10 * MiB)),
    }


@pytest.mark.parametrize("name", list(_shapes()))
def test_a_20_mib_upload_of_any_shape_is_answered_in_under_5_s(site, name):
    import time

    file, data = _shapes()[name]
    merch = api(site, "merch")
    started = time.perf_counter()
    r = merch.post("/api/v1/merchandiser/trends", files={"file": (file, data, "text/plain")})
    elapsed = time.perf_counter() - started
    assert r.status_code == 422 and elapsed < 5, (r.status_code, r.text[:200], elapsed)


# --- series of one or two weeks: no signal, and no error anywhere they are read --------------------

@pytest.mark.parametrize("weeks", [1, 2])
def test_a_series_of_one_or_two_weeks_is_stored_forecast_and_reported_without_an_error(site, weeks, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from app.cli import cli

    rows = [f"2026-0{1 + w // 4}-{5 + 7 * (w % 4):02d},{10 + w}" for w in range(weeks)]
    text = "date,short series sage green\n" + "\n".join(rows) + "\n"
    r = api(site, "merch").post("/api/v1/merchandiser/trends", files={"file": ("short.csv", text.encode(), "text/csv")})
    assert r.status_code == 201, r.text
    assert api(site, "merch").get("/api/v1/merchandiser/trends/signals").status_code == 200
    assert browser(site, "merch").get("/merchandiser/trends").status_code == 200
    path = tmp_path / "short.csv"
    path.write_text(text)
    monkeypatch.setenv("TRENDLOOM_HOME", str(tmp_path / "ws"))
    runner = CliRunner()
    out = runner.invoke(cli, ["trends", "forecast", str(path), "--out", str(tmp_path / "f.csv")])
    assert out.exit_code == 0, out.output
    out = runner.invoke(cli, ["trends", "report", str(path)])
    assert out.exit_code == 0 and "0 rising, 0 fading" in out.output, out.output

"""Stored series that cover different weeks: each is analysed over the weeks it has (`trends.load_frames`).

Known answers: two flat seasonal series stay flat when only one of them gets 8 more weeks; a series
imported with 8 real 0s at its end is fading; a late-starting flat series is not "rising" out of
weeks it never had; two series that both stop early are not paired by weeks invented for them; the
web report draws a series that stops early over its own weeks and says where its data ends, in both
languages."""

import html
import re
from datetime import date, timedelta

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete

from app.api.main import create_app
from app.db import transaction
from app.models import TrendPoint
from app.services import accounts, trends
from app.settings import Settings
from app.web import trend_chart
from app.web.i18n import Translator
from app.workspace import Workspace
from generation.errors import TrendDataError
from generation.trends.frame import TrendFrame

A, B, C = "cn_all_t-shirt_color_beige", "cn_all_t-shirt_color_black", "cn_all_t-shirt_color_brown"
N, EXTRA = 156, 8  # three years stored, then 8 more weeks for some series
PASSWORD = "correct horse battery"
WEEKS = tuple(date(2021, 1, 4) + timedelta(weeks=i) for i in range(N + EXTRA))


def _flat(seed: int, phase: int) -> np.ndarray:
    """A flat (no growth) yearly-seasonal series over all N + EXTRA weeks, level 10, small noise."""
    t = np.arange(N + EXTRA)
    return 10 + 4 * np.sin(2 * np.pi * (t + phase) / 52) + np.random.default_rng(seed).normal(0, 0.3, len(t))


@pytest.fixture
def ws(tmp_path):
    ws = Workspace.open(Settings(home=tmp_path))
    yield ws
    ws.close()


def _ingest(ws, weeks, names, columns) -> None:
    with transaction(ws.sessions) as s:
        trends.ingest_frame(s, TrendFrame(tuple(weeks), tuple(names), np.stack(columns, axis=1)), ws.taxonomy, source="t.csv")


def _signals(ws) -> dict:
    with ws.sessions() as s:
        return {g.series: g for _, g in trends.signals(s)}


def test_a_series_not_updated_is_not_called_fading(ws):
    a, b = _flat(0, 0), _flat(1, 13)
    _ingest(ws, WEEKS[:N], (A, B), (a[:N], b[:N]))
    assert {g.direction for g in _signals(ws).values()} == {"flat"}
    _ingest(ws, WEEKS, (A,), (a,))  # 8 more weeks for A only: B now ends 8 weeks before the newest week
    got = _signals(ws)
    assert got[A].direction == got[B].direction == "flat", (got[A].why, got[B].why)
    assert abs(got[B].change_pct) < 10
    assert f"its data ends on {WEEKS[N - 1]}, 8 week(s) before the newest stored week ({WEEKS[-1]})" in got[B].why
    assert "ends on" not in got[A].why
    with ws.sessions() as s:
        frames = trends.load_frames(s)
    assert [(f.names, f.weeks[0], f.weeks[-1]) for f in frames] == [((B,), WEEKS[0], WEEKS[N - 1]), ((A,), WEEKS[0], WEEKS[-1])]
    np.testing.assert_allclose(frames[0].values[:, 0], b[:N])


def test_weeks_imported_as_zero_are_real_and_the_series_is_fading(ws):
    a, b = _flat(0, 0), _flat(1, 13)
    b[N:] = 0.0  # B really dropped to 0 in the 8 new weeks, and the file says so
    _ingest(ws, WEEKS, (A, B), (a, b))
    got = _signals(ws)
    assert got[B].direction == "fading" and got[B].change_pct < -50, got[B].why
    assert got[A].direction == "flat" and "ends on" not in got[B].why


def test_a_series_that_starts_late_is_not_rising_out_of_weeks_it_never_had(ws):
    a = _flat(0, 0)
    _ingest(ws, WEEKS, (A,), (a,))
    late = 10 + np.random.default_rng(2).normal(0, 0.3, 20)  # e.g. built from posts of the last 20 weeks only
    _ingest(ws, WEEKS[-20:], (C,), (late,))
    got = _signals(ws)
    assert got[C].direction == "flat" and got[C].method == "short-history", got[C].why
    assert got[A].direction == "flat"


def test_series_that_stop_early_are_not_paired_by_missing_weeks(ws):
    a, b, c = _flat(0, 0), _flat(1, 13), _flat(2, 26)
    _ingest(ws, WEEKS[:N], (A, B, C), (a[:N], b[:N], c[:N]))
    with ws.sessions() as s:
        assert trends.pairs(s) == []  # independent noise: nothing moves together
    _ingest(ws, WEEKS, (A,), (a,))
    with ws.sessions() as s:
        assert trends.pairs(s) == []  # B and C are still compared only over the weeks they have


def test_a_gap_inside_a_series_fails_loudly(ws):
    a, b = _flat(0, 0), _flat(1, 13)
    _ingest(ws, WEEKS[:N], (A, B), (a[:N], b[:N]))
    with transaction(ws.sessions) as s:
        s.execute(delete(TrendPoint).where(TrendPoint.week == WEEKS[50]))
    with ws.sessions() as s, pytest.raises(TrendDataError, match=f"lacks stored weeks between {WEEKS[0]} and {WEEKS[N - 1]}"):
        trends.load_frames(s)


def test_the_report_on_stored_series_ranks_each_series_on_its_own_weeks(ws, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from app.cli import cli

    a, b = _flat(0, 0), _flat(1, 13)
    _ingest(ws, WEEKS[:N], (A, B), (a[:N], b[:N]))
    _ingest(ws, WEEKS, (A,), (a,))
    monkeypatch.setenv("TRENDLOOM_HOME", str(ws.settings.home))
    result = CliRunner().invoke(cli, ["trends", "report", "--chart", str(tmp_path / "movers.png")])
    assert result.exit_code == 0, result.output
    assert "2 series: 0 rising, 0 fading, 2 flat" in result.output


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The web app over a store where B, rising 1% a week, ends 8 weeks before A (flat): a stale top mover."""
    app = create_app(Settings(home=tmp_path_factory.mktemp("spans-web"), decide_every_s=0))
    with TestClient(app):
        ws = app.state.workspace
        a, b = _flat(0, 0), _flat(1, 13) * np.exp(0.01 * np.arange(N + EXTRA))
        _ingest(ws, WEEKS[:N], (A, B), (a[:N], b[:N]))
        _ingest(ws, WEEKS, (A,), (a,))
        with transaction(ws.sessions) as s:
            accounts.create_user(s, "merch", PASSWORD, "merchandiser")
        yield app


def _trends_page(site, lang: str) -> str:
    c = TestClient(site, headers={"Accept-Language": lang}, follow_redirects=False)
    r = c.post("/login", data={"login": "merch", "password": PASSWORD}, headers={"Origin": "http://testserver"})
    assert r.status_code == 303, r.text
    r = c.get("/merchandiser/trends")
    assert r.status_code == 200, r.text
    return r.text


def test_the_web_chart_draws_a_stale_mover_only_over_its_own_weeks(site, monkeypatch):
    forecast = trend_chart.forecast_frame
    drawn = []
    monkeypatch.setattr(trend_chart, "forecast_frame", lambda frame, *a, **kw: drawn.append(frame) or forecast(frame, *a, **kw))
    page = _trends_page(site, "en")
    # only B moves, so only B's span is forecast, and over B's own weeks: not filled up to A's last week with 0
    assert [(f.names, f.weeks[-1]) for f in drawn] == [((B,), WEEKS[N - 1])]
    title = html.escape(f"{Translator('en', site.state.workspace.taxonomy).series(B)} — rising", quote=False)
    figures = [f for f in page.split('<figure class="chart">')[1:] if f"<figcaption>{title} " in f]
    assert len(figures) == 1
    history = re.search(r'<polyline points="([^"]*)" class="history">', figures[0]).group(1)
    ys = [float(point.split(",")[1]) for point in history.split()]
    assert len(ys) == trend_chart.HISTORY_WEEKS
    assert max(ys) < trend_chart.HEIGHT - trend_chart.PAD  # no week drawn at 0


def test_the_web_report_says_where_the_data_of_a_stale_series_ends_in_both_languages(site):
    page = _trends_page(site, "en")
    assert "forecast for the next 26 weeks" in page
    assert f"its data ends on {WEEKS[N - 1]}, 8 week(s) before the newest stored week ({WEEKS[-1]})" in page
    assert page.count("its data ends on") == 1  # B's row only
    page = _trends_page(site, "zh-CN")
    assert "未来 26 周预测" in page
    assert f"其数据截至 {WEEKS[N - 1]}，比最新存储的一周（{WEEKS[-1]}）早 8 周" in page
    assert "data ends" not in page

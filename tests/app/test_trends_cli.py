"""`trendloom trends forecast | report | ingest` (wide, long, posts) and the trend upload endpoint."""

import csv
import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.api.main import create_app
from app.cli import cli
from app.settings import Settings
from app.workspace import _load_embedder
from generation.taxonomy import DEFAULT_TAXONOMY_PATH, load_taxonomy
from generation.trends.frame import TrendFrame
from generation.trends.io import read_wide_csv, write_wide_csv
from generation.trends.mapping import EmbeddingMapper, PostMatch
from generation.trends.synthetic import make_social_posts, make_trend_sample

runner = CliRunner()
TX = load_taxonomy()


@pytest.fixture(scope="module")
def sample():
    return make_trend_sample(TX, weeks=130, seed=4)


def _small_csv(sample, path, columns=12):
    f = sample.frame
    picked = list(sample.rising[:3]) + [n for n in f.names if n not in sample.rising][: columns - 3]
    idx = [f.names.index(n) for n in picked]
    write_wide_csv(TrendFrame(f.weeks, tuple(picked), f.values[:, idx]), path)
    return picked


def test_forecast_writes_the_same_columns_in_the_same_order(tmp_path, sample):
    src = tmp_path / "in.csv"
    names = _small_csv(sample, src)
    out = tmp_path / "out" / "fc.csv"
    r = runner.invoke(cli, ["trends", "forecast", str(src), "--horizon", "52", "--out", str(out)])
    assert r.exit_code == 0, r.output
    fc = read_wide_csv(out)
    assert fc.names == tuple(names) and fc.values.shape == (52, len(names))
    last = sample.frame.weeks[-1]
    assert fc.weeks == tuple(last + timedelta(weeks=h) for h in range(1, 53))
    lo, hi = read_wide_csv(tmp_path / "out" / "fc.lower.csv"), read_wide_csv(tmp_path / "out" / "fc.upper.csv")
    assert np.all(lo.values <= fc.values + 1e-9) and np.all(fc.values <= hi.values + 1e-9)
    with (tmp_path / "out" / "fc.methods.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [row["series"] for row in rows] == names and {row["method"] for row in rows} == {"seasonal"}
    assert "12 seasonal" in r.output


def test_forecast_reads_long_csv_and_rejects_bad_input_with_the_line(tmp_path):
    lines = ["date,series,value"] + [f"{date(2024, 1, 1) + timedelta(weeks=i)},a,{1 + i % 3}" for i in range(10)]
    (tmp_path / "long.csv").write_text("\n".join(lines) + "\n")
    r = runner.invoke(cli, ["trends", "forecast", str(tmp_path / "long.csv"), "--horizon", "4", "--out",
                            str(tmp_path / "f.csv"), "--no-bands"])
    assert r.exit_code == 0, r.output
    assert read_wide_csv(tmp_path / "f.csv").values.shape == (4, 1) and not (tmp_path / "f.lower.csv").exists()
    (tmp_path / "bad.csv").write_text("date,a\n2024-01-01,1\n2024-01-08,-2\n")
    r = runner.invoke(cli, ["trends", "forecast", str(tmp_path / "bad.csv"), "--out", str(tmp_path / "g.csv")])
    assert r.exit_code == 1 and "line 3" in r.output and "must be a finite number >= 0" in r.output
    assert not (tmp_path / "g.csv").exists()


def test_ingest_long_csv_and_posts_then_report(home, tmp_path, sample):
    f = sample.frame
    rows = ["date,series,value"] + [f"{w},{n},{f.values[t, j]:.6g}" for j, n in enumerate(f.names[:40])
                                    for t, w in enumerate(f.weeks)]
    (tmp_path / "long.csv").write_text("\n".join(rows) + "\n")
    r = runner.invoke(cli, ["trends", "ingest", str(tmp_path / "long.csv")])
    assert r.exit_code == 0 and "imported 40 series" in r.output, r.output
    posts = make_social_posts(TX, sample, n=120, seed=1)
    (tmp_path / "posts.jsonl").write_text("\n".join(json.dumps(p, ensure_ascii=False) for p in posts) + "\n")
    r = runner.invoke(cli, ["trends", "ingest", str(tmp_path / "posts.jsonl"), "--no-embed"])
    assert r.exit_code == 0 and "mapped 120 posts: 120 by keywords" in r.output, r.output
    (tmp_path / "bad.jsonl").write_text(json.dumps(posts[0]) + "\n" + '{"text": "x", "timestamp": "soon"}\n')
    before = json.loads(runner.invoke(cli, ["status", "--json"]).stdout)["trends"]
    r = runner.invoke(cli, ["trends", "ingest", str(tmp_path / "bad.jsonl")])
    assert r.exit_code == 1 and "line 2" in r.output and "timestamp" in r.output
    assert json.loads(runner.invoke(cli, ["status", "--json"]).stdout)["trends"] == before
    r = runner.invoke(cli, ["trends", "ingest", str(tmp_path / "notes.txt")])
    assert r.exit_code == 1 and "expected .csv" in r.output

    chart = tmp_path / "movers.png"
    r = runner.invoke(cli, ["trends", "report", "--chart", str(chart), "--limit", "5"])
    assert r.exit_code == 0, r.output
    assert "Rising and fading" in r.output and "rising" in r.output
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_on_a_file_with_posts_shows_what_goes_together(home, tmp_path, sample):
    src = tmp_path / "in.csv"
    f = sample.frame
    keep = [j for j, n in enumerate(f.names) if n.split("_")[2] in ("dress", "socks")]
    write_wide_csv(TrendFrame(f.weeks, tuple(f.names[j] for j in keep), f.values[:, keep]), src)
    posts = make_social_posts(TX, sample, n=300, seed=2)
    (tmp_path / "p.jsonl").write_text("\n".join(json.dumps(p, ensure_ascii=False) for p in posts) + "\n")
    r = runner.invoke(cli, ["trends", "report", str(src), "--category", "dress", "--posts", str(tmp_path / "p.jsonl"),
                            "--chart", str(tmp_path / "c.png")], terminal_width=200)
    assert r.exit_code == 0, r.output
    assert "dress" in r.output and (tmp_path / "c.png").exists()


def test_real_minilm_maps_a_paraphrased_category(tmp_path):
    raw = json.loads(Path(DEFAULT_TAXONOMY_PATH).read_text(encoding="utf-8"))
    raw["categories"] = [c for c in raw["categories"] if c["name"] in ("dress", "socks", "cap")]
    raw["attributes"] = {k: [a for a in v if a.get("categories", "*") == "*"][:3] for k, v in raw["attributes"].items()}
    (tmp_path / "tx.json").write_text(json.dumps(raw), encoding="utf-8")
    small = load_taxonomy(tmp_path / "tx.json")  # a few labels: the test embeds ~20 strings, not ~300
    emb = _load_embedder("")  # the process-wide instance the API tests load too
    m = [PostMatch()]
    EmbeddingMapper(small, emb.encode).complete(["can't wait to wear my evening gown"], m)
    assert m[0].category == "dress" and m[0].how == "embedding"


def test_upload_posts_and_long_csv_through_the_api(tmp_path, sample, clients_of):
    app = create_app(Settings(home=tmp_path / "ws", decide_every_s=0))
    posts = make_social_posts(TX, sample, n=200, seed=3)
    body = "\n".join(json.dumps(p, ensure_ascii=False) for p in posts) + "\n"
    with TestClient(app):
        c = clients_of(app).new("merchandiser")
        r = c.post("/api/v1/merchandiser/trends", files={"file": ("posts.jsonl", body, "application/x-ndjson")})
        assert r.status_code == 201, r.text
        assert r.json()["posts"]["posts"] == 200 and r.json()["series"] > 0
        bad = body + '{"text": "x", "timestamp": "2025-01-01", "region": "mars"}\n'
        r = c.post("/api/v1/merchandiser/trends", files={"file": ("more.jsonl", bad, "application/x-ndjson")})
        assert r.status_code == 422 and "more.jsonl, line 201" in r.json()["detail"]
        sig = c.get("/api/v1/merchandiser/trends/signals", params={"limit": 3}).json()
        assert len(sig) == 3 and all(s["why"] for s in sig)


def test_service_pairs_compatibility_and_calendar_check(tmp_path, sample):
    from app.db import transaction
    from app.services import trends
    from app.workspace import Workspace
    from generation.errors import TrendDataError
    from generation.trends.cooccur import Compatibility
    ws = Workspace.open(Settings(home=tmp_path / "svc"))
    try:
        f = sample.frame
        keep = [j for j, n in enumerate(f.names) if n.split("_")[2] == "dress"]
        dress = TrendFrame(f.weeks, tuple(f.names[j] for j in keep), f.values[:, keep])
        with transaction(ws.sessions) as s:
            trends.ingest_frame(s, dress, ws.taxonomy, source="t.csv")
        with ws.sessions() as s:
            pairs = trends.pairs(s, category="dress")
            assert all(p.category == "dress" and p.source == "series" for p in pairs)
            assert isinstance(trends.compatibility(s), Compatibility)
            before = trends.counts(s)
        shifted = TrendFrame(tuple(w + timedelta(days=1) for w in f.weeks[-5:]), f.names[:2], f.values[-5:, :2])
        with pytest.raises(TrendDataError, match="do not line up"):
            with transaction(ws.sessions) as s:
                trends.ingest_frame(s, shifted, ws.taxonomy, source="tuesday.csv")
        with ws.sessions() as s:
            assert trends.counts(s) == before
    finally:
        ws.close()

"""Batch work in-process and as Ray tasks (app/batch.py): the same result either way, on small inputs."""

import ast
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from app.batch import InProcess, chunks, embed_texts, executor, render_designs
from app.cli import cli
from app.settings import Settings
from generation.concepts.composer import ConceptComposer
from generation.taxonomy import load_taxonomy
from generation.trends.forecast import forecast_frame
from generation.trends.io import write_wide_csv
from generation.trends.rising import rank_forecast
from generation.trends.synthetic import make_trend_sample

ray = pytest.importorskip("ray", reason="the Ray tests need the 'ray' extra (make test installs it)")
ROOT = Path(__file__).resolve().parents[2]
TX = load_taxonomy()


@pytest.fixture(scope="module")
def frame():
    f = make_trend_sample(TX, weeks=130, seed=3).frame
    return type(f)(f.weeks, f.names[:24], f.values[:, :24])


def test_in_process_maps_in_order_and_chunks_cover_everything():
    assert InProcess().map(lambda x: x * x, [3, 1, 2]) == [9, 1, 4]
    assert chunks(list(range(7)), 3) == [[0, 1, 2], [3, 4, 5], [6]]


def test_every_chunk_runs_with_one_blas_thread():
    """OpenBLAS's last bits depend on its thread count, and Ray tasks run single-threaded."""
    from threadpoolctl import threadpool_info

    threads = InProcess().map(lambda _: {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}, [0])
    assert threads == [{1}]


def test_domain_packages_never_import_ray():
    for package in ("generation", "matching"):
        for p in (ROOT / package).rglob("*.py"):
            tree = ast.parse(p.read_text(encoding="utf-8"))
            names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
            names |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
            assert not any(name.split(".")[0] == "ray" for name in names), p


def test_forecast_cli_with_ray_local_writes_the_same_files(tmp_path, frame, monkeypatch):
    monkeypatch.setenv("TRENDLOOM_HOME", str(tmp_path / "ws"))
    src = tmp_path / "in.csv"
    write_wide_csv(frame, src)
    runner = CliRunner()
    for out, extra in (("plain.csv", []), ("ray.csv", ["--ray", "local"])):
        r = runner.invoke(cli, ["trends", "forecast", str(src), "--horizon", "8", "--out", str(tmp_path / out), *extra])
        assert r.exit_code == 0, r.output
    for part in ("", ".lower", ".upper", ".methods"):
        assert (tmp_path / f"plain{part}.csv").read_bytes() == (tmp_path / f"ray{part}.csv").read_bytes(), part


@pytest.mark.slow
def test_forecasting_embedding_and_rendering_on_ray_equal_in_process(frame):
    titles = [f"{c} {m} {k}" for c in ("navy", "red", "sage") for m in ("cotton", "linen") for k in ("socks", "dress")]
    specs = ConceptComposer(TX, rank_forecast(frame), about={}).compose(3, seed=1)
    settings = Settings(image_backend="flat", image_size=64)
    plain = (forecast_frame(frame, 8, chunk=5), embed_texts(InProcess(), "", titles, chunk=4),
             render_designs(InProcess(), settings, TX, specs, [0, 1, 2]))
    with executor("local", workers=2) as ex:
        fc = forecast_frame(frame, 8, chunk=5, map_blocks=ex.map)
        vecs = embed_texts(ex, "", titles, chunk=4)
        pictures = render_designs(ex, settings, TX, specs, [0, 1, 2])
    for field in ("mean", "lower", "upper", "scale", "backtest", "harmonics"):
        assert np.array_equal(getattr(plain[0], field), getattr(fc, field)), field
    assert np.array_equal(plain[1], vecs)
    assert [np.asarray(p).tobytes() for p in plain[2]] == [np.asarray(p).tobytes() for p in pictures]

"""`trendloom images generate` and `designs generate` with the shipped diffusion model (weights/)."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image
from typer.testing import CliRunner

from app.cli import cli
from app.settings import SHIPPED_IMAGE_MODEL

runner = CliRunner()
SPEC = {"category": "tumbler", "color": "navy", "pattern": "stripe", "material": "stainless-steel"}


def test_images_generate_writes_seeded_pngs_with_the_shipped_model(home, tmp_path, monkeypatch):
    monkeypatch.setenv("TRENDLOOM_IMAGE_BACKEND", "trendloom")
    monkeypatch.setenv("TRENDLOOM_IMAGE_SIZE", "64")
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(SPEC))
    for out in ("a", "b"):
        r = runner.invoke(cli, ["images", "generate", "--spec", str(spec), "--n", "2", "--seed", "5",
                                "--out", str(tmp_path / out)])
        assert r.exit_code == 0, r.output
    files = sorted((tmp_path / "a").glob("*.png"))
    assert [f.name for f in files] == ["tumbler-5-0.png", "tumbler-5-1.png"]
    a, b = (np.asarray(Image.open(tmp_path / d / files[0].name)) for d in ("a", "b"))
    assert a.shape == (64, 64, 3) and np.array_equal(a, b)
    assert "navy stripe stainless steel tumbler" in r.output


def test_images_generate_rejects_unknown_attributes_naming_the_allowed_ones(home, tmp_path):
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({**SPEC, "color": "ultraviolet"}))
    r = runner.invoke(cli, ["images", "generate", "--spec", str(spec), "--out", str(tmp_path / "o")])
    assert r.exit_code == 1 and "unknown color 'ultraviolet'; allowed:" in r.output and "navy" in r.output
    spec.write_text(json.dumps({"category": "tumbler", "color": "navy", "material": "stainless-steel"}))
    r = runner.invoke(cli, ["images", "generate", "--spec", str(spec), "--out", str(tmp_path / "o")])
    assert r.exit_code == 1 and "category, color, pattern and material is required" in r.output


def test_missing_weights_say_which_file_and_how_to_train(home, tmp_path, monkeypatch):
    monkeypatch.setenv("TRENDLOOM_IMAGE_BACKEND", "trendloom")
    monkeypatch.setenv("TRENDLOOM_IMAGE_MODEL", str(tmp_path / "nowhere"))
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(SPEC))
    r = runner.invoke(cli, ["images", "generate", "--spec", str(spec), "--out", str(tmp_path / "o")])
    assert r.exit_code == 1
    text = " ".join(r.output.split())
    assert "image model file missing" in text and "nowhere" in text and "train_image_model.py" in text
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def test_shipped_weights_are_small_safetensors_with_their_config():
    files = {p.relative_to(SHIPPED_IMAGE_MODEL).as_posix(): p.stat().st_size
             for p in SHIPPED_IMAGE_MODEL.rglob("*") if p.is_file()}
    assert "unet/diffusion_pytorch_model.safetensors" in files and "trendloom_image.json" in files
    assert sum(files.values()) <= 50 * 1024 * 1024
    config = json.loads((SHIPPED_IMAGE_MODEL / "trendloom_image.json").read_text())
    assert config["heldout"] and config["trained_steps"] >= 1000


def test_designs_generate_stores_the_model_picture_then_the_flat_sketch(home, tmp_path, monkeypatch):
    monkeypatch.setenv("TRENDLOOM_IMAGE_BACKEND", "trendloom")
    runner.invoke(cli, ["sample", "--out", str(tmp_path / "s")])
    assert runner.invoke(cli, ["trends", "ingest", str(tmp_path / "s" / "trends.csv")]).exit_code == 0
    assert runner.invoke(cli, ["factories", "import", str(tmp_path / "s" / "factories.csv")]).exit_code == 0
    r = runner.invoke(cli, ["designs", "generate", "--n", "2"])
    assert r.exit_code == 0, r.output
    rows = json.loads(runner.invoke(cli, ["designs", "list", "--json"]).stdout)
    assert len(rows) == 2 and all(len(d["images"]) == 2 for d in rows)
    picture = Image.open(home / "images" / rows[0]["images"][0])
    sketch = Image.open(home / "images" / rows[0]["images"][1])
    assert picture.size == (256, 256) and sketch.size == (256, 256)
    assert not np.array_equal(np.asarray(picture), np.asarray(sketch))

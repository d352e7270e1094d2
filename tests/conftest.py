import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# The flat sketch is the fast image backend; tests of the shipped diffusion model select it themselves.
os.environ.setdefault("TRENDLOOM_IMAGE_BACKEND", "flat")


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A fresh workspace folder, selected through the environment as a user would."""
    path = tmp_path / "ws"
    monkeypatch.setenv("TRENDLOOM_HOME", str(path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return path

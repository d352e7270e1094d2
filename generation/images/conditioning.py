"""What the shipped image model is conditioned on: MiniLM embeddings of the spec's visible words.

A spec becomes a short sequence of phrases, one per attribute the picture shows, in a fixed order:

    slot 0  category     "t shirt"
    slot 1  colour       "navy colour"
    slot 2  pattern      "stripe pattern"
    slot 3  material     "denim material"
    slot 4  silhouette   "oversized silhouette"  (zeros when the category has none)

Each phrase is embedded separately by the sentence embedder (384 numbers for MiniLM), so the UNet sees
one token per attribute in its cross-attention and their concatenation in its time embedding. One
token per attribute is what lets the model draw combinations it never saw in training (a navy tumbler
when training only had navy t-shirts and red tumblers). Details (pockets, zips) are too small to show
at the model's resolution and are left out.

Phrase embeddings are cached: the taxonomy has a few hundred phrases, so training and sampling call
the embedder once per phrase, not once per image.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from generation.concepts.spec import DesignSpec

Embed = Callable[[Sequence[str]], np.ndarray]  # texts -> (n, dim) float32, unit rows
SLOTS = ("category", "color", "pattern", "material", "silhouette")
POOLED_SLOTS = 4  # category, colour, pattern, material go into the time embedding as well


def spec_phrases(spec: DesignSpec) -> list[str | None]:
    """One phrase per slot (None for an empty slot), in `SLOTS` order."""
    def words(slug: str) -> str:
        return slug.replace("-", " ")

    return [
        words(spec.category),
        f"{words(spec.color)} colour",
        f"{words(spec.pattern)} pattern",
        f"{words(spec.material)} material",
        f"{words(spec.silhouette)} silhouette" if spec.silhouette else None,
    ]


class SpecEncoder:
    """Turns specs into the tensors the UNet takes, embedding each distinct phrase once."""

    def __init__(self, embed: Embed, dim: int) -> None:
        self.embed = embed
        self.dim = dim
        self._cache: dict[str, np.ndarray] = {}

    def _vectors(self, phrases: Sequence[str]) -> list[np.ndarray]:
        missing = sorted({p for p in phrases if p not in self._cache})
        if missing:
            vecs = np.asarray(self.embed(missing), dtype=np.float32)
            if vecs.shape != (len(missing), self.dim):
                raise ValueError(f"embedder returned shape {vecs.shape}, expected ({len(missing)}, {self.dim})")
            self._cache.update(zip(missing, vecs))
        return [self._cache[p] for p in phrases]

    def encode(self, specs: Sequence[DesignSpec]) -> tuple[torch.Tensor, torch.Tensor]:
        """tokens (B, len(SLOTS), dim) for cross-attention and pooled (B, POOLED_SLOTS * dim)."""
        phrases = [spec_phrases(s) for s in specs]
        flat = [p for row in phrases for p in row if p is not None]
        lookup = dict(zip(flat, self._vectors(flat)))
        tokens = np.zeros((len(specs), len(SLOTS), self.dim), dtype=np.float32)
        for i, row in enumerate(phrases):
            for j, p in enumerate(row):
                if p is not None:
                    tokens[i, j] = lookup[p]
        t = torch.from_numpy(tokens)
        return t, t[:, :POOLED_SLOTS].reshape(len(specs), -1)

    @staticmethod
    def unconditional(batch: int, dim: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The 'no prompt' input used for classifier-free guidance: all zeros."""
        return torch.zeros(batch, len(SLOTS), dim), torch.zeros(batch, POOLED_SLOTS * dim)

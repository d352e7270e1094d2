"""`CapabilityIndex`: every factory's capability text embedded into a `VectorIndex`, for top-K shortlists.

A factory's capability text (`capability_text`: the categories it makes and the materials it works)
and a design's text (`orders.design_text`: its description, category and materials, written the same
way) are embedded by the same `embed` callable (MiniLM in the service, a small deterministic function in
tests). The K factories most similar to a design are its shortlist; the hard constraints and the score
(`shortlist.py`) then run on those K only. K is justified by the recall of this shortlist against the
exhaustive hard-constraint filter (`scripts/capability_recall.py`, BENCHMARKS.md). The text leaves out
what the embedding cannot use well: processes (long lists shared by most factories; the hard
constraints check them exactly), and name, town, region and small-batch (the score weighs region).
With them in, recall at K = 72 of 240 synthetic factories fell from 1.00 to 0.94 on average, 0.50 at
worst (BENCHMARKS.md).

Saved form: the index's own files (`index.faiss`, `ids.npy`, `manifest.json`, ids are positions in
the registry) plus `factories.json` with the registry's fingerprint and factory ids. `load` refuses a
folder whose fingerprint differs from the registry given, so an index never outlives the registry it
was built from.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from matching.errors import IndexManifestError, MatchingError
from matching.factories.registry import Factory
from matching.index import VectorIndex

Embed = Callable[[Sequence[str]], np.ndarray]  # texts -> (n, dim) float32, rows of unit length
REGISTRY_FILE = "factories.json"


def capability_text(f: Factory) -> str:
    """What is embedded for a factory: the categories it makes and the materials it works (left out when
    the registry does not disclose them, so that the words "not disclosed" draw no design near)."""
    makes = f"makes {', '.join(f.categories)}"
    return makes if f.materials is None else f"{makes}; materials {', '.join(f.materials)}"


def registry_fingerprint(factories: Sequence[Factory]) -> str:
    """SHA-256 over every factory id and capability text, in order: equal iff the index would be equal."""
    h = hashlib.sha256()
    for f in factories:
        h.update(f.factory_id.encode())
        h.update(b"\0")
        h.update(capability_text(f).encode())
        h.update(b"\n")
    return h.hexdigest()


class CapabilityIndex:
    """Factories' capability embeddings; `top_k` gives each design text its K most similar factories."""

    def __init__(self, factories: Sequence[Factory], index: VectorIndex, fingerprint: str) -> None:
        if len(index) != len(factories):
            raise MatchingError(f"the capability index holds {len(index)} vectors for {len(factories)} factories")
        self.factories = list(factories)
        self.index = index
        self.fingerprint = fingerprint

    @classmethod
    def build(cls, factories: Sequence[Factory], embed: Embed, *, embedder: str) -> CapabilityIndex:
        """Embed every factory's capability text (one batch) into an exact inner-product index."""
        if not factories:
            raise MatchingError("no factories to index: import a factory registry first")
        vectors = np.asarray(embed([capability_text(f) for f in factories]), dtype=np.float32)
        index = VectorIndex(int(vectors.shape[1]), embedder=embedder)
        index.add(np.arange(len(factories), dtype=np.int64), vectors)
        return cls(factories, index, registry_fingerprint(factories))

    @property
    def embedder(self) -> str:
        return self.index.embedder

    @property
    def dim(self) -> int:
        return self.index.dim

    def top_k(self, design_vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(n, k') registry positions and cosine similarities, best first, k' = min(k, factories)."""
        if k < 1:
            raise MatchingError(f"k must be at least 1, got {k}")
        k = min(k, len(self.factories))
        scores, ids = self.index.search(np.asarray(design_vectors, dtype=np.float32), k)
        return ids.astype(np.int64), scores.astype(np.float64)

    def save(self, folder: str | Path) -> None:
        """Write the index and `factories.json` (fingerprint and ids) into `folder`."""
        folder = Path(folder)
        self.index.save(folder)
        (folder / REGISTRY_FILE).write_text(json.dumps(
            {"fingerprint": self.fingerprint, "factory_ids": [f.factory_id for f in self.factories]}))

    @classmethod
    def load(cls, folder: str | Path, factories: Sequence[Factory], *, embedder: str, dim: int) -> CapabilityIndex:
        """The saved index of `factories`; IndexManifestError when it is missing, of another embedder, or
        built from another registry (its fingerprint differs)."""
        folder = Path(folder)
        try:
            saved = json.loads((folder / REGISTRY_FILE).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise IndexManifestError(f"{folder / REGISTRY_FILE}: cannot read ({exc})") from None
        want = registry_fingerprint(factories)
        if saved.get("fingerprint") != want:
            raise IndexManifestError(f"{folder} was built from another factory registry (fingerprint differs)")
        return cls(factories, VectorIndex.load(folder, embedder=embedder, dim=dim), want)

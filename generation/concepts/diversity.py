"""Pick a diverse, novel batch from a pool of candidate specs: maximal marginal relevance over embeddings.

MMR (Carbonell & Goldstein, 1998) takes candidates one at a time, each maximising

    lambda * relevance(c) - (1 - lambda) * max_{s already chosen} cos(c, s)

so a batch of N covers different products instead of N shades of the top trend. Novelty against the
existing catalog is a hard filter first: a candidate whose nearest catalog design is more similar
than `max_catalog_similarity` is dropped.

The default 0.95 comes from MiniLM similarities of spec texts (`scripts/spec_similarity.py`, 300
random specs): random pairs have a median of 0.33; changing one colour, pattern or material gives a
median of 0.90-0.93 (10th-90th percentile 0.82-0.97); dropping the details gives 0.93. So 0.95 rejects
re-runs and detail-only variants of a catalog design but keeps most one-attribute variations.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from generation.concepts.spec import DesignSpec

Embed = Callable[[Sequence[str]], np.ndarray]  # texts -> (n, dim) unit rows
CatalogSimilarity = Callable[[np.ndarray], np.ndarray]  # (n, dim) -> (n,) max cosine to the catalog
MAX_CATALOG_SIMILARITY = 0.95


def trend_relevance(spec: DesignSpec) -> float:
    """How strongly the trends back a spec: the summed lower bounds of its rising evidence (>= 0)."""
    return float(sum(max(0.0, e.lo) + max(0.0, e.growth) for e in spec.evidence))


def select_diverse(candidates: Sequence[DesignSpec], n: int, embed: Embed, *,
                   catalog_similarity: CatalogSimilarity | None = None,
                   max_catalog_similarity: float = MAX_CATALOG_SIMILARITY,
                   lam: float = 0.7) -> list[DesignSpec]:
    """Up to `n` candidates: novel against the catalog, then chosen greedily by MMR."""
    if not candidates:
        return []
    vecs = np.asarray(embed([c.text() for c in candidates]), dtype=np.float32)  # (C, dim)
    keep = np.ones(len(candidates), dtype=bool)
    if catalog_similarity is not None:
        keep &= catalog_similarity(vecs) < max_catalog_similarity
    rel = np.array([trend_relevance(c) for c in candidates])
    rel = rel / rel.max() if rel.max() > 0 else rel
    chosen: list[int] = []
    closest = np.full(len(candidates), -1.0)  # max similarity to anything chosen so far
    while len(chosen) < n and keep.any():
        score = lam * rel - (1 - lam) * np.maximum(closest, 0.0)
        score[~keep] = -np.inf
        best = int(np.argmax(score))
        chosen.append(best)
        keep[best] = False
        closest = np.maximum(closest, vecs @ vecs[best])
    return [candidates[i] for i in chosen]

import numpy as np
import pytest

from generation.concepts.composer import ConceptComposer
from generation.concepts.diversity import select_diverse
from generation.concepts.spec import DesignSpec, Evidence
from generation.errors import TaxonomyError
from generation.taxonomy import load_taxonomy
from generation.trends.rising import TrendSignal


def spec(color: str, growth: float) -> DesignSpec:
    ev = (Evidence(f"cn_all_t-shirt_color_{color}", "color", color, growth, growth / 2, growth * 2),)
    return DesignSpec(category="t-shirt", color=color, material="cotton", evidence=ev)


# hand-made unit vectors: navy and black point the same way, red is orthogonal to both
VECS = {"navy": [1.0, 0.0], "black": [0.995, 0.0998], "red": [0.0, 1.0]}


def embed(texts):
    return np.array([VECS[t.split()[0]] for t in texts], dtype=np.float32)


def test_mmr_takes_the_best_then_the_most_different_one():
    """Relevance (normalised): navy 1.0, black 0.9, red 0.5. First pick: navy (0.7 * 1.0).
    Second: black scores 0.7 * 0.9 - 0.3 * 0.995 = 0.33; red 0.7 * 0.5 - 0.3 * 0 = 0.35 -> red."""
    cands = [spec("black", 0.9), spec("navy", 1.0), spec("red", 0.5)]
    picked = select_diverse(cands, 2, embed)
    assert [s.color for s in picked] == ["navy", "red"]


def test_candidates_too_close_to_the_catalog_are_never_chosen():
    cands = [spec("black", 0.9), spec("navy", 1.0), spec("red", 0.5)]
    catalog = np.array([[1.0, 0.0]], dtype=np.float32)  # a navy t-shirt is already published

    def nearest(vecs):
        return (vecs @ catalog.T).max(axis=1)

    picked = select_diverse(cands, 3, embed, catalog_similarity=nearest)
    assert [s.color for s in picked] == ["red"]  # navy (1.0) and black (0.995) are above 0.95


def test_composer_with_embeddings_returns_n_distinct_novel_specs():
    tx = load_taxonomy()
    signals = [TrendSignal(series="cn_all_t-shirt_color_navy", growth=0.5, lo=0.2, hi=0.8, recent_mean=1.0,
                           direction="rising", method="test")]
    rng = np.random.default_rng(0)
    cache: dict[str, np.ndarray] = {}

    def random_embed(texts):
        for t in texts:
            if t not in cache:
                v = rng.standard_normal(16)
                cache[t] = v / np.linalg.norm(v)
        return np.stack([cache[t] for t in texts]).astype(np.float32)

    specs = ConceptComposer(tx, signals).compose(6, seed=1, embed=random_embed)
    assert len(specs) == 6 and len({s.text() for s in specs}) == 6

    def everything_is_taken(vecs):
        return np.ones(len(vecs))

    with pytest.raises(TaxonomyError, match="novel against the catalog"):
        ConceptComposer(tx, signals).compose(3, seed=1, embed=random_embed, catalog_similarity=everything_is_taken)

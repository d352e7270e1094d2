"""VectorIndex: known answers, updates and removals, filters, save/load with manifest checks, conversion."""

import json

import numpy as np
import pytest

import matching.index as index_module
from matching.errors import IndexInputError, IndexManifestError, MatchingError, UnknownIdError
from matching.index import VectorIndex

DIM = 32


def unit(rows) -> np.ndarray:
    x = np.asarray(rows, dtype=np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def clustered(n: int, seed: int, centres: int = 40, spread: float = 0.5) -> np.ndarray:
    """Unit vectors around fixed cluster centres (the same centres for every seed)."""
    c = np.random.default_rng(1234).normal(size=(centres, DIM))
    rng = np.random.default_rng(seed)
    return unit(c[rng.integers(0, centres, n)] + spread * rng.normal(size=(n, DIM)))


def exact_top(x: np.ndarray, ids: np.ndarray, q: np.ndarray, k: int) -> np.ndarray:
    return ids[np.argsort(-(q @ x.T), axis=1, kind="stable")[:, :k]]


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([np.intersect1d(f, t).size / t.size for f, t in zip(found, truth)]))


@pytest.fixture
def small() -> VectorIndex:
    idx = VectorIndex(4, embedder="test-embedder")
    idx.add([10, 20, 30], unit([[1, 0, 0, 0], [0.6, 0.8, 0, 0], [0, 1, 0, 0]]))
    return idx


# ----------------------------------------------------------------------------- exact search
def test_exact_search_known_answer(small):
    scores, ids = small.search(unit([[1, 0, 0, 0], [0, 1, 0, 0]]), 3)
    assert ids.tolist() == [[10, 20, 30], [30, 20, 10]]
    np.testing.assert_allclose(scores, [[1.0, 0.6, 0.0], [1.0, 0.8, 0.0]], atol=1e-6)
    assert scores.dtype == np.float32 and ids.dtype == np.int64
    assert small.kind == "flat" and len(small) == 3 and 20 in small and 21 not in small
    assert small.ids.tolist() == [10, 20, 30]


def test_single_vector_query_is_one_row(small):
    _, ids = small.search(np.array([1, 0, 0, 0], dtype=np.float32), 1)
    assert ids.tolist() == [[10]]


def test_padding_when_k_exceeds_size(small):
    scores, ids = small.search(unit([[1, 0, 0, 0]]), 5)
    assert ids.tolist() == [[10, 20, 30, -1, -1]]
    assert np.isneginf(scores[0, 3:]).all() and np.isfinite(scores[0, :3]).all()


def test_empty_index_returns_padding():
    idx = VectorIndex(4, embedder="e")
    scores, ids = idx.search(unit([[1, 0, 0, 0]]), 2)
    assert ids.tolist() == [[-1, -1]] and np.isneginf(scores).all()


def test_add_existing_id_replaces_and_update_replaces(small):
    small.add([30], unit([[0, 0, 0, 1]]))                # add on a present id is an update
    assert len(small) == 3
    assert small.search(unit([[0, 0, 0, 1]]), 1)[1].tolist() == [[30]]
    small.update([10], unit([[0, 0, 1, 0]]))
    np.testing.assert_allclose(small.vectors([10]), [[0, 0, 1, 0]])
    assert small.search(unit([[0, 0, 1, 0]]), 1)[1].tolist() == [[10]]


def test_update_of_absent_id_is_an_error(small):
    with pytest.raises(UnknownIdError, match="99") as err:
        small.update([10, 99], unit([[1, 0, 0, 0], [0, 1, 0, 0]]))
    assert isinstance(err.value, KeyError) and isinstance(err.value, MatchingError)
    assert len(small) == 3 and small.vectors([10])[0, 0] == pytest.approx(1.0)   # nothing changed


def test_remove_counts_present_ids_and_ignores_absent(small):
    assert small.remove([20, 99, 20]) == 1
    assert small.remove([20]) == 0
    assert len(small) == 2 and 20 not in small
    assert small.search(unit([[0, 1, 0, 0]]), 3)[1].tolist() == [[30, 10, -1]]


def test_vectors_returns_stored_rows_in_order_and_rejects_absent(small):
    np.testing.assert_allclose(small.vectors(np.array([30, 10])), [[0, 1, 0, 0], [1, 0, 0, 0]])
    assert small.vectors([]).shape == (0, 4)
    with pytest.raises(UnknownIdError):
        small.vectors([10, 11])


def test_allowed_ids_restricts_results(small):
    _, ids = small.search(unit([[1, 0, 0, 0]]), 3, allowed_ids=np.array([30, 20, 777]))
    assert ids.tolist() == [[20, 30, -1]]
    _, ids = small.search(unit([[1, 0, 0, 0]]), 2, allowed_ids=[])
    assert ids.tolist() == [[-1, -1]]


@pytest.mark.parametrize("offset", [0, 10**12])   # dense ids use a bitmap selector, sparse ones a hash set
def test_allowed_ids_through_faiss_selectors(monkeypatch, offset):
    monkeypatch.setattr(index_module, "SUBSET_EXACT_MAX", 0)
    x = clustered(300, seed=1)
    ids = np.arange(300, dtype=np.int64) + offset
    idx = VectorIndex(DIM, embedder="e")
    idx.add(ids, x)
    allowed = ids[::3]
    q = clustered(20, seed=2)
    _, got = idx.search(q, 5, allowed_ids=allowed)
    np.testing.assert_array_equal(got, exact_top(x[::3], allowed, q, 5))


def test_l2_metric_scores_are_negated_squared_distances():
    idx = VectorIndex(2, embedder="e", metric="l2", normalized=False)
    idx.add([1, 2], np.array([[0, 0], [3, 4]], dtype=np.float32))
    scores, ids = idx.search(np.array([[3, 0]], dtype=np.float32), 2)
    assert ids.tolist() == [[1, 2]]
    np.testing.assert_allclose(scores, [[-9.0, -16.0]])


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("ids, vectors, match", [
    ([1], np.ones((1, 3), np.float32), "shape"),
    ([1], np.array([[np.nan, 0, 0, 1]], np.float32), "NaN"),
    ([1], np.array([[2, 0, 0, 0]], np.float32), "norm"),
    ([1, 1], unit([[1, 0, 0, 0], [0, 1, 0, 0]]), "duplicate"),
    ([1, 2], unit([[1, 0, 0, 0]]), "match one to one"),
    ([-3], unit([[1, 0, 0, 0]]), "-1 marks"),
    ([1.5], unit([[1, 0, 0, 0]]), "integers"),
    ([[1]], unit([[1, 0, 0, 0]]), "1-D"),
    ([1], np.array([["a", "b", "c", "d"]]), "numeric"),
])
def test_bad_vectors_and_ids_are_rejected(small, ids, vectors, match):
    with pytest.raises(IndexInputError, match=match):
        small.add(ids, vectors)
    assert len(small) == 3


@pytest.mark.parametrize("k", [0, -1, 1.5, True, "3"])
def test_bad_k_is_rejected(small, k):
    with pytest.raises(IndexInputError, match="k must be"):
        small.search(unit([[1, 0, 0, 0]]), k)


def test_bad_query_is_rejected(small):
    with pytest.raises(IndexInputError, match="norm"):
        small.search(np.array([[0.5, 0, 0, 0]], np.float32), 1)
    with pytest.raises(IndexInputError, match=r"shape \(n, 4\)"):
        small.search(np.ones((1, 5), np.float32), 1)


@pytest.mark.parametrize("kwargs, match", [
    ({"dim": 0}, "dim"), ({"metric": "cosine"}, "metric"), ({"exact_max": 0}, "exact_max"),
    ({"embedder": ""}, "embedder"), ({"target_recall": 1.5}, "target_recall"),
])
def test_bad_constructor_arguments(kwargs, match):
    args = {"dim": 4, "embedder": "e", **kwargs}
    with pytest.raises(IndexInputError, match=match):
        VectorIndex(args.pop("dim"), **args)


# ----------------------------------------------------------------------------- flat -> ivf
@pytest.fixture(scope="module")
def converted():
    x = clustered(2000, seed=5)
    ids = np.arange(1000, 3000, dtype=np.int64)
    idx = VectorIndex(DIM, embedder="e", exact_max=500)
    idx.add(ids[:400], x[:400])
    assert idx.kind == "flat"
    for start in range(400, 2000, 400):                  # crosses exact_max on the second batch
        idx.add(ids[start:start + 400], x[start:start + 400])
    return idx, ids, x


def test_conversion_to_ivf_keeps_recall(converted):
    idx, ids, x = converted
    assert idx.kind == "ivf" and len(idx) == 2000
    t = idx.tuning
    assert t.nlist >= 2 and 1 <= t.nprobe <= t.nlist and t.recall_at_10 >= 0.95
    assert t.built_at == 800 and t.trained_on <= 800              # converted when the 2nd batch crossed 500
    q = clustered(200, seed=6)
    _, got = idx.search(q, 10)
    assert recall(got, exact_top(x, ids, q, 10)) >= 0.9


def test_ivf_supports_remove_update_vectors_and_filters():
    x = clustered(2000, seed=7)
    ids = np.arange(2000, dtype=np.int64)
    idx = VectorIndex(DIM, embedder="e", exact_max=500)
    idx.add(ids, x)
    assert idx.kind == "ivf"
    assert idx.remove(ids[:100]) == 100 and len(idx) == 1900 and 5 not in idx
    _, got = idx.search(x[:100], 10)
    assert not np.isin(got, ids[:100]).any()
    new = clustered(1, seed=8)
    idx.update([500], new)
    np.testing.assert_allclose(idx.vectors([500]), new)
    assert idx.search(new, 1)[1].tolist() == [[500]]
    allowed = ids[100::7]
    _, got = idx.search(clustered(50, seed=9), 10, allowed_ids=allowed)
    assert np.isin(got[got >= 0], allowed).all()


def test_ivf_filtered_search_through_selector(monkeypatch):
    monkeypatch.setattr(index_module, "SUBSET_EXACT_MAX", 0)
    x = clustered(2000, seed=10)
    ids = np.arange(2000, dtype=np.int64)
    idx = VectorIndex(DIM, embedder="e", exact_max=500)
    idx.add(ids, x)
    allowed = ids[::10]
    q = clustered(100, seed=11)
    _, got = idx.search(q, 10, allowed_ids=allowed)
    assert np.isin(got[got >= 0], allowed).all()
    assert recall(got, exact_top(x[::10], allowed, q, 10)) >= 0.9


def test_shrinking_far_below_exact_max_goes_back_to_exact():
    x = clustered(1200, seed=12)
    idx = VectorIndex(DIM, embedder="e", exact_max=1000)
    idx.add(np.arange(1200), x)
    assert idx.kind == "ivf"
    idx.remove(np.arange(600))                            # 600 left: still >= 0.5 * exact_max
    assert idx.kind == "ivf"
    idx.remove(np.arange(600, 800))                       # 400 left
    assert idx.kind == "flat" and idx.tuning is None and len(idx) == 400
    q = clustered(20, seed=13)
    _, got = idx.search(q, 5)
    np.testing.assert_array_equal(got, exact_top(x[800:], np.arange(800, 1200), q, 5))


# ----------------------------------------------------------------------------- save / load
@pytest.mark.parametrize("which", ["flat", "ivf"])
def test_save_load_round_trip(tmp_path, small, converted, which):
    idx = small if which == "flat" else converted[0]
    idx.save(tmp_path / "ix")
    assert sorted(p.name for p in (tmp_path / "ix").iterdir()) == ["ids.npy", "index.faiss", "manifest.json"]
    back = VectorIndex.load(tmp_path / "ix", embedder=idx.embedder, dim=idx.dim)
    assert back.kind == idx.kind and len(back) == len(idx) and back.tuning == idx.tuning
    np.testing.assert_array_equal(back.ids, idx.ids)
    q = unit([[1, 0, 0, 0], [0.2, 0.3, 0.9, 0]]) if which == "flat" else clustered(50, seed=14)
    for allowed in (None, idx.ids[::2]):
        s1, i1 = idx.search(q, 7, allowed_ids=allowed)
        s2, i2 = back.search(q, 7, allowed_ids=allowed)
        np.testing.assert_array_equal(i1, i2)
        np.testing.assert_array_equal(s1, s2)
    manifest = json.loads((tmp_path / "ix" / "manifest.json").read_text())
    assert manifest["embedder"] == idx.embedder and manifest["dim"] == idx.dim and manifest["count"] == len(idx)
    assert manifest["metric"] == "ip" and manifest["normalized"] is True and manifest["kind"] == which
    back.remove(back.ids[:3])                              # a loaded index stays writable
    assert len(back) == len(idx) - 3


def test_load_rejects_other_embedder_or_dim(tmp_path, small):
    small.save(tmp_path)
    with pytest.raises(IndexManifestError, match="embedder='test-embedder'.*embedder='other'"):
        VectorIndex.load(tmp_path, embedder="other", dim=4)
    with pytest.raises(IndexManifestError, match="dim=4.*dim=384"):
        VectorIndex.load(tmp_path, embedder="test-embedder", dim=384)
    with pytest.raises(IndexManifestError, match="metric"):
        VectorIndex.load(tmp_path, embedder="test-embedder", dim=4, metric="l2")
    with pytest.raises(IndexManifestError, match="normalized"):
        VectorIndex.load(tmp_path, embedder="test-embedder", dim=4, normalized=False)


def test_load_rejects_tampered_count_ids_and_missing_files(tmp_path, small):
    small.save(tmp_path)
    path = tmp_path / "manifest.json"
    good = path.read_text()
    path.write_text(json.dumps({**json.loads(good), "count": 4}))
    with pytest.raises(IndexManifestError, match="count is 4 but ids.npy holds 3"):
        VectorIndex.load(tmp_path, embedder="test-embedder", dim=4)
    path.write_text(json.dumps({**json.loads(good), "metric": "dot"}))
    with pytest.raises(IndexManifestError, match="not allowed"):
        VectorIndex.load(tmp_path, embedder="test-embedder", dim=4)
    path.write_text("{not json")
    with pytest.raises(IndexManifestError, match="not valid JSON"):
        VectorIndex.load(tmp_path, embedder="test-embedder", dim=4)
    path.write_text(good)
    np.save(tmp_path / "ids.npy", np.array([10, 20, 31], dtype=np.int64))
    with pytest.raises(IndexManifestError, match="does not match"):
        VectorIndex.load(tmp_path, embedder="test-embedder", dim=4)
    (tmp_path / "ids.npy").unlink()
    with pytest.raises(IndexManifestError, match="ids.npy is missing"):
        VectorIndex.load(tmp_path, embedder="test-embedder", dim=4)


def test_load_rejects_unreadable_index_file(tmp_path, small):
    small.save(tmp_path)
    (tmp_path / "index.faiss").write_bytes(b"garbage")
    with pytest.raises(IndexManifestError, match="index.faiss is unreadable"):
        VectorIndex.load(tmp_path, embedder="test-embedder", dim=4)


def test_search_threads_apply_inside_search_only(small):
    import faiss

    before = faiss.omp_get_max_threads()
    small.search_threads = 1
    assert small.search(unit([[1, 0, 0, 0]]), 1)[1].tolist() == [[10]]
    assert faiss.omp_get_max_threads() == before
    with pytest.raises(IndexInputError, match="search_threads"):
        VectorIndex(4, embedder="e", search_threads=0)

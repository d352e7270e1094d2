"""IVF-Flat construction and tuning for `VectorIndex`, and the numpy linear algebra behind them.

IVF parameters are set by size when the index is (re)built. `nlist = NLIST_PER_SQRT * sqrt(n)`, at
most n / TRAIN_PER_LIST. At 1M, 2 sqrt(n) and 4 sqrt(n) lists took 2.5x and 6x as long to build in
back-to-back runs (k-means cost grows with nlist squared). Their p50 was within 0.1 ms of sqrt(n)'s
0.46-0.48 ms, because nprobe stays at 2-3 and the coarse scan over more centroids uses up what the
shorter lists save. k-means runs on a bounded random sample (TRAIN_PER_LIST * nlist
points, 40,000 at 1M); it is spherical for inner product. `nprobe` is the smallest value on a ladder
whose recall@10 against exact search reaches `target_recall + TUNE_MARGIN`. It is measured on
TUNE_QUERIES of the index's own vectors used as queries, each query's own id left out of both
result lists, and the result is kept in `VectorIndex.tuning` and the manifest.

Batch linear algebra (k-means, list assignment, the exact ground truth) runs in numpy. faiss-cpu's
bundled OpenBLAS does not recognise this CPU and uses its generic kernel, and numpy was 2-4x faster
at each of these steps (development runs at 1M: 142 s to build with faiss's own training and add,
34-60 s this way).

Kept apart from `matching/index.py` (ids, writes, search, save and load): this is the part the benchmarks
tune (size rules, the nprobe ladder, the kernels), and it works on plain arrays and faiss objects.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import faiss
import numpy as np

METRICS: dict[str, int] = {"ip": faiss.METRIC_INNER_PRODUCT, "l2": faiss.METRIC_L2}
NLIST_PER_SQRT = 1.0           # nlist = NLIST_PER_SQRT * sqrt(n); 2x and 4x measured: slower build, no faster search
TRAIN_PER_LIST = 40            # k-means sample = TRAIN_PER_LIST * nlist points (faiss asks for >= 39)
KMEANS_NITER = 10              # k-means iterations when training the coarse quantizer
TUNE_QUERIES = 500             # held-out own vectors used to choose nprobe
TUNE_K = 10                    # recall@TUNE_K is what target_recall refers to
TUNE_MARGIN = 0.015            # nprobe is tuned to target_recall + margin: ~2 s.e. of a 500-query estimate
NPROBE_LADDER = (1, 2, 3, 4, 6, 8, 12, 16, 20, 24, 32, 40, 48, 64, 80, 96, 128, 160, 192, 256, 320, 384, 512)


@dataclass(frozen=True)
class IvfTuning:
    """How the approximate index was built and what recall its `nprobe` reached when measured."""

    nlist: int
    nprobe: int
    recall_at_10: float   # on `tune_queries` held-out own vectors, against exact search
    tune_queries: int
    trained_on: int       # k-means training sample size
    built_at: int         # vectors in the index when it was built
    train_seconds: float  # k-means on the sample
    add_seconds: float    # assigning and storing every vector
    tune_seconds: float   # exact ground truth + the nprobe ladder


def nlist_for(n: int, nlist_override: int | None) -> int:
    """IVF lists for n vectors: NLIST_PER_SQRT * sqrt(n) unless overridden, at most n // TRAIN_PER_LIST."""
    nlist = nlist_override or round(NLIST_PER_SQRT * math.sqrt(n))
    return max(1, min(nlist, n // TRAIN_PER_LIST))


def build_ivf(ids: np.ndarray, x: np.ndarray, *, metric: str, nlist_override: int | None, seed: int,
              target_recall: float) -> tuple[Any, np.ndarray, IvfTuning]:
    """An IVF-Flat index over ids (n,) and x (n, dim), trained, filled and tuned, with a hashtable
    direct map: (index, centroids (nlist, dim) float32, its tuning record)."""
    t0 = time.perf_counter()
    dim = x.shape[1]
    n, nlist = ids.size, nlist_for(ids.size, nlist_override)
    rng = np.random.default_rng(seed)
    n_train = min(n, TRAIN_PER_LIST * nlist)
    sample = x if n_train == n else x[np.sort(rng.choice(n, n_train, replace=False))]
    centroids = _kmeans(sample, nlist, KMEANS_NITER, rng, metric)
    quantizer = faiss.IndexFlatIP(dim) if metric == "ip" else faiss.IndexFlatL2(dim)
    quantizer.add(centroids)
    ivf = faiss.IndexIVFFlat(quantizer, dim, nlist, METRICS[metric])  # trained: quantizer full
    t1 = time.perf_counter()
    ivf.set_direct_map_type(faiss.DirectMap.Hashtable)
    ivf_add(ivf, centroids, ids, x, metric)
    t2 = time.perf_counter()
    nprobe, recall, m = tune_nprobe(ivf, ids, x, metric=metric, seed=seed, target_recall=target_recall)
    ivf.nprobe = nprobe
    return ivf, centroids, IvfTuning(nlist, nprobe, recall, m, n_train, n, round(t1 - t0, 3),
                                     round(t2 - t1, 3), round(time.perf_counter() - t2, 3))


def tune_nprobe(ivf: Any, ids: np.ndarray, x: np.ndarray, *, metric: str, seed: int,
                target_recall: float) -> tuple[int, float, int]:
    """Smallest nprobe on the ladder whose recall@10 (own vectors as queries, self excluded) meets the
    target: (nprobe, recall@10 reached, queries used)."""
    rng = np.random.default_rng(seed + 1)
    m = min(TUNE_QUERIES, ids.size)
    pick = rng.choice(ids.size, m, replace=False)
    q, self_ids = x[pick], ids[pick]
    k = min(TUNE_K + 1, ids.size)
    pos = exact_knn(q, x, k, metric)
    truth = _drop_self(ids[pos], self_ids, TUNE_K)
    ladder = [p for p in NPROBE_LADDER if p < ivf.nlist] + [ivf.nlist]
    recall = 0.0
    for nprobe in ladder:
        _, got = ivf.search(q, k, params=faiss.SearchParametersIVF(nprobe=nprobe))
        recall = _recall(_drop_self(got, self_ids, TUNE_K), truth)
        if recall >= min(1.0, target_recall + TUNE_MARGIN):
            return nprobe, round(recall, 4), m
    return ivf.nlist, round(recall, 4), m


# Batch linear algebra in numpy (see the module docstring); single-query search stays in faiss's SIMD scan.
CHUNK = 16_384
SMALL_BATCH = 16


def pair_scores(q: np.ndarray, x: np.ndarray, metric: str) -> np.ndarray:
    """(len(q), len(x)) scores, higher is better: inner product, or minus the squared L2 distance.

    A few queries are scored with einsum (no BLAS): numpy's threaded BLAS took ~24 ms to wake its
    threads for one 1 x 2000 product on the loaded 2-core machine, against 0.3 ms for einsum."""
    s = np.einsum("id,jd->ij", q, x) if len(q) <= SMALL_BATCH else q @ x.T
    if metric == "l2":
        s = 2 * s - (q * q).sum(1, keepdims=True) - (x * x).sum(1)[None, :]
    return s


def _assign(x: np.ndarray, centroids: np.ndarray, metric: str) -> np.ndarray:
    """(n,) int64: the best-scoring centroid of each row."""
    out = np.empty(len(x), dtype=np.int64)
    for s in range(0, len(x), CHUNK):
        out[s:s + CHUNK] = pair_scores(x[s:s + CHUNK], centroids, metric).argmax(1)
    return out


def _kmeans(x: np.ndarray, k: int, niter: int, rng: np.random.Generator, metric: str) -> np.ndarray:
    """(k, d) centroids by Lloyd iterations; spherical (unit centroids) for inner product."""
    c = x[rng.choice(len(x), k, replace=False)].copy()
    for _ in range(niter):
        a = _assign(x, c, metric)
        counts = np.bincount(a, minlength=k)
        full = counts > 0
        sums = np.zeros_like(c)
        sums[full] = np.add.reduceat(x[np.argsort(a, kind="stable")], (np.cumsum(counts) - counts)[full], axis=0)
        c = sums / np.maximum(counts, 1)[:, None].astype(np.float32)
        empty = np.flatnonzero(~full)
        c[empty] = x[rng.choice(len(x), empty.size, replace=False)]   # re-seed empty lists
        if metric == "ip":
            c /= np.linalg.norm(c, axis=1, keepdims=True)
    return np.ascontiguousarray(c, dtype=np.float32)


def ivf_add(ivf: Any, centroids: np.ndarray, ids: np.ndarray, x: np.ndarray, metric: str) -> None:
    """Add to an IVF index with list numbers computed here (faiss `add_core` with precomputed lists)."""
    lists = _assign(x, centroids, metric)
    ids, x = np.ascontiguousarray(ids, dtype=np.int64), np.ascontiguousarray(x, dtype=np.float32)
    ivf.add_core(len(x), faiss.swig_ptr(x), faiss.swig_ptr(ids), faiss.swig_ptr(lists))


def exact_knn(q: np.ndarray, x: np.ndarray, k: int, metric: str) -> np.ndarray:
    """(len(q), k) row positions in x of each query's exact top k, best first."""
    best_s = np.full((len(q), 0), -np.inf, dtype=np.float32)
    best_i = np.zeros((len(q), 0), dtype=np.int64)
    for s in range(0, len(x), 4 * CHUNK):
        sc = pair_scores(q, x[s:s + 4 * CHUNK], metric)
        kk = min(k, sc.shape[1])
        part = np.argpartition(-sc, kk - 1, axis=1)[:, :kk]
        cand_s = np.concatenate([best_s, np.take_along_axis(sc, part, 1)], axis=1)
        cand_i = np.concatenate([best_i, part + s], axis=1)
        keep = np.argsort(-cand_s, axis=1, kind="stable")[:, :k]
        best_s, best_i = np.take_along_axis(cand_s, keep, 1), np.take_along_axis(cand_i, keep, 1)
    return best_i


def _drop_self(labels: np.ndarray, self_ids: np.ndarray, k: int) -> list[np.ndarray]:
    """Each row's ids without the query's own id, first k kept."""
    return [row[row != me][:k] for row, me in zip(labels, self_ids, strict=True)]


def _recall(got: list[np.ndarray], truth: list[np.ndarray]) -> float:
    hits = sum(np.intersect1d(g[g >= 0], t).size for g, t in zip(got, truth, strict=True))
    total = sum(t.size for t in truth)
    return hits / total if total else 1.0

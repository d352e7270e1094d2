"""`VectorIndex`: a faiss index over int64 ids (design ids, factory ids) that picks its structure by size.

Structure by size (figures: `scripts/bench_index.py`, BENCHMARKS.md "Vector index", 2-core machine)
-----------------
* **Exact** (`kind == "flat"`): `IndexIDMap2(IndexFlatIP)` (or `IndexFlatL2`) up to `exact_max`
  vectors (default 20,000). At 20,000 x 384 one query scans in ~1.4-1.9 ms p50, inside the 5 ms budget,
  and results are exact.
* **Approximate** (`kind == "ivf"`): `IndexIVFFlat` with a hashtable direct map above `exact_max`.
  IVF-Flat keeps the full vectors, so removal (`remove_ids`), update (remove + add) and read-back by
  id are exact and cheap. faiss HNSW cannot remove, so updates would need tombstones and rebuilds.
  Measured at 1,000,000 x 384 in one run: IVF-Flat built in 60 s and answered one query in 0.49 ms
  p50 at recall@10 0.970; HNSW32 (efConstruction 40) took 310 s to build and 0.13 ms at efSearch 16
  (recall 0.984). Both meet the 5 ms / 0.95 target; IVF builds 5x faster (rebuilds happen inside
  `add`) and supports removal, so it is the approximate structure.

IVF parameters are set by size when the index is (re)built. `nlist = NLIST_PER_SQRT * sqrt(n)`, at
most n / TRAIN_PER_LIST. At 1M, 2 sqrt(n) and 4 sqrt(n) lists took 2.5x and 6x as long to build in
back-to-back runs (k-means cost grows with nlist squared). Their p50 was within 0.1 ms of sqrt(n)'s
0.46-0.48 ms, because nprobe stays at 2-3 and the coarse scan over more centroids uses up what the
shorter lists save. k-means runs on a bounded random sample (TRAIN_PER_LIST * nlist
points, 40,000 at 1M); it is spherical for inner product. `nprobe` is the smallest value on a ladder
whose recall@10 against exact search reaches `target_recall + TUNE_MARGIN`. It is measured on
TUNE_QUERIES of the index's own vectors used as queries, each query's own id left out of both
result lists, and the result is kept in `tuning` and the manifest.

Batch linear algebra (k-means, list assignment, the exact ground truth) runs in numpy. faiss-cpu's
bundled OpenBLAS does not recognise this CPU and uses its generic kernel, and numpy was 2-4x faster
at each of these steps (development runs at 1M: 142 s to build with faiss's own training and add,
34-60 s this way).

Conversions are automatic. An `add` that takes the index above `exact_max` rebuilds it as IVF from
all stored vectors. An IVF index that grows past REGROW_FACTOR times the size it was built at is
rebuilt with more lists. A `remove` that takes it below SHRINK_FRACTION * exact_max converts it back
to exact search. The rebuild is a one-off cost inside the call that triggers it.

Scores are "higher is better": inner product (cosine for normalised vectors) for `metric="ip"`, the
negated squared distance for `metric="l2"`. Missing results are padded with id -1 and score -inf.

Saved form (`save`/`load`): `index.faiss` + `ids.npy` + `manifest.json`. Loading checks the manifest
against the embedder and against the files themselves and raises `IndexManifestError` on mismatch.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from matching.errors import IndexInputError, IndexManifestError, UnknownIdError

METRICS: dict[str, int] = {"ip": faiss.METRIC_INNER_PRODUCT, "l2": faiss.METRIC_L2}
NORM_TOLERANCE = 1e-3          # |‖v‖ - 1| allowed when normalized=True
NLIST_PER_SQRT = 1.0           # nlist = NLIST_PER_SQRT * sqrt(n); 2x and 4x measured: slower build, no faster search
TRAIN_PER_LIST = 40            # k-means sample = TRAIN_PER_LIST * nlist points (faiss asks for >= 39)
KMEANS_NITER = 10              # k-means iterations when training the coarse quantizer
TUNE_QUERIES = 500             # held-out own vectors used to choose nprobe
TUNE_K = 10                    # recall@TUNE_K is what target_recall refers to
TUNE_MARGIN = 0.015            # nprobe is tuned to target_recall + margin: ~2 s.e. of a 500-query estimate
REGROW_FACTOR = 4.0            # rebuild an IVF index that has grown this much since it was built
SHRINK_FRACTION = 0.5          # back to exact search below SHRINK_FRACTION * exact_max vectors
SUBSET_EXACT_MAX = 4096        # allowed_ids at most this many: exact search over just those vectors
NPROBE_LADDER = (1, 2, 3, 4, 6, 8, 12, 16, 20, 24, 32, 40, 48, 64, 80, 96, 128, 160, 192, 256, 320, 384, 512)
FILES = ("index.faiss", "ids.npy", "manifest.json")
FORMAT = "trendloom-vector-index"
FORMAT_VERSION = 1


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


class VectorIndex:
    """Add / update / remove / search vectors by int64 id; exact when small, IVF-Flat when large.

    Searches may run concurrently with each other; writes (add, update, remove, tune) must not run
    concurrently with anything else on the same index (the caller serialises them).
    """

    def __init__(self, dim: int, *, embedder: str, metric: str = "ip", normalized: bool = True,
                 exact_max: int = 20_000, target_recall: float = 0.95, nlist: int | None = None,
                 seed: int = 0, search_threads: int | None = 1) -> None:
        """`embedder` names the model the vectors come from (checked on `load`); `nlist` overrides the
        size rule for the approximate index (benchmarks); `seed` fixes training samples;
        `search_threads` is the OpenMP thread count faiss may use inside `search` (set on the calling
        thread only, then restored; None = faiss's default). 1 by default: a single query gains nothing
        from more, and on the shared 2-core machine 2 threads made it 10-20x slower (BENCHMARKS.md)."""
        if not isinstance(dim, int | np.integer) or dim < 1:
            raise IndexInputError(f"dim must be a positive integer, got {dim!r}")
        if not isinstance(embedder, str) or not embedder:
            raise IndexInputError(f"embedder must be a non-empty name, got {embedder!r}")
        if metric not in METRICS:
            raise IndexInputError(f"unknown metric {metric!r}; allowed: {', '.join(METRICS)}")
        if not isinstance(exact_max, int | np.integer) or exact_max < 1:
            raise IndexInputError(f"exact_max must be a positive integer, got {exact_max!r}")
        if not 0.0 < target_recall <= 1.0:
            raise IndexInputError(f"target_recall must be in (0, 1], got {target_recall!r}")
        if nlist is not None and nlist < 1:
            raise IndexInputError(f"nlist must be a positive integer or None, got {nlist!r}")
        if search_threads is not None and search_threads < 1:
            raise IndexInputError(f"search_threads must be a positive integer or None, got {search_threads!r}")
        self.search_threads = search_threads
        self.dim, self.embedder, self.metric, self.normalized = int(dim), embedder, metric, bool(normalized)
        self.exact_max, self.target_recall, self.nlist_override, self.seed = int(exact_max), float(target_recall), nlist, seed
        self.tuning: IvfTuning | None = None
        self._centroids = np.zeros((0, self.dim), dtype=np.float32)   # IVF list centres, (nlist, dim)
        self._index: Any = self._new_flat()
        self._ids: set[int] = set()

    # ------------------------------------------------------------------ queries about contents
    @property
    def kind(self) -> str:
        """"flat" (exact search) or "ivf" (IVF-Flat, approximate)."""
        return "flat" if self.tuning is None else "ivf"

    @property
    def ids(self) -> np.ndarray:
        """The ids held, sorted, int64."""
        return np.sort(np.fromiter(self._ids, dtype=np.int64, count=len(self._ids)))

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, id: object) -> bool:
        return isinstance(id, int | np.integer) and int(id) in self._ids

    def __repr__(self) -> str:
        extra = f", nlist={self.tuning.nlist}, nprobe={self.tuning.nprobe}" if self.tuning else ""
        return f"VectorIndex(n={len(self)}, dim={self.dim}, kind={self.kind!r}, embedder={self.embedder!r}{extra})"

    def vectors(self, ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """(len(ids), dim) float32: the stored vectors of these ids, in the order given."""
        ids = self._as_ids(ids, "ids")
        self._require_present(ids)
        if ids.size == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._index.reconstruct_batch(ids)

    # ------------------------------------------------------------------ writes
    def add(self, ids: Sequence[int] | np.ndarray, vectors: np.ndarray) -> None:
        """Insert vectors under int64 ids (>= 0). An id already present is replaced (an update)."""
        ids, x = self._as_batch(ids, vectors)
        if ids.size == 0:
            return
        present = self._present_mask(ids)
        if present.any():
            self._index.remove_ids(ids[present])
        total = len(self._ids) + int((~present).sum())
        grown = self.tuning is not None and total > REGROW_FACTOR * self.tuning.built_at
        if (self.tuning is None and total > self.exact_max) or grown:
            old_ids, old_x = self._contents()
            if old_ids.size:
                ids, x = np.concatenate([old_ids, ids]), np.concatenate([old_x, x])
            self._build(ids, x)
        else:
            if self.tuning is None:
                self._index.add_with_ids(x, ids)
            else:
                _ivf_add(self._index, self._centroids, ids, x, self.metric)
            self._ids.update(ids.tolist())

    def update(self, ids: Sequence[int] | np.ndarray, vectors: np.ndarray) -> None:
        """Replace the vectors of ids that must already be present (`UnknownIdError` otherwise)."""
        ids, x = self._as_batch(ids, vectors)
        self._require_present(ids)
        self.add(ids, x)

    def remove(self, ids: Sequence[int] | np.ndarray) -> int:
        """Remove these ids; absent ids are ignored. Returns how many were removed."""
        ids = np.unique(self._as_ids(ids, "ids"))
        gone = ids[self._present_mask(ids)]
        if gone.size == 0:
            return 0
        removed = int(self._index.remove_ids(gone))
        if removed != gone.size:  # the id set and faiss disagree: a bug, never silently ignored
            raise RuntimeError(f"faiss removed {removed} vectors for {gone.size} present ids")
        self._ids.difference_update(gone.tolist())
        if self.tuning is not None and len(self._ids) < SHRINK_FRACTION * self.exact_max:
            self._build(*self._contents())
        return int(gone.size)

    def tune(self) -> IvfTuning | None:
        """Re-measure nprobe on the current contents (after many adds/removes). None for exact search."""
        if self.tuning is None:
            return None
        ids, x = self._contents()
        t0 = time.perf_counter()
        nprobe, recall, m = self._tune_nprobe(self._index, ids, x)
        self.tuning = replace(self.tuning, nprobe=nprobe, recall_at_10=recall, tune_queries=m,
                              tune_seconds=round(time.perf_counter() - t0, 3))
        self._index.nprobe = nprobe
        return self.tuning

    # ------------------------------------------------------------------ search
    def search(self, queries: np.ndarray, k: int, *,
               allowed_ids: np.ndarray | Sequence[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k by score for each query: (scores float32 (q, k), ids int64 (q, k)), best first.

        `allowed_ids` restricts results to those ids (filters such as category or price band): up to
        SUBSET_EXACT_MAX of them are searched exactly; a larger set goes through a faiss id selector,
        and on IVF with nprobe scaled by 1/(allowed fraction) so as many allowed candidates are seen as
        in an unfiltered search. Rows with fewer than k results are padded with id -1 and score -inf.
        """
        q = self._as_vectors(queries, "queries")
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
            raise IndexInputError(f"k must be an integer >= 1, got {k!r}")
        k = int(k)
        scores = np.full((len(q), k), -np.inf, dtype=np.float32)
        labels = np.full((len(q), k), -1, dtype=np.int64)
        if len(q) == 0 or len(self._ids) == 0:
            return scores, labels
        params, keep = None, None
        nprobe = self.tuning.nprobe if self.tuning else 0
        if allowed_ids is not None:
            allowed = self._as_ids(allowed_ids, "allowed_ids")
            if allowed.size > 1 and not (allowed[1:] > allowed[:-1]).all():  # sorted unique is the common case
                allowed = np.unique(allowed)
            if allowed.size <= SUBSET_EXACT_MAX:
                with _omp_threads(self.search_threads):
                    return self._search_subset(q, k, allowed[self._present_mask(allowed)], scores, labels)
            sel, keep = _selector(allowed)
            if self.tuning is None:
                params = faiss.SearchParameters(sel=sel)
            else:  # a fraction f of ids allowed: probe ~1/f as many lists to see as many candidates
                frac = min(1.0, allowed.size / len(self._ids))
                params = faiss.SearchParametersIVF(sel=sel, nprobe=min(self.tuning.nlist, math.ceil(nprobe / frac)))
        elif self.tuning is not None:
            params = faiss.SearchParametersIVF(nprobe=nprobe)
        kk = min(k, len(self._ids))
        with _omp_threads(self.search_threads):
            d, i = self._index.search(q, kk, params=params)
        del keep
        d = -d if self.metric == "l2" else d
        d[i < 0] = -np.inf
        scores[:, :kk], labels[:, :kk] = d, i
        return scores, labels

    def _search_subset(self, q: np.ndarray, k: int, ids: np.ndarray, scores: np.ndarray,
                       labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Exact search over a small set of present ids (read back by id, scored with numpy)."""
        if ids.size == 0:
            return scores, labels
        s = _scores(q, self._index.reconstruct_batch(ids), self.metric)   # (q, m)
        kk = min(k, ids.size)
        top = np.argsort(-s, axis=1, kind="stable")[:, :kk]        # (q, kk); m <= SUBSET_EXACT_MAX
        scores[:, :kk] = np.take_along_axis(s, top, axis=1)
        labels[:, :kk] = ids[top]
        return scores, labels

    # ------------------------------------------------------------------ save / load
    def save(self, folder: str | Path) -> None:
        """Write index.faiss + ids.npy + manifest.json into `folder` (created if needed; manifest last)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        ids = self.ids
        faiss.write_index(self._index, str(folder / "index.faiss.tmp"))
        with open(folder / "ids.npy.tmp", "wb") as fh:
            np.save(fh, ids, allow_pickle=False)
        manifest = {
            "format": FORMAT, "version": FORMAT_VERSION, "embedder": self.embedder, "dim": self.dim,
            "metric": self.metric, "normalized": self.normalized, "count": int(ids.size), "kind": self.kind,
            "exact_max": self.exact_max, "target_recall": self.target_recall, "nlist_override": self.nlist_override,
            "seed": self.seed, "ivf": asdict(self.tuning) if self.tuning else None, "faiss_version": faiss.__version__,
        }
        (folder / "manifest.json.tmp").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        for name in FILES:
            os.replace(folder / f"{name}.tmp", folder / name)

    @classmethod
    def load(cls, folder: str | Path, *, embedder: str, dim: int, metric: str | None = None,
             normalized: bool | None = None, search_threads: int | None = 1) -> VectorIndex:
        """Read a saved index, checking it against the embedder (name, dim) and against itself
        (and against `metric` / `normalized` when given)."""
        folder = Path(folder)
        for name in FILES:
            if not (folder / name).is_file():
                raise IndexManifestError(f"{folder}: {name} is missing; a saved index is {' + '.join(FILES)}")
        m = _read_manifest(folder / "manifest.json")
        checks = [("embedder", embedder), ("dim", dim)] + [(key, want) for key, want in
                                                          (("metric", metric), ("normalized", normalized)) if want is not None]
        for key, want in checks:
            if m[key] != want:
                raise IndexManifestError(f"{folder}: index was built with {key}={m[key]!r} but is loaded for "
                                         f"{key}={want!r}; rebuild the index for this embedder")
        try:
            ids = np.load(folder / "ids.npy", allow_pickle=False)
        except ValueError as exc:
            raise IndexManifestError(f"{folder}/ids.npy is unreadable: {exc}") from exc
        if ids.ndim != 1 or ids.dtype != np.int64:
            raise IndexManifestError(f"{folder}/ids.npy must be a 1-D int64 array, got {ids.dtype} {ids.shape}")
        if ids.size != m["count"]:
            raise IndexManifestError(f"{folder}: manifest count is {m['count']} but ids.npy holds {ids.size} ids")
        try:
            index = faiss.read_index(str(folder / "index.faiss"))
        except RuntimeError as exc:
            raise IndexManifestError(f"{folder}/index.faiss is unreadable: {exc}") from exc
        out = cls(m["dim"], embedder=m["embedder"], metric=m["metric"], normalized=m["normalized"],
                  exact_max=m["exact_max"], target_recall=m["target_recall"], nlist=m["nlist_override"], seed=m["seed"],
                  search_threads=search_threads)
        want_type = faiss.IndexIVFFlat if m["kind"] == "ivf" else faiss.IndexIDMap2
        if not isinstance(index, want_type) or index.d != m["dim"] or index.metric_type != METRICS[m["metric"]]:
            raise IndexManifestError(f"{folder}/index.faiss is a {type(index).__name__} (d={index.d}, metric="
                                     f"{index.metric_type}), not the {m['kind']} index the manifest describes")
        if index.ntotal != m["count"]:
            raise IndexManifestError(f"{folder}: manifest count is {m['count']} but index.faiss holds {index.ntotal}")
        out._index = index
        if m["kind"] == "ivf":
            out.tuning = IvfTuning(**m["ivf"])
            if index.direct_map.type != faiss.DirectMap.Hashtable:
                index.set_direct_map_type(faiss.DirectMap.Hashtable)
            index.nprobe = out.tuning.nprobe
            out._centroids = _flat_vectors(faiss.downcast_index(index.quantizer), m["dim"])
        held, _ = out._contents(with_vectors=False)
        if not np.array_equal(np.sort(held), ids):
            raise IndexManifestError(f"{folder}: ids.npy does not match the ids stored in index.faiss")
        out._ids = set(ids.tolist())
        return out

    # ------------------------------------------------------------------ building
    def _new_flat(self) -> Any:
        flat = faiss.IndexFlatIP(self.dim) if self.metric == "ip" else faiss.IndexFlatL2(self.dim)
        return faiss.IndexIDMap2(flat)

    def _nlist_for(self, n: int) -> int:
        nlist = self.nlist_override or round(NLIST_PER_SQRT * math.sqrt(n))
        return max(1, min(nlist, n // TRAIN_PER_LIST))

    def _build(self, ids: np.ndarray, x: np.ndarray) -> None:
        """Replace the faiss structure with the right one for len(ids) vectors (exact or IVF)."""
        if ids.size <= self.exact_max:
            index = self._new_flat()
            index.add_with_ids(x, ids)
            self._index, self.tuning, self._centroids = index, None, np.zeros((0, self.dim), np.float32)
        else:
            self._index, self.tuning = self._build_ivf(ids, x)
        self._ids = set(ids.tolist())

    def _build_ivf(self, ids: np.ndarray, x: np.ndarray) -> tuple[Any, IvfTuning]:
        t0 = time.perf_counter()
        n, nlist = ids.size, self._nlist_for(ids.size)
        rng = np.random.default_rng(self.seed)
        n_train = min(n, TRAIN_PER_LIST * nlist)
        sample = x if n_train == n else x[np.sort(rng.choice(n, n_train, replace=False))]
        self._centroids = _kmeans(sample, nlist, KMEANS_NITER, rng, self.metric)
        quantizer = faiss.IndexFlatIP(self.dim) if self.metric == "ip" else faiss.IndexFlatL2(self.dim)
        quantizer.add(self._centroids)
        ivf = faiss.IndexIVFFlat(quantizer, self.dim, nlist, METRICS[self.metric])  # trained: quantizer full
        t1 = time.perf_counter()
        ivf.set_direct_map_type(faiss.DirectMap.Hashtable)
        _ivf_add(ivf, self._centroids, ids, x, self.metric)
        t2 = time.perf_counter()
        nprobe, recall, m = self._tune_nprobe(ivf, ids, x)
        ivf.nprobe = nprobe
        return ivf, IvfTuning(nlist, nprobe, recall, m, n_train, n, round(t1 - t0, 3), round(t2 - t1, 3),
                              round(time.perf_counter() - t2, 3))

    def _tune_nprobe(self, ivf: Any, ids: np.ndarray, x: np.ndarray) -> tuple[int, float, int]:
        """Smallest nprobe on the ladder whose recall@10 (own vectors as queries, self excluded) meets the target."""
        rng = np.random.default_rng(self.seed + 1)
        m = min(TUNE_QUERIES, ids.size)
        pick = rng.choice(ids.size, m, replace=False)
        q, self_ids = x[pick], ids[pick]
        k = min(TUNE_K + 1, ids.size)
        pos = exact_knn(q, x, k, self.metric)
        truth = _drop_self(ids[pos], self_ids, TUNE_K)
        ladder = [p for p in NPROBE_LADDER if p < ivf.nlist] + [ivf.nlist]
        recall = 0.0
        for nprobe in ladder:
            _, got = ivf.search(q, k, params=faiss.SearchParametersIVF(nprobe=nprobe))
            recall = _recall(_drop_self(got, self_ids, TUNE_K), truth)
            if recall >= min(1.0, self.target_recall + TUNE_MARGIN):
                return nprobe, round(recall, 4), m
        return ivf.nlist, round(recall, 4), m

    def _contents(self, with_vectors: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """(ids (n,), vectors (n, d)) read straight from the faiss structure, in its storage order."""
        if self.tuning is None and isinstance(self._index, faiss.IndexIDMap2):
            ids = faiss.vector_to_array(self._index.id_map).astype(np.int64)
            flat = faiss.downcast_index(self._index.index)
            return ids, _flat_vectors(flat, self.dim) if with_vectors else np.zeros((0, self.dim), np.float32)
        invlists, id_parts, x_parts = self._index.invlists, [], []
        for lst in range(invlists.nlist):
            size = invlists.list_size(lst)
            if size == 0:
                continue
            id_parts.append(faiss.rev_swig_ptr(invlists.get_ids(lst), size).copy())
            if with_vectors:
                codes = faiss.rev_swig_ptr(invlists.get_codes(lst), size * invlists.code_size)
                x_parts.append(codes.view(np.float32).reshape(size, self.dim).copy())
        ids = np.concatenate(id_parts) if id_parts else np.zeros(0, np.int64)
        x = np.concatenate(x_parts) if x_parts else np.zeros((0, self.dim), np.float32)
        return ids.astype(np.int64), x

    # ------------------------------------------------------------------ validation
    def _as_ids(self, ids: Sequence[int] | np.ndarray, what: str) -> np.ndarray:
        arr = np.asarray(ids)
        if arr.ndim == 0:
            arr = arr.reshape(1)
        if arr.ndim != 1:
            raise IndexInputError(f"{what} must be a 1-D sequence of integers, got shape {arr.shape}")
        if arr.size == 0:
            return np.zeros(0, dtype=np.int64)
        if arr.dtype.kind not in "iu":
            raise IndexInputError(f"{what} must be integers, got dtype {arr.dtype}")
        worst = arr.max() if arr.dtype.kind == "u" else arr.min()
        if worst < 0 or worst > np.iinfo(np.int64).max:
            raise IndexInputError(f"{what} must be in 0 .. 2**63-1 (-1 marks 'no result'); got {worst}")
        return np.ascontiguousarray(arr, dtype=np.int64)

    def _as_vectors(self, vectors: np.ndarray, what: str) -> np.ndarray:
        x = np.asarray(vectors)
        if x.dtype.kind not in "fiu":
            raise IndexInputError(f"{what} must be numeric, got dtype {x.dtype}")
        x = np.ascontiguousarray(x, dtype=np.float32)
        if x.ndim == 1 and x.size == self.dim:
            x = x.reshape(1, self.dim)
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise IndexInputError(f"{what} must have shape (n, {self.dim}) for this index, got {x.shape}")
        bad = ~np.isfinite(x).all(axis=1)
        if bad.any():
            raise IndexInputError(f"{what} row {int(np.argmax(bad))} has a NaN or infinite value ({int(bad.sum())} rows in all)")
        if self.normalized and x.shape[0]:
            err = np.abs(np.linalg.norm(x, axis=1) - 1.0)
            if (err > NORM_TOLERANCE).any():
                row = int(np.argmax(err))
                raise IndexInputError(f"{what} row {row} has norm {np.linalg.norm(x[row]):.4f}; this index holds "
                                      f"L2-normalised vectors (norm 1 +/- {NORM_TOLERANCE}); normalise before calling")
        return x

    def _as_batch(self, ids: Sequence[int] | np.ndarray, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ids, x = self._as_ids(ids, "ids"), self._as_vectors(vectors, "vectors")
        if ids.size != x.shape[0]:
            raise IndexInputError(f"got {ids.size} ids for {x.shape[0]} vectors; they must match one to one")
        uniq, counts = np.unique(ids, return_counts=True)
        if uniq.size != ids.size:
            raise IndexInputError(f"duplicate ids in one call, e.g. {uniq[counts > 1][:5].tolist()}; give each id once")
        return ids, x

    def _present_mask(self, ids: np.ndarray) -> np.ndarray:
        held = self._ids
        return np.fromiter((i in held for i in ids.tolist()), dtype=bool, count=ids.size)

    def _require_present(self, ids: np.ndarray) -> None:
        absent = ids[~self._present_mask(ids)]
        if absent.size:
            raise UnknownIdError(f"{absent.size} id(s) not in the index, e.g. {absent[:5].tolist()}")


# Batch linear algebra in numpy (see the module docstring); single-query search stays in faiss's SIMD scan.
CHUNK = 16_384
SMALL_BATCH = 16


def _scores(q: np.ndarray, x: np.ndarray, metric: str) -> np.ndarray:
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
        out[s:s + CHUNK] = _scores(x[s:s + CHUNK], centroids, metric).argmax(1)
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


def _ivf_add(ivf: Any, centroids: np.ndarray, ids: np.ndarray, x: np.ndarray, metric: str) -> None:
    """Add to an IVF index with list numbers computed here (faiss `add_core` with precomputed lists)."""
    lists = _assign(x, centroids, metric)
    ids, x = np.ascontiguousarray(ids, dtype=np.int64), np.ascontiguousarray(x, dtype=np.float32)
    ivf.add_core(len(x), faiss.swig_ptr(x), faiss.swig_ptr(ids), faiss.swig_ptr(lists))


def exact_knn(q: np.ndarray, x: np.ndarray, k: int, metric: str) -> np.ndarray:
    """(len(q), k) row positions in x of each query's exact top k, best first."""
    best_s = np.full((len(q), 0), -np.inf, dtype=np.float32)
    best_i = np.zeros((len(q), 0), dtype=np.int64)
    for s in range(0, len(x), 4 * CHUNK):
        sc = _scores(q, x[s:s + 4 * CHUNK], metric)
        kk = min(k, sc.shape[1])
        part = np.argpartition(-sc, kk - 1, axis=1)[:, :kk]
        cand_s = np.concatenate([best_s, np.take_along_axis(sc, part, 1)], axis=1)
        cand_i = np.concatenate([best_i, part + s], axis=1)
        keep = np.argsort(-cand_s, axis=1, kind="stable")[:, :k]
        best_s, best_i = np.take_along_axis(cand_s, keep, 1), np.take_along_axis(cand_i, keep, 1)
    return best_i


def _flat_vectors(flat: Any, dim: int) -> np.ndarray:
    """A copy of the vectors stored in a faiss IndexFlat, (ntotal, dim) float32."""
    return faiss.vector_to_array(flat.codes).view(np.float32).reshape(-1, dim).copy()


@contextmanager
def _omp_threads(n: int | None) -> Iterator[None]:
    """faiss runs with n OpenMP threads inside the block; OpenMP keeps the count per calling thread."""
    if n is None:
        yield
        return
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(n)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def _selector(allowed: np.ndarray) -> tuple[Any, np.ndarray]:
    """A faiss id selector for sorted unique ids, and the array it points into (keep it alive)."""
    top = int(allowed[-1])
    if top < max(1 << 22, 64 * allowed.size):  # dense ids: a bitmap is cheaper to build than a hash set
        mask = np.zeros(top + 1, dtype=bool)
        mask[allowed] = True
        bits = np.packbits(mask, bitorder="little")
        return faiss.IDSelectorBitmap(bits.size, faiss.swig_ptr(bits)), bits
    return faiss.IDSelectorBatch(allowed.size, faiss.swig_ptr(allowed)), allowed


def _drop_self(labels: np.ndarray, self_ids: np.ndarray, k: int) -> list[np.ndarray]:
    """Each row's ids without the query's own id, first k kept."""
    return [row[row != me][:k] for row, me in zip(labels, self_ids, strict=True)]


def _recall(got: list[np.ndarray], truth: list[np.ndarray]) -> float:
    hits = sum(np.intersect1d(g[g >= 0], t).size for g, t in zip(got, truth, strict=True))
    total = sum(t.size for t in truth)
    return hits / total if total else 1.0


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        m = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IndexManifestError(f"{path} is not valid JSON: {exc}") from exc
    need = ("format", "version", "embedder", "dim", "metric", "normalized", "count", "kind", "exact_max",
            "target_recall", "nlist_override", "seed", "ivf")
    missing = [key for key in need if not isinstance(m, dict) or key not in m]
    if missing:
        raise IndexManifestError(f"{path} lacks {', '.join(missing)}")
    if m["format"] != FORMAT or m["version"] != FORMAT_VERSION:
        raise IndexManifestError(f"{path} is format {m['format']!r} v{m['version']}, expected {FORMAT!r} v{FORMAT_VERSION}")
    if m["metric"] not in METRICS or not isinstance(m["normalized"], bool) or m["kind"] not in ("flat", "ivf"):
        raise IndexManifestError(f"{path}: metric {m['metric']!r}, normalized {m['normalized']!r} or kind "
                                 f"{m['kind']!r} is not allowed (metric: {', '.join(METRICS)}; kind: flat, ivf)")
    if not isinstance(m["count"], int) or m["count"] < 0:
        raise IndexManifestError(f"{path}: count must be a non-negative integer, got {m['count']!r}")
    if m["kind"] == "ivf" and not isinstance(m["ivf"], dict):
        raise IndexManifestError(f"{path}: kind is ivf but the ivf tuning record is missing")
    return m

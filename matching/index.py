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

The size rules for `nlist`, the k-means build and the `nprobe` tuning are in `matching/ivf.py`, with
the numpy linear algebra they use (faster than faiss-cpu's bundled OpenBLAS here) and the figures.

Conversions are automatic. An `add` that takes the index above `exact_max` rebuilds it as IVF from
all stored vectors. An IVF index that grows past REGROW_FACTOR times the size it was built at is
rebuilt with more lists. A `remove` that takes it below SHRINK_FRACTION * exact_max converts it back
to exact search. The rebuild is a one-off cost inside the call that triggers it.

Scores are "higher is better": inner product (cosine for normalised vectors) for `metric="ip"`, the
negated squared distance for `metric="l2"`. Missing results are padded with id -1 and score -inf.

Saved form (`save`/`load`; the file format is in `matching/index_files.py`): `index.faiss` + `ids.npy` +
`manifest.json`. Loading checks the manifest against the embedder and against the files themselves and
raises `IndexManifestError` on mismatch.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from matching.errors import IndexInputError, IndexManifestError, UnknownIdError
from matching.index_files import FORMAT, FORMAT_VERSION, read_index_files, write_index_files
from matching.ivf import METRICS, IvfTuning, build_ivf, ivf_add, pair_scores, tune_nprobe
from matching.ivf import exact_knn  # noqa: F401  (imported from here by scripts/bench_index.py)

NORM_TOLERANCE = 1e-3          # |‖v‖ - 1| allowed when normalized=True
REGROW_FACTOR = 4.0            # rebuild an IVF index that has grown this much since it was built
SHRINK_FRACTION = 0.5          # back to exact search below SHRINK_FRACTION * exact_max vectors
SUBSET_EXACT_MAX = 4096        # allowed_ids at most this many: exact search over just those vectors


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
                ivf_add(self._index, self._centroids, ids, x, self.metric)
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
        nprobe, recall, m = tune_nprobe(self._index, ids, x, metric=self.metric, seed=self.seed,
                                        target_recall=self.target_recall)
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
        s = pair_scores(q, self._index.reconstruct_batch(ids), self.metric)   # (q, m)
        kk = min(k, ids.size)
        top = np.argsort(-s, axis=1, kind="stable")[:, :kk]        # (q, kk); m <= SUBSET_EXACT_MAX
        scores[:, :kk] = np.take_along_axis(s, top, axis=1)
        labels[:, :kk] = ids[top]
        return scores, labels

    # ------------------------------------------------------------------ save / load
    def save(self, folder: str | Path) -> None:
        """Write index.faiss + ids.npy + manifest.json into `folder` (created if needed; manifest last)."""
        ids = self.ids
        manifest = {
            "format": FORMAT, "version": FORMAT_VERSION, "embedder": self.embedder, "dim": self.dim,
            "metric": self.metric, "normalized": self.normalized, "count": int(ids.size), "kind": self.kind,
            "exact_max": self.exact_max, "target_recall": self.target_recall, "nlist_override": self.nlist_override,
            "seed": self.seed, "ivf": asdict(self.tuning) if self.tuning else None, "faiss_version": faiss.__version__,
        }
        write_index_files(Path(folder), self._index, ids, manifest)

    @classmethod
    def load(cls, folder: str | Path, *, embedder: str, dim: int, metric: str | None = None,
             normalized: bool | None = None, search_threads: int | None = 1) -> VectorIndex:
        """Read a saved index, checking it against the embedder (name, dim) and against itself
        (and against `metric` / `normalized` when given)."""
        folder = Path(folder)
        m, ids, index = read_index_files(folder, embedder=embedder, dim=dim, metric=metric, normalized=normalized)
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

    def _build(self, ids: np.ndarray, x: np.ndarray) -> None:
        """Replace the faiss structure with the right one for len(ids) vectors (exact or IVF)."""
        if ids.size <= self.exact_max:
            index = self._new_flat()
            index.add_with_ids(x, ids)
            self._index, self.tuning, self._centroids = index, None, np.zeros((0, self.dim), np.float32)
        else:
            self._index, self._centroids, self.tuning = build_ivf(
                ids, x, metric=self.metric, nlist_override=self.nlist_override, seed=self.seed,
                target_recall=self.target_recall)
        self._ids = set(ids.tolist())

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

"""Benchmark `VectorIndex` at catalogue scale on embeddings that look like real ones (for BENCHMARKS.md).

    HF_HUB_OFFLINE=1 .venv/bin/python scripts/bench_index.py --sizes 100000,1000000 [--hnsw 100000]

1. **Realistic embeddings.** Up to `--texts` (5,000) distinct product texts are composed from
   generation/taxonomy.json (category x colour x material x pattern x silhouette x details, written in
   the shapes the composer uses: spec text, description, product name, listing line) and embedded once
   with `TextEmbedder` (MiniLM); the result is cached under `--cache` so reruns skip the model.
   N vectors are then synthesised as normalised random convex combinations of 2-3 *nearby* real
   embeddings (an anchor and partners among its 10 nearest neighbours) plus small Gaussian noise.
   Every synthetic vector therefore lies on the manifold the real embeddings span, in the same
   clusters (category, material, colour families), not in the near-orthogonal cloud that i.i.d. noise
   gives. The sanity statistics printed compare the real and synthetic sets at equal sample size
   (nearest-neighbour cosine quantiles, mean pairwise cosine, variance share of the top 10 principal
   axes) with i.i.d. Gaussian noise as the foil.
2. **Index at size N.** Builds `VectorIndex` (one `add` of N vectors: above `exact_max` it trains IVF),
   reporting build time, RSS growth and saved size; then single-query latency (p50/p95) over `--queries`
   synthetic queries that are not in the index, recall@10 against exact faiss `IndexFlatIP`, the exact
   index's own single-query p50 in the same run, and filtered search (allowed_ids = a random 10% of
   the ids) with its recall against exact filtered search. Search latency is measured with 1 and with
   the default number of OpenMP threads.
3. **HNSW foil** (`--hnsw N`): builds faiss `IndexHNSWFlat` (M=32, efConstruction=40) on the first N
   vectors and reports build time and the smallest efSearch reaching recall@10 >= 0.95 with its p50.

Prints one JSON document (also written to `--out` when given).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from matching.index import VectorIndex, exact_knn  # noqa: E402

TAXONOMY = ROOT / "generation" / "taxonomy.json"


# ---------------------------------------------------------------------------------------- texts
def product_texts(n: int, seed: int = 0) -> list[str]:
    """Up to n distinct product texts composed from the taxonomy, in the composer's phrasings."""
    tax = json.loads(TAXONOMY.read_text(encoding="utf-8"))
    attrs, rng = tax["attributes"], np.random.default_rng(seed)
    segments = [s for s in tax["segments"].values() if s != "all buyers"]

    def allowed(kind: str, cat: str) -> list[dict]:
        return [a for a in attrs[kind] if a.get("categories", "*") == "*" or cat in a["categories"]]

    def word(a: dict) -> str:
        syn = [s for s in a.get("synonyms", []) if s.isascii()]
        return (syn[rng.integers(len(syn))] if syn and rng.random() < 0.25 else a["name"]).replace("-", " ")

    texts: set[str] = set()
    for _ in range(50 * n):
        if len(texts) >= n:
            break
        cat = tax["categories"][rng.integers(len(tax["categories"]))]
        name = word(cat)
        pick = {k: allowed(k, cat["name"]) for k in ("color", "material", "pattern", "silhouette", "detail")}
        color, material, pattern = (word(pick[k][rng.integers(len(pick[k]))]) for k in ("color", "material", "pattern"))
        sil = word(pick["silhouette"][rng.integers(len(pick["silhouette"]))]) if pick["silhouette"] and rng.random() < 0.7 else ""
        n_det = min(len(pick["detail"]), int(rng.integers(0, 3)))
        details = [word(pick["detail"][i]) for i in rng.choice(len(pick["detail"]), n_det, replace=False)]
        patt = "" if pattern in ("solid", "plain") else pattern
        form = rng.integers(4)
        if form == 0:    # DesignSpec.text()
            t = " ".join(w for w in (color, patt, material, sil, name) if w)
            t += (" with " + ", ".join(details)) if details else ""
        elif form == 1:  # composer.describe()
            t = f"{sil.title()} {name} in {color} {material}".strip()
            t += f" with a {patt} pattern" if patt else ""
            t += (", finished with " + " and ".join(details)) if details else ""
            t += f" ({cat['zh']})."
        elif form == 2:  # product name
            t = " ".join(w.title() for w in (color, patt, material, sil, name) if w)
        else:            # marketplace listing line
            seg = segments[rng.integers(len(segments))]
            t = f"{name} for {seg}: {color} {material}" + (f", {patt}" if patt else "") + "".join(f", {d}" for d in details)
        texts.add(t)
    return sorted(texts)


def base_embeddings(n_texts: int, cache: Path) -> tuple[np.ndarray, str, float, bool]:
    """(embeddings (m, 384), embedder name, seconds the embedding took, whether it came from the cache)."""
    texts = product_texts(n_texts)
    key = hashlib.sha1("\n".join(texts).encode()).hexdigest()[:12]
    path = cache / f"bench_index_base_{len(texts)}_{key}.npy"
    meta = path.with_suffix(".json")
    if path.is_file() and meta.is_file():
        info = json.loads(meta.read_text())
        return np.load(path, allow_pickle=False), info["embedder"], info["seconds"], True
    from matching.embeddings import TextEmbedder

    emb = TextEmbedder.from_pretrained()
    t0 = time.perf_counter()
    x = emb.encode(texts)
    secs = time.perf_counter() - t0
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, x, allow_pickle=False)
    meta.write_text(json.dumps({"embedder": emb.name, "texts": len(texts), "seconds": round(secs, 1)}))
    return x, emb.name, secs, False


# ---------------------------------------------------------------------------------------- synthesis
def synthesise(base: np.ndarray, n: int, seed: int, noise: float, neighbours: int = 10) -> np.ndarray:
    """n unit vectors, each a random convex combination of 2-3 nearby real embeddings plus noise."""
    rng = np.random.default_rng(seed)
    sims = base @ base.T
    np.fill_diagonal(sims, -np.inf)
    near = np.argsort(-sims, axis=1)[:, :neighbours]                     # (m, neighbours)
    out = np.empty((n, base.shape[1]), dtype=np.float32)
    for start in range(0, n, 100_000):
        c = min(100_000, n - start)
        anchor = rng.integers(0, len(base), c)
        partners = near[anchor[:, None], rng.integers(0, neighbours, (c, 2))]   # (c, 2)
        w = rng.dirichlet([1.0, 1.0, 1.0], c).astype(np.float32)
        w[rng.random(c) < 0.5, 2] = 0.0                                     # half mix 2, half mix 3
        w /= w.sum(1, keepdims=True)
        v = w[:, :1] * base[anchor] + w[:, 1:2] * base[partners[:, 0]] + w[:, 2:] * base[partners[:, 1]]
        v += rng.normal(0.0, noise, v.shape).astype(np.float32)
        out[start:start + c] = v / np.linalg.norm(v, axis=1, keepdims=True)
    return out


def manifold_stats(x: np.ndarray) -> dict[str, float]:
    """Nearest-neighbour cosine quantiles, mean pairwise cosine, top-10 PCA variance share."""
    s = x @ x.T
    np.fill_diagonal(s, -np.inf)
    nn = s.max(1)
    np.fill_diagonal(s, np.nan)
    centred = x - x.mean(0)
    ev = np.linalg.svd(centred, compute_uv=False) ** 2
    return {"nn_cos_p05": round(float(np.quantile(nn, 0.05)), 3), "nn_cos_p50": round(float(np.median(nn)), 3),
            "nn_cos_p95": round(float(np.quantile(nn, 0.95)), 3), "mean_pair_cos": round(float(np.nanmean(s)), 3),
            "top10_pca_var_share": round(float(ev[:10].sum() / ev.sum()), 3)}


# ---------------------------------------------------------------------------------------- measuring
def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def single_query_ms(search, queries: np.ndarray) -> tuple[dict[str, float], np.ndarray]:  # type: ignore[no-untyped-def]
    """Latency quantiles of one-query calls, and the ids each returned."""
    for q in queries[:20]:
        search(q[None, :])
    times, found = [], []
    for q in queries:
        t0 = time.perf_counter()
        ids = search(q[None, :])
        times.append((time.perf_counter() - t0) * 1000)
        found.append(ids[0])
    t = np.array(times)
    return {"p50_ms": round(float(np.median(t)), 3), "p95_ms": round(float(np.quantile(t, 0.95)), 3),
            "p99_ms": round(float(np.quantile(t, 0.99)), 3)}, np.array(found)


def exact_top10(q: np.ndarray, x: np.ndarray, k: int = 10) -> np.ndarray:
    """Row positions in x of each query's exact top k by inner product (the library's chunked search)."""
    return exact_knn(q, x, k, "ip")


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    return round(float(np.mean([np.intersect1d(f[f >= 0], t).size / t.size for f, t in zip(found, truth)])), 4)


def bench_size(n: int, base: np.ndarray, embedder: str, args: argparse.Namespace) -> dict:
    """Build, time and check VectorIndex at n vectors against exact faiss search."""
    default_threads = faiss.omp_get_max_threads()
    x = synthesise(base, n, seed=1, noise=args.noise)
    q = synthesise(base, args.queries, seed=2, noise=args.noise)          # not in the index
    ids = np.arange(n, dtype=np.int64)
    res: dict = {"n": n, "dim": int(x.shape[1]), "load_average": [round(v, 2) for v in os.getloadavg()]}

    exact = faiss.IndexFlatIP(x.shape[1])
    exact.add(x)
    truth = exact_top10(q, x)                                                # ground truth (row = id)
    for threads in sorted({1, default_threads}):
        faiss.omp_set_num_threads(threads)
        lat, _ = single_query_ms(lambda v: exact.search(v, 10)[1], q[: args.exact_queries])
        res[f"exact_faiss_flat_threads_{threads}"] = {**lat, "queries": args.exact_queries}
    faiss.omp_set_num_threads(default_threads)
    exact_p50 = min(res[f"exact_faiss_flat_threads_{t}"]["p50_ms"] for t in sorted({1, default_threads}))

    rss0, t0 = rss_mb(), time.perf_counter()
    index = VectorIndex(x.shape[1], embedder=embedder, nlist=args.nlist)
    index.add(ids, x)
    res["build_s"] = round(time.perf_counter() - t0, 2)
    res["rss_growth_mb"] = round(rss_mb() - rss0)
    res["vector_bytes_mb"] = round(x.nbytes / 2**20)
    res["index"] = {"kind": index.kind, **(vars(index.tuning) if index.tuning else {})}

    for threads in sorted({1, default_threads}):
        index.search_threads = threads
        lat, found = single_query_ms(lambda v: index.search(v, 10)[1], q)
        res[f"search_threads_{threads}"] = {**lat, "recall_at_10": recall(found, truth), "queries": len(q)}
    index.search_threads = 1                                                  # the library default
    res["exact_best_p50_ms"] = exact_p50
    res["speedup_p50_vs_exact"] = round(exact_p50 / res["search_threads_1"]["p50_ms"], 1)

    rng = np.random.default_rng(3)
    allowed = np.sort(rng.choice(n, n // 10, replace=False)).astype(np.int64)
    f_truth = allowed[exact_top10(q, x[allowed])]
    lat, found = single_query_ms(lambda v: index.search(v, 10, allowed_ids=allowed)[1], q)
    res["filtered_10pct"] = {**lat, "recall_at_10": recall(found, f_truth), "allowed": int(allowed.size)}

    folder = Path(tempfile.mkdtemp(prefix="bench_index_"))
    try:
        t0 = time.perf_counter()
        index.save(folder)
        res["save_s"] = round(time.perf_counter() - t0, 2)
        res["saved_mb"] = round(sum(p.stat().st_size for p in folder.iterdir()) / 2**20)
        t0 = time.perf_counter()
        VectorIndex.load(folder, embedder=embedder, dim=x.shape[1])
        res["load_s"] = round(time.perf_counter() - t0, 2)
    finally:
        shutil.rmtree(folder)
    return res


def bench_hnsw(n: int, base: np.ndarray, args: argparse.Namespace) -> dict:
    """faiss HNSW32 on n synthetic vectors: build time and the efSearch that reaches recall@10 0.95."""
    x = synthesise(base, n, seed=1, noise=args.noise)
    q = synthesise(base, args.queries, seed=2, noise=args.noise)
    truth = exact_top10(q, x)
    h = faiss.IndexHNSWFlat(x.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
    h.hnsw.efConstruction = 40
    t0 = time.perf_counter()
    h.add(x)
    out: dict = {"n": n, "M": 32, "efConstruction": 40, "build_s": round(time.perf_counter() - t0, 2)}
    for ef in (16, 32, 64, 128, 256, 512):
        h.hnsw.efSearch = ef
        _, found = h.search(q, 10)
        r = recall(found, truth)
        if r >= 0.95 or ef == 512:
            threads = faiss.omp_get_max_threads()
            faiss.omp_set_num_threads(1)                                     # as VectorIndex searches
            lat, _ = single_query_ms(lambda v: h.search(v, 10)[1], q)
            faiss.omp_set_num_threads(threads)
            out.update({"efSearch": ef, "recall_at_10": r, **lat})
            break
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="20000,100000,1000000", help="comma-separated index sizes")
    ap.add_argument("--texts", type=int, default=5000, help="distinct product texts to embed (the real base)")
    ap.add_argument("--noise", type=float, default=0.02, help="per-dimension std of the added Gaussian noise")
    ap.add_argument("--queries", type=int, default=1000, help="single-query latency samples (not in the index)")
    ap.add_argument("--exact-queries", type=int, default=200, help="single-query samples for the exact baseline")
    ap.add_argument("--nlist", type=int, default=None, help="override the IVF list count (default: size rule)")
    ap.add_argument("--hnsw", type=int, default=0, help="also build an HNSW32 foil on this many vectors")
    ap.add_argument("--cache", type=Path, default=ROOT / "var" / "bench", help="where base embeddings are cached")
    ap.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    base, embedder, embed_s, cached = base_embeddings(args.texts, args.cache)
    sample = synthesise(base, len(base), seed=9, noise=args.noise)
    noise = np.random.default_rng(9).normal(size=base.shape).astype(np.float32)
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    to_base = (sample @ base.T).max(1)
    result: dict = {
        "machine": {"cpus": os.cpu_count(), "faiss": faiss.__version__, "omp_threads": faiss.omp_get_max_threads(),
                    "load_average_before": [round(v, 2) for v in os.getloadavg()]},
        "embeddings": {"embedder": embedder, "real_texts": len(base), "embed_s": round(embed_s, 1), "embed_cached": cached, "noise": args.noise,
                       "real": manifold_stats(base), "synthetic": manifold_stats(sample),
                       "iid_gaussian": manifold_stats(noise),
                       "synthetic_to_nearest_real_cos_p50": round(float(np.median(to_base)), 3)},
        "sizes": [],
    }
    print(json.dumps(result["embeddings"]), file=sys.stderr, flush=True)
    for n in (int(s) for s in args.sizes.split(",") if s):
        result["sizes"].append(bench_size(n, base, embedder, args))
        print(json.dumps(result["sizes"][-1]), file=sys.stderr, flush=True)
    if args.hnsw:
        result["hnsw"] = bench_hnsw(args.hnsw, base, args)
    result["load_average_after"] = [round(v, 2) for v in os.getloadavg()]
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    text = json.dumps(result, indent=1)
    if args.out:
        args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()

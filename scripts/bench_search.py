"""Search quality and speed: hybrid search (`matching.search` through `app.services.search`) against the
embedding-only search it replaces, on a labelled query set.

    python scripts/bench_search.py [--queries scripts/data/search_queries.jsonl] [--designs 600]
                                   [--scale 100000] [--split dev|test|all]

- Designs: `--designs` specs drawn over every category with allowed colours, materials and patterns,
  named by the composer's English and Chinese copy (`describe`, `describe_zh`), embedded as the design
  index embeds them (`DesignSpec.text()`, all-MiniLM-L6-v2).
- Queries: our labelled set (half Chinese, colloquial words, filler, typos, nonsense), written by a
  helper who never saw the lexicon. hit@1: the first result is as good as any design in the index can
  be (its category equals the query's, when it names one, and it has as many of the named attributes as
  the best design has). Nonsense queries must return nothing.
- `--split`: dev (even lines, used to pick `SEMANTIC_FLOOR`), test (odd lines), all.
- Speed: `--scale` designs (the drawn ones repeated under new ids), p50/p95 of one search end to end
  (read the query, embed it, score every open design), against embedding-only top-k in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.services.search import cosine, doc_of, query_of  # noqa: E402
from generation.concepts.composer import describe  # noqa: E402
from generation.concepts.spec import DesignSpec  # noqa: E402
from generation.language.copy import describe_zh  # noqa: E402
from generation.language.extract import ProductLanguage  # noqa: E402
from generation.taxonomy import Taxonomy, load_taxonomy  # noqa: E402
from matching.search import SearchDoc, SearchIndex  # noqa: E402


def draw_specs(tx: Taxonomy, n: int, seed: int) -> list[DesignSpec]:
    rng = np.random.default_rng(seed)
    cats = sorted(tx.categories)
    out = []
    for i in range(n):
        cat = cats[i % len(cats)]
        pick = {k: str(rng.choice(tx.allowed(k, cat))) for k in ("color", "material", "pattern")}
        spec = DesignSpec(category=cat, **pick)
        name, desc = describe(spec, tx)
        name_zh, desc_zh = describe_zh(spec, tx)
        out.append(DesignSpec(category=cat, **pick, name=name, description=desc, name_zh=name_zh,
                              description_zh=desc_zh))
    return out


def match_of(spec: DesignSpec, q: dict) -> tuple[int, int]:
    """(category equal, attributes equal) of a design for a labelled query."""
    cat = int(q["category"] is not None and spec.category == q["category"])
    attrs = sum(int(q[k] is not None and getattr(spec, k) == q[k]) for k in ("color", "material", "pattern"))
    return cat, attrs


def evaluate(queries: list[dict], specs: list[DesignSpec], index: SearchIndex, vecs: np.ndarray,
             language: ProductLanguage, embed, floor: float) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for lang in ("zh", "en"):
        rows = [q for q in queries if q["lang"] == lang]
        real = [q for q in rows if not q["nonsense"]]
        junk = [q for q in rows if q["nonsense"]]
        hits = base_hits = empty = 0
        for q in real:
            best = max(match_of(s, q) for s in specs)
            qv = embed([q["query"]])[0]
            cos = cosine(qv, vecs)
            found = index.search(query_of(q["query"], language), k=1, cosine=cos, semantic_floor=floor)
            hits += bool(found) and match_of(specs[found[0].id], q) == best
            base_hits += match_of(specs[int(np.argmax(cos))], q) == best
        for q in junk:
            cos = cosine(embed([q["query"]])[0], vecs)
            empty += not index.search(query_of(q["query"], language), k=1, cosine=cos, semantic_floor=floor)
        out[lang] = {"queries": len(real), "hit@1": round(hits / max(1, len(real)), 3),
                     "hit@1 embedding only": round(base_hits / max(1, len(real)), 3),
                     "nonsense": len(junk), "nonsense empty": round(empty / max(1, len(junk)), 3),
                     "nonsense empty, embedding only": 0.0}
    return out


def speed(specs: list[DesignSpec], vecs: np.ndarray, docs: list[SearchDoc], queries: list[str],
          language: ProductLanguage, embed, scale: int) -> dict[str, float]:
    reps = -(-scale // len(docs))
    big_docs = [SearchDoc(i, d.category, d.attributes, d.families, d.words)
                for i, d in enumerate(d for _ in range(reps) for d in docs)][:scale]
    big_vecs = np.tile(vecs, (reps, 1))[:scale]
    t0 = time.perf_counter()
    index = SearchIndex(big_docs)
    build = time.perf_counter() - t0
    ours, base, encode, rest = [], [], [], []
    for q in queries:
        t = time.perf_counter()
        qv = embed([q])[0]
        t1 = time.perf_counter()
        index.search(query_of(q, language), k=20, cosine=cosine(qv, big_vecs))
        t2 = time.perf_counter()
        ours.append(t2 - t)
        encode.append(t1 - t)
        rest.append(t2 - t1)
        t = time.perf_counter()
        qv = embed([q])[0]
        np.argpartition(-cosine(qv, big_vecs), 20)[:20]
        base.append(time.perf_counter() - t)
    p = lambda xs, q: round(1000 * float(np.percentile(xs, q)), 1)  # noqa: E731
    return {"designs": scale, "index build s": round(build, 1), "p50 ms": p(ours, 50), "p95 ms": p(ours, 95),
            "embedding only p50 ms": p(base, 50), "embedding only p95 ms": p(base, 95),
            "of which query embedding p50 ms": p(encode, 50), "p95": p(encode, 95),
            "hybrid scoring without the embedding p50 ms": p(rest, 50), "p95 ms (scoring)": p(rest, 95)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--queries", type=Path, default=Path(__file__).with_name("data") / "search_queries.jsonl")
    ap.add_argument("--designs", type=int, default=600)
    ap.add_argument("--scale", type=int, default=100_000)
    ap.add_argument("--split", choices=("dev", "test", "all"), default="test")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--floors", default="0.45,0.5,0.55,0.6,0.65,1.01", help="semantic floors to report")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from matching.embeddings import TextEmbedder

    tx = load_taxonomy()
    language = ProductLanguage(tx)
    emb = TextEmbedder.from_pretrained()
    specs = draw_specs(tx, args.designs, args.seed)
    vecs = emb.encode([s.text() for s in specs])
    docs = [doc_of(i, s.to_dict(), language) for i, s in enumerate(specs)]
    index = SearchIndex(docs)
    rows = [json.loads(x) for x in args.queries.read_text(encoding="utf-8").splitlines() if x.strip()]
    picked = [r for i, r in enumerate(rows) if args.split == "all" or (i % 2 == 0) == (args.split == "dev")]
    report: dict[str, object] = {"split": args.split, "designs": len(specs)}
    for floor in (float(f) for f in args.floors.split(",")):
        report[f"semantic floor {floor}"] = evaluate(picked, specs, index, vecs, language, emb.encode, floor)
    report["speed"] = speed(specs, vecs, docs, [r["query"] for r in rows][:200], language, emb.encode, args.scale)
    print(json.dumps(report, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()

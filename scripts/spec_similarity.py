"""How similar MiniLM finds spec texts: the evidence behind the composer's novelty threshold.

    .venv/bin/python scripts/spec_similarity.py [--specs 300] [--seed 0]

Prints the cosine similarity of random spec pairs, of pairs that differ in one colour, pattern or
material, and of a spec with and without its details (see generation/concepts/diversity.py).
"""

from __future__ import annotations

import argparse
import os
from dataclasses import replace

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

from generation.images.training import random_spec  # noqa: E402
from generation.taxonomy import load_taxonomy  # noqa: E402
from matching.embeddings import TextEmbedder  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--specs", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    emb, tx, rng = TextEmbedder.from_pretrained(), load_taxonomy(), np.random.default_rng(args.seed)
    specs = [random_spec(tx, rng) for _ in range(args.specs)]
    vecs = emb.encode([s.text() for s in specs])
    sim = (vecs @ vecs.T)[np.triu_indices(len(specs), 1)]

    def show(label: str, values: np.ndarray) -> None:
        p10, p50, p90 = np.percentile(values, [10, 50, 90])
        print(f"{label:<28} median {p50:.3f}   p10 {p10:.3f}   p90 {p90:.3f}")

    show("random pairs", sim)
    for kind in ("color", "pattern", "material"):
        pairs = []
        for s in specs:
            options = [a for a in tx.allowed(kind, s.category) if a != getattr(s, kind)]
            if options:
                pairs.append((s.text(), replace(s, **{kind: options[int(rng.integers(len(options)))]}).text()))
        a, b = emb.encode([p[0] for p in pairs]), emb.encode([p[1] for p in pairs])
        show(f"one {kind} changed", (a * b).sum(1))
    with_details = [s for s in specs if s.details]
    a = emb.encode([s.text() for s in with_details])
    b = emb.encode([replace(s, details=()).text() for s in with_details])
    show("details dropped", (a * b).sum(1))


if __name__ == "__main__":
    main()

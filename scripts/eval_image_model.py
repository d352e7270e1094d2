"""Evaluate the shipped image model on (category, colour) pairs it never saw in training.

    .venv/bin/python scripts/eval_image_model.py [--model weights/trendloom-flat-32] [--specs-per-pair 4]
        [--out var/eval-image] [--threads 2] [--json]

For every held-out pair it draws random specs (pattern, material, silhouette), generates one image per
spec, and judges it with judges that are not the generator (`generation/images/checker.py`):
colour by the median Lab colour inside the product mask, category and pattern by a small CNN trained
here on renderer output. The renderer's own images of the same specs are judged too: that is the
judges' ceiling. Also: diversity across seeds and seconds per image. Writes `grid.png` (renderer
above, model below) and `report.json` to `--out`.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402
from rich.progress import track  # noqa: E402

from generation.concepts.spec import DesignSpec  # noqa: E402
from generation.images.checker import judged_colour, train_classifier  # noqa: E402
from generation.images.diffusion import TrendloomDiffusion  # noqa: E402
from generation.images.flat import render_flat  # noqa: E402
from generation.images.training import random_spec, render_batch  # noqa: E402
from generation.taxonomy import load_taxonomy  # noqa: E402
from matching.embeddings import TextEmbedder  # noqa: E402


def judge(images: list[Image.Image], specs: list[DesignSpec], tx, clf) -> dict[str, float]:
    cats, pats = clf.predict(images)
    return {
        "colour": float(np.mean([judged_colour(im, s, tx) == s.color for im, s in zip(images, specs)])),
        "category": float(np.mean([c == s.category for c, s in zip(cats, specs)])),
        "pattern": float(np.mean([p == s.pattern for p, s in zip(pats, specs)])),
    }


def rms(a: Image.Image, b: Image.Image) -> float:
    return float(np.sqrt(np.mean((np.asarray(a, np.float32) / 255 - np.asarray(b, np.float32) / 255) ** 2)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, default=Path("weights/trendloom-flat-32"))
    ap.add_argument("--embedder", default=None)
    ap.add_argument("--specs-per-pair", type=int, default=4)
    ap.add_argument("--checker-steps", type=int, default=1500)
    ap.add_argument("--steps", type=int, default=None, help="sampling steps (default: the model's)")
    ap.add_argument("--guidance", type=float, default=None)
    ap.add_argument("--select-guidance", default=None, metavar="G1,G2,...",
                    help="pick the guidance scale with the best colour on *trained* pairs, then evaluate with it")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=Path("var/eval-image"))
    ap.add_argument("--json", action="store_true", help="print only the JSON report")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    tx = load_taxonomy()
    embedder = TextEmbedder.from_pretrained(args.embedder)
    model = TrendloomDiffusion.from_pretrained(args.model, embed=embedder.encode, embedder_name=embedder.name,
                                               steps=args.steps, guidance_scale=args.guidance)
    res = model.config.resolution
    held = [tuple(p) for p in model.config.heldout]
    rng = np.random.default_rng(args.seed)
    specs = [random_spec(tx, rng, category=c, color=k) for c, k in held for _ in range(args.specs_per_pair)]
    selection: dict[str, float] = {}
    if args.select_guidance:  # tuned on pairs the model was trained on, so held-out pairs stay unseen
        seen = [random_spec(tx, rng, avoid=set(held)) for _ in range(len(held))]
        for g in (float(v) for v in args.select_guidance.split(",")):
            model.guidance_scale = g
            ims = [im for i in range(0, len(seen), 32) for im in model.sample(seen[i:i + 32], seed=args.seed)]
            selection[str(g)] = float(np.mean([judged_colour(im, s, tx) == s.color for im, s in zip(ims, seen)]))
        model.guidance_scale = float(max(selection, key=lambda k: selection[k]))

    def renderer_batch(r: np.random.Generator, n: int):
        s = [random_spec(tx, r) for _ in range(n)]
        return render_batch(s, tx, res), s

    clf = train_classifier(tx, renderer_batch, steps=args.checker_steps, seed=args.seed)
    truth = [render_flat(s, tx, size=res) for s in specs]
    generated: list[Image.Image] = []
    for i in track(range(0, len(specs), 32), description="generating", disable=args.json):
        generated += model.sample(specs[i:i + 32], seed=args.seed + i)

    # diversity: the same spec under 4 seeds, mean pairwise RMS distance (pixels in [0, 1])
    div_specs = specs[:: max(1, len(specs) // 12)][:12]
    within = []
    for s in div_specs:
        ims = model.generate(s, n=4, seed=args.seed)
        within += [rms(a, b) for a, b in itertools.combinations(ims, 2)]
    between = [rms(a, b) for a, b in itertools.combinations(generated[:: args.specs_per_pair][:12], 2)]

    one, four = [], []
    for k in range(5):
        t0 = time.perf_counter()
        model.generate(specs[k], n=1, seed=k)
        one.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        model.generate(specs[k], n=4, seed=k)
        four.append((time.perf_counter() - t0) / 4)

    report = {
        "model": str(args.model), "trained_steps": model.config.trained_steps, "resolution": res,
        "sampler": f"{type(model.scheduler).__name__}, {model.steps} steps, guidance {model.guidance_scale}",
        "guidance_selection_on_trained_pairs": selection, "heldout_pairs": len(held), "images": len(specs), "torch_threads": args.threads,
        "generated": judge(generated, specs, tx, clf), "renderer_ceiling": judge(truth, specs, tx, clf),
        "diversity_rms_same_spec_4_seeds": round(statistics.mean(within), 4),
        "distance_rms_between_specs": round(statistics.mean(between), 4),
        "seconds_per_image_n1": round(statistics.median(one), 3),
        "seconds_per_image_batch4": round(statistics.median(four), 3),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    cols = min(16, len(specs))
    grid = Image.new("RGB", (cols * res, 2 * res), "white")
    for j in range(cols):
        k = j * max(1, len(specs) // cols)
        grid.paste(truth[k], (j * res, 0))
        grid.paste(generated[k], (j * res, res))
    grid.resize((cols * res * 4, 2 * res * 4), Image.NEAREST).save(args.out / "grid.png")
    print(json.dumps(report, indent=None if args.json else 2))


if __name__ == "__main__":
    main()

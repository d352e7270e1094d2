"""Train the shipped image model on renderer output (resumable, seeded, with a progress bar).

    .venv/bin/python scripts/train_image_model.py [--out weights/trendloom-flat-32] [--steps 4000]
        [--batch-size 32] [--seed 0] [--threads 1] [--checkpoints var/train-image] [--no-resume]

Writes the EMA model to `--out` (safetensors + JSON, loadable with `TrendloomDiffusion.from_pretrained`)
every `--checkpoint-every` steps and at the end; the full training state goes to `--checkpoints`, and
rerunning the same command resumes from it. See `generation/images/training.py` for the objective.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn  # noqa: E402

from generation.images.conditioning import SpecEncoder  # noqa: E402
from generation.images.diffusion import parameter_count  # noqa: E402
from generation.images.training import TrainConfig, train  # noqa: E402
from generation.taxonomy import load_taxonomy  # noqa: E402
from matching.embeddings import TextEmbedder  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("weights/trendloom-flat-32"))
    ap.add_argument("--checkpoints", type=Path, default=Path("var/train-image"))
    ap.add_argument("--embedder", default=None, help="sentence-transformers folder (default: shipped MiniLM)")
    ap.add_argument("--steps", type=int, default=TrainConfig.steps)
    ap.add_argument("--batch-size", type=int, default=TrainConfig.batch_size)
    ap.add_argument("--lr", type=float, default=TrainConfig.lr)
    ap.add_argument("--seed", type=int, default=TrainConfig.seed)
    ap.add_argument("--checkpoint-every", type=int, default=TrainConfig.checkpoint_every)
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (1 is fastest on a busy machine)")
    ap.add_argument("--no-resume", action="store_true", help="start from scratch even if a checkpoint exists")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    cfg = TrainConfig(steps=args.steps, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                      checkpoint_every=args.checkpoint_every)
    embedder = TextEmbedder.from_pretrained(args.embedder)
    encoder = SpecEncoder(embedder.encode, embedder.dim)
    taxonomy = load_taxonomy()
    started = time.perf_counter()
    with Progress(TextColumn("training"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  TextColumn("loss {task.fields[loss]:.4f}")) as bar:
        task = bar.add_task("train", total=cfg.steps, loss=float("nan"))

        def on_step(step: int, loss: float) -> None:
            bar.update(task, completed=step, loss=loss)

        model = train(args.out, args.checkpoints, taxonomy, encoder, embedder.name, cfg,
                      resume=not args.no_resume, on_step=on_step)
    size = sum(f.stat().st_size for f in args.out.rglob("*") if f.is_file())
    print(f"wrote {args.out}: {parameter_count(model.unet) / 1e6:.2f}M parameters, {size / 1e6:.1f} MB, "
          f"{model.config.trained_steps} steps, {len(model.config.heldout)} held-out (category, colour) pairs, "
          f"{time.perf_counter() - started:.0f} s this run")


if __name__ == "__main__":
    main()

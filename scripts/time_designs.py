"""Time `trendloom designs generate --n 12` end to end, with the shipped model and with flat sketches.

    .venv/bin/python scripts/time_designs.py [--n 12] [--repeats 2]

Each run is a fresh process on a workspace that already has the sample trends and factories, so the
time includes start-up, loading MiniLM and the image model, composing (MMR + novelty), drawing, the
flat sketches and the database writes. The flat-sketch backend in the same run is the baseline.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TRENDLOOM = str(Path(sys.executable).with_name("trendloom"))


def run(args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run([TRENDLOOM, *args], env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=12)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "TRENDLOOM_HOME": f"{tmp}/ws", "HF_HUB_OFFLINE": "1"}
        env.pop("DATABASE_URL", None)
        run(["sample", "--out", f"{tmp}/sample"], env)
        run(["trends", "ingest", f"{tmp}/sample/trends.csv"], env)
        run(["factories", "import", f"{tmp}/sample/factories.csv"], env)
        for backend in ("trendloom", "flat"):
            times = [run(["designs", "generate", "--n", str(args.n), "--seed", str(100 * r + len(backend))],
                         {**env, "TRENDLOOM_IMAGE_BACKEND": backend}) for r in range(args.repeats)]
            print(f"{backend:>9}: {args.n} designs with images in {min(times):.1f} s "
                  f"(best of {args.repeats}; all: {', '.join(f'{t:.1f}' for t in times)})")


if __name__ == "__main__":
    main()

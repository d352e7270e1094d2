"""Batch work mapped over chunks, in this process or as Ray tasks, with the same result either way.

An `Executor` maps a pure function over a list of items (each item a chunk of the work) and returns the
results in the items' order. `InProcess` calls the function here; `RayExecutor` runs one Ray task per
item on a cluster (`--ray ADDRESS`) or on a local one it starts (`--ray local`, bound to 127.0.0.1, no
dashboard). Results are identical because the chunks are cut the same way whichever executor runs them
(a fixed number of series or texts per chunk, never one that depends on the number of workers), and each
chunk is a deterministic function of its input computed with one BLAS thread wherever it runs: OpenBLAS's
results change in the last bits with its thread count (10,000 forecasts differed between 2 threads here
and a single-threaded Ray worker), while Ray runs every task single-threaded anyway.

Ray is optional (`pip install 'trendloom[ray]'`) and imported only when a `RayExecutor` is made; the domain
packages take a plain `map` callable and never see it. Functions sent to Ray must be module-level (Ray
ships them by reference to their module, which the workers import).

The jobs here: embedding many texts (a catalogue, a registry) and rendering many designs. Forecasting
takes `executor.map` directly (`forecast_frame(..., map_blocks=...)`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar

import numpy as np
from PIL import Image
from threadpoolctl import threadpool_limits

from app.errors import AppError
from generation.concepts.spec import DesignSpec
from generation.taxonomy import Taxonomy
from matching.embeddings import TextEmbedder

T = TypeVar("T")
R = TypeVar("R")

EMBED_CHUNK = 4096  # texts per embedding task: fixed, so the batches MiniLM sees do not depend on the executor


class BatchError(AppError):
    """A batch executor could not be started (Ray missing, or its cluster unreachable)."""


class Executor(Protocol):
    """Maps `fn` over `items`, results in order. `workers` is how many items can run at once."""

    workers: int

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]: ...


class InProcess:
    """Runs every item here, one after the other."""

    workers = 1

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        with threadpool_limits(1, user_api="blas"):
            return [fn(item) for item in items]


class RayExecutor:
    """One Ray task per item (1 CPU each) on the cluster at `address`, or on a new local one for "local"."""

    def __init__(self, address: str, *, workers: int | None = None) -> None:
        try:
            import ray
        except ImportError:
            raise BatchError("--ray needs Ray: pip install 'trendloom[ray]'") from None
        self._ray = ray
        if address == "local":
            ray.init(address="local", num_cpus=workers or os.cpu_count() or 1, include_dashboard=False,
                     _node_ip_address="127.0.0.1", logging_level=logging.WARNING, log_to_driver=True)
        else:
            try:
                ray.init(address=address, logging_level=logging.WARNING)
            except (ConnectionError, ValueError) as exc:
                raise BatchError(f"cannot join the Ray cluster at {address}: {exc}") from None
        self.workers = workers or int(ray.cluster_resources().get("CPU", 1))
        self._task: Any = ray.remote(num_cpus=1)(_call)

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        fn_ref = self._ray.put(fn)  # shipped once, not with every item
        return list(self._ray.get([self._task.remote(fn_ref, item) for item in items]))

    def close(self) -> None:
        self._ray.shutdown()


def _call(fn: Callable[[T], R], item: T) -> R:
    """The one Ray task: any function (a partial included, which `ray.remote` refuses) on one item."""
    with threadpool_limits(1, user_api="blas"):
        return fn(item)


@contextmanager
def executor(ray_address: str | None, *, workers: int | None = None) -> Iterator[Executor]:
    """`InProcess` without an address; otherwise a `RayExecutor`, shut down on exit."""
    if not ray_address:
        yield InProcess()
        return
    ex = RayExecutor(ray_address, workers=workers)
    try:
        yield ex
    finally:
        ex.close()


def chunks(items: Sequence[T], size: int) -> list[Sequence[T]]:
    """`items` cut into consecutive pieces of `size` (the last may be shorter)."""
    return [items[i:i + size] for i in range(0, len(items), size)]


def _embedder(path: str) -> TextEmbedder:
    # once per process and path, shared with the workspace
    from app.workspace import _load_embedder

    return _load_embedder(path)


def _embed_chunk(job: tuple[str, Sequence[str]]) -> np.ndarray:
    path, texts = job
    return _embedder(path).encode(texts)  # (len(texts), dim) float32


def embed_texts(ex: Executor, embedder_path: str, texts: Sequence[str], *, chunk: int = EMBED_CHUNK) -> np.ndarray:
    """(len(texts), dim) unit vectors from the sentence-transformers model at `embedder_path` ("" = the
    shipped MiniLM), `chunk` texts per task. Each process loads the model once."""
    parts = ex.map(_embed_chunk, [(embedder_path, list(c)) for c in chunks(texts, chunk)])
    if not parts:
        return _embedder(embedder_path).encode([])
    return np.concatenate(parts)


def _render_chunk(job: tuple[Any, Taxonomy, list[dict[str, Any]], list[int]]) -> list[np.ndarray]:
    from app.workspace import load_image_backend

    settings, taxonomy, specs, seeds = job
    backend = load_image_backend(settings, taxonomy)
    return [np.asarray(backend.generate(DesignSpec.from_dict(spec), n=1, seed=seed)[0].convert("RGB"))
            for spec, seed in zip(specs, seeds)]  # each (H, W, 3) uint8


def render_designs(ex: Executor, settings: Any, taxonomy: Taxonomy, specs: Sequence[DesignSpec],
                   seeds: Sequence[int]) -> list[Image.Image]:
    """One picture per spec from the backend `settings` select, drawn with its own seed, so the split
    across tasks changes nothing. The specs are cut into one chunk per worker (each loads the backend)."""
    if len(specs) != len(seeds):
        raise ValueError(f"{len(specs)} specs but {len(seeds)} seeds")
    size = max(1, -(-len(specs) // max(1, ex.workers)))
    jobs = [(settings, taxonomy, [s.to_dict() for s in specs[i:i + size]], list(seeds[i:i + size]))
            for i in range(0, len(specs), size)]
    return [Image.fromarray(a) for part in ex.map(_render_chunk, jobs) for a in part]

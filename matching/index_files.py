"""The saved form of a `VectorIndex`: `index.faiss` + `ids.npy` + `manifest.json` in one folder.

An index never travels without its manifest: embedder name, dimension, metric,
normalised flag, count, structure and IVF tuning. Reading checks the manifest against the embedder and
against ids.npy and raises `IndexManifestError` on any mismatch; `VectorIndex.load` then checks the faiss
structure against both. Kept apart from `matching/index.py` so the file format is in one place.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from matching.errors import IndexManifestError
from matching.ivf import METRICS

FILES = ("index.faiss", "ids.npy", "manifest.json")
FORMAT = "trendloom-vector-index"
FORMAT_VERSION = 1


def write_index_files(folder: Path, index: Any, ids: np.ndarray, manifest: dict[str, Any]) -> None:
    """Write index.faiss + ids.npy + manifest.json into `folder` (created if needed): each under a temporary
    name first, then renamed into place, the manifest last."""
    folder.mkdir(parents=True, exist_ok=True)
    faiss.write_index(index, str(folder / "index.faiss.tmp"))
    with open(folder / "ids.npy.tmp", "wb") as fh:
        np.save(fh, ids, allow_pickle=False)
    (folder / "manifest.json.tmp").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    for name in FILES:
        os.replace(folder / f"{name}.tmp", folder / name)


def read_index_files(folder: Path, *, embedder: str, dim: int, metric: str | None,
                     normalized: bool | None) -> tuple[dict[str, Any], np.ndarray, Any]:
    """(manifest, ids (n,) int64, the faiss index as read) from a saved folder, after checking that all
    three files are there, the manifest is well formed and matches the embedder (name, dim; and `metric` /
    `normalized` when given), and ids.npy is 1-D int64 with the manifest's count."""
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
    return m, ids, index


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

"""Does a catalogue's sales history predict sales? Hold items out, predict them from the rest, score.

Each held-out item's log(1 + units) is predicted with the machinery of `matching.sales` (the prior
of new designs): its category's typical units (median of the training items) times the shrunk relative
demand of its k nearest training items by embedding, i.e. log(1 + m_c) + ρ̂. Baselines: the training
mean of log(1 + units) in the item's category (the global mean where the category has no training
item), and the global mean. Scores: Spearman rank correlation with the true units and the mean
absolute error of log(1 + units).

Hold-out: the latest `holdout` share by launch date (every item launched on the cutoff day held out),
so the past predicts the future as it would in use. When dates are missing or so equal that no earlier
item is left to learn from, `folds` random folds with `seed` instead: each item is predicted once
from the other folds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
from scipy.stats import spearmanr

from matching.sales import SalesScale, neighbour_relative, top_k

HOLDOUT = 0.2


@dataclass(frozen=True)
class Backtest:
    """Scores of the catalogue prior and its baselines on the held-out items (None: undefined, e.g.
    the rank correlation of a constant prediction)."""

    items: int
    held_out: int
    method: str
    spearman: float | None
    mae_log: float
    baseline: dict[str, dict[str, float | None]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"items": self.items, "held_out": self.held_out, "method": self.method, "spearman": self.spearman,
                "mae_log": self.mae_log, "baseline": self.baseline}


def date_split(dates: Sequence[date | None], holdout: float = HOLDOUT) -> tuple[np.ndarray, np.ndarray] | None:
    """(train, test) positions: the latest `holdout` share by date, or None when dates cannot split
    (one is missing, or fewer than two items launched before the cutoff day)."""
    known = [d for d in dates if d is not None]
    if len(known) < len(dates) or len(known) < 2:
        return None
    n_test = max(1, round(holdout * len(known)))
    cutoff = sorted(known)[len(known) - n_test]
    test = np.array([d >= cutoff for d in known])
    if (~test).sum() < 2:
        return None
    return np.flatnonzero(~test), np.flatnonzero(test)


def random_folds(n: int, folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """`folds` (train, test) pairs whose tests partition range(n), shuffled with `seed`."""
    parts = np.array_split(np.random.default_rng(seed).permutation(n), folds)
    return [(np.sort(np.concatenate([p for j, p in enumerate(parts) if j != i])), np.sort(part))
            for i, part in enumerate(parts) if len(part)]


def _predict(vectors: np.ndarray, y: np.ndarray, units: np.ndarray, cats: list[str | None], train: np.ndarray,
             test: np.ndarray, k: int, power: float) -> np.ndarray:
    """(len(test), 3) predicted log(1 + units): catalogue prior, category mean, global mean."""
    tr_cats = [cats[i] for i in train]
    scale = SalesScale.fit(units[train], tr_cats)
    rel = scale.relative(units[train], tr_cats)
    sims, idx = top_k(vectors[test], vectors[train], k)  # (t, k), (t, k)
    te_cats = [cats[i] for i in test]
    prior = scale.log_typical(te_cats) + np.array([neighbour_relative(s, rel[i], power=power)[0]
                                                   for s, i in zip(sims, idx)])
    overall = float(y[train].mean())
    by_cat = {c: float(y[train][[x == c for x in tr_cats]].mean()) for c in set(tr_cats)}
    cat_mean = np.array([by_cat.get(c, overall) for c in te_cats])
    return np.stack([prior, cat_mean, np.full(len(test), overall)], axis=1)


def _spearman(pred: np.ndarray, y: np.ndarray) -> float | None:
    if len(y) < 2 or np.ptp(pred) == 0 or np.ptp(y) == 0:
        return None
    return float(spearmanr(pred, y).statistic)


def backtest_sales(vectors: np.ndarray, units: np.ndarray, categories: Sequence[str | None],
                   dates: Sequence[date | None], *, k: int = 10, folds: int = 5, seed: int = 0,
                   holdout: float = HOLDOUT, power: float = 2.0) -> Backtest:
    """Score the catalogue prior on held-out items (module docstring). `vectors` (n, d) unit-length
    item embeddings, `units` (n,) units sold; needs n >= max(folds, 3)."""
    u = np.asarray(units, dtype=np.float64)
    y = np.log1p(u)
    cats = list(categories)
    split = date_split(dates, holdout)
    if split is not None:
        cutoff = min(d for i in split[1] if (d := dates[i]) is not None)
        splits, method = [split], f"latest {holdout:.0%} by launch date (launched {cutoff} or later held out)"
    else:
        splits, method = random_folds(len(u), folds, seed), f"{folds} random folds, seed {seed} (launch dates missing or equal)"
    test = np.concatenate([te for _, te in splits])
    pred = np.concatenate([_predict(vectors, y, u, cats, tr, te, k, power) for tr, te in splits])  # (t, 3)
    truth = y[test]
    mae = np.abs(pred - truth[:, None]).mean(axis=0)  # (3,)
    baseline = {name: {"spearman": _spearman(pred[:, j], truth), "mae_log": float(mae[j])}
                for j, name in ((1, "category_mean"), (2, "global_mean"))}
    return Backtest(len(u), len(test), f"{method}; prior from {k} nearest items", _spearman(pred[:, 0], truth),
                    float(mae[0]), baseline)

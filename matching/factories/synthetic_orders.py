"""Synthetic winning designs (production requirements) and busy factories, for allocation benchmarks and tests.

Each requirement is a recipe the synthetic registry's belts really offer (category, one of the
materials a belt works for it, the category's processes, sometimes printing or embroidery), a
quantity drawn log-normally around 1,500 pieces, a due date a little after the category's usual lead
time, and an ex-factory base cost from a per-category table. `busy_capacity` leaves each factory a
random share of its monthly capacity free, so cheap factories are contested.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from matching.factories.constraints import Requirement
from matching.factories.registry import Factory
from matching.factories.synthetic import BELTS, CATEGORY_PROFILES

BASE_COST_CENTS: dict[str, int] = {  # usual ex-factory cost per piece, cents
    "t-shirt": 450, "dress": 1200, "hoodie": 1400, "leggings": 700, "sneakers": 2500, "tote-bag": 400,
    "cap": 350, "scarf": 500, "socks": 120, "tights": 250, "cleaning-cloth": 60, "cushion-cover": 300,
    "throw-blanket": 1500, "phone-case": 150, "tumbler": 600,
}
EXTRA_PROCESSES: tuple[str, ...] = ("printing", "embroidery")


def make_requirements(n: int, *, seed: int = 0, median_quantity: int = 1500) -> list[Requirement]:
    """`n` requirements drawn as the module docstring says (the same ones for the same seed)."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    rng = np.random.default_rng(seed)
    categories = list(CATEGORY_PROFILES)
    offered: dict[str, tuple[list[str], np.ndarray]] = {}
    for c in categories:  # materials for the category, weighted by the belts that work them
        weight: dict[str, float] = {}
        for belt in BELTS:
            for m in belt.products.get(c, ()):
                weight[m] = weight.get(m, 0.0) + belt.weight
        names = sorted(weight)
        w = np.array([weight[m] for m in names])
        offered[c] = (names, w / w.sum())
    out = []
    for _ in range(n):
        c = categories[int(rng.integers(len(categories)))]
        names, p = offered[c]
        profile = CATEGORY_PROFILES[c]
        processes = list(profile.processes)
        if rng.random() < 0.3:
            extra = EXTRA_PROCESSES[int(rng.integers(len(EXTRA_PROCESSES)))]
            processes += [extra] if extra not in processes else []
        quantity = int(np.clip(round(median_quantity * rng.lognormal(0.0, 0.9), -1), 100, 60_000))
        out.append(Requirement(
            category=c, materials=(names[int(rng.choice(len(names), p=p))],), processes=tuple(processes),
            quantity=quantity, due_in_days=int(round(profile.lead_days * rng.uniform(1.0, 1.5))),
            base_unit_cost_cents=int(round(BASE_COST_CENTS[c] * rng.uniform(0.8, 1.25))),
        ))
    return out


def busy_capacity(factories: Sequence[Factory], *, free_share: float = 0.05, seed: int = 0) -> np.ndarray:
    """(F,) free pieces this month: capacity x a Beta(2, 2 (1 - s) / s) draw, whose mean is `free_share` s."""
    if not 0 < free_share < 1:
        raise ValueError(f"free_share must be in (0, 1), got {free_share}")
    rng = np.random.default_rng(seed)
    share = rng.beta(2.0, 2.0 * (1 - free_share) / free_share, size=len(factories))
    return np.floor(np.array([f.capacity for f in factories]) * share).astype(np.int64)

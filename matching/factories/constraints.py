"""Hard constraints: can this factory make this design, in this quantity, by this date?

Each check produces a readable reason whether it passes or fails, so a person can see why a factory
was kept or rejected.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from matching.factories.registry import Factory


@dataclass(frozen=True)
class Requirement:
    """What a winning design needs from production."""

    category: str
    materials: tuple[str, ...]
    processes: tuple[str, ...]
    quantity: int  # pieces
    due_in_days: int
    base_unit_cost_cents: int  # the usual ex-factory cost per piece; a factory's is this x price_index


@dataclass(frozen=True)
class Candidate:
    factory: Factory
    feasible: bool
    max_quantity: int  # pieces it could take now (min of free capacity and the requirement)
    unit_cost_cents: int
    reasons: tuple[str, ...] = field(default=())


def check_factory(f: Factory, req: Requirement, free_capacity: int) -> Candidate:
    """Check every hard constraint and say why each passed or failed."""
    reasons: list[str] = []
    ok = True

    def rule(passed: bool, yes: str, no: str) -> None:
        nonlocal ok
        ok &= passed
        reasons.append(("ok: " + yes) if passed else ("rejected: " + no))

    rule(req.category in f.categories, f"makes {req.category}", f"does not make {req.category} (makes {', '.join(f.categories)})")
    missing_m = [m for m in req.materials if m not in f.materials]
    rule(not missing_m, "works " + ", ".join(req.materials), f"does not work {', '.join(missing_m)}")
    missing_p = [p for p in req.processes if p not in f.processes]
    rule(not missing_p, "has " + ", ".join(req.processes), f"lacks process {', '.join(missing_p)}")
    rule(f.lead_time_days <= req.due_in_days, f"lead time {f.lead_time_days} d <= due {req.due_in_days} d",
         f"lead time {f.lead_time_days} d > due {req.due_in_days} d")
    rule(f.moq <= req.quantity, f"MOQ {f.moq} <= {req.quantity} pcs", f"MOQ {f.moq} > {req.quantity} pcs ordered")
    rule(free_capacity >= f.moq, f"free capacity {free_capacity} pcs", f"free capacity {free_capacity} < MOQ {f.moq}")
    unit = max(1, int(round(req.base_unit_cost_cents * f.price_index)))
    return Candidate(f, ok, max(0, min(free_capacity, req.quantity)), unit, tuple(reasons))


def candidates(factories: Iterable[Factory], req: Requirement, used_capacity: Mapping[str, int],
               exclude: Iterable[str] = ()) -> list[Candidate]:
    """Every factory checked against `req`; `used_capacity` is pieces already committed per factory."""
    excluded = set(exclude)
    out = []
    for f in factories:
        if f.factory_id in excluded:
            out.append(Candidate(f, False, 0, 0, ("rejected: declined this design before",)))
            continue
        out.append(check_factory(f, req, f.capacity - used_capacity.get(f.factory_id, 0)))
    return out

"""Hard constraints: can this factory make this design, in this quantity, by this date?

Each check produces a readable reason whether it passes or fails, so a person can see why a factory
was kept or rejected. Unknown is not "no": a fact the registry did not give (materials, processes, lead
time) passes its check as an assumption, and numbers it did not give are planned with their estimates
(`estimates.py`); each such line reads "assumed: ..." and the candidate lists them in `assumptions`,
so a factory that qualifies only by assumption can be ranked below one known to qualify. A material or
component supplier never qualifies for a finished-goods order.
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
    assumptions: tuple[str, ...] = field(default=())  # what it qualifies by assumption ("materials not disclosed")

    @property
    def known(self) -> bool:
        """Qualifies on what the registry says, with nothing assumed."""
        return self.feasible and not self.assumptions


def assumptions(f: Factory, req: Requirement) -> tuple[str, ...]:
    """What must be assumed for `f` to make `req`: undisclosed facts it needs, and the estimates used."""
    out = []
    if f.materials is None and req.materials:
        out.append("materials not disclosed")
    if f.processes is None and req.processes:
        out.append("processes not disclosed")
    if f.lead_time_days is None:
        out.append(f"lead time not disclosed (assumed to meet the due date, {req.due_in_days} d)")
    if f.estimate is not None:
        out.extend(f.estimate.notes)
    return tuple(out)


def check_factory(f: Factory, req: Requirement, free_capacity: int) -> Candidate:
    """Check every hard constraint and say why each passed, failed or was assumed."""
    reasons: list[str] = []
    ok = True

    def rule(passed: bool, yes: str, no: str) -> None:
        nonlocal ok
        ok &= passed
        reasons.append(("ok: " + yes) if passed else ("rejected: " + no))

    if f.supplies_materials:
        rule(False, "", f"a material or component supplier ({f.facility_type or 'by its facility type'}): "
                        "no finished-goods orders")
    rule(req.category in f.categories, f"makes {req.category}",
         f"does not make {req.category} (makes {', '.join(f.categories) or 'nothing we sell'})")
    if f.materials is not None:
        missing_m = [m for m in req.materials if m not in f.materials]
        rule(not missing_m, "works " + ", ".join(req.materials), f"does not work {', '.join(missing_m)}")
    if f.processes is not None:
        missing_p = [p for p in req.processes if p not in f.processes]
        rule(not missing_p, "has " + ", ".join(req.processes), f"lacks process {', '.join(missing_p)}")
    if f.lead_time_days is not None:
        rule(f.lead_time_days <= req.due_in_days, f"lead time {f.lead_time_days} d <= due {req.due_in_days} d",
             f"lead time {f.lead_time_days} d > due {req.due_in_days} d")
    moq = f.plan_moq
    est = " (estimated)" if f.moq is None else ""
    rule(moq <= req.quantity, f"MOQ {moq}{est} <= {req.quantity} pcs", f"MOQ {moq}{est} > {req.quantity} pcs ordered")
    rule(free_capacity >= moq, f"free capacity {free_capacity} pcs" + (" (estimated)" if f.capacity is None else ""),
         f"free capacity {free_capacity} < MOQ {moq}")
    assumed = assumptions(f, req)
    reasons.extend("assumed: " + a for a in assumed)
    unit = max(1, int(round(req.base_unit_cost_cents * f.plan_price_index)))
    return Candidate(f, ok, max(0, min(free_capacity, req.quantity)), unit, tuple(reasons), assumed)


def candidates(factories: Iterable[Factory], req: Requirement, used_capacity: Mapping[str, int],
               exclude: Iterable[str] = ()) -> list[Candidate]:
    """Every factory checked against `req`; `used_capacity` is pieces already committed per factory."""
    excluded = set(exclude)
    out = []
    for f in factories:
        if f.factory_id in excluded:
            out.append(Candidate(f, False, 0, 0, ("rejected: declined this design before",)))
            continue
        out.append(check_factory(f, req, f.plan_capacity - used_capacity.get(f.factory_id, 0)))
    return out

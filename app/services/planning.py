"""Production planning from the taxonomy's point of view: orders and design specs become `Need`s for the
joint planner (`matching.factories.planner`), priced and checked against the workspace's taxonomy.

Used by `trendloom match --factories F.csv --orders O.csv`, by `POST /api/v1/merchandiser/match/plan`
(the same orders as JSON, planned against the workspace's registry and its free capacity) and by
`production.match_winners` and the decline and reorder re-matches.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np

from generation.concepts.pricing import price_tiers
from generation.concepts.spec import DesignSpec
from generation.taxonomy import Taxonomy
from matching.factories.constraints import Requirement
from matching.factories.orders import Order, Vocabulary, design_text
from matching.factories.planner import MatchPlan, Need, Solver, plan_production, shortlist_size
from matching.factories.registry import Factory

from app.settings import Settings
from app.workspace import Workspace


def vocabulary(taxonomy: Taxonomy) -> Vocabulary:
    """The category, material and process names orders may use."""
    return Vocabulary(frozenset(taxonomy.categories), taxonomy.materials, taxonomy.processes)


def order_need(order: Order, taxonomy: Taxonomy, *, cost_share: float) -> Need:
    """An order as the planner sees it. The category's own processes are always required (as for a
    generated design: any factory making the category must have them), added to those the order lists.
    Without a `base_unit_cost_cents` the base cost is the category's 50+ tier price for the dearest of
    the order's materials x `cost_share`, as for a generated design."""
    processes = tuple(dict.fromkeys((*order.processes, *taxonomy.category(order.category).processes)))
    cost = order.base_unit_cost_cents
    if cost is None:
        cost = max(int(round(price_tiers(taxonomy, order.category, m, 0)[-1].unit_price_cents * cost_share))
                   for m in order.materials)
    req = Requirement(order.category, order.materials, processes, order.quantity, order.due_in_days, max(1, cost))
    return Need(order.design_id, req, design_text(order.description, order.category, order.materials, processes))


def requirement_for(spec: DesignSpec, taxonomy: Taxonomy, *, quantity: int, cost_share: float,
                    due_in_days: int | None = None) -> Requirement:
    """What making `quantity` pieces of `spec` needs; cost = `cost_share` of the largest tier's price."""
    return Requirement(
        category=spec.category,
        materials=(spec.material,),
        processes=tuple(spec.required_processes(taxonomy)),
        quantity=quantity,
        due_in_days=due_in_days if due_in_days is not None else taxonomy.category(spec.category).due_days,
        base_unit_cost_cents=int(round(spec.price_tiers[-1].unit_price_cents * cost_share)),
    )


def spec_need(design_id: int, spec: DesignSpec, taxonomy: Taxonomy, *, quantity: int, cost_share: float,
              exclude: Collection[str] = ()) -> Need:
    """A design's spec as the planner sees it: its requirement and its text (the spec's description plus
    category, material and processes)."""
    req = requirement_for(spec, taxonomy, quantity=quantity, cost_share=cost_share)
    return Need(str(design_id), req, design_text(spec.text(), spec.category, req.materials, req.processes),
                frozenset(exclude))


def plan(ws: Workspace, factories: list[Factory], needs: Sequence[Need], free: np.ndarray, *,
         solver: Solver = "auto", workspace_registry: bool = True, time_limit_s: float | None = None) -> MatchPlan:
    """Plan `needs` over `factories` with `free` capacity, with the settings' shortlist, split cost and
    solver limits (`time_limit_s` overrides the MILP's); the capability index comes from the workspace
    (built once per registry)."""
    st: Settings = ws.settings
    index = ws.capability_index(factories, workspace_registry=workspace_registry)
    k = shortlist_size(len(factories), minimum=st.shortlist_min, share=st.shortlist_share)
    return plan_production(needs, factories, index, ws.embedder.encode, free, k=k, split_cost_cents=st.split_cost_cents,
                           solver=solver, exact_max_lanes=st.exact_max_lanes, time_limit_s=time_limit_s or st.exact_time_limit_s)

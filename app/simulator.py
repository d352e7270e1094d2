"""A buyer simulator: buyers with latent tastes browse the feed and act through the real services.

Each simulated buyer has a preference for every attribute of every category: a market-wide taste that
follows the trend signals (rising attributes are liked more) plus personal noise, and a few favourite
categories; and every design has a hidden appeal of its own (how well the combination works, which
no trend predicts): that is what testing with buyers is for. Each simulated day some buyers open
the feed (the real feed service and exposure policy), view what it shows, and may click, favourite,
inquire and pre-order with probabilities that rise with their utility. Events, pre-orders and the
daily decisions all go through `app.services`, as the API does.

Ground truth: a design is a *true winner* when the pieces one impression truly brings (averaged over
the buyers) times its impression budget (the test's length) reaches its production threshold;
k = the number of true winners. The report says how well the declared winners, and the system's
ranking of every design (closed books first, then by its P(reach threshold), dropped designs last),
match that truth as impressions accumulate.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import select

from generation.concepts.composer import ConceptComposer
from generation.concepts.spec import DesignSpec

from app.db import transaction
from app.errors import Conflict
from app.lifecycle import DesignState
from app.models import Buyer, Design
from app.services import designs as design_svc
from app.services import interest, production, trends
from app.services.event_writer import Served
from app.services.feed import UNINFORMED, feed_ids, prior_of
from app.workspace import Workspace
from matching.demand import Prior, population_prior, posterior
from matching.exposure import prob_above

if TYPE_CHECKING:
    from app.attacks import Hostile

# Offsets on the utility scale: each deeper action is rarer.
CLICK, FAVOURITE, INQUIRY, PRE_ORDER = 0.0, 1.2, 1.8, 2.6
BASE_UTILITY = -3.0
HIDDEN_APPEAL_SD = 1.5
ORDER_SCALE = {"shop": 1.5, "live_streamer": 3.0, "consumer_group": 1.0}  # x the design's MOQ
BUYER_MIX = (("shop", 0.6), ("live_streamer", 0.15), ("consumer_group", 0.25))
WON = (DesignState.WON, DesignState.MATCHED, DesignState.IN_PRODUCTION, DesignState.SHIPPED)
DECIDED = (*WON, DesignState.DROPPED)


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


@dataclass
class Checkpoint:
    day: int
    impressions: int
    ranking_precision_at_k: float  # top-k of the system's ranking vs the true top-k
    declared: int
    declared_precision: float
    declared_recall: float
    closed_precision: float  # precision of the winners whose book closed at the threshold
    undecided: int


@dataclass
class SimReport:
    buyers: int
    days: int
    policy: str
    k: int = 0
    impressions: int = 0
    events: dict[str, int] = field(default_factory=dict)
    pre_orders: int = 0
    pieces: int = 0
    decided: dict[str, int] = field(default_factory=dict)
    true_pieces: dict[int, float] = field(default_factory=dict)  # design id -> expected pieces with a fair share
    true_winners: set[int] = field(default_factory=set)
    timeline: list[Checkpoint] = field(default_factory=list)
    flagged: dict[int, int] = field(default_factory=dict)  # buyer id -> the day screening flagged them
    attacks: list[dict[str, object]] = field(default_factory=list)  # what each hostile buyer sent and moved

    def impressions_to(self, precision: float) -> int | None:
        """Impressions when the system's top-k first reached `precision` against the true top-k."""
        return next((c.impressions for c in self.timeline if c.ranking_precision_at_k >= precision), None)

    def summary(self) -> dict[str, object]:
        last = self.timeline[-1] if self.timeline else None
        return {
            "policy": self.policy, "buyers": self.buyers, "days": self.days, "designs": len(self.true_pieces),
            "k": self.k, "impressions": self.impressions, "events": self.events, "pre_orders": self.pre_orders,
            "pieces": self.pieces, "decided": self.decided,
            "precision_at_k": last.declared_precision if last else 0.0,
            "recall_at_k": last.declared_recall if last else 0.0,
            "ranking_precision_at_k": last.ranking_precision_at_k if last else 0.0,
            "undecided": last.undecided if last else len(self.true_pieces),
            "impressions_to_90pct_precision": self.impressions_to(0.9),
            "flagged": {str(b): d for b, d in sorted(self.flagged.items())},
            "attacks": self.attacks,
            "timeline": [c.__dict__ for c in self.timeline],
        }


class BuyerSimulator:
    def __init__(self, ws: Workspace, *, seed: int = 0) -> None:
        self.ws = ws
        self.rng = np.random.default_rng(seed)  # buyers and their tastes; later draws use streams of their own
        self._rounds = 0
        self.seed = seed
        self.market: dict[tuple[str, str, str], float] = {}  # (category, kind, attribute) -> taste
        with ws.sessions() as s:
            for series, sig in trends.signals(s):
                self.market[(series.category, series.kind, series.attribute)] = 0.8 * sig.growth
        self.personal: dict[int, dict[tuple[str, str, str], float]] = {}
        self.favourite_categories: dict[int, set[str]] = {}
        self.hidden_appeal: dict[int, float] = {}  # design id -> appeal no trend predicts

    def ensure_buyers(self, n: int) -> list[Buyer]:
        """At least `n` buyers in the database (creates the missing ones); returns the first `n`."""
        with transaction(self.ws.sessions) as s:
            have = list(s.scalars(select(Buyer).order_by(Buyer.id).limit(n)))
            kinds, probs = zip(*BUYER_MIX)
            for i in range(len(have), n):
                kind = str(self.rng.choice(kinds, p=probs))
                have.append(interest.create_buyer(s, f"Simulated {kind.replace('_', ' ')} {i + 1}", kind))
            return have

    def create_designs(self, n: int, now: datetime) -> list[int]:
        """Compose and publish `n` synthetic designs (specs only, no images) from the trend signals."""
        ws = self.ws
        with transaction(ws.sessions) as s:
            stored = trends.signals(s)
            signals = [sig for _, sig in stored]
            about = {row.name: (row.category, row.kind, row.attribute) for row, _ in stored}
            if not signals:
                raise Conflict("no trend signals yet: import trend data first (trendloom trends ingest FILE)")
            registry = production.factories(s)
            if not registry:
                raise Conflict("no factories yet: import a factory registry first (trendloom factories import FILE)")
            taken = {tuple(d.spec[k] for k in ("category", "color", "material", "pattern")) for d in s.scalars(select(Design))}
            specs = ConceptComposer(ws.taxonomy, signals, about=about).compose(
                n, seed=self.seed, exclude=taken,
                accept=lambda sp: bool(production.capable(registry, ws.taxonomy, sp, cost_share=ws.settings.cost_share)))
            rows = [Design(name=sp.name, category=sp.category, spec=sp.to_dict(), status=DesignState.DRAFT, images=[])
                    for sp in specs]
            s.add_all(rows)
            s.flush()
            design_svc.publish(s, ws, [d.id for d in rows], now=now, require_image=False)
            return [d.id for d in rows]

    def _utility(self, buyer_id: int, design_id: int, spec: DesignSpec) -> float:
        if design_id not in self.hidden_appeal:
            self.hidden_appeal[design_id] = float(self.rng.normal(0.0, HIDDEN_APPEAL_SD))
        personal = self.personal.setdefault(buyer_id, {})
        if buyer_id not in self.favourite_categories:
            cats = list(self.ws.taxonomy.categories)
            self.favourite_categories[buyer_id] = set(self.rng.choice(cats, size=4, replace=False).tolist())
        u = self.hidden_appeal[design_id] + (0.6 if spec.category in self.favourite_categories[buyer_id] else -0.6)
        for kind, name in spec.attributes():
            key = (spec.category, kind, name)
            if key not in personal:
                personal[key] = float(self.rng.normal(0.0, 0.5))
            u += self.market.get(key, 0.0) + personal[key]
        return u + BASE_UTILITY

    def true_pieces_per_impression(self, designs: list[Design], buyers: list[Buyer]) -> dict[int, float]:
        """Expected pieces one impression brings, averaged over the buyers (draws every hidden taste)."""
        out = {}
        for d in designs:
            spec = DesignSpec.from_dict(d.spec)
            total = 0.0
            for b in buyers:
                u = self._utility(b.id, d.id, spec)
                total += _sigmoid(u - CLICK) * _sigmoid(u - PRE_ORDER) * spec.moq * ORDER_SCALE[b.kind]
            out[d.id] = total / max(1, len(buyers))
        return out

    def run(self, *, buyers: int, days: int, start: datetime, feed_size: int = 8, visit_rate: float = 1.0,
            policy: str | None = None, fixed_horizon: bool = False, chunk: int = 200,
            on_day: Callable[[int], None] | None = None, attackers: Sequence[Hostile] = ()) -> SimReport:
        """Simulate up to `days` days (stops early once every design is decided); each day each buyer
        opens the feed with probability `visit_rate`. `fixed_horizon` turns off the probabilistic
        decisions: every design is tested for its whole budget (the traditional test, a baseline).
        `attackers` (`app.attacks`) act after each chunk of honest buyers, among them, and again after
        each decision round; honest buyers are the first `buyers` buyers, so attacks do not change who
        they are."""
        ws = self.ws
        policy = policy or ws.settings.exposure_policy
        people = self.ensure_buyers(buyers)
        with ws.sessions() as s:
            under_test = list(s.scalars(select(Design).where(Design.status == DesignState.PUBLISHED)))
        report = SimReport(buyers=len(people), days=days, policy=policy)
        per_impression = self.true_pieces_per_impression(under_test, people)
        report.true_pieces = {d.id: per_impression[d.id] * (d.impression_budget or 0) for d in under_test}
        report.true_winners = {d.id for d in under_test if report.true_pieces[d.id] >= (d.production_threshold or 1)}
        report.k = max(1, len(report.true_winners))
        rules = interest.Rules(2.0, 0.0, 0) if fixed_horizon else interest.rules_of(ws.settings)
        for attacker in attackers:
            attacker.join(self, report, start, policy)
        for day in range(days):
            now = start + timedelta(days=day)
            # Every random choice after the start draws from a stream of its own (the day's, a buyer's visit's,
            # a decision round's), so a change to one design (an attack, say) moves only what it causes,
            # not every later draw of one shared stream.
            day_rng = np.random.default_rng([self.seed, 1, day])
            visitors = [people[int(i)] for i in day_rng.permutation(len(people)) if day_rng.random() < visit_rate]
            for c in range(0, len(visitors), chunk):
                at = now + timedelta(minutes=c)
                self._browse(visitors[c:c + chunk], at, feed_size, policy, day, report)
                for attacker in attackers:
                    attacker.act(at)
                self._decide(at, rules, report, day + 1)  # as the server's timer does, every few hundred impressions
                for attacker in attackers:
                    attacker.after_decide(at)
                report.timeline.append(self._checkpoint(day + 1, report))
            self._decide(now + timedelta(days=1), rules, report, day + 1)
            report.timeline.append(self._checkpoint(day + 1, report))
            if on_day is not None:
                on_day(day + 1)
            if not report.timeline[-1].undecided:
                break
        report.attacks = [a.summary() for a in attackers]
        return report

    def _decide(self, now: datetime, rules: interest.Rules, report: SimReport, day: int) -> None:
        """A decision round as the server runs it: screen the buyers, then decide (`interest.decide`)."""
        self._rounds += 1
        rng = np.random.default_rng([self.seed, 2, self._rounds])
        verdicts = interest.decide(self.ws.sessions, self.ws.demand_cache, now, rng, rules)
        for outcome, n in verdicts.items():
            if outcome != "flagged":
                report.decided[outcome] = report.decided.get(outcome, 0) + n
        if verdicts.get("flagged"):
            with self.ws.sessions() as s:
                for b in s.scalars(select(Buyer.id).where(Buyer.flagged_at.is_not(None))):
                    report.flagged.setdefault(b, day)

    def _browse(self, visitors: list[Buyer], now: datetime, feed_size: int, policy: str, day: int,
                report: SimReport) -> None:
        """One chunk of buyers: each gets its feed (served impressions), then their events, which confirm
        what they were shown, are stored in one batch."""
        ws = self.ws
        events: list[interest.EventIn] = []
        served: list[Served] = []
        orders: list[tuple[int, int, int]] = []
        with ws.sessions() as s:
            for buyer in visitors:
                rng = np.random.default_rng([self.seed, 3, day, buyer.id])
                shown = feed_ids(s, ws.demand_cache, buyer.id, k=feed_size, policy=policy,
                                 relevance_weight=ws.settings.relevance_weight, rng=rng, now=now)
                served.append(Served(buyer.id, tuple(shown), "feed"))
                for design in (s.get(Design, i) for i in shown):
                    assert design is not None
                    spec = DesignSpec.from_dict(design.spec)
                    u = self._utility(buyer.id, design.id, spec)
                    events.append(interest.EventIn(buyer.id, design.id, "view"))
                    if rng.random() < _sigmoid(u - CLICK):
                        events.append(interest.EventIn(buyer.id, design.id, "click"))
                        events += [interest.EventIn(buyer.id, design.id, kind) for kind, off in
                                   (("favourite", FAVOURITE), ("inquiry", INQUIRY)) if rng.random() < _sigmoid(u - off)]
                        if rng.random() < _sigmoid(u - PRE_ORDER):
                            qty = max(spec.moq, int(round(spec.moq * ORDER_SCALE[buyer.kind] * rng.lognormal(0.0, 0.4))))
                            orders.append((buyer.id, design.id, qty))
        with transaction(ws.sessions) as s:
            stored = interest.record_counted(s, events, now, served=served)
        for e, (_, counted) in zip(events, stored):
            if counted:
                report.events[e.kind] = report.events.get(e.kind, 0) + 1
                report.impressions += e.kind == "view"
        for buyer_id, design_id, qty in orders:
            try:
                with transaction(ws.sessions) as s:
                    interest.place_preorder(s, buyer_id, design_id, qty, now,
                                            idempotency_key=f"sim-{self.seed}-{day}-{buyer_id}-{design_id}")
            except Conflict:
                continue  # the book closed a moment ago, within this same chunk
            report.pre_orders += 1
            report.pieces += qty

    def _checkpoint(self, day: int, report: SimReport) -> Checkpoint:
        """Compare the system's view with the truth: declared winners, and its ranking of every design."""
        with self.ws.sessions() as s:
            rows = s.scalars(select(Design).where(Design.id.in_(list(report.true_pieces)))).all()
        undecided = [d for d in rows if d.status == DesignState.PUBLISHED]
        pop = population_prior(np.array([d.impressions for d in rows]), np.array([d.pre_order_count for d in rows]),
                               np.array([d.pieces_ordered for d in rows]), np.array([d.spec["moq"] for d in rows]))

        def prior(d: Design) -> Prior:
            own = prior_of(d)
            return pop.scaled_to(d.spec["moq"]) if pop is not None and own.source in UNINFORMED else own

        post = posterior([prior(d) for d in undecided],
                         np.array([d.impressions for d in undecided]), np.array([d.pre_order_count for d in undecided]),
                         np.array([d.pieces_ordered for d in undecided]))
        # The system's own estimate of a fair share: impressions per design so far, scaled to the window.
        tau = np.array([max(1, d.production_threshold or 1) / max(1, d.impression_budget or 1) for d in undecided])
        above = dict(zip([d.id for d in undecided], prob_above(post, tau, np.random.default_rng([self.seed, 4, day]))))

        def belief(d: Design) -> float:
            if d.status in WON:
                return 2.0 if d.book_closed_at is not None else 1.0 + (d.p_reach or 0.0)
            if d.status == DesignState.DROPPED:
                return -1.0
            return float(above[d.id])

        ranking = [d.id for d in sorted(rows, key=belief, reverse=True)]
        won = {d.id for d in rows if d.status in WON}
        closed = {d.id for d in rows if d.status in WON and d.book_closed_at is not None}
        hit = len(set(ranking[:report.k]) & report.true_winners)
        declared_hit = len(won & report.true_winners)
        return Checkpoint(day, report.impressions, hit / report.k, len(won),
                          declared_hit / len(won) if won else 0.0, declared_hit / report.k,
                          len(closed & report.true_winners) / len(closed) if closed else 0.0, len(undecided))

"""A buyer simulator: buyers with latent tastes browse the feed and act through the real services.

Each simulated buyer has a preference for every attribute of every category: a market-wide taste that
follows the trend signals (rising attributes are liked more) plus personal noise, and a few favourite
categories; and every design has a hidden appeal of its own (how well the combination works, which
no trend predicts): that is what testing with buyers is for. Each simulated day every buyer opens the feed, views what it shows, and may click,
favourite, inquire and pre-order with probabilities that rise with their utility for the design.
Everything goes through `app.services` exactly as the API does, so the loop runs without people and
the true appeal of every design is known for later measurement.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from generation.concepts.spec import DesignSpec
from generation.taxonomy import Taxonomy

from app.db import transaction
from app.errors import Conflict
from app.models import Buyer, Design
from app.services import interest, trends

# Offsets on the utility scale: each deeper action is rarer.
CLICK, FAVOURITE, INQUIRY, PRE_ORDER = 0.0, 1.2, 1.8, 2.6
ORDER_SCALE = {"shop": 2.0, "live_streamer": 6.0, "consumer_group": 1.2}  # x the design's MOQ
HIDDEN_APPEAL_SD = 1.5
BUYER_MIX = (("shop", 0.6), ("live_streamer", 0.15), ("consumer_group", 0.25))


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


@dataclass
class SimReport:
    buyers: int
    days: int
    impressions: int = 0
    events: dict[str, int] = field(default_factory=dict)
    pre_orders: int = 0
    pieces: int = 0
    decided: dict[str, int] = field(default_factory=dict)
    true_appeal: dict[int, float] = field(default_factory=dict)  # expected pieces per impression

    def winner_quality(self, session: Session) -> dict[str, float]:
        """Precision and recall of the declared winners against the truly most appealing designs."""
        won = {d.id for d in session.scalars(select(Design).where(
            Design.status.in_(("won", "matched", "in_production", "shipped"))))}
        k = max(1, len(won))
        top = set(sorted(self.true_appeal, key=self.true_appeal.__getitem__, reverse=True)[:k])
        hit = len(won & top)
        return {"k": k, "precision_at_k": hit / k if won else 0.0, "recall_at_k": hit / len(top) if top else 0.0}


class BuyerSimulator:
    def __init__(self, sessions: sessionmaker[Session], taxonomy: Taxonomy, *, seed: int = 0) -> None:
        self.sessions = sessions
        self.taxonomy = taxonomy
        self.rng = np.random.default_rng(seed)
        self.seed = seed
        self.market: dict[tuple[str, str, str], float] = {}  # (category, kind, attribute) -> taste
        with sessions() as s:
            for series, sig in trends.signals(s):
                self.market[(series.category, series.kind, series.attribute)] = 0.8 * sig.growth
        self.personal: dict[int, dict[tuple[str, str, str], float]] = {}
        self.hidden_appeal: dict[int, float] = {}  # design id -> appeal no trend predicts
        self.favourite_categories: dict[int, set[str]] = {}

    def ensure_buyers(self, n: int) -> list[Buyer]:
        """At least `n` buyers in the database (creates the missing ones); returns the first `n`."""
        with transaction(self.sessions) as s:
            have = list(s.scalars(select(Buyer).order_by(Buyer.id).limit(n)))
            kinds, probs = zip(*BUYER_MIX)
            for i in range(len(have), n):
                kind = str(self.rng.choice(kinds, p=probs))
                have.append(interest.create_buyer(s, f"Simulated {kind.replace('_', ' ')} {i + 1}", kind))
            return have

    def _utility(self, buyer_id: int, design_id: int, spec: DesignSpec) -> float:
        if design_id not in self.hidden_appeal:
            self.hidden_appeal[design_id] = float(self.rng.normal(0.0, HIDDEN_APPEAL_SD))
        personal = self.personal.setdefault(buyer_id, {})
        if buyer_id not in self.favourite_categories:
            cats = list(self.taxonomy.categories)
            self.favourite_categories[buyer_id] = set(self.rng.choice(cats, size=4, replace=False).tolist())
        u = self.hidden_appeal[design_id] + (0.6 if spec.category in self.favourite_categories[buyer_id] else -0.6)
        for kind, name in spec.attributes():
            key = (spec.category, kind, name)
            if key not in personal:
                personal[key] = float(self.rng.normal(0.0, 0.5))
            u += self.market.get(key, 0.0) + personal[key]
        return u - 3.0

    def true_appeal(self, designs: list[Design], buyers: list[Buyer]) -> dict[int, float]:
        """Expected pieces pre-ordered per impression, averaged over the buyers (the ground truth)."""
        out = {}
        for d in designs:
            spec = DesignSpec.from_dict(d.spec)
            total = 0.0
            for b in buyers:
                u = self._utility(b.id, d.id, spec)
                p = _sigmoid(u - CLICK) * _sigmoid(u - PRE_ORDER)
                total += p * spec.moq * ORDER_SCALE[b.kind]
            out[d.id] = total / max(1, len(buyers))
        return out

    def run(self, *, buyers: int, days: int, feed_size: int = 8, start: datetime,
            on_day: Callable[[int], None] | None = None) -> SimReport:
        """Simulate `days` days of `buyers` buyers browsing; decisions are made as the clock moves."""
        people = self.ensure_buyers(buyers)
        report = SimReport(buyers=len(people), days=days)
        with self.sessions() as s:
            report.true_appeal = self.true_appeal(
                list(s.scalars(select(Design).where(Design.status == "published"))), people)
        for day in range(days):
            now = start + timedelta(days=day)
            for idx in self.rng.permutation(len(people)):
                self._browse(people[int(idx)], now + timedelta(minutes=int(idx)), feed_size, day, report)
            with transaction(self.sessions) as s:
                for outcome, n in interest.close_windows(s, now + timedelta(days=1)).items():
                    report.decided[outcome] = report.decided.get(outcome, 0) + n
            if on_day is not None:
                on_day(day + 1)
        return report

    def _browse(self, buyer: Buyer, now: datetime, feed_size: int, day: int, report: SimReport) -> None:
        rng = self.rng
        with transaction(self.sessions) as s:
            shown = interest.feed(s, buyer.id, limit=feed_size, rng=rng)
            for design in shown:
                spec = DesignSpec.from_dict(design.spec)
                u = self._utility(buyer.id, design.id, spec)
                actions = ["view"]
                if rng.random() < _sigmoid(u - CLICK):
                    actions.append("click")
                    actions += [k for k, off in (("favourite", FAVOURITE), ("inquiry", INQUIRY))
                                if rng.random() < _sigmoid(u - off)]
                for kind in actions:
                    interest.record_event(s, buyer.id, design.id, kind, now)
                    report.events[kind] = report.events.get(kind, 0) + 1
                report.impressions += 1
                if "click" in actions and rng.random() < _sigmoid(u - PRE_ORDER):
                    qty = max(spec.moq, int(round(spec.moq * ORDER_SCALE[buyer.kind] * rng.lognormal(0.0, 0.5))))
                    try:
                        with s.begin_nested():
                            interest.place_preorder(s, buyer.id, design.id, qty, now,
                                                    idempotency_key=f"sim-{self.seed}-{day}-{buyer.id}-{design.id}")
                    except Conflict:
                        continue  # the design won a moment ago, within this same feed
                    report.pre_orders += 1
                    report.pieces += qty

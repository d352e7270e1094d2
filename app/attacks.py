"""Scripted hostile buyers for the buyer simulator (`BuyerSimulator.run(attackers=...)`,
`trendloom simulate --attack`, `scripts/bench_attacks.py`).

Each one is a buyer of its own among the honest ones, and sends what the HTTP API would let a script
send, through the same services and the same per-buyer rate limits (on a simulated clock):
- `Flooder`: opens the feed page after page, and claims views, clicks, favourites and inquiries on every
  design under test, over and over, as fast as the limits let it;
- `Fan`: one design, over and over: its page, and views, clicks, favourites and inquiries on it. Aimed at
  the open design with the most true demand (the next one once its book closes): unlimited views once
  drained a design's impression budget with no orders, so it was dropped and its buyers' pre-orders
  released;
- `Churner` (cancel-and-rebook): pre-orders one design up to one piece short of its threshold just before
  each decision round and cancels right after it. Aimed at the most promising design that is not a
  true winner, to make it look like one when decisions are taken.

Every action is checked against the honest buyers' pre-orders: `honest_orders_changed` counts the
actions after which any honest buyer's pre-order (status, quantity or price) differed from before it.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import func, select

from app.db import transaction
from app.errors import AppError, TooManyRequests
from app.lifecycle import BOOK_STATES
from app.models import Buyer, Design, PreOrder, ServedImpression
from app.services import interest
from app.services.event_writer import EventIn, Served
from app.services.feed import feed_ids

if TYPE_CHECKING:
    from app.simulator import BuyerSimulator, SimReport

ATTACKS = ("flood", "fan", "churn")
KINDS = ("view", "click", "favourite", "inquiry")


class Hostile:
    """A scripted hostile buyer: `join` once, then `act` before and `after_decide` after each decision round."""

    kind = "hostile"

    def __init__(self, seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed + 7919)
        self.buyer_id = 0
        self.target: int | None = None
        self.attacked: list[int] = []  # every design it aimed at, in order
        self.stats: Counter[str] = Counter()

    def join(self, sim: BuyerSimulator, report: SimReport, start: datetime, policy: str) -> None:
        self.sim, self.start, self.policy = sim, start, policy
        with transaction(sim.ws.sessions) as s:
            self.buyer_id = interest.create_buyer(s, f"Hostile {self.kind}", "shop").id
        self.target = self.choose_target(report)
        if self.target is not None:
            self.attacked.append(self.target)

    def choose_target(self, report: SimReport) -> int | None:
        return None

    def act(self, now: datetime) -> None:
        """What it sends before a decision round."""

    def after_decide(self, now: datetime) -> None:
        """What it sends right after one."""

    # --- what a script can send, through the services and the rate limits ---------------------------

    def _clock(self, now: datetime) -> float:
        return (now - self.start).total_seconds()

    def _guarded(self, what: str, cost: int, scope: str, now: datetime, action) -> object:  # noqa: ANN001
        """Run `action(session)` as one request: rate-limited, and checked against honest pre-orders."""
        try:
            self.sim.ws.rate_limiter.take(scope, self.buyer_id, cost, self._clock(now))
        except TooManyRequests:
            self.stats["refused_429"] += 1
            return None
        before = self._honest_orders()
        try:
            with transaction(self.sim.ws.sessions) as s:
                out = action(s)
        except AppError:
            self.stats[f"refused_{what}"] += 1
            return None
        if self._honest_orders() != before:
            self.stats["honest_orders_changed"] += 1
        return out

    def _honest_orders(self) -> list[tuple[int, str, int, int]]:
        with self.sim.ws.sessions() as s:
            return list(s.execute(select(PreOrder.id, PreOrder.status, PreOrder.quantity, PreOrder.unit_price_cents)
                                  .where(PreOrder.buyer_id != self.buyer_id).order_by(PreOrder.id)).all())

    def serve(self, design_ids: list[int], page: str, now: datetime) -> None:
        if self._guarded("pages", 1, "pages", now, lambda s: interest.record_served(
                s, Served(self.buyer_id, tuple(design_ids), page), now)) is not None:
            self.stats["pages"] += 1

    def feed_page(self, now: datetime, k: int = 24) -> list[int]:
        with self.sim.ws.sessions() as s:
            shown = feed_ids(s, self.sim.ws.demand_cache, self.buyer_id, k=k, policy=self.policy,
                             relevance_weight=self.sim.ws.settings.relevance_weight, rng=self.rng, now=now)
        self.serve(shown, "feed", now)
        return shown

    def send(self, events: list[EventIn], now: datetime) -> None:
        for i in range(0, len(events), 1000):  # the batch endpoint's limit
            batch = events[i:i + 1000]
            stored = self._guarded("events", len(batch), "events", now, lambda s: interest.record_counted(s, batch, now))
            if stored is not None:
                self.stats["sent"] += len(batch)
                self.stats["counted_events"] += sum(c for _, c in stored)  # type: ignore[attr-defined]

    def open_designs(self) -> list[int]:
        with self.sim.ws.sessions() as s:
            return list(s.scalars(select(Design.id).where(Design.status.in_(BOOK_STATES),
                                                          Design.book_closed_at.is_(None))))

    def summary(self) -> dict[str, object]:
        """What it sent, what was refused, and what it moved."""
        with self.sim.ws.sessions() as s:
            buyer = s.get(Buyer, self.buyer_id)
            assert buyer is not None
            counted = Counter(s.scalars(select(ServedImpression.design_id).where(
                ServedImpression.buyer_id == self.buyer_id, ServedImpression.counted.is_(True))))
            served = Counter(s.scalars(select(ServedImpression.design_id).where(ServedImpression.buyer_id == self.buyer_id)))
            confirmed = s.scalar(select(func.count()).select_from(ServedImpression).where(
                ServedImpression.buyer_id == self.buyer_id, ServedImpression.confirmed_at.is_not(None))) or 0
        return {"kind": self.kind, "buyer_id": self.buyer_id, "target": self.target, "attacked": list(self.attacked),
                **dict(sorted(self.stats.items())),
                "impressions_confirmed": int(confirmed), "impressions_counted_now": sum(counted.values()),
                "max_counted_on_one_design": max(counted.values(), default=0),
                "max_days_served_one_design": max(served.values(), default=0),
                "flagged": buyer.flagged_at is not None, "flag_reason": buyer.flag_reason}


class Flooder(Hostile):
    """Feed pages as fast as allowed, then every kind of event on every design under test, many times over."""

    kind = "flood"

    def __init__(self, seed: int = 0, *, pages: int = 200, repeat: int = 5) -> None:
        super().__init__(seed)
        self.pages, self.repeat = pages, repeat

    def act(self, now: datetime) -> None:
        for _ in range(self.pages):
            self.feed_page(now)
        events = [EventIn(self.buyer_id, d, k) for d in self.open_designs() for k in KINDS] * self.repeat
        self.send(events, now)


class Fan(Hostile):
    """One design: its page and every kind of event on it, hundreds of times per round."""

    kind = "fan"

    def __init__(self, seed: int = 0, *, pages: int = 100, events: int = 1000) -> None:
        super().__init__(seed)
        self.pages, self.events = pages, events

    def choose_target(self, report: SimReport) -> int | None:
        self.ranked = sorted(report.true_winners, key=lambda d: -report.true_pieces[d])
        return self.ranked[0] if self.ranked else None

    def act(self, now: datetime) -> None:
        open_ = set(self.open_designs())
        if self.target not in open_:  # its book closed or it was decided: on to the next best one still open
            self.target = next((d for d in self.ranked if d in open_), None)
        if self.target is None:
            return
        if self.target not in self.attacked:
            self.attacked.append(self.target)
        self.stats["targets"] = len(set(self.ranked[:self.ranked.index(self.target) + 1]))
        for _ in range(self.pages):
            self.serve([self.target], "item", now)
        self.send([EventIn(self.buyer_id, self.target, KINDS[i % 4]) for i in range(self.events)], now)


class Churner(Hostile):
    """Cancel-and-rebook: one piece short of the threshold before each decision round, cancelled after it."""

    kind = "churn"

    def __init__(self, seed: int = 0) -> None:
        super().__init__(seed)
        self.order_id: int | None = None

    def choose_target(self, report: SimReport) -> int | None:
        losers = [d for d in report.true_pieces if d not in report.true_winners]
        return max(losers, key=lambda d: report.true_pieces[d], default=None)

    def act(self, now: datetime) -> None:
        if self.target is None:
            return
        with self.sim.ws.sessions() as s:
            d = s.get(Design, self.target)
            assert d is not None
            missing = (d.production_threshold or 0) - d.committed - 1
            moq = int(d.spec["moq"])
        if missing < moq or d.status not in BOOK_STATES or d.book_closed_at is not None:
            return
        self.serve([self.target], "item", now)
        order = self._guarded("orders", 1, "orders", now, lambda s: interest.place_preorder(
            s, self.buyer_id, self.target, missing, now)[0].id)  # type: ignore[arg-type]
        if order is not None:
            self.order_id = int(order)  # type: ignore[call-overload]
            self.stats["orders"] += 1

    def after_decide(self, now: datetime) -> None:
        if self.order_id is None:
            return
        order_id, self.order_id = self.order_id, None
        if self._guarded("cancels", 1, "orders", now, lambda s: interest.cancel_preorder(s, self.buyer_id, order_id)) is not None:
            self.stats["cancels"] += 1


def make_attackers(names: list[str], seed: int = 0) -> list[Hostile]:
    """Hostile buyers by name (`ATTACKS`), one each."""
    made: list[Hostile] = []
    for i, name in enumerate(names):
        cls = {"flood": Flooder, "fan": Fan, "churn": Churner}.get(name)
        if cls is None:
            raise ValueError(f"unknown attack {name!r}; allowed: {', '.join(ATTACKS)}")
        made.append(cls(seed + i))
    return made

"""Per-buyer rate limits on everything a buyer sends: browse events, pages served, pre-orders and cancels.

Each (scope, key) has a token bucket: `capacity` tokens, refilled at `capacity / period_s` per second. A
request takes `cost` tokens (a batch of 300 events costs 300); when the bucket holds fewer it is refused
with `TooManyRequests` (HTTP 429) and the seconds until it would be admitted (the Retry-After header),
and takes nothing. A request that costs more than a full bucket can never be admitted: `Invalid` (422).

The scopes and their limits (settings `EVENT_LIMIT_PER_MINUTE`, `PAGE_LIMIT_PER_MINUTE`,
`ORDER_LIMIT_PER_HOUR`; 0 turns one off):
- `events`: browse events (view, click, favourite, inquiry) per buyer;
- `pages`: feed pages, search results and item pages served to a buyer (each serves impressions);
- `orders`: pre-orders placed and cancelled per buyer (cancel-and-rebook).

Like `app.services.login_limit`: per process, in memory (each worker of a multi-process deployment
limits on its own, so the limits there are per worker), times on one monotonic clock passed in as `now`
so tests need no sleeping, and memory bounded by the keys seen within a period (full buckets are swept).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

from app.errors import Invalid, TooManyRequests

_SWEEP_MIN = 1024
WHAT = {"events": "browse events", "pages": "pages", "orders": "pre-orders and cancels"}


@dataclass(frozen=True)
class Limit:
    capacity: int  # tokens; 0 = no limit
    period_s: float  # a full bucket refills in this time

    @property
    def rate(self) -> float:
        return self.capacity / self.period_s


class RateLimiter:
    """Token buckets per scope and key (thread-safe); see the module docstring."""

    def __init__(self, limits: Mapping[str, Limit]) -> None:
        for scope, limit in limits.items():
            if limit.capacity < 0 or not limit.period_s > 0:
                raise ValueError(f"{scope}: capacity must be >= 0 and period_s > 0, got {limit}")
        self.limits = dict(limits)
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, object], tuple[float, float]] = {}  # -> (tokens, at)
        self._sweep_at = _SWEEP_MIN

    def take(self, scope: str, key: object, cost: int = 1, now: float | None = None) -> None:
        """Admit a request of `cost` for `key` in `scope`, or raise TooManyRequests (Invalid when `cost`
        exceeds a full bucket). `now` is `time.monotonic()` unless given."""
        limit = self.limits.get(scope)
        if limit is None or limit.capacity == 0 or cost <= 0:
            return
        what = WHAT.get(scope, scope)
        if cost > limit.capacity:
            raise Invalid(f"{cost} {what} in one request is more than the {limit.capacity} allowed per "
                          f"{_period(limit.period_s)}; send fewer at a time", field="events")
        now = time.monotonic() if now is None else now
        with self._lock:
            self._maybe_sweep(now)
            tokens = self._tokens(scope, key, limit, now)
            if tokens < cost:
                wait = max(1, math.ceil((cost - tokens) / limit.rate))
                raise TooManyRequests(f"too many {what}: at most {limit.capacity} per {_period(limit.period_s)}; "
                                      f"try again in {wait} s", retry_after_s=wait)
            self._buckets[(scope, key)] = (tokens - cost, now)

    def _tokens(self, scope: str, key: object, limit: Limit, now: float) -> float:
        tokens, at = self._buckets.get((scope, key), (float(limit.capacity), now))
        return min(float(limit.capacity), tokens + max(0.0, now - at) * limit.rate)

    def _maybe_sweep(self, now: float) -> None:
        """Forget buckets that have refilled (amortised: once the table has doubled since the last sweep)."""
        if len(self._buckets) < self._sweep_at:
            return
        full = [k for k in self._buckets if self._tokens(k[0], k[1], self.limits[k[0]], now) >= self.limits[k[0]].capacity]
        for k in full:
            del self._buckets[k]
        self._sweep_at = max(_SWEEP_MIN, 2 * len(self._buckets))


def _period(seconds: float) -> str:
    return {60.0: "minute", 3600.0: "hour", 86400.0: "day"}.get(float(seconds), f"{seconds:g} s")

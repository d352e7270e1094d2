"""Brute-force protection for signing in: failed attempts counted per login and per client address.

A login with `max_per_login` failed sign-ins within the last `window_s` seconds is locked: further
attempts for it are refused (`TooManyAttempts`, HTTP 429) *before* the password is checked, so a right
password is refused too until the oldest counted failure leaves the window. The same holds for a client
address with `max_per_client` failures, so one client cannot spray guesses over many logins. A login
nobody has is counted exactly like an existing one: the refusals do not tell them apart. A successful
sign-in forgets the login's failures.

An attempt is counted as a failure the moment it is admitted, and taken back when it succeeds: checking
and counting happen under one lock, so parallel guesses cannot all pass the check before any has failed.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from typing import Literal

from app.errors import TooManyAttempts

Scope = Literal["login", "client"]
# The table is swept of expired keys whenever it has grown to this many keys, then to twice its size.
_SWEEP_MIN = 1024


class LoginLimiter:
    """Failed sign-ins per login and per client address in a sliding window (thread-safe).

    Per process: the counts live in this object's memory, so each worker of a multi-process deployment
    counts on its own, and a restart forgets them; such a deployment would keep them in the database or
    in Redis instead. The client address is the one the ASGI server reports: behind a reverse proxy it is
    the proxy's unless the server trusts the proxy's forwarded headers (uvicorn `--proxy-headers
    --forwarded-allow-ips`).

    Times are seconds on one monotonic clock (`time.monotonic()`), passed in as `now`, so tests need no
    sleeping. Memory is bounded by the keys with a failure in the last window, at most `max_per_login`
    or `max_per_client` timestamps each.
    """

    def __init__(self, *, max_per_login: int, max_per_client: int, window_s: float) -> None:
        """`max_per_client` 0 turns the per-address limit off (e.g. behind a proxy that hides addresses)."""
        if max_per_login < 1:
            raise ValueError(f"max_per_login must be at least 1, got {max_per_login}")
        if max_per_client < 0:
            raise ValueError(f"max_per_client must be 0 (off) or more, got {max_per_client}")
        if not window_s > 0:
            raise ValueError(f"window_s must be positive, got {window_s}")
        self.max_per_login, self.max_per_client, self.window_s = max_per_login, max_per_client, window_s
        self._lock = threading.Lock()
        self._failures: dict[tuple[Scope, str], deque[float]] = {}
        self._sweep_at = _SWEEP_MIN

    def begin(self, login: str, client: str | None, now: float) -> None:
        """Admit one sign-in attempt for `login` (already normalised) from `client` (None: unknown), or
        raise TooManyAttempts with the seconds until it would be admitted. An admitted attempt counts as
        a failure until `succeeded` takes it back."""
        with self._lock:
            self._maybe_sweep(now)
            keys = self._keys(login, client)
            refusals = []
            for key, limit in keys:
                failures = self._recent(key, now)
                if len(failures) >= limit:
                    refusals.append((max(1, math.ceil(failures[0] + self.window_s - now)), key[0]))
            if refusals:
                retry_after_s, scope = max(refusals)
                what = "for this login" if scope == "login" else "from this address"
                raise TooManyAttempts(f"too many failed sign-ins {what}; try again in {retry_after_s} s",
                                      retry_after_s=retry_after_s, scope=scope)
            for key, _ in keys:
                self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, login: str, client: str | None, now: float) -> None:
        """The attempt admitted at `now` was right: forget the login's failures, and take the attempt
        back from the client's count (the client's earlier failures stay counted)."""
        with self._lock:
            self._failures.pop(("login", login), None)
            failures = self._failures.get(("client", client)) if client is not None else None
            if failures is not None and now in failures:
                failures.remove(now)
                if not failures:
                    del self._failures["client", client]

    def failures(self, scope: Scope, key: str, now: float) -> int:
        """How many failures of this login or client address are in the window at `now`."""
        with self._lock:
            return len(self._recent((scope, key), now))

    def _keys(self, login: str, client: str | None) -> list[tuple[tuple[Scope, str], int]]:
        keys: list[tuple[tuple[Scope, str], int]] = [(("login", login), self.max_per_login)]
        if client is not None and self.max_per_client > 0:
            keys.append((("client", client), self.max_per_client))
        return keys

    def _recent(self, key: tuple[Scope, str], now: float) -> deque[float]:
        """The key's failures still in the window (expired ones dropped; an emptied key removed)."""
        failures = self._failures.get(key)
        if failures is None:
            return deque()
        while failures and failures[0] + self.window_s <= now:
            failures.popleft()
        if not failures:
            del self._failures[key]
        return failures

    def _maybe_sweep(self, now: float) -> None:
        """Drop keys whose failures have all expired, once the table has doubled since the last sweep
        (amortised constant time per attempt)."""
        if len(self._failures) < self._sweep_at:
            return
        for key in [k for k, f in self._failures.items() if f[-1] + self.window_s <= now]:
            del self._failures[key]
        self._sweep_at = max(_SWEEP_MIN, 2 * len(self._failures))

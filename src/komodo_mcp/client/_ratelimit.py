"""A client-side token bucket, so a busy assistant gets RATE_LIMIT_ERROR instead of flooding Komodo.

A token is a tool call, not a Komodo request: one tool call may fan out into several requests, and an assistant's
ordinary investigation should not be throttled for the server's own fan-out. Requests made outside a tool call
(the start-up check, the /ready probe, resources) each count as one call.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Callable, Iterator

from .errors import RateLimited

# The buckets the current tool call has already paid into (None outside a tool call).
_charged: ContextVar[set[int] | None] = ContextVar("komodo_mcp_charged_buckets", default=None)


@contextmanager
def one_tool_call() -> Iterator[None]:
    """Every Komodo request made inside this block, concurrent ones included, is charged as one call."""
    token = _charged.set(set())
    try:
        yield
    finally:
        _charged.reset(token)


class TokenBucket:
    """`per_minute` sustained with bursts up to `burst`; `per_minute == 0` turns limiting off. Budget is per process
    and Komodo credential. `clock` is injectable so tests need no wall-clock time."""

    def __init__(self, per_minute: float, burst: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = per_minute / 60.0
        self.capacity = max(burst, 1.0)
        self.tokens = self.capacity
        self._clock = clock
        self._last = clock()

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def admit(self) -> None:
        """Let one Komodo request through: the first of a tool call spends a token, the rest ride on it."""
        charged = _charged.get()
        if charged is None:
            self.take()
        elif id(self) not in charged:
            self.take()
            charged.add(id(self))

    def take(self) -> None:
        """Spend one token or raise RateLimited with the seconds until one is back."""
        if not self.enabled:
            return
        now = self._clock()
        self.tokens = min(self.capacity, self.tokens + (now - self._last) * self.rate)
        self._last = now
        if self.tokens < 1:
            retry_after = round((1 - self.tokens) / self.rate, 2)
            raise RateLimited("Rate limit exceeded", retry_after,
                              {"limit_per_minute": round(self.rate * 60), "burst": round(self.capacity)})
        self.tokens -= 1

"""A client-side token bucket, so a busy assistant gets RATE_LIMIT_ERROR instead of flooding Komodo."""

from __future__ import annotations

import time

from .errors import RateLimited


class TokenBucket:
    """`per_minute` sustained with bursts up to `burst`; `per_minute == 0` turns limiting off. Budget is per process."""

    def __init__(self, per_minute: float, burst: float, clock=time.monotonic) -> None:
        self.rate = per_minute / 60.0
        self.capacity = max(burst, 1.0)
        self.tokens = self.capacity
        self._clock = clock
        self._last = clock()

    @property
    def enabled(self) -> bool:
        return self.rate > 0

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

"""Keeps callers' bad credentials from locking everyone out of Komodo.

Komodo counts failed authentications per client address (5 in 15 s by default) and then answers 429 to every
request from that address — and every caller's request comes from this server's address. So a caller's
credentials that Komodo refused are not forwarded again for a while (the caller gets AUTH_ERROR at once), and
credentials not yet seen to work are held back (RATE_LIMIT_ERROR) while callers have used up a budget of
attempts kept below Komodo's limit. The server's own key, and callers whose keys worked, are never held back.
The cost: a caller who fixes a wrong secret waits REFUSED_FOR_S, and new callers may wait a few seconds during a
burst of bad keys.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque

import anyio

from .errors import AuthError, RateLimited

REFUSED_FOR_S = 60.0
FAILURE_WINDOW_S = 15.0  # Komodo's default auth_rate_limit_window_seconds
UNPROVEN_BUDGET = 3  # failed plus in-flight unproven attempts per window, under Komodo's 5 (max_attempts)
REMEMBERED = 4096  # caller identities remembered either way (least recent forgotten)


class CallerGuard:
    """Shared by every caller of one server; callers are identified by a hash of their credentials. Unproven
    credentials go to Komodo one request at a time: a tool call's parallel Komodo calls wait for the first."""

    def __init__(self) -> None:
        self._refused: OrderedDict[str, float] = OrderedDict()  # caller → monotonic time it may try again
        self._proven: OrderedDict[str, None] = OrderedDict()
        self._failures: deque[float] = deque()
        self._probing: dict[str, anyio.Event] = {}  # unproven callers with a request at Komodo

    async def admit(self, caller: str) -> bool:
        """Before a request with these credentials: raises if they must not reach Komodo now. Answers whether the
        request is the one probing them (call `done` with it afterwards)."""
        while (probe := self._probing.get(caller)) is not None:
            await probe.wait()
        now = time.monotonic()
        if (until := self._refused.get(caller)) is not None:
            if until > now:
                raise AuthError(f"Komodo refused these caller credentials (X-Komodo-Api-Key/-Secret); they are not "
                                f"sent again for {until - now:.0f}s, so that Komodo does not lock this server out",
                                {"retry_after": round(until - now)})
            del self._refused[caller]
        if caller in self._proven:
            self._proven.move_to_end(caller)
            return False
        while self._failures and now - self._failures[0] > FAILURE_WINDOW_S:
            self._failures.popleft()
        if len(self._failures) + len(self._probing) >= UNPROVEN_BUDGET:
            wait = FAILURE_WINDOW_S - (now - self._failures[0]) if self._failures else 1.0
            raise RateLimited("Too many callers with unproven Komodo credentials just now; new caller credentials "
                              "are held back so that Komodo does not lock this server out", max(1.0, round(wait)))
        self._probing[caller] = anyio.Event()
        return True

    def done(self, caller: str, probed: bool, *, refused: bool | None) -> None:
        """After the request: Komodo refused the credentials (True), took them (False), or never said (None)."""
        if not probed:
            return
        if refused:
            self._failures.append(time.monotonic())
            _remember(self._refused, caller, time.monotonic() + REFUSED_FOR_S)
        elif refused is False:
            _remember(self._proven, caller, None)
        self._probing.pop(caller).set()


def _remember(table: OrderedDict, caller: str, value: object) -> None:
    table[caller] = value
    table.move_to_end(caller)
    while len(table) > REMEMBERED:
        table.popitem(last=False)

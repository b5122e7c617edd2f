"""THE table: how Komodo Core's answers become KomodoErrors (komodo-core-api.md §1.5).

Core answers not-found and forbidden as HTTP 500 with a message, so the message decides before the status does.
"""

from __future__ import annotations

import re
from typing import Any

from .errors import (AuthError, Conflict, Forbidden, Internal, InvalidRequest, KomodoError, NotFound, RateLimited,
                     Unreachable, TimedOut)

# (status or None for any, message pattern, error class), first match wins.
MESSAGE_RULES: list[tuple[int | None, re.Pattern[str], type[KomodoError]]] = [
    (None, re.compile(r"^Invalid (user|client) credentials"), AuthError),  # an invalid JWT arrives as 500
    (None, re.compile(r"^Request headers have X-API-KEY but missing"), AuthError),
    (None, re.compile(r"^Did not find any |^Cannot find .* with empty name|^no update exists|^no alert found"
                      r"|^No tag found matching|^no variable found with given name"), NotFound),
    (None, re.compile(r"does not have required permissions|admin only|^Only Admins can|"
                      r"does not have permissions to create", re.IGNORECASE), Forbidden),
    (None, re.compile(r"^(\w+ )?busy$|^Resource is busy"), Conflict),
    (None, re.compile(r"^No (build|repo|procedure|action) in progress|has already been cancelled"), Conflict),
]
STATUS_RULES: dict[int, type[KomodoError]] = {
    400: InvalidRequest, 401: AuthError, 403: Forbidden, 404: NotFound, 409: Conflict, 415: InvalidRequest,
    422: InvalidRequest, 429: RateLimited, 502: Unreachable, 503: Unreachable, 504: TimedOut,
}
_TRY_AGAIN = re.compile(r"Try again in (\d+)s")


def error_for(status: int, body: Any, operation: str, retry_after_header: str | None = None) -> KomodoError:
    """Map one failed Komodo answer to its error, keeping Komodo's message and trace in `details`."""
    message, trace = _message_and_trace(body)
    details = {"operation": operation, "komodo_status": status, "komodo_error": message, "komodo_trace": trace}
    error_class = next((cls for rule_status, pattern, cls in MESSAGE_RULES
                        if (rule_status is None or rule_status == status) and pattern.search(message)), None)
    error_class = error_class or STATUS_RULES.get(status, Internal)
    if error_class is RateLimited:
        return RateLimited(f"Komodo rate limit: {message}", _retry_after(message, retry_after_header), details)
    return error_class(message or f"Komodo answered HTTP {status}", details)


def _message_and_trace(body: Any) -> tuple[str, list[str]]:
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        trace = body.get("trace")
        return body["error"], [str(t) for t in trace] if isinstance(trace, list) else []
    return (body[:500] if isinstance(body, str) else ""), []


def _retry_after(message: str, header: str | None) -> float:
    if header:
        try:
            return max(0.0, float(header))
        except ValueError:
            pass
    match = _TRY_AGAIN.search(message)
    return float(match[1]) if match else 1.0

"""Failures talking to Komodo, each carrying the reference's error `code` and HTTP `status`.

    KomodoError
    ├── AuthError            AUTH_ERROR        401
    ├── Forbidden            FORBIDDEN         403
    ├── NotFound             NOT_FOUND         404
    ├── InvalidRequest       VALIDATION_ERROR  400
    ├── Conflict             CONFLICT          409
    ├── RateLimited          RATE_LIMIT_ERROR  429  (.retry_after seconds)
    ├── Unreachable          NETWORK_ERROR     503
    ├── TimedOut             TIMEOUT_ERROR     504
    └── Internal             INTERNAL_ERROR    500

Messages never carry the Komodo URL, headers or credentials; Komodo's own message and trace go in `details`.
"""

from __future__ import annotations

from typing import Any, ClassVar


class KomodoError(Exception):
    code: ClassVar[str] = "INTERNAL_ERROR"
    status: ClassVar[int] = 500

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class AuthError(KomodoError):
    code, status = "AUTH_ERROR", 401


class Forbidden(KomodoError):
    code, status = "FORBIDDEN", 403


class NotFound(KomodoError):
    code, status = "NOT_FOUND", 404


class InvalidRequest(KomodoError):
    code, status = "VALIDATION_ERROR", 400


class Conflict(KomodoError):
    code, status = "CONFLICT", 409


class RateLimited(KomodoError):
    code, status = "RATE_LIMIT_ERROR", 429

    def __init__(self, message: str, retry_after: float, details: dict[str, Any] | None = None) -> None:
        super().__init__(message, details)
        self.retry_after = retry_after


class Unreachable(KomodoError):
    code, status = "NETWORK_ERROR", 503


class TimedOut(KomodoError):
    code, status = "TIMEOUT_ERROR", 504


class Internal(KomodoError):
    code, status = "INTERNAL_ERROR", 500

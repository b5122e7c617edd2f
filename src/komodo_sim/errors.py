"""Komodo Core's failures, with the status codes and texts Core really answers (komodo-core-api.md §1.5).

Core turns almost every failure into HTTP 500 with a message: not found and forbidden included.
"""

from __future__ import annotations


class CoreError(Exception):
    """A failure answered as `{"error": ..., "trace": [...]}` with Core's status code."""

    def __init__(self, status: int, error: str, trace: list[str] | None = None) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.trace = trace or []

    def body(self) -> dict:
        return {"error": self.error, "trace": self.trace}


class BadParams(CoreError):
    """Params that do not deserialize: 422 on `/read`, 500 on `/read/{Variant}` (the caller decides)."""

    def __init__(self, message: str) -> None:
        super().__init__(422, f"Failed to deserialize the JSON body into the target type: {message}")
        self.detail = message


def not_found(kind: str, key: str) -> CoreError:
    if not key:
        return CoreError(500, f"Cannot find {kind} with empty name / id")
    return CoreError(500, f"Did not find any {kind} matching {key}")


def variable_not_found(name: str) -> CoreError:
    """Variables are found by name alone (`helpers/query.rs`, get_variable), with their own text."""
    return CoreError(500, f"no variable found with given name: {name}")


def forbidden(kind: str, level: str, specific: list[str] | None = None) -> CoreError:
    text = f"User does not have required permissions on this {kind}. Must have at least {level} permissions"
    if specific:
        text += f", as well as these specific permissions: [{', '.join(specific)}]"
    return CoreError(500, text)


def busy(kind: str) -> CoreError:
    return CoreError(500, f"{kind} busy")


def admin_only(message: str = "This call is admin only") -> CoreError:
    return CoreError(403, message)

"""The reference's success and error envelopes: the one place their shape is decided."""

from __future__ import annotations

import functools
import json
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Any, Generic, TypeVar

from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel, Field, SerializerFunctionWrapHandler, field_serializer

from ..client.errors import KomodoError, RateLimited
from ..instances import SELECTED, qualify
from ..redact import redact

T = TypeVar("T")


def utc_now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Envelope(BaseModel, Generic[T]):
    """Every successful tool result: `{"data", "status", "timestamp"}`."""

    data: T
    status: int = 200
    timestamp: str = Field(default_factory=utc_now_iso, description="ISO 8601 UTC time of the answer")

    # No return annotation: the outputSchema keeps `data`'s own schema.
    @field_serializer("data", mode="wrap")
    def _data_as_shown(self, data: Any, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]
        return shown(handler(data))


# Set for the duration of a request by the server: --show-secrets turns value masking off.
SHOW_SECRETS: ContextVar[bool] = ContextVar("show_secrets", default=False)
# Clients cap a result at about 25k tokens; JSON runs about 3 characters a token.
MAX_RESULT_CHARS = 60_000
MAX_STRING_CHARS = 20_000


def shown(data: Any) -> Any:
    """What a result may carry: secrets masked by value shape (unless --show-secrets), and bounded in size."""
    return bounded(data if SHOW_SECRETS.get() else redact(data))


def bounded(data: Any) -> Any:
    """Cut long strings (a 1 MB compose file) with a note until the whole fits MAX_RESULT_CHARS; short strings and
    the structure stay as they are."""
    limit = MAX_STRING_CHARS
    while True:
        cut = _cut_strings(data, limit)
        if limit <= 200 or len(json.dumps(cut)) <= MAX_RESULT_CHARS:
            return cut
        limit //= 4


def _cut_strings(value: Any, limit: int) -> Any:
    if isinstance(value, str):
        return value if len(value) <= limit else \
            f"{value[:limit]}\n… [cut: the first {limit:,} of {len(value):,} characters are shown]"
    if isinstance(value, dict):
        return {key: _cut_strings(inner, limit) for key, inner in value.items()}
    if isinstance(value, list):
        return [_cut_strings(inner, limit) for inner in value]
    return value


def ok(data: T) -> Envelope[T]:
    return _envelope_of(type(data))(data=data)


@functools.cache
def _envelope_of(data_type: type) -> type[Envelope[Any]]:
    """Envelope[data_type], kept: pydantic holds parametrised generics weakly and would rebuild the class (~1.5 ms)
    on every call."""
    return Envelope[data_type]  # type: ignore[valid-type]


def error_body(code: str, status: int, message: str, details: dict[str, Any] | None = None,
               retry_after: float | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"error": redact(message), "code": code, "status": status, "timestamp": utc_now_iso()}
    if details:
        body["details"] = redact(details)
    if retry_after is not None:
        body["retry_after"] = retry_after
    return bounded(body)  # Komodo's message may echo a 100 kB argument


def error_result(body: dict[str, Any]) -> CallToolResult:
    """An `isError` result carrying the envelope as JSON text.

    Not as structured content: clients such as the TypeScript SDK 1.x validate any structuredContent against the
    tool's (success) outputSchema, errors included, and would reject the whole result.
    """
    return CallToolResult(content=[TextContent(type="text", text=compact_json(on_instance(body)))], is_error=True)


def komodo_error_body(error: KomodoError) -> dict[str, Any]:
    retry_after = error.retry_after if isinstance(error, RateLimited) else None
    return error_body(error.code, error.status, error.message, error.details, retry_after)


def on_instance(answer: dict[str, Any]) -> dict[str, Any]:
    """With several Komodo instances, the job ids an answer carries name the instance the call went to."""
    instance = SELECTED.get()
    return answer if instance is None else qualify(answer, instance)


def compact_json(value: Any) -> str:
    """JSON without indentation or spaces: the model reads it as well, and a page costs a third fewer bytes."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def envelope_result(envelope: Envelope[Any]) -> CallToolResult:
    """A successful tool result: the envelope's JSON as structured content (the full shape), its compact form as
    the text."""
    structured = on_instance(envelope.model_dump(mode="json", by_alias=True))
    return CallToolResult(content=[TextContent(type="text", text=compact_json(structured))],
                          structured_content=structured)

"""The audit trail: one JSON line per tool call that changes something (execute and write tools)."""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any, TextIO

from .redact import MASK, is_secret_key, redact

# Argument names whose values are secret whatever the tool (a variable's value may be a secret).
ALWAYS_MASKED = frozenset({"value", "api_secret", "password"})
# An audit line says what was asked, not the whole payload (a compose file, a long list): values are cut.
MAX_ARGUMENT_CHARS = 500
MAX_ARGUMENT_ITEMS = 50


def mask_arguments(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: MASK if isinstance(key, str) and (key in ALWAYS_MASKED or is_secret_key(key)) else
                mask_arguments(inner) for key, inner in list(value.items())[:MAX_ARGUMENT_ITEMS]}
    if isinstance(value, list):
        return [mask_arguments(inner) for inner in value[:MAX_ARGUMENT_ITEMS]]
    if isinstance(value, str) and len(value) > MAX_ARGUMENT_CHARS:  # masked whole first: no secret cut in two
        return f"{redact(value)[:MAX_ARGUMENT_CHARS]}… [{len(value):,} characters]"
    return redact(value)


class AuditLog:
    """Writes to stderr (default), to an append-only file, or nowhere ("off")."""

    def __init__(self, target: str) -> None:
        self.target = target
        self._lock = threading.Lock()
        self._stream: TextIO | None = None

    @property
    def enabled(self) -> bool:
        return self.target != "off"

    def _output(self) -> TextIO:
        if self.target == "stderr":
            return sys.stderr
        if self._stream is None:
            self._stream = open(self.target, "a", encoding="utf-8", buffering=1)  # noqa: SIM115 - held open
        return self._stream

    def record(self, *, tool: str, arguments: dict[str, Any], caller: str, code: str, job_id: str | None) -> None:
        if not self.enabled:
            return
        entry = {"ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "audit": True, "tool": tool,
                 "arguments": mask_arguments(arguments), "caller": caller, "result": code, "job_id": job_id}
        with self._lock:
            stream = self._output()
            stream.write(json.dumps(entry) + "\n")
            stream.flush()

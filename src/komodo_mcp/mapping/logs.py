"""Komodo Log objects → bounded plain text, so a log never floods a model's context."""

from __future__ import annotations

from typing import Any

from .models import LogOutput


def log_output(log: dict[str, Any], resource: str, source: str, budget_chars: int) -> LogOutput:
    """Keep the newest lines that fit the budget, and say how much was cut."""
    # Periphery's output ends with the command's newline; stderr follows stdout on the next line.
    text = "\n".join(part.rstrip("\n") for part in (log.get("stdout"), log.get("stderr")) if part)
    lines = text.splitlines()
    kept: list[str] = []
    size = 0
    for line in reversed(lines):
        if size + len(line) + 1 > budget_chars:
            break
        kept.append(line)
        size += len(line) + 1
    kept.reverse()
    cut = len(lines) - len(kept)
    note = None
    if log.get("success") is False:
        # Periphery's failed command comes back as a Log, not an error (e.g. no such container).
        note = f"Komodo could not read the log: {(log.get('stderr') or '').strip() or 'the command failed'}"
    elif cut:
        note = (f"{cut} earlier lines ({len(text) - size} characters) cut to stay within {budget_chars} characters; "
                f"ask for a smaller tail or search for what you need")
    return LogOutput(resource=resource, source=source, lines=len(kept), log="\n".join(kept), truncated=bool(cut),
                     note=note)

"""Komodo Log objects → bounded plain text, so a log never floods a model's context."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .models import LogOutput

# `docker logs --timestamps` starts each line with an RFC 3339 time (nanoseconds, UTC); `docker compose logs` puts
# its `service-1  | ` prefix before it. No `^` in the time: it is matched from the prefix's end, where `^` never matches.
_SERVICE = re.compile(r"^(?P<service>\S+) +\| ")
_DOCKER_TIME = re.compile(r"(?P<at>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) ")


@dataclass(frozen=True)
class LogLine:
    service: str | None  # the compose container (`web-1`) of a stack's line
    at: datetime | None  # Docker's timestamp, when Komodo was asked for it
    stamped: str  # the line as Komodo sent it
    bare: str  # the line without Docker's timestamp


def log_lines(log: dict[str, Any], stream: str, *, stamped: bool, by_service: bool) -> list[LogLine]:
    """The lines of the chosen stream(s): Periphery keeps the container's stdout and stderr apart in its Log; with
    Docker's timestamps (`stamped`), both are merged back into time order. `by_service`: compose logs, each line
    prefixed with its container."""
    lines = [_parsed(text, stamped, by_service) for name in ("stdout", "stderr") if stream in (name, "both")
             for text in (log.get(name) or "").rstrip("\n").splitlines()]
    if stamped and all(line.at for line in lines):
        lines.sort(key=lambda line: line.at)
    return lines


def _parsed(text: str, stamped: bool, by_service: bool) -> LogLine:
    service = _SERVICE.match(text) if by_service else None
    prefix = service[0] if service else ""
    time = _DOCKER_TIME.match(text, len(prefix)) if stamped else None
    return LogLine(service=service["service"] if service else None,
                   at=datetime.fromisoformat(time["at"]) if time else None, stamped=text,
                   bare=prefix + text[time.end():] if time else text)


def log_output(log: dict[str, Any], resource: str, source: str, budget_chars: int, *, stream: str = "both",
               keep: Callable[[LogLine], bool] = lambda line: True, stamped: bool = False, show_stamps: bool = True,
               by_service: bool = False) -> LogOutput:
    """Keep the lines `keep` accepts, the newest that fit the budget (shared fairly between a stack's services), and
    say how much was cut."""
    lines = [line for line in log_lines(log, stream, stamped=stamped, by_service=by_service) if keep(line)]
    shown = [line.stamped if show_stamps else line.bare for line in lines]
    kept, cut = _fair_share(lines, shown, budget_chars)
    note = None
    if log.get("success") is False:
        # Periphery's failed command comes back as a Log, not an error (e.g. no such container).
        note = f"Komodo could not read the log: {(log.get('stderr') or '').strip() or 'the command failed'}"
    elif len(services := {line.service for line in lines}) == 1 and cut:
        [(count, chars)] = cut.values()
        note = (f"{count} earlier lines ({chars} characters) cut to stay within {budget_chars} characters; "
                f"ask for a smaller tail or search for what you need")
    elif cut:
        losses = ", ".join(f"{service} {count} earlier lines ({chars} characters)"
                           for service, (count, chars) in sorted(cut.items()))
        note = (f"{budget_chars} characters shared fairly between {len(services)} services; "
                f"cut: {losses}; narrow with `services`, `since`, `regex` or a smaller `tail`")
    text = "\n".join(shown[i] for i in kept)
    return LogOutput(resource=resource, source=source, lines=len(kept), log=text, truncated=bool(cut), note=note)


def _fair_share(lines: list[LogLine], shown: list[str], budget: int) -> tuple[list[int], dict[str | None, tuple[int, int]]]:
    """Which lines (indexes, in order) fit the budget, each service keeping its newest lines within an equal share;
    a service that needs less than its share leaves the rest to the others. Also: per service, the lines and
    characters cut."""
    groups: dict[str | None, list[int]] = {}
    for index, line in enumerate(lines):
        groups.setdefault(line.service, []).append(index)
    size = {service: sum(len(shown[i]) + 1 for i in indexes) for service, indexes in groups.items()}
    left, kept, cut = budget, [], {}
    for position, service in enumerate(sorted(groups, key=lambda s: size[s])):
        share = left // (len(groups) - position)
        used = 0
        taken = []
        for index in reversed(groups[service]):
            if used + len(shown[index]) + 1 > share:
                break
            taken.append(index)
            used += len(shown[index]) + 1
        left -= used
        kept += taken
        if len(taken) < len(groups[service]):
            cut[service] = (len(groups[service]) - len(taken), size[service] - used)
    return sorted(kept), cut

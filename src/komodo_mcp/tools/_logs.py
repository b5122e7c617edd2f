"""Reading a log: Komodo's tail or its search call, filtered here by what Komodo cannot do (a regular expression, a
time window, one output stream), then bounded to the configured character budget."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from ..client import InvalidRequest
from ..mapping.logs import LogLine, log_output
from ..mapping.models import LogOutput
from ._context import App

_DURATION = re.compile(r"^(\d{1,5})([smhd])$")  # 99999d: far back, yet a date Python can hold
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def compiled(regex: str | None) -> re.Pattern[str] | None:
    if regex is None:
        return None
    try:
        return re.compile(regex)
    except re.error as error:
        raise InvalidRequest(f"regex {regex!r} is not a valid regular expression: {error}",
                             {"fields": [{"field": "regex", "message": str(error)}]}) from None


def since_time(since: str | None, now: datetime) -> datetime | None:
    """`15m`, `2h`, `1d` back from now, or an ISO timestamp (UTC unless it says otherwise)."""
    if since is None:
        return None
    if duration := _DURATION.match(since):
        return now - timedelta(**{_UNITS[duration[2]]: int(duration[1])})
    try:
        at = datetime.fromisoformat(since)
    except ValueError:
        raise InvalidRequest(f"since {since!r} is neither a duration like 15m, 2h or 1d nor an ISO timestamp",
                             {"fields": [{"field": "since", "message": "expected 30s, 15m, 2h, 1d or "
                                          "2026-05-01T12:00:00Z"}]}) from None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


async def read_log(app: App, kind: str, target: dict[str, Any], resource: str, *, tail: int, search: str | None,
                   timestamps: bool, regex: str | None = None, since: str | None = None,
                   stream: str = "both") -> LogOutput:
    pattern, after = compiled(regex), since_time(since, datetime.now(UTC))
    # Komodo's search greps the whole log but merges stdout into stderr (`2>&1`): one stream needs the tail.
    komodo_searches = bool(search) and stream == "both"
    # Komodo's log calls take no time window: the lines' Docker timestamps let this server apply one.
    stamped = timestamps or after is not None
    if komodo_searches:
        log = await app.komodo.read(f"Search{kind}Log", **target, terms=[search], combinator="Or", invert=False,
                                    timestamps=stamped)
        source = [f"lines matching {search!r}"]
    else:
        log = await app.komodo.read(f"Get{kind}Log", **target, tail=tail, timestamps=stamped)
        # `docker compose logs --tail` tails each service's container, not the project as a whole.
        source = [f"last {tail} lines" + (" of each service" if kind == "Stack" else "")]
    here = [f"{stream} only" if stream != "both" else "",
            f"containing {search!r}" if search and not komodo_searches else "",
            f"matching /{regex}/" if regex else "", f"since {after.isoformat()}" if after else ""]
    if any(here):
        source.append("filtered here: " + ", ".join(part for part in here if part))

    def keep(line: LogLine) -> bool:
        return ((after is None or line.at is None or line.at >= after)
                and (komodo_searches or not search or search.lower() in line.bare.lower())
                and (pattern is None or pattern.search(line.bare) is not None))

    return log_output(log, resource, "; ".join(source), app.settings.log_budget_chars, stream=stream, keep=keep,
                      stamped=stamped, show_stamps=timestamps, by_service=kind == "Stack")

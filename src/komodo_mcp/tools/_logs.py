"""Reading a log: Komodo's tail or its search call, then bounded to the configured character budget."""

from __future__ import annotations

from typing import Any

from ..mapping.logs import log_output
from ..mapping.models import LogOutput
from ._context import App


async def read_log(app: App, kind: str, target: dict[str, Any], resource: str, *, tail: int, search: str | None,
                   timestamps: bool) -> LogOutput:
    if search:
        log = await app.komodo.read(f"Search{kind}Log", **target, terms=[search], combinator="Or", invert=False,
                                    timestamps=timestamps)
        source = f"lines matching {search!r}"
    else:
        log = await app.komodo.read(f"Get{kind}Log", **target, tail=tail, timestamps=timestamps)
        # `docker compose logs --tail` tails each service's container, not the project as a whole.
        source = f"last {tail} lines" + (" of each service" if kind == "Stack" else "")
    return log_output(log, resource, source, app.settings.log_budget_chars)

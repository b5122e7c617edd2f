"""Recent runs of an operation on a resource, as full Updates (list items carry no end time nor logs)."""

from __future__ import annotations

from typing import Any, Awaitable

from ..client import KomodoError, gather, nothing
from ._context import PARAM, App


async def recent_runs(app: App, kind: str, resource_id: str, operations: tuple[str, ...],
                      limit: int = 10) -> list[dict[str, Any]]:
    """The newest `limit` Updates of `operations` on the resource, newest first, each with logs and end_ts.
    Finished Updates come from the App's cache, so only runs not seen finished before cost a request."""
    query: dict[str, Any] = {"target.type": kind, "target.id": resource_id}
    query["operation"] = operations[0] if len(operations) == 1 else {"$in": list(operations)}
    listed = (await app.komodo.read("ListUpdates", query=query))["updates"][:limit]
    fulls = await gather(*(app.job(item["id"]) for item in listed))
    return [{**full, "id": item["id"], "username": item["username"]} for item, full in zip(listed, fulls)]


async def resource_and_runs(app: App, kind: str, key: str, operations: tuple[str, ...], limit: int,
                            *also: Awaitable[Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, str],
                                                            list[dict[str, Any]], list[Any]]:
    """A resource for a Get tool, in one round of concurrent requests: the full resource, its list item (state),
    the tag names, its recent runs (when its id is known already) and the `also` calls, whose KomodoErrors come
    back in their place. A name seen for the first time costs a second round for the runs."""
    known_id = app.known_id(kind, key)
    full, items, tags, runs, *extra = await gather(
        app.komodo.read(f"Get{kind}", **{PARAM[kind]: key}),
        app.komodo.read(f"List{kind}s", query={"names": [key]}, limit=0), app.tag_names(),
        recent_runs(app, kind, known_id, operations, limit) if known_id else nothing(), *also, tolerate=True)
    for required in (full, items, tags, runs):
        if isinstance(required, KomodoError):
            raise required
    resource_id = app.remember(kind, full)
    if resource_id != known_id:  # first seen, or the name now belongs to another resource
        runs = await recent_runs(app, kind, resource_id, operations, limit)
    item = next(item for item in items if item["id"] == resource_id)
    return full, item, tags, runs, extra

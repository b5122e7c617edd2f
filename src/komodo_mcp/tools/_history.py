"""Recent runs of an operation on a resource, as full Updates (list items carry no end time nor logs)."""

from __future__ import annotations

from typing import Any, Awaitable, Callable

from ..client import KomodoError, gather
from ..mapping.jobs import operator_of
from ._context import PARAM, App


async def recent_runs(app: App, kind: str, resource_id: str, operations: tuple[str, ...],
                      limit: int = 10) -> list[dict[str, Any]]:
    """The newest `limit` Updates of `operations` on the resource, newest first, each with logs and end_ts.
    Finished Updates come from the App's cache, so only runs not seen finished before cost a request."""
    query: dict[str, Any] = {"target.type": kind, "target.id": resource_id}
    query["operation"] = operations[0] if len(operations) == 1 else {"$in": list(operations)}
    listed = (await app.komodo.read("ListUpdates", query=query))["updates"][:limit]
    fulls = await gather(*(app.job(item["id"]) for item in listed))
    return [{**full, "id": item["id"], "username": operator_of(item["operator"], item["username"])}
            for item, full in zip(listed, fulls)]


async def resource_in_one_round(app: App, kind: str, key: str, *, also: tuple[Awaitable[Any], ...] = (),
                                by_id: Callable[[str], list[Awaitable[Any]]] = lambda resource_id: []
                                ) -> tuple[dict[str, Any], dict[str, Any], dict[str, str], list[Any], list[Any]]:
    """A resource for a Get tool, in one round of concurrent requests: the full resource, its list item (state),
    the tag names, the `also` calls (their KomodoErrors come back in their place) and the `by_id` calls, which need
    the resource's id: when it is not known yet (a name seen for the first time), they take a second round."""
    known_id = app.known_id(kind, key)
    speculative = by_id(known_id) if known_id else []
    full, items, tags, *rest = await gather(
        app.komodo.read(f"Get{kind}", **{PARAM[kind]: key}),
        app.komodo.read(f"List{kind}s", query={"names": [key]}, limit=0), app.tag_names(), *also, *speculative,
        tolerate=True)
    also_results, by_id_results = rest[:len(also)], rest[len(also):]
    for required in (full, items, tags):
        if isinstance(required, KomodoError):
            raise required
    resource_id = app.remember(kind, full)
    if resource_id != known_id:  # first seen, or the name now belongs to another resource
        by_id_results = await gather(*by_id(resource_id))
    for required in by_id_results:
        if isinstance(required, KomodoError):
            raise required
    item = next(item for item in items if item["id"] == resource_id)
    return full, item, tags, also_results, by_id_results

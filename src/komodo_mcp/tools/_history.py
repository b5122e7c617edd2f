"""Recent runs of an operation on a resource, as full Updates (list items carry no end time nor logs)."""

from __future__ import annotations

from typing import Any

from ..client import KomodoClient, gather
from ..mapping.jobs import operator_of


async def recent_runs(komodo: KomodoClient, kind: str, resource_id: str, operations: tuple[str, ...],
                      limit: int = 10) -> list[dict[str, Any]]:
    """The newest `limit` Updates of `operations` on the resource, newest first, each with logs and end_ts."""
    query: dict[str, Any] = {"target.type": kind, "target.id": resource_id}
    query["operation"] = operations[0] if len(operations) == 1 else {"$in": list(operations)}
    listed = (await komodo.read("ListUpdates", query=query))["updates"][:limit]
    fulls = await gather(*(komodo.read("GetUpdate", id=item["id"]) for item in listed))
    return [{**full, "id": item["id"], "username": operator_of(item["operator"], item["username"])}
            for item, full in zip(listed, fulls)]

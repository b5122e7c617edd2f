"""The shared shape of every List tool: Komodo-side filters and paging where Komodo can, exact totals always."""

from __future__ import annotations

from math import ceil
from typing import Any, Callable, TypeVar

from ..client import gather, list_all, list_page, nothing
from ..mapping.models import Page
from ._context import App

Item = TypeVar("Item")
Mapper = Callable[[dict[str, Any], "dict[str, Any] | None", dict[str, str]], Item]


async def list_resources(app: App, kind: str, *, page: int, page_size: int, query: dict[str, Any], mapper: Mapper,
                         keep: Callable[[Item], bool] | None = None) -> Page[Item]:
    """List `kind` as reference items: list items for state, full resources for config, tags by name.

    `query` is Komodo's ResourceQuery (filters Komodo applies itself); `keep` filters what only the mapped shape
    knows, in which case every match is fetched and paged here.
    """
    komodo = app.komodo
    fulls: list[dict[str, Any]] | None = None
    if keep is None:
        # Unfiltered, Komodo pages the full resources like the list items: the page, its full resources and the
        # exact total come in one round of concurrent requests, whatever the fleet size.
        (items, total), tags, fulls = await gather(
            list_page(komodo, f"List{kind}s", f"Get{kind}sSummary", page, page_size, query,
                      known_total=None if query else app.totals.get(kind)), app.tag_names(),
            nothing() if query else komodo.read(f"ListFull{kind}s", query={}, page=page - 1, limit=page_size))
        if not query:
            app.totals.put(kind, total)
    else:
        items, tags = await gather(list_all(komodo, f"List{kind}s", query), app.tag_names())
        total = None
    if fulls is None:
        fulls = await komodo.read(f"ListFull{kind}s", query={"names": [i["id"] for i in items]}, limit=0) \
            if items else []
    by_id = {full["_id"]["$oid"]: full for full in fulls}
    mapped = [mapper(item, by_id.get(item["id"]), tags) for item in items]
    if keep is not None:
        mapped = [m for m in mapped if keep(m)]
        total = len(mapped)
        mapped = mapped[(page - 1) * page_size:page * page_size]
    return Page[Any](items=mapped, total=total, page=page, pageSize=page_size,
                     totalPages=ceil(total / page_size) if total else 0)

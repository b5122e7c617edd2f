"""Exact totals and pages over Komodo's List* calls, which stop at 50 items on Core 2.3 unless told otherwise."""

from __future__ import annotations

from typing import Any

from ._client import KomodoClient
from ._gather import gather


async def list_all(komodo: KomodoClient, operation: str, query: dict[str, Any] | None = None) -> list[Any]:
    """Every matching item: `limit: 0` means unlimited on 2.3+, and older Cores ignore the key."""
    return await komodo.read(operation, query=query or {}, limit=0)


async def list_page(komodo: KomodoClient, operation: str, summary_operation: str, page: int, page_size: int,
                    query: dict[str, Any] | None = None, known_total: int | None = None) -> tuple[list[Any], int]:
    """One page (1-based) and the exact total.

    Unfiltered, the total is the summary's count (permission-filtered like the list itself) and the two calls run
    concurrently, so a page costs one round trip whatever the fleet size. With a `known_total` (a recent count),
    the page alone is asked for: a short page tells the total itself, and the summary is asked only when the page
    contradicts the known count. Filtered, Komodo has no count, so every match is fetched and the page is cut here.
    """
    if query:
        items = await list_all(komodo, operation, query)
        return items[(page - 1) * page_size:page * page_size], len(items)
    asked = komodo.read(operation, query={}, page=page - 1, limit=page_size)
    if known_total is None:
        items, summary = await gather(asked, komodo.read(summary_operation))
    else:
        items, summary = await asked, None
    if len(items) > page_size:  # a Core older than 2.3 ignores paging and answers everything
        items = items[(page - 1) * page_size:page * page_size]
    if summary is not None:
        return items, int(summary["total"])
    before = (page - 1) * page_size
    if 0 < len(items) < page_size or (page == 1 and not items):
        return items, before + len(items)  # the last page: the count is exact
    if (items and known_total >= before + page_size) or (not items and known_total <= before):
        return items, known_total
    return items, int((await komodo.read(summary_operation))["total"])  # the known count is out of date

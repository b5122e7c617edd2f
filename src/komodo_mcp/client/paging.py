"""Exact totals and pages over Komodo's List* calls, which stop at 50 items on Core 2.3 unless told otherwise."""

from __future__ import annotations

from typing import Any

from ._client import KomodoClient
from ._gather import gather


async def list_all(komodo: KomodoClient, operation: str, query: dict[str, Any] | None = None) -> list[Any]:
    """Every matching item: `limit: 0` means unlimited on 2.3+, and older Cores ignore the key."""
    return await komodo.read(operation, query=query or {}, limit=0)


async def list_page(komodo: KomodoClient, operation: str, summary_operation: str, page: int, page_size: int,
                    query: dict[str, Any] | None = None) -> tuple[list[Any], int]:
    """One page (1-based) and the exact total.

    Unfiltered, the total is the summary's count (permission-filtered like the list itself) and the two calls run
    concurrently, so a page costs one round trip whatever the fleet size. Filtered, Komodo has no count, so every
    match is fetched and the page is cut here.
    """
    if query:
        items = await list_all(komodo, operation, query)
        return items[(page - 1) * page_size:page * page_size], len(items)
    items, summary = await gather(komodo.read(operation, query={}, page=page - 1, limit=page_size),
                                  komodo.read(summary_operation))
    if len(items) > page_size:  # a Core older than 2.3 ignores paging and answers everything
        items = items[(page - 1) * page_size:page * page_size]
    return items, int(summary["total"])

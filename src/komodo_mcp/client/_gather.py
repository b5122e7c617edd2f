"""Run Komodo calls side by side, so a composed Get costs one round trip rather than the sum."""

from __future__ import annotations

from typing import Any, Awaitable

import anyio

from .errors import KomodoError


async def nothing() -> None:
    """A call that answers None, to keep a place in a gather when a call is not needed."""
    return None


async def gather(*calls: Awaitable[Any], tolerate: bool = False) -> list[Any]:
    """Await all calls concurrently, in order. With `tolerate`, a KomodoError becomes that call's result
    (the caller degrades the field it fed); otherwise the first error is raised."""
    results: list[Any] = [None] * len(calls)

    async def run(index: int, call: Awaitable[Any]) -> None:
        try:
            results[index] = await call
        except KomodoError as error:
            if not tolerate:
                raise
            results[index] = error

    try:
        async with anyio.create_task_group() as group:
            for index, call in enumerate(calls):
                group.start_soon(run, index, call)
    except BaseExceptionGroup as group_error:
        komodo_errors = group_error.subgroup(KomodoError)
        if komodo_errors is not None:
            raise _first(komodo_errors) from None
        raise
    return results


def _first(group: BaseExceptionGroup) -> BaseException:
    error = group.exceptions[0]
    return _first(error) if isinstance(error, BaseExceptionGroup) else error

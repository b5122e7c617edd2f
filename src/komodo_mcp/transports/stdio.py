"""stdio, guarded against the discover-probe race.

Claude Code and Copilot CLI probe with `server/discover`, give up after about 0.6 s and send `initialize`. A server
that reads both late would answer the stale discover, pin the connection to the 2026-07-28 protocol and then reject
the initialize (-32022): a dead connection. So the lines waiting at start are read as one batch, and a discover that
an `initialize` queued behind it has superseded is dropped before the SDK sees it.
"""

from __future__ import annotations

import json
import logging
import os
import select
from typing import AsyncIterator

import anyio
from mcp.server.stdio import stdio_server

from ..server import KomodoMCP

logger = logging.getLogger("komodo_mcp.stdio")
READ_SIZE = 1 << 16


def drop_superseded_discovers(lines: list[str]) -> list[str]:
    """Remove every `server/discover` request that an `initialize` later in the batch supersedes."""
    methods = [_method(line) for line in lines]
    if "initialize" not in methods:
        return lines
    last_initialize = len(methods) - 1 - methods[::-1].index("initialize")
    kept = [line for i, line in enumerate(lines) if not (methods[i] == "server/discover" and i < last_initialize)]
    if len(kept) != len(lines):
        logger.info("dropped %d server/discover probe(s) superseded by initialize", len(lines) - len(kept))
    return kept


def _method(line: str) -> str | None:
    try:
        message = json.loads(line)
    except ValueError:
        return None
    return message.get("method") if isinstance(message, dict) else None


class WireLines:
    """The wire's lines from a private duplicate of fd 0; fd 0 itself points at /dev/null so nothing else reads it."""

    def __init__(self) -> None:
        self._fd = os.dup(0)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)

    def _read_waiting(self) -> bytes:
        """Block for the first bytes, then take whatever else is already queued."""
        data = os.read(self._fd, READ_SIZE)
        while data and select.select([self._fd], [], [], 0)[0]:
            more = os.read(self._fd, READ_SIZE)
            if not more:
                break
            data += more
        return data

    async def __aiter__(self) -> AsyncIterator[str]:
        buffer, first_batch = b"", True
        while True:
            chunk = await anyio.to_thread.run_sync(self._read_waiting, abandon_on_cancel=True)
            if not chunk:
                if buffer.strip():
                    yield buffer.decode("utf-8", "replace")
                return
            *complete, buffer = (buffer + chunk).split(b"\n")
            lines = [line.decode("utf-8", "replace") for line in complete if line.strip()]
            if first_batch and lines:
                lines, first_batch = drop_superseded_discovers(lines), False
            for line in lines:
                yield line


async def serve_stdio(server: KomodoMCP) -> None:
    lowlevel = server._lowlevel_server  # the SDK's run_stdio_async has no way to pass our stdin
    async with stdio_server(stdin=WireLines()) as (read_stream, write_stream):  # type: ignore[arg-type]
        await lowlevel.run(read_stream, write_stream, lowlevel.create_initialization_options())

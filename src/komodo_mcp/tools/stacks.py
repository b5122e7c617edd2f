"""Stacks: docker compose projects Komodo deploys on a server."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context
from pydantic import Field

from ..client import KomodoError, gather
from ..mapping.envelope import Envelope, ok
from ..mapping.models import LogOutput, Page, StackDetail, StackItem
from ..mapping.stacks import compose_content, stack_detail, stack_item
from ..mapping.status import STACK, StackStatus
from ._context import app_of
from ._lists import list_resources
from ._logs import read_log
from ._params import PageNumber, PageSize, Search, StackId, Tail, Timestamps
from ._spec import read

COMPOSE_CHARS = 8_000


@read("ListStacks", "List stacks")
async def list_stacks(
    ctx: Context,
    page: PageNumber = 1,
    page_size: PageSize = 50,
    status: Annotated[StackStatus | None, Field(description="active (running, unhealthy, restarting, paused); "
                      "inactive (stopped, down, …); deploying")] = None,
) -> Envelope[Page[StackItem]]:
    """List docker compose stacks with status, services and how many of them run."""
    query = {"specific": {"states": list(STACK[status])}} if status else {}
    return ok(await list_resources(app_of(ctx), "Stack", page=page, page_size=page_size, query=query,
                                   mapper=stack_item))


@read("GetStack", "Get stack")
async def get_stack(ctx: Context, id: StackId) -> Envelope[StackDetail]:
    """One stack in depth: each service's state, image, ports and container, networks, volumes, compose file."""
    app = app_of(ctx)
    komodo = app.komodo
    full, services, tags = await gather(komodo.read("GetStack", stack=id), komodo.read("ListStackServices", stack=id),
                                        app.tag_names(), tolerate=True)
    for required in (full, tags):
        if isinstance(required, KomodoError):
            raise required
    items = await komodo.read("ListStacks", query={"names": [full["_id"]["$oid"]]}, limit=0)
    notes = [f"services unavailable: {services.message}"] if isinstance(services, KomodoError) else []
    content = compose_content(full)
    if content and len(content) > COMPOSE_CHARS:
        notes.append(f"compose_content cut to {COMPOSE_CHARS} of {len(content)} characters")
        content = content[:COMPOSE_CHARS]
    return ok(stack_detail(full, items[0], tags, [] if isinstance(services, KomodoError) else services, content,
                           notes))


@read("GetStackLog", "Get stack log")
async def get_stack_log(
    ctx: Context,
    id: StackId,
    services: Annotated[list[str], Field(description="Only these services; empty means all")] = [],  # noqa: B006
    tail: Tail = 100,
    search: Search | None = None,
    timestamps: Timestamps = False,
) -> Envelope[LogOutput]:
    """Read a stack's compose logs: the newest `tail` lines, or the lines matching `search` over the whole log."""
    return ok(await read_log(app_of(ctx), "Stack", {"stack": id, "services": services}, f"stack {id}",
                             tail=tail, search=search, timestamps=timestamps))

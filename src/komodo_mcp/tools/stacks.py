"""Stacks: docker compose projects Komodo deploys on a server."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context
from pydantic import Field

from ..client import KomodoError, gather
from ..mapping.envelope import Envelope, ok
from ..mapping.executions import StackResult
from ..mapping.models import LogOutput, Page, StackDetail, StackItem
from ..mapping.stacks import compose_content, stack_detail, stack_item
from ..mapping.status import STACK, StackStatus
from ._context import App, app_of
from ._execution import Started, result_fields, start
from ._lists import list_resources
from ._logs import read_log
from ._params import PageNumber, PageSize, Search, Services, StackId, StopTime, Tail, Timestamps
from ._spec import execute, read

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


def _stack_result(app: App, started: Started, message: str, services: list[str]) -> StackResult:
    return StackResult(**result_fields(app, started, message), stack_id=started.id, stack_name=started.name,
                       server_id=started.resource["config"].get("server_id", ""), services=services)


def _what(name: str, services: list[str]) -> str:
    return f"{', '.join(services)} of {name}" if services else name


@execute("DeployStack", "Deploy stack")
async def deploy_stack(ctx: Context, id: StackId, services: Services = [],  # noqa: B006
                       stop_time: StopTime | None = None) -> Envelope[StackResult]:
    """Deploy a stack (docker compose pull + up -d), or only some of its services. Returns a job_id at once;
    CONFLICT when the stack is busy."""
    app = app_of(ctx)
    extra = {"stop_time": stop_time} if stop_time is not None else {}
    started = await start(app, "Stack", id, "DeployStack", services=services, **extra)
    return ok(_stack_result(app, started, f"Deploying {_what(started.name, services)}", services))


@execute("StartStack", "Start stack", idempotent=True)
async def start_stack(ctx: Context, id: StackId, services: Services = []) -> Envelope[StackResult]:  # noqa: B006
    """Start a stack's stopped services (docker compose start). Returns a job_id at once."""
    app = app_of(ctx)
    started = await start(app, "Stack", id, "StartStack", services=services)
    return ok(_stack_result(app, started, f"Starting {_what(started.name, services)}", services))


@execute("RestartStack", "Restart stack")
async def restart_stack(ctx: Context, id: StackId, services: Services = []) -> Envelope[StackResult]:  # noqa: B006
    """Restart a stack's services (docker compose restart). Returns a job_id at once."""
    app = app_of(ctx)
    started = await start(app, "Stack", id, "RestartStack", services=services)
    return ok(_stack_result(app, started, f"Restarting {_what(started.name, services)}", services))


@execute("PullStack", "Pull stack images", idempotent=True)
async def pull_stack(ctx: Context, id: StackId, services: Services = []) -> Envelope[StackResult]:  # noqa: B006
    """Pull a stack's images (docker compose pull) without restarting anything. Returns a job_id at once."""
    app = app_of(ctx)
    started = await start(app, "Stack", id, "PullStack", services=services)
    return ok(_stack_result(app, started, f"Pulling images of {_what(started.name, services)}", services))


@execute("StopStack", "Stop stack", destructive=True, idempotent=True)
async def stop_stack(ctx: Context, id: StackId, services: Services = [],  # noqa: B006
                     stop_time: StopTime | None = None) -> Envelope[StackResult]:
    """Stop a stack's services (docker compose stop): they stay down until started again."""
    app = app_of(ctx)
    extra = {"stop_time": stop_time} if stop_time is not None else {}
    started = await start(app, "Stack", id, "StopStack", services=services, **extra)
    return ok(_stack_result(app, started, f"Stopping {_what(started.name, services)}", services))


@execute("DestroyStack", "Destroy stack", destructive=True, idempotent=True)
async def destroy_stack(ctx: Context, id: StackId, services: Services = [],  # noqa: B006
                        remove_orphans: Annotated[bool, Field(description="Also remove containers of services no "
                                                              "longer in the compose file")] = False,
                        stop_time: StopTime | None = None) -> Envelope[StackResult]:
    """Take a stack down (docker compose down): its containers are removed; the stack's config stays in Komodo."""
    app = app_of(ctx)
    extra = {"stop_time": stop_time} if stop_time is not None else {}
    started = await start(app, "Stack", id, "DestroyStack", services=services, remove_orphans=remove_orphans, **extra)
    return ok(_stack_result(app, started, f"Taking down {_what(started.name, services)}", services))

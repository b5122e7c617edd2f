"""Containers: one Docker container on a server, whoever runs it (a deployment, a stack service, or neither).

Komodo runs these on the server (the job's target is the server) and, unlike whole-server actions, side by side:
two containers of one host can restart at once.
"""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from pydantic import Field

from ..client import NotFound
from ..mapping.containers import ContainerDetail, container_detail
from ..mapping.envelope import Envelope, ok
from ..mapping.executions import ExecutionResult
from ._context import App, app_of
from ._execution import Started, answers, result_fields, start
from ._params import ServerId, StopSignal, StopTime, given
from ._spec import execute, read

ContainerName = Annotated[str, Field(min_length=1, max_length=256, description="The container's name on that "
                                     "server (komodo_read_ListContainers lists them)")]
ContainerStopSignal = Annotated[StopSignal, Field(description="Signal sent to stop it (default: Docker's, SIGTERM "
                                                  "unless the image sets another)")]


class ContainerResult(ExecutionResult):
    server_id: str
    server_name: str
    container: str | None = Field(description="The container acted on (null when the job is all that is known)")


@read("InspectContainer", "Inspect container")
async def inspect_container(ctx: Context, server_id: ServerId, container: ContainerName) -> Envelope[ContainerDetail]:
    """One container in depth, from Docker's inspect: state, exit code, health, restarts, image, ports, networks,
    mounts, command, environment (credential-looking values masked) and labels."""
    app = app_of(ctx)
    server = await app.komodo.read("GetServer", server=server_id)
    await _existing(app, server["_id"]["$oid"], server["name"], container)
    inspect = await app.komodo.read("InspectContainer", server=server["_id"]["$oid"], container=container)
    return ok(container_detail(server["_id"]["$oid"], inspect, app.settings.show_secrets))


async def _existing(app: App, server_id: str, server_name: str, container: str) -> None:
    """A name the server does not run is a NOT_FOUND here, rather than a job that fails inside Komodo."""
    names = {c["name"] for c in await app.komodo.read("ListContainers", server=server_id)}
    if container not in names:
        raise NotFound(f"No container {container} on server {server_name} (komodo_read_ListContainers lists them)",
                       {"server_id": server_id, "container": container})


@answers("StartContainer", "RestartContainer", "StopContainer", "PauseContainer", "UnpauseContainer")
def _container_result(app: App, started: Started, message: str, ignored: list[str] | None = None,
                      update: dict[str, Any] | None = None, waited: bool = False,
                      container: str | None = None) -> ContainerResult:
    return ContainerResult(**result_fields(app, started, message, ignored, update, waited), server_id=started.id,
                           server_name=started.name, container=container)


async def _act(ctx: Context, server_id: str, container: str, operation: str, verb: str,
               **params: Any) -> Envelope[ContainerResult]:
    app = app_of(ctx)
    server = await app.komodo.read("GetServer", server=server_id)
    await _existing(app, server["_id"]["$oid"], server["name"], container)
    started = await start(app, "Server", server["_id"]["$oid"], operation, known=server, container=container,
                          **params)
    return ok(_container_result(app, started, f"{verb} container {container} on {started.name}",
                                container=container))


@execute("StartContainer", "Start container", idempotent=True)
async def start_container(ctx: Context, server_id: ServerId, container: ContainerName) -> Envelope[ContainerResult]:
    """Start one stopped container on a server (docker start). Returns a job_id at once."""
    return await _act(ctx, server_id, container, "StartContainer", "Starting")


@execute("RestartContainer", "Restart container")
async def restart_container(ctx: Context, server_id: ServerId,
                            container: ContainerName) -> Envelope[ContainerResult]:
    """Restart one container on a server (docker restart). Returns a job_id at once."""
    return await _act(ctx, server_id, container, "RestartContainer", "Restarting")


@execute("StopContainer", "Stop container", destructive=True, idempotent=True)
async def stop_container(ctx: Context, server_id: ServerId, container: ContainerName,
                         signal: ContainerStopSignal | None = None,
                         time: StopTime | None = None) -> Envelope[ContainerResult]:
    """Stop one container on a server (docker stop): what it serves goes down until started again. For a
    Komodo deployment or stack prefer komodo_execute_StopDeployment / StopStack."""
    return await _act(ctx, server_id, container, "StopContainer", "Stopping", **given(signal=signal, time=time))


@execute("PauseContainer", "Pause container", destructive=True, idempotent=True)
async def pause_container(ctx: Context, server_id: ServerId, container: ContainerName) -> Envelope[ContainerResult]:
    """Pause one container on a server (docker pause): its processes freeze and it stops answering until
    unpaused. Returns a job_id at once."""
    return await _act(ctx, server_id, container, "PauseContainer", "Pausing")


@execute("UnpauseContainer", "Unpause container", idempotent=True)
async def unpause_container(ctx: Context, server_id: ServerId,
                            container: ContainerName) -> Envelope[ContainerResult]:
    """Resume a paused container on a server (docker unpause). Returns a job_id at once."""
    return await _act(ctx, server_id, container, "UnpauseContainer", "Unpausing")

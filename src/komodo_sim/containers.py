"""Single-container actions on a server, pause/unpause of deployments and stacks, and InspectContainer, as Core 2.3
runs them (bin/core/src/api/execute/server.rs, deployment.rs, stack.rs, api/read/docker.rs; the commands are
Periphery's, bin/periphery/src/api/container/mod.rs and compose.rs).

Container actions target the Server: its Update names the server, and Core counts them in the server's action state
(`starting_containers += 1`) without a busy check, so several run side by side. A container the server does not run
fails inside the job with Docker's message, as Periphery reports it.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from .errors import CoreError
from .executions import EXECUTIONS, Effect, Execution, _set, _stack_services
from .handlers import EXECUTE, READ, _container_state, _containers, register, required, target_key
from .state import Resource, Store, User
from .views import list_item

if TYPE_CHECKING:
    from .app import Simulator

# Docker container state → the stack state Komodo shows when every service is in it.
STACK_STATE = {"running": "running", "exited": "stopped", "paused": "paused"}


def container_owner(store: Store, server: Resource, name: str) -> tuple[Resource, dict[str, Any] | None] | None:
    """The deployment (service None) or the stack and its service whose container on `server` is called `name`."""
    on_server = [r for kind in ("Deployment", "Stack") for r in store.resources[kind].values()
                 if r.config.get("server_id") == server.id]
    for resource in on_server:
        if resource.kind == "Deployment":
            if resource.name == name and _container_state(resource.runtime.get("state")):
                return resource, None
            continue
        for service in resource.runtime.get("services") or []:
            if f"{resource.name}-{service['service']}-1" == name and _container_state(service["state"]):
                return resource, service
    return None


def _container_becomes(state: str, status: str) -> Effect:
    def effect(store: Store, server: Resource, params: dict[str, Any]) -> None:
        owner, service = container_owner(store, server, params["container"]) or (None, None)
        if owner is None:
            return
        if service is None:
            owner.runtime.update(state=state, status=status)
        else:
            _stack_services(state, STACK_STATE[state])(store, owner, {"services": [service["service"]]})
    return effect


def _no_such_container(store: Store, server: Resource, params: dict[str, Any]) -> str | None:
    if container_owner(store, server, params["container"]):
        return None
    return f"Error response from daemon: No such container: {params['container']}"


_CONTAINER_ACTIONS = (
    ("StartContainer", "starting_containers", "Docker Start", "docker start -- {container}", "running",
     "Up 1 second"),
    ("RestartContainer", "restarting_containers", "Docker Restart", "docker restart -- {container}", "running",
     "Up 1 second"),
    ("PauseContainer", "pausing_containers", "Docker Pause", "docker pause -- {container}", "paused",
     "Up 1 second (Paused)"),
    ("UnpauseContainer", "unpausing_containers", "Docker Unpause", "docker unpause -- {container}", "running",
     "Up 1 second"),
    ("StopContainer", "stopping_containers", "Docker Stop", "docker stop --time {time} -- {container}", "exited",
     "Exited (0) 1 second ago"),
)
_COMPOSE = "docker compose -p {name}"

EXECUTIONS.update({e.operation: e for e in (
    *(Execution(operation, "Server", "server", flag, ((stage, command),), _container_becomes(state, status),
                counter=True, refusal=_no_such_container)
      for operation, flag, stage, command, state, status in _CONTAINER_ACTIONS),
    Execution("PauseDeployment", "Deployment", "deployment", "pausing", (("Docker Pause", "docker pause -- {name}"),),
              _set(state="paused", status="Up 1 second (Paused)")),
    Execution("UnpauseDeployment", "Deployment", "deployment", "unpausing",
              (("Docker Unpause", "docker unpause -- {name}"),), _set(state="running", status="Up 1 second")),
    Execution("PauseStack", "Stack", "stack", "pausing", (("Compose Command", _COMPOSE + " pause"),),
              _stack_services("paused", "paused")),
    Execution("UnpauseStack", "Stack", "stack", "unpausing", (("Compose Command", _COMPOSE + " unpause"),),
              _stack_services("running", "running")),
)})


def _execute(operation: str, *fields: str) -> None:
    def handler(sim: Simulator, user: User, params: dict[str, Any]) -> dict[str, Any]:
        for name in fields:
            required(params, name)  # Core's serde: a missing field is a 400 before any Update exists
        return sim.executor.start(user, operation, params)
    EXECUTE[operation] = handler


for _operation, *_ in _CONTAINER_ACTIONS:
    _execute(_operation, "server", "container")
for _operation, _param in (("PauseDeployment", "deployment"), ("UnpauseDeployment", "deployment"),
                           ("PauseStack", "stack"), ("UnpauseStack", "stack")):
    _execute(_operation, _param)


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@register(READ)
def InspectContainer(sim: Simulator, user: User, params: dict[str, Any]) -> dict[str, Any]:
    """Docker's inspect document, as Periphery forwards it (PascalCase, bollard's ContainerInspectResponse)."""
    server = sim.store.checked(user, "Server", target_key("Server", params))
    state = list_item(sim.store, server)["info"]["state"]
    if state != "Ok":
        raise CoreError(500, f"Cannot inspect container: server is {state}")
    name = required(params, "container")
    container = next((c for c in _containers(sim, server) if c["name"] == name), None)
    owner = container_owner(sim.store, server, name)
    if container is None or owner is None:
        raise CoreError(500, f"Docker responded with status code 404: No such container: {name}")
    resource, _ = owner
    started = _iso(resource.runtime.get("deployed_at") or int(resource.id[:8], 16) * 1000)
    environment = resource.config.get("environment", "") if resource.kind == "Deployment" else ""
    docker_state = container["state"]
    return {  # ids stretched from Komodo's to Docker's lengths (64 hex digits)
        "Id": (container["id"] * 6)[:64], "Created": _iso(int(resource.id[:8], 16) * 1000), "Path": "",
        "Args": [], "Image": f"sha256:{resource.id * 3}"[:71], "Name": f"/{name}", "RestartCount": 0,
        "State": {"Status": docker_state, "Running": docker_state in ("running", "paused", "restarting"),
                  "Paused": docker_state == "paused", "Restarting": docker_state == "restarting",
                  "OOMKilled": False, "Dead": docker_state == "dead",
                  "Pid": 4242 if docker_state in ("running", "paused") else 0,
                  "ExitCode": 0, "Error": "", "StartedAt": started, "FinishedAt": "0001-01-01T00:00:00Z"},
        "Config": {"Hostname": container["id"][:12], "Image": container["image"], "Labels": container.get("labels", {}),
                   "Env": [line for line in environment.splitlines() if "=" in line], "Cmd": []},
        "HostConfig": {"RestartPolicy": {"Name": resource.config.get("restart", "no")},
                       "NetworkMode": resource.config.get("network", "bridge")},
        "Mounts": [], "NetworkSettings": {"Networks": {network: {} for network in container["networks"]},
                                          "Ports": {f"{p['PrivatePort']}/{p['Type']}": [
                                              {"HostIp": p["IP"], "HostPort": str(p["PublicPort"])}]
                                              for p in container["ports"] if p["PublicPort"]}},
    }

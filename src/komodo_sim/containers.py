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


def _unset(nulls: str, lists: str = "", maps: str = "") -> dict[str, Any]:
    """Every field of one of Core's Docker structs left unset, as its serde writes them all: an absent Option as
    null, an empty Vec as [], an empty map as {}."""
    return {**dict.fromkeys(nulls.split()), **{key: [] for key in lists.split()}, **{key: {} for key in maps.split()}}


# The fields of Core's inspect document (`Container` and what it holds: entities/docker/container.rs, mod.rs).
_CONTAINER = ("Id Created Path State Image ResolvConfPath HostnamePath HostsPath LogPath Name RestartCount Driver "
              "Platform MountLabel ProcessLabel AppArmorProfile HostConfig GraphDriver SizeRw SizeRootFs Config "
              "NetworkSettings", "Args ExecIDs Mounts")
_STATE = ("Status Running Paused Restarting OOMKilled Dead Pid ExitCode Error StartedAt FinishedAt Health",)
_HOST_CONFIG = (
    "CpuShares Memory CgroupParent BlkioWeight CpuPeriod CpuQuota CpuRealtimePeriod CpuRealtimeRuntime CpusetCpus "
    "CpusetMems MemoryReservation MemorySwap MemorySwappiness NanoCpus OomKillDisable Init PidsLimit CpuCount "
    "CpuPercent IOMaximumIOps IOMaximumBandwidth ContainerIDFile LogConfig NetworkMode RestartPolicy AutoRemove "
    "VolumeDriver CgroupnsMode IpcMode Cgroup OomScoreAdj PidMode Privileged PublishAllPorts ReadonlyRootfs "
    "UTSMode UsernsMode ShmSize Runtime",
    "BlkioWeightDevice BlkioDeviceReadBps BlkioDeviceWriteBps BlkioDeviceReadIOps BlkioDeviceWriteIOps Devices "
    "DeviceCgroupRules DeviceRequests Ulimits Binds VolumesFrom Mounts ConsoleSize CapAdd CapDrop Dns DnsOptions "
    "DnsSearch ExtraHosts GroupAdd Links SecurityOpt MaskedPaths ReadonlyPaths",
    "PortBindings Annotations StorageOpt Tmpfs Sysctls")
_CONFIG = ("Hostname Domainname User AttachStdin AttachStdout AttachStderr Tty OpenStdin StdinOnce Healthcheck "
           "ArgsEscaped Image WorkingDir NetworkDisabled StopSignal StopTimeout",
           "ExposedPorts Env Cmd Volumes Entrypoint OnBuild Shell", "Labels")
_NETWORK_SETTINGS = ("SandboxID SandboxKey", "", "Ports Networks")
_ENDPOINT = ("IPAMConfig MacAddress NetworkID EndpointID Gateway IPAddress IPPrefixLen IPv6Gateway "
             "GlobalIPv6Address GlobalIPv6PrefixLen", "Links Aliases DNSNames", "DriverOpts")


def _labels(resource: Resource, service: dict[str, Any] | None) -> dict[str, str]:
    """Docker's labels on the container, which Core's container list never carries: a deployment's from its
    config (Periphery's `docker run --label`), a stack service's the ones compose sets."""
    if service is None:
        lines = resource.config.get("labels", "").splitlines()
        return dict(line.strip().split("=", 1) for line in lines if "=" in line)
    return {"com.docker.compose.project": resource.config.get("project_name") or resource.name,
            "com.docker.compose.service": service["service"]}


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
    resource, service = owner
    started = _iso(resource.runtime.get("deployed_at") or int(resource.id[:8], 16) * 1000)
    environment = resource.config.get("environment", "") if resource.kind == "Deployment" else ""
    docker_state = container["state"]
    ports = {f"{p['PrivatePort']}/{p['Type']}": [{"HostIp": p["IP"], "HostPort": str(p["PublicPort"])}]
             for p in container.get("ports", []) if p["PublicPort"]}
    return {**_unset(*_CONTAINER),  # ids stretched from Komodo's to Docker's lengths (64 hex digits)
            "Id": (container["id"] * 6)[:64], "Created": _iso(int(resource.id[:8], 16) * 1000), "Path": "",
            "Image": f"sha256:{resource.id * 3}"[:71], "Name": f"/{name}", "RestartCount": 0,
            "State": {**_unset(*_STATE), "Status": docker_state,
                      "Running": docker_state in ("running", "paused", "restarting"),
                      "Paused": docker_state == "paused", "Restarting": docker_state == "restarting",
                      "OOMKilled": False, "Dead": docker_state == "dead",
                      "Pid": 4242 if docker_state in ("running", "paused") else 0,
                      "ExitCode": 0, "Error": "", "StartedAt": started, "FinishedAt": "0001-01-01T00:00:00Z"},
            "Config": {**_unset(*_CONFIG), "Hostname": container["id"][:12], "Image": container["image"],
                       "Labels": _labels(resource, service), "ExposedPorts": sorted(ports),
                       "Env": [line for line in environment.splitlines() if "=" in line]},
            "HostConfig": {**_unset(*_HOST_CONFIG), "Isolation": "", "PortBindings": ports,
                           "RestartPolicy": {"Name": resource.config.get("restart", "no"), "MaximumRetryCount": 0},
                           "NetworkMode": resource.config.get("network", "bridge")},
            "NetworkSettings": {**_unset(*_NETWORK_SETTINGS), "Ports": ports,
                                "Networks": {network: _unset(*_ENDPOINT) for network in container["networks"]}}}

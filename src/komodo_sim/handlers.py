"""Core's read, write and execute requests, one small function each, registered by name.

A handler takes (sim, user, params) and returns the bare response body, or raises CoreError.
"""

from __future__ import annotations

import copy
import hashlib
import re
import string
from collections import Counter
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Callable

from .errors import BadParams, CoreError, admin_only, busy, forbidden, variable_not_found
from .executions import CANCELS, EXECUTIONS, Cancel, is_busy
from .mongo import matches
from .seed import default_config, default_info
from .state import KINDS, SPECIFIC_PERMISSIONS, SYSTEM_OPERATORS, Resource, User, is_object_id, new_id, now_ms
from .views import _name_of, docker_status, list_item, server_reachable, minimal_stats, page_of, query_items, summary

if TYPE_CHECKING:
    from .app import Simulator

Handler = Callable[["Simulator", User, dict[str, Any]], Any]
READ: dict[str, Handler] = {}
WRITE: dict[str, Handler] = {}
EXECUTE: dict[str, Handler] = {}

# The parameter naming each kind's target in read and execute requests.
PARAM = {"Server": "server", "Deployment": "deployment", "Stack": "stack", "Build": "build", "Repo": "repo",
         "Procedure": "procedure", "Action": "action", "ResourceSync": "sync", "Builder": "builder",
         "Alerter": "alerter"}
ACTION_STATES = {
    "Server": {**{f"pruning_{k}": False for k in ("networks", "containers", "images", "volumes", "builders", "buildx",
                                                 "system")},
               **{f"{k}_containers": 0 for k in ("starting", "restarting", "pausing", "unpausing", "stopping",
                                                 "destroying")}},
    "Deployment": dict.fromkeys(("pulling", "deploying", "updating", "starting", "restarting", "pausing", "unpausing",
                                 "stopping", "destroying", "renaming"), False),
    "Stack": dict.fromkeys(("pulling", "deploying", "starting", "restarting", "pausing", "unpausing", "stopping",
                            "destroying"), False),
    "Build": {"building": False},
    "Repo": dict.fromkeys(("cloning", "pulling", "building", "renaming"), False),
    "Procedure": {"running": False},
    "Action": {"running": 0},
    "ResourceSync": {"syncing": False},
}


def register(table: dict[str, Handler], name: str | None = None) -> Callable[[Handler], Handler]:
    def decorate(fn: Handler) -> Handler:
        table[name or fn.__name__] = fn
        return fn
    return decorate


def required(params: dict[str, Any], key: str, *aliases: str) -> Any:
    for name in (key, *aliases):
        if name in params:
            return params[name]
    raise BadParams(f"missing field `{key}`")


def target_key(kind: str, params: dict[str, Any]) -> str:
    """Read params name the target by its kind (`deployment`) or by the aliases `id` / `name`."""
    value = required(params, PARAM[kind], "id", "name")
    if not isinstance(value, str):
        raise BadParams(f"invalid type: expected a string for `{PARAM[kind]}`")
    return value


# -- generic resource reads ------------------------------------------------------------------------------------------

def _register_resource_reads(kind: str) -> None:
    plural = f"{kind}s"

    def list_items(sim: Simulator, user: User, params: dict[str, Any]) -> list[dict[str, Any]]:
        return query_items(sim.store, user, kind, params)

    def list_full(sim: Simulator, user: User, params: dict[str, Any]) -> list[dict[str, Any]]:
        ids = [item["id"] for item in query_items(sim.store, user, kind, params)]
        return [sim.store.resources[kind][i].full() for i in ids]

    def get(sim: Simulator, user: User, params: dict[str, Any]) -> dict[str, Any]:
        return sim.store.checked(user, kind, target_key(kind, params)).full()

    def action_state(sim: Simulator, user: User, params: dict[str, Any]) -> dict[str, Any]:
        resource = sim.store.checked(user, kind, target_key(kind, params))
        return {**ACTION_STATES[kind], **resource.action}

    def get_summary(sim: Simulator, user: User, params: dict[str, Any]) -> dict[str, int]:
        return summary(sim.store, user, kind)

    READ[f"List{plural}"] = list_items
    READ[f"ListFull{plural}"] = list_full
    READ[f"Get{kind}"] = get
    READ[f"Get{plural}Summary"] = get_summary
    if kind in ACTION_STATES:
        READ[f"Get{kind}ActionState"] = action_state


for _kind in KINDS:
    _register_resource_reads(_kind)


@register(READ)
def GetVersion(sim: Simulator, user: User, params: dict[str, Any]) -> dict[str, Any]:
    return {"version": sim.store.version}


@register(READ)
def GetPermission(sim: Simulator, user: User, params: dict[str, Any]) -> dict[str, Any] | str:
    """The caller's effective permission on a target (admins: Write with every specific). Core serialises it as
    the bare level when there are no specifics (`deserializers/permission.rs`), specifics in their enum order."""
    target = required(params, "target")
    if not isinstance(target, dict) or target.get("type") not in KINDS:
        raise BadParams("invalid type: expected internally tagged enum ResourceTarget")
    resource = sim.store.resolve(target["type"], target.get("id", ""))
    level, specifics = sim.store.level(user, resource), sim.store.specifics(user, resource)
    if not specifics:
        return level
    return {"level": level, "specific": [s for s in SPECIFIC_PERMISSIONS if s in specifics]}


@register(READ)
def GetUsername(sim: Simulator, user: User, params: dict[str, Any]) -> dict[str, Any]:
    user_id = required(params, "user_id")
    found = sim.store.users.get(user_id)
    if found is None and user_id not in SYSTEM_OPERATORS:
        raise CoreError(500, f"Failed to find user with id {user_id}")
    return {"username": found.username if found else SYSTEM_OPERATORS[user_id], "avatar": None}


@register(READ)
def GetCoreInfo(sim: Simulator, user: User, params: dict[str, Any]) -> dict[str, Any]:
    return {"title": "Komodo (simulator)", "monitoring_interval": "15-sec", "webhook_base_url": sim.public_url,
            "transparent_mode": False, "ui_write_disabled": False, "disable_non_admin_create": False,
            "disable_confirm_dialog": False, "disable_websocket_reconnect": False, "enable_fancy_toml": False,
            "timezone": "Etc/UTC", "public_key": "MCowBQYDK2VuAyEAsimulatorpublickeyxxxxxxxxxxxxxxxxxxxxxxxxxx",
            "default_pagination_limit": sim.store.pagination_limit}


# -- servers ---------------------------------------------------------------------------------------------------------

def _server(sim: Simulator, user: User, params: dict[str, Any], specific: str | None = None) -> Resource:
    return sim.store.checked(user, "Server", target_key("Server", params), "Read", specific=specific)


def _cached(server: Resource, what: str) -> None:
    """`api/read/server.rs`: system info and stats come from Core's status cache, empty unless the server is Ok."""
    if not server.config.get("enabled", True) or server.runtime.get("state") != "Ok":
        raise CoreError(500, f"Server status missing system {what}. The Server may be disconnected.")


def _periphery(server: Resource, failure: str) -> None:
    """A call through to Periphery (`helpers/mod.rs`, periphery_client): a disabled server is refused before any
    call; an unreachable one fails the call, with `failure` as Core's context and the connection error as trace."""
    if not server.config.get("enabled", True):
        raise CoreError(500, "server not enabled")
    if server.runtime.get("state") != "Ok":
        address = server.config.get("address", "").replace("https://", "wss://").replace("http://", "ws://")
        raise CoreError(500, failure, [f"Failed to connect to websocket | url: {address}/",
                                       "IO error: Connection refused (os error 111)",
                                       "Connection refused (os error 111)"])


def _target_reachable(store: Any, resource: Resource) -> None:
    """`helpers/query.rs`, get_swarm_or_server: a command needs the resource's server to be Ok; with none attached,
    `verify_has_target` (`entities/mod.rs`) refuses with 400."""
    if not resource.config.get("server_id") and not resource.config.get("swarm_id"):
        raise CoreError(400, "Must attach either swarm or server")
    if not server_reachable(store, resource.config.get("server_id", "")):
        raise CoreError(500, "Cannot send command when Server is unreachable or disabled")


@register(READ)
def GetServerState(sim: Simulator, user: User, params: dict[str, Any]) -> dict[str, Any]:
    server = sim.store.checked(user, "Server", target_key("Server", params))
    return {"status": list_item(sim.store, server)["info"]["state"]}


@register(READ)
def GetSystemStats(sim: Simulator, user: User, params: dict[str, Any]) -> dict[str, Any]:
    server = _server(sim, user, params)
    _cached(server, "stats")
    stats = minimal_stats(server.runtime)
    for key in ("disk_total_gb", "disk_used_gb"):
        del stats[key]
    return {**stats, "disks": server.runtime["stats"]["disks"]}


@register(READ)
def GetSystemInformation(sim: Simulator, user: User, params: dict[str, Any]) -> dict[str, Any]:
    server = _server(sim, user, params)
    _cached(server, "Info")
    return {**server.runtime["system"], "host_name": server.name}


@register(READ)
def GetHistoricalServerStats(sim: Simulator, user: User, params: dict[str, Any]) -> dict[str, Any]:
    """Read from Core's stats collection: a server that never reported has no records (an empty page, not an
    error)."""
    server = _server(sim, user, params)
    granularity = required(params, "granularity")
    step = _timelength_ms(granularity)
    page = params.get("page") or 0
    stats = server.runtime.get("stats")
    if not stats:
        return {"stats": [], "next_page": None}
    now = now_ms() // step * step  # `api/read/server.rs`: points on the granularity's boundaries
    # `monitor/record.rs`: a record copies the realtime stats (disk totals summed over the disks), minus what
    # only the realtime answer has.
    realtime = minimal_stats(server.runtime)
    recorded = {key: realtime[key] for key in (
        "load_average", "mem_used_gb", "mem_total_gb", "mem_buff_cache_gb", "mem_zfs_arc_gb", "swap_total_gb",
        "swap_used_gb", "disk_used_gb", "disk_total_gb", "network_ingress_bytes", "network_egress_bytes")}
    records = []
    for i in range(page * 200, page * 200 + 200):
        wobble = ((i * 37) % 21 - 10) / 2
        records.append({"ts": now - i * step, "sid": server.id, "cpu_perc": max(0.0, stats["cpu_perc"] + wobble),
                        **recorded, "disks": stats["disks"]})
    return {"stats": records, "next_page": page + 1 if page < 4 else None}


_TIMELENGTH = re.compile(r"^(\d+)-(sec|min|hr|day|wk)$")


def _timelength_ms(text: Any) -> int:
    match = _TIMELENGTH.match(text) if isinstance(text, str) else None
    if not match:
        raise BadParams(f"unknown variant `{text}`, expected a Timelength such as `5-min`")
    unit = {"sec": 1_000, "min": 60_000, "hr": 3_600_000, "day": 86_400_000, "wk": 604_800_000}[match[2]]
    return int(match[1]) * unit


def docker_ports(mappings: list[str]) -> list[dict[str, Any]]:
    """`host:container` lines as Docker's port objects."""
    ports = []
    for mapping in mappings:
        host, _, container = mapping.partition(":")
        number = int((container or host).split("/")[0])
        ports.append({"IP": "0.0.0.0", "PrivatePort": number, "PublicPort": int(host) if container else None,
                      "Type": "tcp"})
    return ports


def _container_stats(name: str, running: bool) -> dict[str, str]:
    """`docker stats --no-stream` of one container, as Periphery parses it: zeros when it is not running."""
    if not running:
        return {"name": name, "cpu_perc": "0.00%", "mem_perc": "0.00%", "mem_usage": "0B / 0B", "net_io": "0B / 0B",
                "block_io": "0B / 0B", "pids": "0"}
    seed = sum(map(ord, name))
    return {"name": name, "cpu_perc": f"{(seed % 60) + 5}.{seed % 10}%", "mem_perc": f"{(seed % 50) + 10}.{seed % 7}%",
            "mem_usage": f"{256 + seed % 512}MiB / 1GiB", "net_io": f"{seed % 900}kB / {seed % 700}kB",
            "block_io": "12.3MB / 4.1MB", "pids": str(seed % 40 + 3)}


def _container(server: Resource, name: str, image: str, state: str, status: str | None, ports: list[str],
               network: str) -> dict[str, Any]:
    """Docker's container list entry as Periphery passes it on (`entities/docker/container.rs`, ContainerListItem):
    empty lists and absent options are left out, `labels` is never serialised, `stats` only for running ones."""
    container = {"server_id": server.id, "server_name": server.name, "name": name,
                 "id": hashlib.sha256(f"{server.id}/{name}".encode()).hexdigest(), "image": image,
                 "image_id": "sha256:" + hashlib.sha256(image.encode()).hexdigest(),
                 "created": server.updated_at // 1000, "state": state, "status": status, "network_mode": network,
                 "networks": [network]}
    if ports and network != "host":
        container["ports"] = docker_ports(ports)
    if state == "running":
        container["stats"] = _container_stats(name, True)
    return container


def _containers_of(sim: Simulator, server: Resource, resource: Resource) -> list[dict[str, Any]]:
    """The containers one deployment or stack runs on `server`: a deployment's is named after it, a stack's are
    compose's `<project>-<service>-1`."""
    if resource.kind == "Deployment":
        state = _container_state(resource.runtime.get("state"))
        if state is None:
            return []
        name = resource.config.get("custom_name") or resource.name
        image = list_item(sim.store, resource)["info"]["image"]
        ports = [line for line in resource.config.get("ports", "").splitlines() if line.strip()]
        return [_container(server, name, image, state, resource.runtime.get("status"), ports,
                           resource.config.get("network") or "bridge")]
    project = resource.config.get("project_name") or resource.name
    return [_container(server, f"{project}-{s['service']}-1", s["image"], state, docker_status(state),
                       s.get("ports", []), f"{project}_default")
            for s in resource.runtime.get("services") or [] if (state := _container_state(s["state"]))]


def _containers(sim: Simulator, server: Resource) -> list[dict[str, Any]]:
    containers = [container for kind in ("Deployment", "Stack") for resource in sim.store.resources[kind].values()
                  if resource.config.get("server_id") == server.id
                  for container in _containers_of(sim, server, resource)]
    return sorted(containers, key=lambda c: c["name"])


def _container_state(state: str | None) -> str | None:
    if state in (None, "not_deployed", "down", "unknown"):
        return None
    return {"unhealthy": "running", "stopped": "exited", "deploying": "created"}.get(state, state)


@register(READ)
def ListContainers(sim: Simulator, user: User, params: dict[str, Any]) -> list[dict[str, Any]]:
    """`api/read/docker.rs`: the containers in Core's status cache, which is empty unless the server is Ok."""
    server = _server(sim, user, params)
    if not server.config.get("enabled", True) or server.runtime.get("state") != "Ok":
        return []
    return _containers(sim, server)


def _log(stage: str, stdout_lines: list[str], command: str, stderr_lines: list[str] | None = None) -> dict[str, Any]:
    """Periphery's Log of a command: its output with the trailing newline a shell command leaves."""
    now = now_ms()
    return {"stage": stage, "command": command, "stdout": "".join(f"{line}\n" for line in stdout_lines),
            "stderr": "".join(f"{line}\n" for line in stderr_lines or []), "success": True, "start_ts": now, "end_ts": now}


def _on_stderr(line: str) -> bool:
    """The demo's programs write their errors to stderr and everything else to stdout."""
    return " ERROR " in line


def _streams_log(stage: str, lines: list[str], command: str) -> dict[str, Any]:
    """`docker logs` (and `docker compose logs`) run without `2>&1`: Periphery captures the container's stdout and
    stderr apart, each in its own field of the Log."""
    return _log(stage, [line for line in lines if not _on_stderr(line)], command,
                [line for line in lines if _on_stderr(line)])


def _stamped(line: str, params: dict[str, Any]) -> str:
    """`--timestamps` prefixes the time Docker received the line, RFC 3339 with nanoseconds in UTC. The demo's
    programs stamp each line with the epoch second they wrote it; a line without one reads as written now."""
    if not params.get("timestamps"):
        return line
    written = re.match(r"\[(\d+)\]", line)
    seconds = int(written[1]) if written else now_ms() // 1000
    return f"{datetime.fromtimestamp(seconds, UTC):%Y-%m-%dT%H:%M:%S}.000000000Z {line}"


def _tail(params: dict[str, Any]) -> int:
    tail = params.get("tail", 50)
    if not isinstance(tail, int) or tail < 0:
        raise BadParams("invalid value: expected u64 for `tail`")
    return min(tail, 5000)


def _timestamps(params: dict[str, Any]) -> str:
    return " --timestamps" if params.get("timestamps") else ""


def _container_log(lines: list[str] | None, params: dict[str, Any], name: str) -> dict[str, Any]:
    """Periphery's GetContainerLog (`api/container/mod.rs`); with no such container (`lines` None), docker's own
    failure in a failed Log, which Core passes on as is (status 200)."""
    tail = _tail(params)
    log = _streams_log("Get container log", [_stamped(line, params) for line in (lines or [])[-tail:]] if tail else [],
                       f"docker logs --tail {tail}{_timestamps(params)} -- {name}")
    if lines is None:
        log.update(success=False, stderr=f"Error response from daemon: No such container: {name}\n")
    return log


def _grep(params: dict[str, Any]) -> str:
    """Periphery's `format_log_grep` (`helpers.rs`)."""
    terms = required(params, "terms")
    invert = " -v" if params.get("invert") else ""
    if params.get("combinator", "Or") == "And":
        return f"grep{invert} -P '^(?=.*{')(?=.*'.join(terms)})'"
    return f"grep{invert} -E '{'|'.join(terms)}'"


def _search(lines: list[str], params: dict[str, Any]) -> list[str]:
    terms = [t.lower() for t in required(params, "terms")]
    combine = all if params.get("combinator", "Or") == "And" else any
    invert = bool(params.get("invert"))
    return [line for line in lines if combine(t in line.lower() for t in terms) != invert]


@register(READ)
def GetContainerLog(sim: Simulator, user: User, params: dict[str, Any]) -> dict[str, Any]:
    server = _server(sim, user, params, specific="Logs")
    name = required(params, "container")
    _periphery(server, "failed at call to periphery")
    container = next((c for c in _containers(sim, server) if c["name"] == name), None)
    if container is None:
        return _container_log(None, params, name)
    owner = next((r for kind in ("Deployment", "Stack") for r in sim.store.resources[kind].values()
                  if container in _containers_of(sim, server, r)), None)
    return _container_log(owner.runtime.get("log", []) if owner else [], params, name)


@register(READ)
def SearchContainerLog(sim: Simulator, user: User, params: dict[str, Any]) -> dict[str, Any]:
    """`api/read/docker.rs` → Periphery's GetContainerLogSearch (`api/container/mod.rs`)."""
    server = _server(sim, user, params, specific="Logs")
    name = required(params, "container")
    _periphery(server, "failed at call to periphery")
    owner = next((r for kind in ("Deployment", "Stack") for r in sim.store.resources[kind].values()
                  if any(c["name"] == name for c in _containers_of(sim, server, r))), None)
    lines = [_stamped(line, params) for line in (owner.runtime.get("log", []) if owner else [])]
    return _log("Get container log grep", _search(lines, params),
                f"docker logs {name} --tail 5000{_timestamps(params)} 2>&1 | {_grep(params)}")


def _logs_of(sim: Simulator, user: User, kind: str, params: dict[str, Any]) -> Resource:
    resource = sim.store.checked(user, kind, target_key(kind, params), "Read", specific="Logs")
    _target_reachable(sim.store, resource)
    return resource


@register(READ)
def GetDeploymentLog(sim: Simulator, user: User, params: dict[str, Any]) -> dict[str, Any]:
    deployment = _logs_of(sim, user, "Deployment", params)
    has_container = _container_state(deployment.runtime.get("state")) is not None
    return _container_log(deployment.runtime.get("log", []) if has_container else None, params,
                          deployment.config.get("custom_name") or deployment.name)


@register(READ)
def SearchDeploymentLog(sim: Simulator, user: User, params: dict[str, Any]) -> dict[str, Any]:
    deployment = _logs_of(sim, user, "Deployment", params)
    name = deployment.config.get("custom_name") or deployment.name
    lines = [_stamped(line, params) for line in deployment.runtime.get("log", [])]
    return _log("Get container log grep", _search(lines, params),
                f"docker logs {name} --tail 5000{_timestamps(params)} 2>&1 | {_grep(params)}")


@register(READ)
def GetDeploymentContainer(sim: Simulator, user: User, params: dict[str, Any]) -> dict[str, Any]:
    """`api/read/deployment.rs`: the cached state and container; `container` is null when there is none."""
    deployment = sim.store.checked(user, "Deployment", target_key("Deployment", params))
    state = list_item(sim.store, deployment)["info"]["state"]
    server = sim.store.resources["Server"].get(deployment.config.get("server_id", ""))
    container = None
    if state != "unknown" and server is not None:
        container = next(iter(_containers_of(sim, server, deployment)), None)
    return {"state": state, "container": container}


@register(READ)
def GetDeploymentStats(sim: Simulator, user: User, params: dict[str, Any]) -> dict[str, Any]:
    deployment = sim.store.checked(user, "Deployment", target_key("Deployment", params))
    if not deployment.config.get("server_id"):
        raise CoreError(500, "Deployment has no Server attached")
    server = sim.store.resolve("Server", deployment.config["server_id"])
    _periphery(server, "failed to get stats from periphery")
    name = deployment.config.get("custom_name") or deployment.name
    state = _container_state(deployment.runtime.get("state"))
    if state is None:
        raise CoreError(500, "failed to get stats from periphery",
                        ["No stats found for container", f"Error response from daemon: No such container: {name}"])
    return _container_stats(name, state == "running")


@register(READ)
def ListStackServices(sim: Simulator, user: User, params: dict[str, Any]) -> list[dict[str, Any]]:
    """`api/read/stack.rs`: the services in Core's status cache (none while the server is not Ok), built by
    `monitor/resources.rs`: sorted by name, `container` null and state `Unknown` when there is no container,
    StackServiceState capitalised (`Running`), an untagged image read as `:latest`."""
    stack = sim.store.checked(user, "Stack", target_key("Stack", params))
    server = sim.store.resources["Server"].get(stack.config.get("server_id", ""))
    if list_item(sim.store, stack)["info"]["state"] == "unknown" or server is None:
        return []
    containers = {c["name"]: c for c in _containers_of(sim, server, stack)}
    project = stack.config.get("project_name") or stack.name
    services = []
    for s in sorted(stack.runtime.get("services", []), key=lambda s: s["service"]):
        container = containers.get(f"{project}-{s['service']}-1")
        image = s["image"] if ":" in s["image"] else f"{s['image']}:latest"
        services.append({"stack_id": stack.id, "stack_name": stack.name, "service": s["service"], "image": image,
                         "container": container, "swarm_service": None,
                         "state": container["state"].capitalize() if container else "Unknown",
                         "image_digests": [] if container else None})
    return services


def _compose_lines(stack: Resource, params: dict[str, Any], tail: int = 5000) -> list[str]:
    """`docker compose logs --tail N`: the last N lines of each service's container, each prefixed with its name
    padded to the longest one (`web-1     | ...`, `worker-1  | ...`)."""
    services = [s["service"] for s in stack.runtime.get("services", []) if _container_state(s["state"])]
    shown = [service for service in services if service in (params.get("services") or services)]
    if not shown or not tail:
        return []
    width = max(len(service) for service in shown) + 2
    lines = stack.runtime.get("log", [])
    # The simulator deals its log lines round the services; each service keeps its own last `tail` lines.
    owners = [services[i % len(services)] for i in range(len(lines))]
    remaining = Counter(owners)
    kept = []
    for owner, line in zip(owners, lines):
        remaining[owner] -= 1
        if owner in shown and remaining[owner] < tail:
            kept.append(f"{owner + '-1':<{width}}  | {_stamped(line, params)}")
    return kept


@register(READ)
def GetStackLog(sim: Simulator, user: User, params: dict[str, Any]) -> dict[str, Any]:
    stack = _logs_of(sim, user, "Stack", params)
    services = required(params, "services")
    tail = _tail(params)
    project = stack.config.get("project_name") or stack.name
    return _streams_log("Get Stack Log", _compose_lines(stack, params, tail),
                        f"docker compose -p {project} logs --tail {tail}{_timestamps(params)} -- {' '.join(services)}")


@register(READ)
def SearchStackLog(sim: Simulator, user: User, params: dict[str, Any]) -> dict[str, Any]:
    stack = _logs_of(sim, user, "Stack", params)
    project = stack.config.get("project_name") or stack.name
    services = " ".join(params.get("services") or [])
    return _log("Search Stack Log", _search(_compose_lines(stack, params), params),
                f"docker compose -p {project} logs --tail 5000{_timestamps(params)} -- {services} 2>&1 | "
                f"{_grep(params)}")


# -- updates, alerts, tags, variables, schedules -----------------------------------------------------------------------

def _mongo_query(params: dict[str, Any]) -> dict[str, Any]:
    query = params.get("query") or {}
    if not isinstance(query, dict):
        raise BadParams("invalid type: expected a map for `query`")
    return query


@register(READ)
def ListUpdates(sim: Simulator, user: User, params: dict[str, Any]) -> dict[str, Any]:
    query, page = _mongo_query(params), params.get("page") or 0
    store = sim.store
    matched, skip = [], page * 100
    for update in reversed(store.updates):
        if not store.can_see_target(user, update["target"]) or not matches(update, query):
            continue
        if skip:
            skip -= 1
            continue
        matched.append(store.update_list_item(update))
        if len(matched) == 100:
            break
    return {"updates": matched, "next_page": page + 1 if len(matched) == 100 else None}


@register(READ)
def GetUpdate(sim: Simulator, user: User, params: dict[str, Any]) -> dict[str, Any]:
    update = sim.store.update_index.get(required(params, "id"))
    if update is None:
        raise CoreError(500, "no update exists with given id")
    if update["target"]["type"] == "System" and not user.admin:
        raise CoreError(500, "user must be admin to view system updates")
    if not sim.store.can_see_target(user, update["target"]):
        kind = update["target"]["type"]
        raise CoreError(500, f"User does not have required permissions on this {kind}. Must have at least Read permissions")
    return copy.deepcopy(update)


@register(READ)
def ListAlerts(sim: Simulator, user: User, params: dict[str, Any]) -> dict[str, Any]:
    query, page = _mongo_query(params), params.get("page") or 0
    visible = [a for a in reversed(sim.store.alerts)
               if sim.store.can_see_target(user, a["target"]) and matches(a, query)]
    chunk = visible[page * 100:(page + 1) * 100]
    # `api/read/alert.rs`: a full page always offers the next one, even when nothing follows.
    return {"alerts": copy.deepcopy(chunk), "next_page": page + 1 if len(chunk) == 100 else None}


@register(READ)
def GetAlert(sim: Simulator, user: User, params: dict[str, Any]) -> dict[str, Any]:
    alert_id = required(params, "id")
    if not is_object_id(alert_id):  # `api/read/alert.rs` over mungos' find_one_by_id, which parses the id first
        raise CoreError(500, "failed to query db for alert", ["id is not ObjectId"])
    alert = next((a for a in sim.store.alerts if a["_id"]["$oid"] == alert_id), None)
    if alert is None:
        raise CoreError(500, "no alert found with given id")
    target = alert["target"]
    if not sim.store.can_see_target(user, target):  # `permission.rs` check_user_target_access
        if target["type"] == "System":
            raise CoreError(500, "user must be admin to view system updates")
        raise forbidden(target["type"], "Read")
    return copy.deepcopy(alert)


@register(READ)
def ListTags(sim: Simulator, user: User, params: dict[str, Any]) -> list[dict[str, Any]]:
    query = _mongo_query(params)
    return [dict(tag) for tag in sorted(sim.store.tags.values(), key=lambda t: t["name"]) if matches(tag, query)]


@register(READ)
def GetTag(sim: Simulator, user: User, params: dict[str, Any]) -> dict[str, Any]:
    return dict(sim.store.tags[sim.store.tag_id(required(params, "tag"))])


def _variable_view(user: User, variable: dict[str, Any]) -> dict[str, Any]:
    """`api/read/variable.rs`: admins see secret values; `description` is left out when empty
    (`entities/variable.rs`, skip_serializing_if)."""
    shown = {key: value for key, value in variable.items() if key != "description" or value}
    if variable["is_secret"] and not user.admin:
        shown["value"] = "#" * len(variable["value"])
    return shown


@register(READ)
def ListVariables(sim: Simulator, user: User, params: dict[str, Any]) -> list[dict[str, Any]]:
    return [_variable_view(user, v) for _, v in sorted(sim.store.variables.items())]


@register(READ)
def GetVariable(sim: Simulator, user: User, params: dict[str, Any]) -> dict[str, Any]:
    name = required(params, "name")
    if name not in sim.store.variables:
        raise variable_not_found(name)
    return _variable_view(user, sim.store.variables[name])


@register(READ)
def ListSchedules(sim: Simulator, user: User, params: dict[str, Any]) -> list[dict[str, Any]]:
    schedules = []
    for kind in ("Procedure", "Action"):
        for r in sim.store.visible(user, kind):
            if not r.config.get("schedule"):
                continue
            schedules.append({
                "target": r.target(), "name": r.name, "schedule_format": r.config.get("schedule_format", "English"),
                "schedule": r.config["schedule"], "enabled": r.config.get("schedule_enabled", False),
                "schedule_timezone": r.config.get("schedule_timezone", ""), "tags": list(r.tags),
                "last_run_at": r.runtime.get("last_run_at"), "next_scheduled_run": r.runtime.get("next_scheduled_run"),
                "schedule_error": r.runtime.get("schedule_error")})
    schedules.sort(key=lambda s: s["name"])
    return page_of(schedules, params, sim.store.pagination_limit)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return '"""\n' + value + '"""' if "\n" in value else '"' + value.replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"


# Config fields that hold another resource's id, exported by that resource's name under another key.
_TOML_REFERENCES = {"server_id": ("server", "Server"), "builder_id": ("builder", "Builder"),
                    "linked_repo": ("linked_repo", "Repo")}


def _toml_config(sim: Simulator, config: dict[str, Any], prefix: str = "") -> list[str]:
    """Core's export (`api/read/toml.rs`): nested tables as dotted keys, references by name."""
    lines = []
    for key, value in config.items():
        if key in _TOML_REFERENCES and isinstance(value, str):
            key, kind = _TOML_REFERENCES[key]
            value = _name_of(sim.store, kind, value) or value
        elif key == "server_ids":  # a Server builder's servers
            key, value = "servers", [_name_of(sim.store, "Server", v) or v for v in value]
        if isinstance(value, dict) and value:
            lines += _toml_config(sim, value, f"{prefix}{key}.")
        else:
            lines.append(f"{prefix}{key} = {_toml_value(value)}")
    return lines


def _toml_stage(stage: dict[str, Any]) -> str:
    executions = ",\n".join(
        f"  {{ execution.type = {_toml_value(e['execution']['type'])}, "
        + "".join(f"execution.params.{k} = {_toml_value(v)}, " for k, v in e["execution"]["params"].items()
                  if v is not None)  # TOML has no null: an unset option is left out
        + f"enabled = {_toml_value(e['enabled'])} }}" for e in stage.get("executions", []))
    return (f"[[procedure.config.stage]]\nname = {_toml_value(stage['name'])}\nenabled = "
            f"{_toml_value(stage.get('enabled', True))}\nexecutions = [\n{executions}\n]")


def _toml(sim: Simulator, resources: list[Resource], include_variables: bool) -> str:
    """Core's TOML export: one `[[kind]]` block per resource with only the config that differs from the defaults,
    blocks separated by `##` lines; a procedure's stages as `[[procedure.config.stage]]` blocks."""
    blocks = []
    defaults = {kind: default_config(kind) for kind in KINDS}
    for r in resources:
        section = {"ResourceSync": "resource_sync"}.get(r.kind, r.kind.lower())
        tags = [sim.store.tags[t]["name"] for t in r.tags if t in sim.store.tags]
        lines = [f"[[{section}]]", f'name = "{r.name}"']
        if r.description:
            lines.append(f"description = {_toml_value(r.description)}")
        if tags:
            lines.append(f"tags = {_toml_value(tags)}")
        changed = {k: v for k, v in r.config.items() if defaults[r.kind].get(k) != v}
        stages = changed.pop("stages", []) if r.kind == "Procedure" else []
        if r.kind == "Procedure":
            lines += _toml_config(sim, changed, "config.")
            lines += [f"\n{_toml_stage(stage)}" for stage in stages]
        elif changed:
            lines.append(f"[{section}.config]")
            lines += _toml_config(sim, changed)
        blocks.append("\n".join(lines))
    if include_variables:
        for v in sim.store.variables.values():
            blocks.append(f'[[variable]]\nname = "{v["name"]}"\nvalue = {_toml_value(v["value"])}'
                          + ("\nis_secret = true" if v["is_secret"] else ""))
    return "\n\n##\n\n".join(blocks) + "\n"


@register(READ)
def ExportResourcesToToml(sim: Simulator, user: User, params: dict[str, Any]) -> dict[str, str]:
    resources = [sim.store.checked(user, t["type"], t["id"]) for t in params.get("targets") or []]
    return {"toml": _toml(sim, resources, bool(params.get("include_variables")) and user.admin)}


def _exportable(resource: Resource) -> bool:
    """`api/read/toml.rs`: a sync is exported only when its resources live in a repo or on the host, not in
    Komodo itself (its own `file_contents`)."""
    config = resource.config
    return resource.kind != "ResourceSync" or (not config.get("file_contents") and bool(
        config.get("files_on_host") or config.get("repo") or config.get("linked_repo")))


@register(READ)
def ExportAllResourcesToToml(sim: Simulator, user: User, params: dict[str, Any]) -> dict[str, str]:
    resources = [r for kind in KINDS for r in sorted(sim.store.visible(user, kind), key=lambda r: r.name)
                 if params.get("include_resources", True) and _exportable(r)]
    return {"toml": _toml(sim, resources, bool(params.get("include_variables")) and user.admin)}


# -- writes ----------------------------------------------------------------------------------------------------------

ADMIN_ONLY_CREATE = {"Action", "Alerter", "Builder", "ResourceSync", "Server", "Build"}


def normalise_name(kind: str, name: str) -> str:
    name = name.strip()
    if kind in ("Build", "Stack"):
        return re.sub(r"[^a-z0-9_-]", "_", name.lower())
    if kind == "Deployment":
        return re.sub(r"[^a-zA-Z0-9_.-]", "_", name)
    if kind == "Repo":
        return name.replace(" ", "_")
    return name


def _write_update(sim: Simulator, user: User, operation: str, target: dict[str, str], logs: list[str],
                  success: bool = True) -> dict[str, Any]:
    now = now_ms()
    update = {"_id": {"$oid": new_id(now)}, "operation": operation, "start_ts": now, "success": success,
              "operator": user.id, "target": target, "status": "Complete", "end_ts": now,
              "logs": [{"stage": operation, "command": "", "stdout": line, "stderr": "", "success": success,
                        "start_ts": now, "end_ts": now} for line in logs]}
    return sim.store.add_update(update)


def _resolve_references(sim: Simulator, user: User, kind: str, config: dict[str, Any]) -> dict[str, Any]:
    """Create/Update accept names for attached servers and builds and store their ids."""
    config = dict(config)
    for key, ref_kind in (("server_id", "Server"), ("server", "Server"), ("builder_id", "Builder")):
        if config.get(key):
            config["server_id" if key == "server" else key] = sim.store.resolve(ref_kind, config.pop(key)).id
    image = config.get("image")
    if kind == "Deployment" and isinstance(image, dict) and image.get("type") == "Build":
        build = sim.store.resolve("Build", image["params"].get("build_id") or image["params"].get("build", ""))
        config["image"] = {"type": "Build", "params": {"build_id": build.id, "version": image["params"].get(
            "version", {"major": 0, "minor": 0, "patch": 0})}}
    for key in ("environment", "ports", "volumes", "labels", "build_args", "secret_args"):
        if isinstance(config.get(key), list):
            config[key] = "\n".join(config[key])  # Core also takes the list form and stores lines
    return config


def _merge(current: dict[str, Any], partial: dict[str, Any]) -> dict[str, Any]:
    merged = dict(current)
    for key, value in partial.items():
        if value is not None:
            merged[key] = value
    return merged


def _register_resource_writes(kind: str) -> None:
    def create(sim: Simulator, user: User, params: dict[str, Any]) -> dict[str, Any]:
        name = required(params, "name")
        if not isinstance(name, str):
            raise BadParams("invalid type: expected a string for `name`")
        if kind in ADMIN_ONLY_CREATE and not user.admin:
            raise CoreError(403, f"User does not have permissions to create {kind}.")
        name = normalise_name(kind, name)
        if not name:
            raise CoreError(400, "Must provide non-empty name for resource")
        if is_object_id(name):
            raise CoreError(400, "Valid ObjectIds cannot be used as names")
        if sim.store.find(kind, name):
            raise CoreError(409, f"Resource with name '{name}' already exists")
        config = params.get("config") or {}
        if not isinstance(config, dict):
            raise BadParams(f"invalid type: expected struct _Partial{kind}Config")
        config = _resolve_references(sim, user, kind, config)
        info = default_info(kind)
        resource = Resource(kind=kind, id=new_id(), name=name, config=_merge(default_config(kind), config),
                            info=dict(info) if isinstance(info, dict) else info,
                            runtime={"state": state} if (state := {"Deployment": "not_deployed", "Stack": "down"}.get(
                                kind)) else {})
        sim.store.add(resource)
        sim.store.grant(user, resource, "Write")
        _write_update(sim, user, f"Create{kind}", resource.target(), [f"created {kind.lower()} {name}"])
        return resource.full()

    def update(sim: Simulator, user: User, params: dict[str, Any]) -> dict[str, Any]:
        resource = sim.store.checked(user, kind, required(params, "id"), "Write")
        config = required(params, "config")
        if not isinstance(config, dict):
            raise BadParams(f"invalid type: expected struct _Partial{kind}Config")
        if is_busy(resource):
            raise busy(kind)
        config = _resolve_references(sim, user, kind, config)
        merged = _merge(resource.config, config)
        if merged != resource.config:
            resource.config = merged
            resource.updated_at = now_ms()
            _write_update(sim, user, f"Update{kind}", resource.target(), [f"updated config of {resource.name}"])
        return resource.full()

    def rename(sim: Simulator, user: User, params: dict[str, Any]) -> dict[str, Any]:
        resource = sim.store.checked(user, kind, required(params, "id"), "Write")
        name = normalise_name(kind, required(params, "name"))
        if not name:
            raise CoreError(400, "Must provide non-empty name for resource")
        if sim.store.find(kind, name):
            raise CoreError(409, f"Resource with name '{name}' already exists")
        old = resource.name
        sim.store.rename(resource, name)
        return _write_update(sim, user, f"Rename{kind}", resource.target(), [f"renamed {old} to {name}"])

    def delete(sim: Simulator, user: User, params: dict[str, Any]) -> dict[str, Any]:
        resource = sim.store.checked(user, kind, required(params, "id"), "Write")
        if is_busy(resource):
            raise busy(kind)
        logs = []
        if kind in ("Deployment", "Stack") and resource.runtime.get("state") not in ("not_deployed", "down", None):
            logs.append(f"destroyed {'container' if kind == 'Deployment' else 'compose project'} {resource.name}")
        full = resource.full()
        sim.store.remove(resource)
        _write_update(sim, user, f"Delete{kind}", resource.target(), logs + [f"deleted {kind.lower()} {resource.name}"])
        return full

    WRITE[f"Create{kind}"] = create
    WRITE[f"Update{kind}"] = update
    WRITE[f"Rename{kind}"] = rename
    WRITE[f"Delete{kind}"] = delete


for _kind in KINDS:
    _register_resource_writes(_kind)


@register(WRITE)
def UpdateResourceMeta(sim: Simulator, user: User, params: dict[str, Any]) -> dict[str, Any]:
    target = required(params, "target")
    if not isinstance(target, dict) or "type" not in target:
        raise BadParams("invalid type: expected internally tagged enum ResourceTarget")
    if target["type"] == "System":
        raise CoreError(400, "Cannot update meta of System resource target")
    if target["type"] not in KINDS:
        raise BadParams(f"unknown variant `{target['type']}`")
    resource = sim.store.checked(user, target["type"], target.get("id", ""), "Write")
    if params.get("description") is not None:
        resource.description = params["description"]
    if params.get("template") is not None:
        resource.template = bool(params["template"])
    if params.get("tags") is not None:
        resource.tags = [sim.store.tag_id(tag, create_for=user) for tag in params["tags"]]
    resource.updated_at = now_ms()
    return {}


@register(WRITE)
def CreateTag(sim: Simulator, user: User, params: dict[str, Any]) -> dict[str, Any]:
    name = required(params, "name")
    if is_object_id(name):
        raise CoreError(400, "Tag name cannot be ObjectId")
    if any(t["name"] == name for t in sim.store.tags.values()):
        raise CoreError(409, f"Tag with name '{name}' already exists")
    return dict(sim.store.tags[sim.store.add_tag(name, owner=user.id, color=params.get("color") or "Slate")])


def _admin_variable(user: User, verb: str) -> None:
    if not user.admin:
        raise admin_only(f"Only Admins can {verb} Variables")


def _variable(sim: Simulator, params: dict[str, Any]) -> dict[str, Any]:
    name = required(params, "name")
    if name not in sim.store.variables:
        raise variable_not_found(name)
    return sim.store.variables[name]


@register(WRITE)
def CreateVariable(sim: Simulator, user: User, params: dict[str, Any]) -> dict[str, Any]:
    _admin_variable(user, "create")
    name = required(params, "name")
    if not isinstance(name, str) or not name.strip():
        raise CoreError(400, "Variable name cannot be empty")
    if name in sim.store.variables:
        raise CoreError(409, f"Variable with name '{name}' already exists")
    variable = {"name": name, "value": params.get("value", ""), "description": params.get("description", ""),
                "is_secret": bool(params.get("is_secret", False))}
    sim.store.variables[name] = variable
    _write_update(sim, user, "CreateVariable", {"type": "System", "id": "system"}, [f"created variable {name}"])
    return dict(variable)


def _variable_setter(field: str, operation: str) -> Handler:
    def handler(sim: Simulator, user: User, params: dict[str, Any]) -> dict[str, Any]:
        _admin_variable(user, "update")
        variable = _variable(sim, params)
        variable[field] = required(params, field)
        _write_update(sim, user, operation, {"type": "System", "id": "system"}, [f"updated variable {variable['name']}"])
        return dict(variable)
    return handler


WRITE["UpdateVariableValue"] = _variable_setter("value", "UpdateVariableValue")
WRITE["UpdateVariableDescription"] = _variable_setter("description", "UpdateVariableValue")
WRITE["UpdateVariableIsSecret"] = _variable_setter("is_secret", "UpdateVariableValue")


@register(WRITE)
def DeleteVariable(sim: Simulator, user: User, params: dict[str, Any]) -> dict[str, Any]:
    _admin_variable(user, "delete")
    variable = _variable(sim, params)
    del sim.store.variables[variable["name"]]
    _write_update(sim, user, "DeleteVariable", {"type": "System", "id": "system"}, [f"deleted {variable['name']}"])
    return dict(variable)


@register(WRITE)
def CloseAlert(sim: Simulator, user: User, params: dict[str, Any]) -> dict[str, Any]:
    if not user.admin:
        raise admin_only()
    alert_id = required(params, "id")
    # `api/write/alert.rs`: the id is parsed (`ObjectId::from_str(..)?`), then one `update_one` sets `resolved`
    # only: an id no alert has matches nothing and still answers `{}`, and `resolved_ts` stays as it was.
    if (invalid := _object_id_error(alert_id)) is not None:
        raise CoreError(500, invalid)
    for alert in sim.store.alerts:
        if alert["_id"]["$oid"] == alert_id:
            alert["resolved"] = True
    return {}


def _object_id_error(text: str) -> str | None:
    """bson 2.x's `oid::Error` text for a string that is no ObjectId (`ObjectId::parse_str` over `hex::decode`, which
    checks the length's parity before the characters), or None for a valid id."""
    if len(text) % 2 == 0:
        bad = next(((index, c) for index, c in enumerate(text) if c not in string.hexdigits), None)
        if bad is not None:
            return f'invalid character \'{bad[1]}\' was found at index {bad[0]} in the provided hex string: "{text}"'
    if len(text) != 24:
        return f'provided hex string representation must be exactly 12 bytes, instead got: "{text}", length {len(text)}'
    return None


# -- executes --------------------------------------------------------------------------------------------------------

def _register_execution(operation: str) -> None:
    spec = EXECUTIONS[operation]

    def execute(sim: Simulator, user: User, params: dict[str, Any]) -> dict[str, Any]:
        required(params, spec.param)  # execute params take no `id`/`name` aliases
        return sim.executor.start(user, operation, params)

    EXECUTE[operation] = execute


for _operation in EXECUTIONS:
    _register_execution(_operation)


def _register_cancel(cancel: Cancel) -> None:
    def handler(sim: Simulator, user: User, params: dict[str, Any]) -> dict[str, Any]:
        resource = sim.store.resolve(cancel.kind, required(params, cancel.param))
        return sim.executor.cancel(user, cancel, resource, params.get("update_id"))

    EXECUTE[cancel.operation] = handler


for _cancel in CANCELS.values():
    _register_cancel(_cancel)

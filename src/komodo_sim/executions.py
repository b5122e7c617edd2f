"""Executions as Core runs them (komodo-core-api.md §4): an InProgress Update is answered at once and the work
continues in a task that appends per-stage logs and completes the Update. Permission and busy failures are found
inside the task and end as a "Task Error" log with success false, never as an HTTP error."""

from __future__ import annotations

import asyncio
import copy
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from .errors import CoreError, forbidden
from .state import Resource, Store, User, new_id, now_ms

Effect = Callable[[Store, Resource, dict[str, Any]], None]

_ERROR_SPAN = '<span style="color: var(--mantine-color-red-6)">ERROR</span>'


def format_serror(error: CoreError) -> str:
    """Core's HTML-ish `format_serror`, as it lands in a Task Error log."""
    text = f"{_ERROR_SPAN}: {error.error}"
    if error.trace:
        text += "\n\nTRACE:\n" + "\n".join(f"\t{i + 1}: {line}" for i, line in enumerate(error.trace))
    return text


def _set(**runtime: Any) -> Effect:
    def effect(store: Store, resource: Resource, params: dict[str, Any]) -> None:
        resource.runtime.update(runtime)
    return effect


def _deployed(store: Store, resource: Resource, params: dict[str, Any]) -> None:
    resource.runtime.update(state="running", status="Up 1 second", deployed_at=now_ms())
    if resource.kind == "Stack":
        for service in resource.runtime.get("services", []):
            service["state"] = "running"
    resource.info["deployed_name"] = resource.name


def _stack_services(state: str, stack_state: str) -> Effect:
    def effect(store: Store, resource: Resource, params: dict[str, Any]) -> None:
        wanted = set(params.get("services") or [])
        for service in resource.runtime.get("services", []):
            if not wanted or service["service"] in wanted:
                service["state"] = state
        states = {s["state"] for s in resource.runtime.get("services", [])}
        resource.runtime["state"] = stack_state if states == {state} else "unhealthy"
    return effect


def _built(store: Store, resource: Resource, params: dict[str, Any]) -> None:
    config = resource.config
    if config.get("auto_increment_version", True):
        config["version"] = {**config["version"], "patch": config["version"]["patch"] + 1}
    resource.runtime["state"] = "Ok"
    resource.info.update(last_built_at=now_ms(), built_hash=resource.info.get("latest_hash"))


def _containers_on(state: str, status: str) -> Effect:
    def effect(store: Store, server: Resource, params: dict[str, Any]) -> None:
        for kind in ("Deployment", "Stack"):
            for resource in store.resources[kind].values():
                if resource.config.get("server_id") == server.id and resource.runtime.get("state") not in (
                        "not_deployed", "down", None):
                    resource.runtime.update(state=state, status=status)
    return effect


def _ran(store: Store, resource: Resource, params: dict[str, Any]) -> None:
    resource.runtime.update(state="Ok", last_run_at=now_ms())


@dataclass(frozen=True)
class Execution:
    operation: str
    kind: str
    param: str
    busy_flag: str
    stages: tuple[tuple[str, str], ...]
    effect: Effect = field(default=lambda store, resource, params: None)
    counter: bool = False  # Actions count concurrent runs instead of refusing them


_DEPLOY_STAGES = (("Docker Pull", "docker pull {image}"), ("Docker Stop", "docker stop --time 10 {name}"),
                  ("Docker Run", "docker run -d --name {name} --restart unless-stopped {image}"))
_COMPOSE = "docker compose -p {name} -f compose.yaml"

EXECUTIONS: dict[str, Execution] = {e.operation: e for e in (
    Execution("Deploy", "Deployment", "deployment", "deploying", _DEPLOY_STAGES, _deployed),
    Execution("PullDeployment", "Deployment", "deployment", "pulling", (("Docker Pull", "docker pull {image}"),)),
    Execution("StartDeployment", "Deployment", "deployment", "starting",
              (("Docker Start", "docker start {name}"),), _set(state="running", status="Up 1 second")),
    Execution("RestartDeployment", "Deployment", "deployment", "restarting",
              (("Docker Restart", "docker restart {name}"),), _set(state="running", status="Up 1 second")),
    Execution("StopDeployment", "Deployment", "deployment", "stopping",
              (("Docker Stop", "docker stop --time {time} {name}"),), _set(state="exited", status="Exited (0) 1 second ago")),
    Execution("DestroyDeployment", "Deployment", "deployment", "destroying",
              (("Docker Stop", "docker stop --time {time} {name}"), ("Docker Remove", "docker rm {name}")),
              _set(state="not_deployed", status=None)),
    Execution("DeployStack", "Stack", "stack", "deploying",
              (("Compose Pull", _COMPOSE + " pull"), ("Compose Up", _COMPOSE + " up -d")), _deployed),
    Execution("PullStack", "Stack", "stack", "pulling", (("Compose Pull", _COMPOSE + " pull"),)),
    Execution("StartStack", "Stack", "stack", "starting", (("Compose Start", _COMPOSE + " start"),),
              _stack_services("running", "running")),
    Execution("RestartStack", "Stack", "stack", "restarting", (("Compose Restart", _COMPOSE + " restart"),),
              _stack_services("running", "running")),
    Execution("StopStack", "Stack", "stack", "stopping", (("Compose Stop", _COMPOSE + " stop"),),
              _stack_services("exited", "stopped")),
    Execution("DestroyStack", "Stack", "stack", "destroying", (("Compose Down", _COMPOSE + " down"),),
              _stack_services("exited", "down")),
    Execution("RunBuild", "Build", "build", "building",
              (("Clone Repo", "git clone https://{git_provider}/{repo} -b {branch}"),
               ("Docker Build", "docker build -t {image_name} -f {dockerfile_path} {build_path}"),
               ("Docker Push", "docker push {image_name}")), _built),
    Execution("CloneRepo", "Repo", "repo", "cloning", (("Clone Repo", "git clone https://{git_provider}/{repo}"),),
              _set(state="Ok")),
    Execution("PullRepo", "Repo", "repo", "pulling", (("Pull Repo", "git pull origin {branch}"),), _set(state="Ok")),
    Execution("BuildRepo", "Repo", "repo", "building",
              (("Clone Repo", "git clone https://{git_provider}/{repo}"), ("On Clone", "sh build.sh")), _set(state="Ok")),
    Execution("RunProcedure", "Procedure", "procedure", "running", (), _ran),
    Execution("RunAction", "Action", "action", "running", (("Execute Action", "deno run --allow-all action.ts"),),
              _ran, counter=True),
    Execution("RunSync", "ResourceSync", "sync", "syncing", (("Sync Resources", "komodo sync execute"),),
              _set(state="Ok")),
    Execution("StartAllContainers", "Server", "server", "starting_containers",
              (("Start All Containers", "docker start $(docker ps -aq)"),), _containers_on("running", "Up 1 second")),
    Execution("RestartAllContainers", "Server", "server", "restarting_containers",
              (("Restart All Containers", "docker restart $(docker ps -q)"),), _containers_on("running", "Up 1 second")),
    Execution("StopAllContainers", "Server", "server", "stopping_containers",
              (("Stop All Containers", "docker stop $(docker ps -q)"),), _containers_on("exited", "Exited (0) 1 second ago")),
    *(Execution(f"Prune{what}", "Server", "server", f"pruning_{flag}", ((f"Prune {what}", command),))
      for what, flag, command in (
          ("Images", "images", "docker image prune -a -f"), ("Containers", "containers", "docker container prune -f"),
          ("Networks", "networks", "docker network prune -f"), ("Volumes", "volumes", "docker volume prune -a -f"),
          ("DockerBuilders", "builders", "docker builder prune -a -f"), ("Buildx", "buildx", "docker buildx prune -a -f"),
          ("System", "system", "docker system prune -a -f"))),
)}

BUSY_FLAGS = {
    "Deployment": ("pulling", "deploying", "updating", "starting", "restarting", "pausing", "unpausing", "stopping",
                   "destroying", "renaming"),
    "Stack": ("pulling", "deploying", "starting", "restarting", "pausing", "unpausing", "stopping", "destroying"),
    "Build": ("building",),
    "Repo": ("cloning", "pulling", "building", "renaming"),
    "Procedure": ("running",),
    "ResourceSync": ("syncing",),
}


def is_busy(resource: Resource) -> bool:
    if resource.kind == "Server":
        return any(bool(v) for v in resource.action.values())
    return any(resource.action.get(flag) for flag in BUSY_FLAGS.get(resource.kind, ()))


class Gate:
    """A test's hold on executions, instead of a race against their duration. While the gate is closed, an
    execution that starts stops right after claiming its resource (Update InProgress with no log yet, busy flag
    set) until the gate opens or the execution is cancelled. `close` and `open` may be called from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._closed = False
        self._held: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    def close(self) -> None:
        with self._lock:
            self._closed = True

    def open(self) -> None:
        with self._lock:
            self._closed, held, self._held = False, self._held, []
        for loop, event in held:
            loop.call_soon_threadsafe(event.set)

    def hold(self) -> asyncio.Event | None:
        """The event an execution starting now waits for, or None when the gate is open."""
        with self._lock:
            if not self._closed:
                return None
            event = asyncio.Event()
            self._held.append((asyncio.get_running_loop(), event))
            return event


class Executor:
    """Runs executions in the background; `delay` is the simulated duration of one whole execution, in seconds."""

    def __init__(self, store: Store, delay: float = 1.0) -> None:
        self.store = store
        self.delay = delay
        self.tasks: set[asyncio.Task[None]] = set()
        self.cancelled: set[str] = set()
        self.gate = Gate()
        self._held: dict[str, asyncio.Event] = {}  # update id → what a held execution waits for

    def start(self, user: User, operation: str, params: dict[str, Any], operator: str | None = None) -> dict[str, Any]:
        spec = EXECUTIONS[operation]
        # Core looks the target up without a permission check: unknown targets are the only HTTP failure.
        resource = self.store.resolve(spec.kind, params.get(spec.param) or "")
        update = {
            "_id": {"$oid": new_id()}, "operation": operation, "start_ts": now_ms(), "success": True,
            "operator": operator or user.id, "target": resource.target(), "logs": [], "end_ts": None,
            "status": "InProgress",
        }
        if operation == "RunBuild":
            version = resource.config["version"]
            update["version"] = {**version, "patch": version["patch"] + 1}
        self.store.add_update(update)
        task = asyncio.get_running_loop().create_task(self._run(user, spec, resource, params, update))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return copy.deepcopy(update)

    async def _run(self, user: User, spec: Execution, resource: Resource, params: dict[str, Any],
                   update: dict[str, Any]) -> None:
        claimed = False
        try:
            if not self.store.can(user, resource, "Execute"):
                raise forbidden(spec.kind, "Execute")
            if is_busy(resource) and not spec.counter:
                raise CoreError(500, "Resource is busy")
            self._claim(resource, spec, +1)
            claimed = True
            await self._pass_gate(update["_id"]["$oid"])
            if spec.operation == "RunProcedure":
                await self._run_procedure(user, resource, update)
            else:
                await self._run_stages(spec, resource, params, update)
            if update["success"]:
                spec.effect(self.store, resource, params)
            elif resource.kind in ("Build", "Procedure", "Action", "Repo"):
                resource.runtime["state"] = "Failed"
        except CoreError as error:
            update["logs"].append(_log("Task Error", "", "", format_serror(error), False))
        finally:
            if claimed:
                self._claim(resource, spec, -1)
            update["success"] = all(log["success"] for log in update["logs"])
            update["end_ts"] = now_ms()
            update["status"] = "Complete"
            self.cancelled.discard(update["_id"]["$oid"])

    async def _pass_gate(self, update_id: str) -> None:
        held = self.gate.hold()
        if held is None:
            return
        self._held[update_id] = held
        try:
            await held.wait()
        finally:
            del self._held[update_id]

    def _claim(self, resource: Resource, spec: Execution, step: int) -> None:
        if spec.counter:
            resource.action[spec.busy_flag] = resource.action.get(spec.busy_flag, 0) + step
        elif spec.kind == "Server" and spec.busy_flag.endswith("_containers"):
            resource.action[spec.busy_flag] = max(0, resource.action.get(spec.busy_flag, 0) + step)
        else:
            resource.action[spec.busy_flag] = step > 0

    async def _run_stages(self, spec: Execution, resource: Resource, params: dict[str, Any],
                          update: dict[str, Any]) -> None:
        fields = {"name": resource.name, "time": params.get("time") or 10, "image": "",
                  **{k: v for k, v in resource.config.items() if isinstance(v, str)}}
        if resource.kind == "Deployment":
            from .views import deployment_image
            fields["image"] = deployment_image(self.store, resource)
        failing = resource.runtime.get("failing_stage")
        for stage, command in spec.stages:
            start = now_ms()
            await asyncio.sleep(self.delay / max(1, len(spec.stages)))
            if update["_id"]["$oid"] in self.cancelled:
                update["logs"].append(_log(stage, "", "", "Build cancelled by user", False, start))
                return
            ok = stage != failing
            stdout, stderr = _output(spec.operation, stage, resource, params) if ok else (
                "", resource.runtime.get("failure", f"{stage} failed"))
            update["logs"].append(_log(stage, command.format(**fields), stdout, stderr, ok, start))
            if not ok:
                return

    async def _run_procedure(self, user: User, procedure: Resource, update: dict[str, Any]) -> None:
        """Stages run one after another, the executions inside a stage side by side, each with its own Update."""
        for number, stage in enumerate(procedure.config.get("stages", []), start=1):
            if not stage.get("enabled", True):
                continue
            start = now_ms()
            children = []
            for item in stage.get("executions", []):
                execution = item["execution"]
                if not item.get("enabled", True):
                    continue
                if execution["type"] == "Sleep":
                    await asyncio.sleep(min(execution["params"].get("duration_ms", 0) / 1000, self.delay))
                    continue
                children.append(self.start(user, execution["type"], execution["params"],
                                           operator="000000000000000000000001"))
            await self._wait_for(children)
            if update["_id"]["$oid"] in self.cancelled:
                update["logs"].append(_log(f"Stage {number}: {stage['name']}", "", "", "Procedure cancelled", False, start))
                return
            results = [self.store.update_index[c["_id"]["$oid"]] for c in children]
            ok = all(r["success"] for r in results)
            stdout = "\n".join(f"{r['operation']} {r['target']['type']} -> {'ok' if r['success'] else 'FAILED'}"
                               for r in results) or "nothing to run"
            update["logs"].append(_log(f"Stage {number}: {stage['name']}", f"execute stage {number}", stdout,
                                       "" if ok else "a stage execution failed", ok, start))
            if not ok:
                return

    async def _wait_for(self, children: list[dict[str, Any]]) -> None:
        while any(self.store.update_index[c["_id"]["$oid"]]["status"] != "Complete" for c in children):
            await asyncio.sleep(max(self.delay / 20, 0.005))

    def cancel(self, kind: str, key: str, flag: str, update_id: str | None = None) -> None:
        resource = self.store.resolve(kind, key)
        running = [u for u in self.store.updates[::-1] if u["status"] == "InProgress"
                   and u["target"] == resource.target() and (update_id is None or u["_id"]["$oid"] == update_id)]
        if not resource.action.get(flag) or not running:
            raise CoreError(500, f"No {kind.lower()} in progress")
        for update in running:
            if update["_id"]["$oid"] in self.cancelled:
                raise CoreError(500, f"{kind} has already been cancelled")
            self.cancelled.add(update["_id"]["$oid"])
            if update["_id"]["$oid"] in self._held:  # a cancel ends a held execution as it ends a running one
                self._held[update["_id"]["$oid"]].set()

    async def aclose(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


def _log(stage: str, command: str, stdout: str, stderr: str, success: bool, start: int | None = None) -> dict[str, Any]:
    end = now_ms()
    return {"stage": stage, "command": command, "stdout": stdout, "stderr": stderr, "success": success,
            "start_ts": start or end, "end_ts": end}


def _output(operation: str, stage: str, resource: Resource, params: dict[str, Any]) -> tuple[str, str]:
    if operation == "RunAction":
        defaults = dict(line.split("=", 1) for line in resource.config.get("arguments", "").splitlines() if "=" in line)
        args = {**defaults, **(params.get("args") or {})}
        lines = resource.runtime.get("output", "Action finished")
        return (lines + ("\nargs: " + ", ".join(f"{k}={v}" for k, v in sorted(args.items())) if args else ""), "")
    if stage.startswith("Docker Run") or stage == "Compose Up":
        return (new_id() + new_id()[:16], "")
    if stage.startswith("Prune"):
        return ("Total reclaimed space: 1.2GB", "")
    if stage in ("Docker Pull", "Compose Pull"):
        return ("Status: Image is up to date", "")
    return ("", "")

"""Executions as Core runs them (komodo-core-api.md §4): an InProgress Update is answered at once and the work
continues in a task that appends per-stage logs and completes the Update. Permission and busy failures are found
inside the task and end as a "Task Error" log with success false, never as an HTTP error."""

from __future__ import annotations

import asyncio
import copy
import fnmatch
import re
import time
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Coroutine

from .errors import CoreError, forbidden
from .state import Resource, Store, User, new_id, now_ms

Effect = Callable[[Store, Resource, dict[str, Any]], None]

_ERROR_SPAN = '<span style="color: var(--mantine-color-red-6)">ERROR</span>'
PROCEDURE_USER = "000000000000000000000001"  # Core's `procedure_user()` (entities/user.rs) runs a procedure's executions


def _muted(text: str) -> str:
    return f'<span style="color: var(--mantine-color-dimmed)">{text}</span>'


def _bold(text: str) -> str:
    return f'<span style="font-weight: bolder">{text}</span>'


def _green(text: str) -> str:
    return f'<span style="color: var(--mantine-color-green-6)">{text}</span>'


def format_serror(error: CoreError) -> str:
    """Core's HTML-ish `format_serror` (formatting crate), as it lands in an error log."""
    text = f"{_ERROR_SPAN}: {error.error}"
    if error.trace:
        text += f"\n\n{_muted('TRACE')}:\n" + "\n".join(
            f"\t{_muted(str(i + 1))}: {line}" for i, line in enumerate(error.trace))
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
    resource.info["deployed_project_name" if resource.kind == "Stack" else "deployed_name"] = resource.name


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


def _container_names(store: Store, server: Resource) -> list[str]:
    """The containers on `server`: each deployed deployment's, and each stack service's (compose's `<project>-<service>-1`)."""
    names = [resource.name for resource in store.resources["Deployment"].values()
             if resource.config.get("server_id") == server.id
             and resource.runtime.get("state") not in ("not_deployed", "unknown", None)]
    names += [f"{stack.name}-{service['service']}-1" for stack in store.resources["Stack"].values()
              if stack.config.get("server_id") == server.id for service in stack.runtime.get("services", [])
              if service.get("state") not in ("down", "unknown", None)]
    return sorted(names)


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
    # Counts concurrent runs and never refuses one: Core's `update_custom(.., busy_check: false)` (api/execute/
    # action.rs, server.rs for the container executions).
    counter: bool = False
    per_container: tuple[str, str] | None = None  # a stage and its command run on each container of the server
    # Periphery's stderr when the command cannot work for these params (e.g. no such container), else None.
    refusal: Callable[[Store, Resource, dict[str, Any]], str | None] = field(default=lambda store, resource, params: None)


# Periphery pulls, stops and removes the old container inside RunContainer and logs only the run
# (bin/periphery/src/api/container/run.rs); RemoveContainer is one shell command (api/container/mod.rs).
_DEPLOY_STAGES = (("Docker Run", "docker run -d --name {name} --restart unless-stopped {image}"),)
_PROJECT = "docker compose -p {name}"
_COMPOSE = _PROJECT + " -f compose.yaml"
_LATEST_COMMIT = ("Latest Commit", "git rev-parse --short HEAD && git log -1 --pretty=%B")

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
              (("Docker Stop and Remove", "docker stop --time {time} -- {name} && docker container rm -- {name}"),),
              _set(state="not_deployed", status=None)),
    # DeployStack runs Periphery's ComposeUp (config, pull when auto_pull, up); the others one ComposeExecution,
    # logged as "Compose Command" (bin/periphery/src/api/compose.rs, bin/core/src/stack/execute.rs).
    Execution("DeployStack", "Stack", "stack", "deploying",
              (("Compose Config", _COMPOSE + " config"), ("Compose Pull", _COMPOSE + " pull"),
               ("Compose Up", _COMPOSE + " up -d")), _deployed),
    Execution("PullStack", "Stack", "stack", "pulling", (("Compose Pull", _COMPOSE + " pull"),)),
    Execution("StartStack", "Stack", "stack", "starting", (("Compose Command", _PROJECT + " start"),),
              _stack_services("running", "running")),
    Execution("RestartStack", "Stack", "stack", "restarting", (("Compose Command", _PROJECT + " restart"),),
              _stack_services("running", "running")),
    Execution("StopStack", "Stack", "stack", "stopping", (("Compose Command", _PROJECT + " stop"),),
              _stack_services("exited", "stopped")),
    Execution("DestroyStack", "Stack", "stack", "destroying", (("Compose Command", _PROJECT + " down"),),
              _stack_services("exited", "down")),
    # Git logs of lib/git (clone.rs, pull.rs) and the build's of bin/periphery/src/api/build (the push is part of
    # `docker build --push`, not a stage of its own).
    Execution("RunBuild", "Build", "build", "building",
              (("Clone Repo", "git clone https://{git_provider}/{repo} -b {branch}"), _LATEST_COMMIT,
               ("Docker Build", "docker build -t {image_name} -f {dockerfile_path} --push {build_path}")), _built),
    Execution("CloneRepo", "Repo", "repo", "cloning",
              (("Clone Repo", "git clone https://{git_provider}/{repo}"), _LATEST_COMMIT), _set(state="Ok")),
    Execution("PullRepo", "Repo", "repo", "pulling",
              (("Set Git Remote", "git remote set-url origin https://{git_provider}/{repo}"),
               ("Git Fetch", "git fetch --all"), ("Checkout branch", "git checkout -f {branch}"),
               ("Git pull", "git pull --rebase --force origin {branch}"), _LATEST_COMMIT), _set(state="Ok")),
    Execution("BuildRepo", "Repo", "repo", "building",
              (("Clone Repo", "git clone https://{git_provider}/{repo}"), _LATEST_COMMIT, ("On Clone", "sh build.sh")),
              _set(state="Ok")),
    Execution("RunProcedure", "Procedure", "procedure", "running", (), _ran),
    Execution("RunAction", "Action", "action", "running", (("Execute Action", "deno run --allow-all action.ts"),),
              _ran, counter=True),
    # Reading the repo's resource files, then one log per change, or "No Changes" (sync/file.rs, api/execute/
    # sync.rs); the simulator models no diff, so a run finds nothing to change.
    Execution("RunSync", "ResourceSync", "sync", "syncing", (("Read remote resources", ""), ("No Changes", "")),
              _set(state="Ok")),
    # One log per container from Periphery (api/container/mod.rs), then Core's summary when all went well
    # (api/execute/server.rs).
    Execution("StartAllContainers", "Server", "server", "starting_containers", (("Start All Containers", ""),),
              _containers_on("running", "Up 1 second"), counter=True,
              per_container=("docker start -- {name}", "docker start -- {name}")),
    Execution("RestartAllContainers", "Server", "server", "restarting_containers", (("Restart All Containers", ""),),
              _containers_on("running", "Up 1 second"), counter=True,
              per_container=("docker restart -- {name}", "docker restart -- {name}")),
    Execution("StopAllContainers", "Server", "server", "stopping_containers", (("Stop All Containers", ""),),
              _containers_on("exited", "Exited (0) 1 second ago"), counter=True,
              per_container=("Docker stop {name}", "docker stop -- {name}")),
    # Periphery's stage names (api/docker.rs, api/container/mod.rs, api/build/mod.rs, api/mod.rs).
    *(Execution(f"Prune{what}", "Server", "server", f"pruning_{flag}", ((f"Prune {flag.capitalize()}", command),))
      for what, flag, command in (
          ("Images", "images", "docker image prune -a -f"), ("Containers", "containers", "docker container prune -f"),
          ("Networks", "networks", "docker network prune -f"), ("Volumes", "volumes", "docker volume prune -a -f"),
          ("DockerBuilders", "builders", "docker builder prune -a -f"), ("Buildx", "buildx", "docker buildx prune -a -f"),
          ("System", "system", "docker system prune -a -f --volumes"))),
)}

@dataclass(frozen=True)
class Cancel:
    """One of Core's cancel executions (api/execute/build.rs, repo.rs, procedure.rs, action.rs)."""
    operation: str
    kind: str
    param: str
    cancels: str  # the operation it stops
    triggered: tuple[str, str]  # the cancel Update's log: stage, text
    nothing_running: str  # Core's text when nothing runs
    stopped: tuple[str, str]  # the log that ends the cancelled job: stage, error text
    already: str = ""  # set for the cancels Core validates before any Update exists
    acknowledged: str = ""  # what the job's cancel loop adds to the cancel's Update when it stops


CANCELS: dict[str, Cancel] = {c.operation: c for c in (
    Cancel("CancelBuild", "Build", "build", "RunBuild", ("Cancel Triggered", "The build cancel has been triggered"),
           "No build in progress", ("Build Cancelled", "User cancelled build during image build step"),
           "Build has already been cancelled",
           "The build cancellation has been queued, it may still take some time."),
    Cancel("CancelRepoBuild", "Repo", "repo", "BuildRepo",
           ("cancel triggered", "the repo build cancel has been triggered"), "No repo build in progress",
           ("build cancelled", "user cancelled build during repo clone"), "Repo build has already been cancelled",
           "The repo build cancellation has been queued, it may still take some time."),
    Cancel("CancelProcedure", "Procedure", "procedure", "RunProcedure",
           ("Cancel Triggered", "Procedure cancel has been triggered. The procedure will exit after the currently "
                                "running stage is complete."), "Procedure run cancel token not found",
           ("Execution error", "Procedure cancelled before completion")),
    Cancel("CancelAction", "Action", "action", "RunAction", ("Cancel Triggered", "The action cancel has been triggered."),
           "Action run cancel token not found", ("Execute Action", "Command cancelled (process group killed)")),
)}
CANCEL_OF = {c.cancels: c for c in CANCELS.values()}

# The action-state flags Core's `Busy` trait counts (client/core/rs/src/busy.rs): not every flag. A pull, a
# deployment's `updating`/`renaming`, a repo's `renaming` and a server's builder/buildx/system prune never make
# their resource busy; an Action is busy while it runs but RunAction is never refused.
BUSY_FLAGS = {
    "Server": ("pruning_containers", "pruning_images", "pruning_networks", "pruning_volumes", "starting_containers",
               "restarting_containers", "pausing_containers", "unpausing_containers", "stopping_containers",
               "destroying_containers"),
    "Deployment": ("deploying", "starting", "restarting", "pausing", "unpausing", "stopping", "destroying", "renaming"),
    "Stack": ("deploying", "starting", "restarting", "pausing", "unpausing", "stopping", "destroying"),
    "Build": ("building",),
    "Repo": ("cloning", "pulling", "building"),
    "Procedure": ("running",),
    "Action": ("running",),
    "ResourceSync": ("syncing",),
}
# Stack executions naming services are recorded under their own operation (bin/core/src/helpers/update.rs,
# `init_execution_match!`, stack_service).
STACK_SERVICE_OPERATIONS = {op: op.removesuffix("Stack") + "StackService" for op in (
    "DeployStack", "PullStack", "StartStack", "RestartStack", "PauseStack", "UnpauseStack", "StopStack",
    "DestroyStack")}


def is_busy(resource: Resource) -> bool:
    return any(resource.action.get(flag) for flag in BUSY_FLAGS.get(resource.kind, ()))


class Gate:
    """A test's hold on executions, instead of a race against their duration. While the gate is closed, an
    execution that starts stops right after claiming its resource (Update InProgress with no log yet, busy flag
    set) until the gate opens or the execution is cancelled. `close` and `open` may be called from any thread.
    With `cancels_release` off, a cancelled execution stays held too: a test can then see Core's answers to a
    cancel of a job that was cancelled but has not stopped yet."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._closed = False
        self.cancels_release = True
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
        """Record the InProgress Update and run the execution in the background (api/execute/mod.rs)."""
        update, run = self._prepare(user, operation, params, operator)
        task = asyncio.get_running_loop().create_task(run)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return copy.deepcopy(update)

    def _prepare(self, user: User, operation: str, params: dict[str, Any],
                 operator: str | None) -> tuple[dict[str, Any], Coroutine[Any, Any, None]]:
        spec = EXECUTIONS[operation]
        # Core looks the target up without a permission check: unknown targets are the only HTTP failure.
        resource = self.store.resolve(spec.kind, params.get(spec.param) or "")
        recorded = STACK_SERVICE_OPERATIONS.get(operation, operation) if params.get("services") else operation
        # The immediate Update holds no version: RunBuild sets it after its busy check (api/execute/build.rs).
        update = {
            "_id": {"$oid": new_id()}, "operation": recorded, "start_ts": now_ms(), "success": True,
            "operator": operator or user.id, "target": resource.target(), "logs": [], "end_ts": None,
            "status": "InProgress",
        }
        self.store.add_update(update)
        return update, self._run(user, spec, resource, params, update, within_procedure=operator == PROCEDURE_USER)

    async def _run(self, user: User, spec: Execution, resource: Resource, params: dict[str, Any],
                   update: dict[str, Any], within_procedure: bool = False) -> None:
        claimed = False
        try:
            if not self.store.can(user, resource, "Execute"):
                raise forbidden(spec.kind, "Execute")
            if is_busy(resource) and not spec.counter:
                raise CoreError(500, "Resource is busy")
            self._claim(resource, spec, +1)
            claimed = True
            if spec.operation == "RunBuild":
                self._next_version(resource, update)
            if spec.operation == "Deploy":
                self._deployed_version(resource, update)
            await self._pass_gate(update["_id"]["$oid"])
            if spec.operation == "RunProcedure":
                await self._run_procedure(resource, update)
            else:
                await self._run_stages(spec, resource, params, update)
            if all(log["success"] for log in update["logs"]):
                spec.effect(self.store, resource, params)
            elif resource.kind in ("Build", "Procedure", "Action", "Repo"):
                resource.runtime["state"] = "Failed"
        except CoreError as error:
            # A procedure resolves its executions itself and closes their Updates with "Execution error"
            # (helpers/procedure.rs, handle_resolve_result); a direct call's failure is added by the task monitor.
            if within_procedure:
                error = CoreError(error.status, f"Failed at {spec.operation}", [error.error, *error.trace])
            update["logs"].append(_log("Execution error" if within_procedure else "Task Error", "", "",
                                       format_serror(error), False))
        finally:
            if claimed:
                self._claim(resource, spec, -1)
            update["success"] = all(log["success"] for log in update["logs"])
            update["end_ts"] = now_ms()
            update["status"] = "Complete"
            self.cancelled.discard(update["_id"]["$oid"])

    @staticmethod
    def _next_version(build: Resource, update: dict[str, Any]) -> None:
        config = build.config
        version = config["version"]
        if config.get("auto_increment_version", True):
            version = {**version, "patch": version["patch"] + 1}
        update["version"] = version

    def _deployed_version(self, deployment: Resource, update: dict[str, Any]) -> None:
        """A deployment of a Build records the version it deploys: the pinned one, else the build's (api/execute/
        deployment.rs); an image deployment records none (Version::is_none is not serialised)."""
        image = deployment.config["image"]
        build = self.store.resources["Build"].get(image["params"].get("build_id", "")) if image["type"] == "Build" \
            else None
        pinned = image["params"].get("version")
        version = pinned if pinned and any(pinned.values()) else build.config["version"] if build else None
        if version and any(version.values()):
            update["version"] = version

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
            resource.action[spec.busy_flag] = max(0, resource.action.get(spec.busy_flag, 0) + step)
        else:
            resource.action[spec.busy_flag] = step > 0

    async def _run_stages(self, spec: Execution, resource: Resource, params: dict[str, Any],
                          update: dict[str, Any]) -> None:
        fields = {**{k: v for k, v in params.items() if isinstance(v, str)}, "name": resource.name,
                  "time": params.get("time") or 10, "image": "",
                  **{k: v for k, v in resource.config.items() if isinstance(v, str)}}
        if resource.kind == "Deployment":
            from .views import deployment_image
            fields["image"] = deployment_image(self.store, resource)
        if spec.kind == "Stack" and params.get("services"):  # api/execute/stack.rs, stack/execute.rs
            update["logs"].append(_log("Service/s", "", "Execution requested for Stack service/s "
                                       + ", ".join(params["services"]), "", True))
        stages = list(spec.stages)
        if spec.per_container:
            stage, command = spec.per_container
            stages[:0] = [(stage.format(name=name), command.format(name=name))
                          for name in _container_names(self.store, resource)]
        failing = resource.runtime.get("failing_stage")
        refusal = spec.refusal(self.store, resource, params)
        for stage, command in stages:
            start = now_ms()
            await asyncio.sleep(self.delay / max(1, len(stages)))
            if update["_id"]["$oid"] in self.cancelled:
                stopped_stage, text = CANCEL_OF[spec.operation].stopped
                update["logs"].append(_log(stopped_stage, "", "", text, False, start))
                return
            ok = stage != failing and refusal is None
            stdout, stderr = _output(spec.operation, stage, resource, params) if ok else (
                "", refusal or resource.runtime.get("failure", f"{stage} failed"))
            update["logs"].append(_log(stage, command.format(**fields), stdout, stderr, ok, start))
            if not ok:
                return

    async def _run_procedure(self, procedure: Resource, update: dict[str, Any]) -> None:
        """Core's procedure run (api/execute/procedure.rs, helpers/procedure.rs): ONE "Execute procedure" log whose
        stdout gains a line as each stage and execution starts and finishes, then "Execution ok" or "Execution
        error". Stages run one after another, the executions inside a stage side by side, each resolved by the
        procedure user with an Update of its own."""
        log = _log("Execute procedure", "", f"{_muted('INFO')}: executing procedure '{_bold(procedure.name)}'", "", True)
        update["logs"].append(log)
        try:
            for stage in procedure.config.get("stages", []):
                if update["_id"]["$oid"] in self.cancelled:
                    log["stdout"] += f"\n{_muted('ERROR')}: Cancelled before stage: '{_bold(stage['name'])}'"
                    raise CoreError(500, CANCEL_OF["RunProcedure"].stopped[1])
                if not stage.get("enabled", True):
                    continue
                log["stdout"] += f"\n{_muted('INFO')}: Executing stage: '{_bold(stage['name'])}'"
                began = time.monotonic()
                executions = [single for item in stage.get("executions", []) if item.get("enabled", True)
                              for single in self._expand(item["execution"])]
                failures = [f for f in await asyncio.gather(*(self._stage_execution(log, e) for e in executions)) if f]
                elapsed = _elapsed(began)
                if failures:
                    raise CoreError(500, f"Failed stage '{_bold(stage['name'])}' execution after {elapsed}", failures[0])
                log["stdout"] += (f"\n{_muted('INFO')}: {_green('Finished')} stage '{_bold(stage['name'])}' "
                                  f"execution in {elapsed}")
        except CoreError as error:
            update["logs"].append(_log("Execution error", "", "", format_serror(error), False))
        else:
            update["logs"].append(_log("Execution ok", "", f"{_muted('INFO')}: The procedure has {_green('completed')} "
                                       "with no errors", "", True))

    def _expand(self, execution: dict[str, Any]) -> list[dict[str, Any]]:
        """A Batch<X> execution runs <X> on every resource its pattern matches (helpers/procedure.rs,
        `extend_batch_exection`; names by wildcard or \\regex\\, resource/mod.rs)."""
        single = execution["type"].removeprefix("Batch")
        if single == execution["type"] or single not in EXECUTIONS:
            return [execution]
        spec = EXECUTIONS[single]
        patterns = _string_list(execution.get("params", {}).get("pattern", ""))
        names = sorted(r.name for r in self.store.resources[spec.kind].values()
                       if any(_name_matches(pattern, r.name) for pattern in patterns))
        return [{"type": single, "params": {spec.param: name}} for name in names]

    async def _stage_execution(self, log: dict[str, Any], execution: dict[str, Any]) -> list[str]:
        """One execution of a stage; answers the error chain when it failed (empty when it succeeded)."""
        shown = _debug(execution)
        log["stdout"] += f"\n{_muted('INFO')}: Executing: {shown}"
        began = time.monotonic()
        failure: list[str] = []
        if execution["type"] == "Sleep":
            await asyncio.sleep(min(execution["params"].get("duration_ms", 0) / 1000, self.delay))
        elif execution["type"] not in EXECUTIONS:  # an execution the simulator does not model: it fails, visibly
            failure = [f"{_ERROR_SPAN}: Failed on {shown}", f"the simulator does not run {execution['type']}"]
        else:
            procedure_user = User(id=PROCEDURE_USER, username="Procedure", admin=True)
            try:
                child, run = self._prepare(procedure_user, execution["type"], execution["params"], PROCEDURE_USER)
            except CoreError as error:  # no Update at all, e.g. an unknown target
                failure = [f"{_ERROR_SPAN}: Failed on {shown}", error.error]
            else:
                await run
                if not child["success"]:
                    failure = [f"{_ERROR_SPAN}: Failed on {shown}", f"{_ERROR_SPAN}: Execution not successful, see "
                               f"update: '/updates/{child['_id']['$oid']}'"]
        log["stdout"] += f"\n{_muted('INFO')}: {_green('Finished')} execution in {_elapsed(began)}: {shown}"
        return failure

    def cancel(self, user: User, cancel: Cancel, resource: Resource, update_id: str | None = None) -> dict[str, Any]:
        """A build or repo build is checked before any Update exists (an HTTP error); any other failure ends inside
        the cancel's own Update, as for every execution."""
        target = resource.target()
        running = [u for u in self.store.updates[::-1]
                   if u["status"] == "InProgress" and u["operation"] == cancel.cancels and u["target"] == target]
        if cancel.already:
            if not running:
                raise CoreError(500, cancel.nothing_running)
            if any(u["operation"] == cancel.operation and u["target"] == target
                   and u["start_ts"] >= running[0]["start_ts"] for u in self.store.updates):
                raise CoreError(500, cancel.already)
        update = {"_id": {"$oid": new_id()}, "operation": cancel.operation, "start_ts": now_ms(), "success": True,
                  "operator": user.id, "target": target, "logs": [], "end_ts": None, "status": "InProgress"}
        self.store.add_update(update)
        try:
            if not self.store.can(user, resource, "Execute"):
                raise forbidden(resource.kind, "Execute")
            if cancel.operation == "CancelAction":  # only an action's cancel may name the run
                if not update_id and not running:
                    raise CoreError(500, "No active run to cancel found")
                running = [u for u in running if update_id in (None, u["_id"]["$oid"])]
            if not running:
                raise CoreError(500, cancel.nothing_running)
            self.cancelled.update(u["_id"]["$oid"] for u in running)
            for held in running:  # a cancel ends a held execution as it ends a running one
                if held["_id"]["$oid"] in self._held and self.gate.cancels_release:
                    self._held[held["_id"]["$oid"]].set()
            stage, text = cancel.triggered
            update["logs"].append(_log(stage, "", text, "", True))
            if cancel.acknowledged:
                update["logs"].append(_log("Cancel acknowledged", "", cancel.acknowledged, "", True))
        except CoreError as error:
            update["logs"].append(_log("Task Error", "", "", format_serror(error), False))
        update.update(success=all(log["success"] for log in update["logs"]), end_ts=now_ms(), status="Complete")
        return copy.deepcopy(update)

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
    if stage == "Latest Commit":
        info = resource.info
        return (f"{_muted('hash:')} {_bold(info.get('latest_hash', ''))}\n"
                f"{_muted('message:')} {_bold(info.get('latest_message', ''))}", "")
    if stage == "Read remote resources":
        return ("\n".join(f'{_muted("INFO")}: reading resources from "/syncs/{resource.name}/{path}"'
                           for path in resource.config.get("resource_path", [])), "")
    if stage == "No Changes":
        return (f"{_green('nothing to do')}. exiting.", "")
    if stage.endswith("All Containers"):
        verb = {"Start": "started", "Restart": "restarted", "Stop": "stopped"}[stage.split()[0]]
        return (f"All containers have been {verb} on the host.", "")
    if stage.startswith("Prune"):
        return ("Total reclaimed space: 1.2GB", "")
    if stage in ("Docker Pull", "Compose Pull"):
        return ("Status: Image is up to date", "")
    return ("", "")


def _debug(execution: dict[str, Any]) -> str:
    """An execution as Rust's `{:?}` prints it in a procedure's log, e.g. `Sleep(Sleep { duration_ms: 500 })`."""
    def value(v: Any) -> str:
        if v is None:
            return "None"
        if isinstance(v, bool):
            return str(v).lower()
        if isinstance(v, str):
            return f'"{v}"'
        if isinstance(v, list):
            return "[" + ", ".join(value(item) for item in v) + "]"
        return str(v)
    kind, params = execution["type"], execution.get("params") or {}
    return f"{kind}({kind} {{ " + ", ".join(f"{k}: {value(v)}" for k, v in params.items()) + " })"


def _elapsed(began: float) -> str:
    """A duration as Rust's `{:?}` prints it, e.g. `1.876649206s` or `522.717494ms`."""
    seconds = time.monotonic() - began
    return f"{seconds:.9f}s" if seconds >= 1 else f"{seconds * 1000:.6f}ms"


def _string_list(source: str) -> list[str]:
    """Core's `parse_string_list` (client/core/rs/src/parsers.rs): lines and commas, `#` comments dropped."""
    lines = [line.strip() for line in source.split("\n")]
    entries = [line.split(" #")[0] for line in lines if line and not line.startswith("#")]
    return [entry.strip() for line in entries for entry in line.split(",") if entry.strip()]


def _name_matches(pattern: str, name: str) -> bool:
    if len(pattern) > 1 and pattern.startswith("\\") and pattern.endswith("\\"):
        return re.search(pattern[1:-1], name) is not None
    return fnmatch.fnmatchcase(name, pattern)

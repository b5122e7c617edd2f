"""Starting Komodo executions safely and waiting for them.

Before anything starts: the target exists, the caller may execute it, and it is not busy (CONFLICT otherwise;
Komodo itself would only say so later, inside the Update). Starts of one target are serialised inside this process
until Komodo shows it busy, so two concurrent calls give one job and one CONFLICT. Executes are never retried.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Callable

import anyio
from mcp.server.mcpserver import Context
from pydantic import BaseModel

from ..client import Conflict, Forbidden, KomodoError, gather
from ..instances import as_shown
from ..mapping.common import duration_range
from ..mapping.executions import CancelResult, job_fields
from ..mapping.jobs import Progress, base_operation, job_error, job_progress, procedure_stages
from ..mapping.status import job_status
from ._context import PARAM, App
from ._history import recent_runs

BUSY_VISIBLE_SECONDS = 2.0
ESTIMATE_RUNS = 5
LEVELS = ("None", "Read", "Execute", "Write")
# Get<X>ActionState flags Core's busy check counts (client/core/rs/src/busy.rs): not every flag, so a running pull
# does not refuse a deploy.
BUSY_FLAGS = {
    "Server": ("pruning_containers", "pruning_images", "pruning_networks", "pruning_volumes", "starting_containers",
               "restarting_containers", "pausing_containers", "unpausing_containers", "stopping_containers",
               "destroying_containers"),
    "Deployment": ("deploying", "starting", "restarting", "pausing", "unpausing", "stopping", "destroying", "renaming"),
    "Stack": ("deploying", "starting", "restarting", "pausing", "unpausing", "stopping", "destroying"),
    "Build": ("building",), "Repo": ("cloning", "pulling", "building"), "Procedure": ("running",),
    "ResourceSync": ("syncing",),
}
# Executions Core runs without a busy check (`update_custom(.., false)` in api/execute/action.rs and server.rs).
# Only those the tools start: Core has more (PauseAllContainers, DestroyContainer, …) that no tool sends.
NEVER_BUSY = {"RunAction", "StartAllContainers", "RestartAllContainers", "StopAllContainers", "StartContainer",
              "RestartContainer", "PauseContainer", "UnpauseContainer", "StopContainer"}
_start_locks: dict[tuple[str, str], anyio.Lock] = defaultdict(anyio.Lock)


@dataclass
class Started:
    resource: dict[str, Any]
    update: dict[str, Any]
    estimate: str

    @property
    def id(self) -> str:
        return self.resource["_id"]["$oid"]

    @property
    def name(self) -> str:
        return self.resource["name"]

    @property
    def job_id(self) -> str:
        return self.update["_id"]["$oid"]


def busy_flags(kind: str, state: dict[str, Any]) -> list[str]:
    return [flag for flag in BUSY_FLAGS.get(kind, ()) if state.get(flag)]


async def start(app: App, kind: str, key: str, operation: str, *, known: dict[str, Any] | None = None,
                **params: Any) -> Started:
    """Check, then start `operation` on the `kind` resource `key` (id or name). Raises before starting anything.
    `known`: the resource as the caller already read it (Get{kind}), so it is not read twice."""
    komodo = app.komodo
    resource = known or await komodo.read(f"Get{kind}", **{PARAM[kind]: key})
    resource_id, name = resource["_id"]["$oid"], resource["name"]
    target = {"type": kind, "id": resource_id}
    async with _start_locks[(kind, resource_id)]:
        level, state, runs = await gather(
            app.permission(target), komodo.read(f"Get{kind}ActionState", **{PARAM[kind]: resource_id}),
            recent_runs(app, kind, resource_id, (operation,), ESTIMATE_RUNS))
        if LEVELS.index(level) < LEVELS.index("Execute"):
            raise Forbidden(f"{operation} needs Execute permission on {kind} {name}; this API key has {level}",
                            {"operation": operation, "permission": level})
        busy = [] if operation in NEVER_BUSY else busy_flags(kind, state)
        if busy:
            raise await _busy(app, kind, name, resource_id, busy)
        update = await komodo.execute(operation, **{PARAM[kind]: resource_id}, **params)
        await _until_komodo_sees_it(app, kind, resource_id, update)
    durations = [r["end_ts"] - r["start_ts"] for r in runs if r.get("end_ts") and r.get("success")]
    return Started(resource=resource, update=update, estimate=duration_range(durations))


async def _busy(app: App, kind: str, name: str, resource_id: str, busy: list[str]) -> Conflict:
    running = await app.komodo.read("ListUpdates", query={"target.type": kind, "target.id": resource_id,
                                                          "status": "InProgress"})
    job_ids = [u["id"] for u in running["updates"]]
    hint = f"; wait for job {as_shown(job_ids[0])} (komodo_execute_WaitForJob)" if job_ids else ""
    return Conflict(f"{kind} {name} is busy ({', '.join(busy)}){hint}",
                    {"running_job_ids": job_ids, "busy": busy})


async def _until_komodo_sees_it(app: App, kind: str, resource_id: str, update: dict[str, Any]) -> None:
    """Hold the start lock until Komodo shows the resource busy (or the job already ended), so the next start of
    it in this process sees the truth. A job that Komodo refused at once is reported as the refusal."""
    job_id = update["_id"]["$oid"]
    delay, deadline = 0.01, time.monotonic() + BUSY_VISIBLE_SECONDS
    while time.monotonic() < deadline:
        state, current = await gather(app.komodo.read(f"Get{kind}ActionState", **{PARAM[kind]: resource_id}),
                                      app.komodo.read("GetUpdate", id=job_id))
        if current.get("status") == "Complete":
            error = job_error(current)
            if error and error.code in ("CONFLICT", "FORBIDDEN"):
                cls = Conflict if error.code == "CONFLICT" else Forbidden
                raise cls(error.message, {"job_id": job_id, "operation": update["operation"]})
            return
        if any(state.values()):  # its own flag, whether or not Core counts it as busy
            return
        await anyio.sleep(delay)
        delay = min(delay * 2, 0.2)


async def wait(ctx: Context, app: App, job_id: str, timeout: float) -> tuple[dict[str, Any], bool]:
    """Poll the job's Update until it completes or `timeout` seconds pass, reporting progress as steps finish.

    Answers (update, timed_out). A client that cancels its request ends the wait at the next poll; the Komodo job
    itself goes on (komodo_execute_CancelJob stops it).
    """
    deadline = time.monotonic() + timeout
    delay, reported = 0.1, -1.0
    update = await app.job(job_id)
    planned = await planned_steps(app, update)
    while True:
        done = update.get("status") == "Complete"
        steps = job_progress(update, planned)
        total = max(len(steps.steps), 1)
        progress = float(total if done else steps.finished)
        if progress > reported:
            await ctx.report_progress(progress, float(total), progress_message(update, steps))
            reported = progress
        remaining = deadline - time.monotonic()
        if done or remaining <= 0:
            return update, not done
        await anyio.sleep(min(delay, remaining))
        delay = min(delay * 1.5, 2.0)
        update = await app.job(job_id)


async def planned_steps(app: App, update: dict[str, Any]) -> list[str] | None:
    """A procedure's steps are its own stages (None, the operation's usual ones, when they cannot be read)."""
    if update["operation"] != "RunProcedure":
        return None
    try:
        procedure = await app.komodo.read("GetProcedure", procedure=update["target"]["id"])
    except KomodoError:
        return None
    return procedure_stages(procedure["config"])


def progress_message(update: dict[str, Any], steps: Progress) -> str:
    """E.g. "Deploy: step 1 of 1, Docker Run", "RunProcedure: step 2 of 3, Wait more", "Deploy: success"."""
    if update.get("status") == "Complete":
        return f"{update['operation']}: {job_status(update)}"
    if steps.current is None:
        return f"{update['operation']}: running"
    return f"{update['operation']}: step {steps.finished + 1} of {len(steps.steps)}, {steps.current}"


# How each execute tool answers, by the Komodo operation it starts. Tools answer through it, and so does a task's
# final result, rebuilt from the Update alone (tasks keep no state of their own).
Answer = Callable[..., BaseModel]
ANSWERS: dict[str, Answer] = {}


def answers(*operations: str) -> Callable[[Answer], Answer]:
    def register(answer: Answer) -> Answer:
        ANSWERS.update(dict.fromkeys(operations, answer))
        return answer
    return register


async def answer_for_job(app: App, job_id: str) -> BaseModel:
    """The result the execute tool that started this job would give, had it waited for the end."""
    update = await app.komodo.read("GetUpdate", id=job_id)
    kind = update["target"]["type"]
    resource = await app.komodo.read(f"Get{kind}", **{PARAM[kind]: update["target"]["id"]})
    started = Started(resource=resource, update=update, estimate="unknown")
    message = f"{update['operation']} on {resource['name']}: {job_status(update)}"
    return ANSWERS[base_operation(update["operation"])](app, started, message, update=update, waited=True)


def result_fields(app: App, started: Started, message: str, ignored: list[str] | None = None,
                  update: dict[str, Any] | None = None, waited: bool = False) -> dict[str, Any]:
    """The fields every execute result shares; `update` is the job's latest state when the call waited."""
    update = update or started.update
    return {**job_fields(update, started.job_id, app.ui_link("updates", started.job_id), started.estimate, message,
                         ignored or [], waited), "current_step": job_progress(update).current}


# Which Komodo call cancels a running job, by the job's operation.
CANCELS = {"RunBuild": ("CancelBuild", "Build"), "BuildRepo": ("CancelRepoBuild", "Repo"),
           "RunProcedure": ("CancelProcedure", "Procedure"), "RunAction": ("CancelAction", "Action")}


async def cancel_running(app: App, kind: str, key: str, update: dict[str, Any] | None = None) -> CancelResult:
    """Ask Komodo to cancel a running job: the one of `update`, or the one running now on the resource `key`."""
    if update is None:
        resource_id = (await app.komodo.read(f"Get{kind}", **{PARAM[kind]: key}))["_id"]["$oid"]
        operation = next(op for op, (_, k) in CANCELS.items() if k == kind)
        running = await app.komodo.read("ListUpdates", query={"operation": operation, "status": "InProgress",
                                                              "target.type": kind, "target.id": resource_id})
        if not running["updates"]:
            raise Conflict(f"No {operation} is running on {kind} {key}", {"operation": operation})
        update = await app.komodo.read("GetUpdate", id=running["updates"][0]["id"])
    operation, job_id = update["operation"], update["_id"]["$oid"]
    cancel, kind = CANCELS[operation]
    params: dict[str, Any] = {PARAM[kind]: update["target"]["id"]}
    if kind in ("Procedure", "Action"):
        params["update_id"] = job_id  # these may run several times at once
    record = await app.komodo.execute(cancel, **params)
    current = await app.komodo.read("GetUpdate", id=job_id)
    return CancelResult(job_id=job_id, cancel_job_id=(record.get("_id") or {}).get("$oid"), operation=operation,
                        status=job_status(current), message=f"Asked Komodo to cancel {operation} ({as_shown(job_id)})")

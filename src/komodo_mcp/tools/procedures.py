"""Procedures: Komodo's multi-stage automations (stages run in order, executions in a stage side by side)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from pydantic import BaseModel, Field

from ..client import KomodoClient, gather
from ..mapping.automation import procedure_detail, procedure_item
from ..mapping.common import is_object_id
from ..mapping.envelope import Envelope, ok
from ..mapping.executions import ProcedureRunResult
from ..mapping.jobs import job_progress, procedure_stages
from ..mapping.models import LazyModel, Page, ProcedureDetail, ProcedureItem
from ..mapping.status import ProcedureTrigger
from ._context import PARAM, App, app_of
from ._execution import Started, answers, result_fields, start, wait
from ._history import recent_runs, resource_in_one_round
from ._lists import list_resources
from ._params import DEFAULT_WAIT_SECONDS, ID, PageNumber, PageSize, ProcedureId, RunOptions
from ._spec import execute, read, write
from ._writes import WriteResult, create_tool, delete, update_tool

HISTORY_RUNS = 10
# Which resource kind an execution's target parameter names: the read parameters, inverted.
TARGET_KINDS = {param: kind for kind, param in PARAM.items()}


@read("ListProcedures", "List procedures")
async def list_procedures(
    ctx: Context,
    page: PageNumber = 1,
    page_size: PageSize = 50,
    trigger: Annotated[ProcedureTrigger | None, Field(description="scheduled (schedule set and enabled), webhook "
                       "(webhook with a secret), manual (neither)")] = None,
) -> Envelope[Page[ProcedureItem]]:
    """List procedures with trigger, schedule, number of steps, next run and the last run's result."""
    app = app_of(ctx)
    query: dict[str, Any] = {"specific": {"scheduled": True}} if trigger == "scheduled" else {}
    return ok(await list_resources(app, "Procedure", page=page, page_size=page_size, query=query,
                                   mapper=procedure_item,
                                   keep=(lambda p: p.trigger == trigger) if trigger else None))


async def _target_names(komodo: KomodoClient, config: dict[str, Any]) -> dict[str, str]:
    """Names for the ids the procedure's executions point at, one list call per kind involved (only ids: a
    target given by name needs no lookup, and a query mixing ids and names finds nothing)."""
    wanted: dict[str, set[str]] = {}
    for stage in config.get("stages", []):
        for execution in stage.get("executions", []):
            for key, value in (execution["execution"].get("params") or {}).items():
                if key in TARGET_KINDS and isinstance(value, str) and is_object_id(value):
                    wanted.setdefault(TARGET_KINDS[key], set()).add(value)
    kinds = sorted(wanted)
    results = await gather(*(komodo.read(f"List{k}s", query={"names": sorted(wanted[k])}, limit=0) for k in kinds),
                           tolerate=True)
    return {item["id"]: item["name"] for found in results if isinstance(found, list) for item in found}


@read("GetProcedure", "Get procedure")
async def get_procedure(ctx: Context, id: ProcedureId) -> Envelope[ProcedureDetail]:
    """One procedure in depth: every step (stage, execution type, target by name) and its recent runs."""
    app = app_of(ctx)
    full, item, tags, _, (runs,) = await resource_in_one_round(app, "Procedure", id, by_id=lambda procedure_id: [
        recent_runs(app, "Procedure", procedure_id, ("RunProcedure",), HISTORY_RUNS)])
    names = await _target_names(app.komodo, full["config"])
    return ok(procedure_detail(full, item, tags, names, runs))


@execute("RunProcedure", "Run procedure")
async def run_procedure(
    ctx: Context,
    id: ProcedureId,
    variables: Annotated[dict[str, str], Field(description="Komodo procedures take no variables: reported as "
                                               "ignored")] = {},  # noqa: B006
    options: RunOptions | None = None,
) -> Envelope[ProcedureRunResult]:
    """Run a procedure: its stages run one after another, each stage's executions side by side, each with a job
    of its own. Returns at once unless options.async is false, then waits (with progress) up to options.timeout."""
    app = app_of(ctx)
    opts = options or RunOptions()
    started = await start(app, "Procedure", id, "RunProcedure")
    update, waited = started.update, opts.async_ is False
    if waited:
        update, _ = await wait(ctx, app, started.job_id, opts.timeout or DEFAULT_WAIT_SECONDS)
    ignored = ["variables: Komodo procedures take no variables"] if variables else []
    return ok(_procedure_result(app, started, f"Running procedure {started.name}", ignored, update, waited,
                                timeout=opts.timeout, variables=variables))


@answers("RunProcedure")
def _procedure_result(app: App, started: Started, message: str, ignored: list[str] | None = None,
                      update: dict[str, Any] | None = None, waited: bool = False, timeout: int | None = None,
                      variables: dict[str, str] | None = None) -> ProcedureRunResult:
    update = update or started.update
    # Komodo reports a procedure's stages as lines of its one "Execute procedure" log (helpers/procedure.rs).
    progress = job_progress(update, procedure_stages(started.resource["config"]))
    fields = result_fields(app, started, message, ignored, update, waited)
    fields.update(steps=progress.steps, current_step_name=progress.current,
                  current_step=progress.finished + 1 if progress.current else 0)
    return ProcedureRunResult(**fields, execution_id=started.job_id, procedure_id=started.id,
                              procedure_name=started.name, timeout=timeout, variables=variables or {},
                              steps_total=len(progress.steps), steps_completed=progress.finished)


class ExecutionInput(LazyModel):
    type: str = Field(min_length=1, description="A Komodo execution, e.g. Deploy, RunBuild, RunAction, DeployStack, "
                                                "or Sleep")
    params: dict[str, Any] = Field(default_factory=dict, description="Its parameters, e.g. {\"deployment\": \"api\"} "
                                   "or {\"duration_ms\": 30000} for Sleep")
    enabled: bool = True


class StageInput(LazyModel):
    name: str = Field(min_length=1)
    executions: list[ExecutionInput] = Field(description="Run side by side")
    enabled: bool = True


class ProcedureFields(LazyModel):
    stages: list[StageInput] = Field(description="Run one after another")
    schedule: str = Field(description="English ('Every day at 02:00') or cron ('0 0 2 * * *')")
    schedule_format: Literal["English", "Cron"] = Field(description="How schedule is written")
    schedule_enabled: bool = Field(description="Run on the schedule")
    schedule_timezone: str = Field(description="IANA timezone of the schedule, e.g. Europe/Paris")
    failure_alert: bool = Field(description="Alert when a run fails")
    webhook_enabled: bool = Field(description="Allow git webhooks to run it")


def procedure_config(values: dict[str, Any]) -> dict[str, Any]:
    config = dict(values)
    if "stages" in values:
        config["stages"] = [{"name": stage["name"], "enabled": stage["enabled"], "executions": [
            {"enabled": e["enabled"], "execution": {"type": e["type"], "params": e["params"]}}
            for e in stage["executions"]]} for stage in (s.model_dump() if isinstance(s, BaseModel) else s
                                                          for s in values["stages"])]
    return config


create_procedure = write("CreateProcedure", "Create procedure")(create_tool(
    "Procedure", ProcedureFields, procedure_config, __name__,
    "Create a procedure: stages of Komodo executions run in order, on demand or on a schedule."))
update_procedure = write("UpdateProcedure", "Update procedure")(update_tool(
    "Procedure", ProcedureFields, procedure_config, __name__,
    "Change a procedure (only the fields given; stages are replaced whole); answers each changed field before and "
    "after.", ID))


@write("DeleteProcedure", "Delete procedure", destructive=True)
async def delete_procedure(ctx: Context, id: ProcedureId) -> Envelope[WriteResult]:
    """Delete a procedure from Komodo (its schedule stops)."""
    return ok(await delete(app_of(ctx), "Procedure", id))

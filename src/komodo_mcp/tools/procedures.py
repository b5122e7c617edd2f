"""Procedures: Komodo's multi-stage automations (stages run in order, executions in a stage side by side)."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from pydantic import Field

from ..client import KomodoClient, gather
from ..mapping.automation import procedure_detail, procedure_item
from ..mapping.envelope import Envelope, ok
from ..mapping.models import Page, ProcedureDetail, ProcedureItem
from ..mapping.status import ProcedureTrigger
from ._context import app_of
from ._history import recent_runs
from ._lists import list_resources
from ._params import PageNumber, PageSize, ProcedureId
from ._spec import read

HISTORY_RUNS = 10
# Which resource kind an execution's target parameter names.
TARGET_KINDS = {"deployment": "Deployment", "stack": "Stack", "build": "Build", "repo": "Repo",
                "procedure": "Procedure", "action": "Action", "server": "Server", "sync": "ResourceSync"}


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
    """Names for the ids the procedure's executions point at, one list call per kind involved."""
    wanted: dict[str, set[str]] = {}
    for stage in config.get("stages", []):
        for execution in stage.get("executions", []):
            for key, value in (execution["execution"].get("params") or {}).items():
                if key in TARGET_KINDS and isinstance(value, str):
                    wanted.setdefault(TARGET_KINDS[key], set()).add(value)
    kinds = sorted(wanted)
    results = await gather(*(komodo.read(f"List{k}s", query={"names": sorted(wanted[k])}, limit=0) for k in kinds),
                           tolerate=True)
    return {item["id"]: item["name"] for found in results if isinstance(found, list) for item in found}


@read("GetProcedure", "Get procedure")
async def get_procedure(ctx: Context, id: ProcedureId) -> Envelope[ProcedureDetail]:
    """One procedure in depth: every step (stage, execution type, target by name) and its recent runs."""
    app = app_of(ctx)
    komodo = app.komodo
    full, tags = await gather(komodo.read("GetProcedure", procedure=id), app.tag_names())
    procedure_id = full["_id"]["$oid"]
    items, runs, names = await gather(komodo.read("ListProcedures", query={"names": [procedure_id]}, limit=0),
                                      recent_runs(komodo, "Procedure", procedure_id, ("RunProcedure",), HISTORY_RUNS),
                                      _target_names(komodo, full["config"]))
    return ok(procedure_detail(full, items[0], tags, names, runs))

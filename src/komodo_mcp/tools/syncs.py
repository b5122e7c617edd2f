"""Resource syncs: Komodo's config-as-code, applying TOML from a repo to the fleet."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from pydantic import Field

from ..client import gather
from ..mapping.common import created_at, iso, tag_names
from ..mapping.envelope import Envelope, ok
from ..mapping.executions import SyncResult
from ..mapping.models import Page, SyncDetail, SyncItem
from ._context import App, app_of
from ._execution import Started, answers, result_fields, start
from ._lists import list_resources
from ._params import PageNumber, PageSize, ref
from ._spec import execute, read

SyncId = Annotated[str, ref("resource sync")]


def sync_item(item: dict[str, Any], full: dict[str, Any] | None, tags: dict[str, str]) -> SyncItem:
    return SyncItem(**_fields(item, full, tags))


def _fields(item: dict[str, Any], full: dict[str, Any] | None, tags: dict[str, str]) -> dict[str, Any]:
    info = item["info"]
    return {"id": item["id"], "name": item["name"], "tags": tag_names(item["tags"], tags),
            "createdAt": created_at(item["id"]), "updatedAt": iso(full["updated_at"]) if full else None,
            "state": info["state"], "repo": info.get("repo") or None, "branch": info.get("branch") or None,
            "resource_paths": info.get("resource_path", []), "managed": info.get("managed", False),
            "last_sync": iso(info.get("last_sync_ts")), "last_sync_commit": info.get("last_sync_hash"),
            "last_sync_message": info.get("last_sync_message")}


def _change(diff: dict[str, Any], names: dict[str, str]) -> str:
    kind, data = diff["data"]["type"], diff["data"].get("data") or {}
    target = diff.get("target") or {}
    name = data.get("name") or names.get(target.get("id", ""), target.get("id", ""))
    return f"{kind} {target.get('type', '')} {name}".strip()


def _variable_change(diff: dict[str, Any]) -> str:
    """'Update DEFAULT_REGION': the variable's name only, since its values may be secret."""
    data = diff.get("data") or {}
    text = data.get("proposed") or data.get("current") or ""
    return f"{diff['type']} {text.split('=', 1)[0].strip()}"


@read("ListResourceSyncs", "List resource syncs")
async def list_resource_syncs(ctx: Context, page: PageNumber = 1,
                              page_size: PageSize = 50) -> Envelope[Page[SyncItem]]:
    """List resource syncs (config-as-code) with their state: Pending means changes wait to be applied."""
    return ok(await list_resources(app_of(ctx), "ResourceSync", page=page, page_size=page_size, query={},
                                   mapper=sync_item))


@read("GetResourceSync", "Get resource sync")
async def get_resource_sync(ctx: Context, id: SyncId) -> Envelope[SyncDetail]:
    """One resource sync with the changes it would apply now: which resources and variables it would create,
    update or delete. Run them with komodo_execute_RunSync."""
    app = app_of(ctx)
    full, tags = await gather(app.komodo.read("GetResourceSync", sync=id), app.tag_names())
    items = await app.komodo.read("ListResourceSyncs", query={"names": [full["_id"]["$oid"]]}, limit=0)
    info = full.get("info") or {}
    diffs = info.get("resource_updates") or []
    kinds = sorted({d["target"]["type"] for d in diffs if d.get("target", {}).get("id")})
    found = await gather(*(app.komodo.read(f"List{k}s", query={"names": [d["target"]["id"] for d in diffs
                                                                        if d["target"]["type"] == k]}, limit=0)
                           for k in kinds))
    names = {item["id"]: item["name"] for items_of_kind in found for item in items_of_kind}
    deploys = info.get("pending_deploys") or []
    return ok(SyncDetail(
        **_fields(items[0], full, tags),
        pending_resource_changes=[_change(d, names) for d in diffs],
        pending_variable_changes=[_variable_change(v) for v in info.get("variable_updates") or []],
        pending_deploys=f"{len(deploys)} deploys would follow" if deploys else None,
        pending_error=info.get("pending_error")))


@execute("RunSync", "Run resource sync")
async def run_sync(
    ctx: Context,
    id: SyncId,
    resource_type: Annotated[Literal["Server", "Deployment", "Stack", "Build", "Repo", "Procedure", "Action",
                                     "ResourceSync", "Builder", "Alerter"] | None,
                             Field(description="Apply only the changes to this kind of resource")] = None,
    resources: Annotated[list[str], Field(description="Apply only the changes to these resources (names); needs "
                                          "resource_type")] = [],  # noqa: B006
) -> Envelope[SyncResult]:
    """Apply a resource sync's pending changes (see komodo_read_GetResourceSync): creates, updates and, when the
    sync is set to, deletes resources to match its TOML. Returns a job_id at once."""
    app = app_of(ctx)
    params: dict[str, Any] = {}
    if resource_type:
        params["resource_type"] = resource_type
        params["resources"] = resources
    started = await start(app, "ResourceSync", id, "RunSync", **params)
    return ok(_sync_result(app, started, f"Running sync {started.name}"))


@answers("RunSync")
def _sync_result(app: App, started: Started, message: str, update: dict[str, Any] | None = None,
                 waited: bool = False) -> SyncResult:
    return SyncResult(**result_fields(app, started, message, None, update, waited), sync_id=started.id,
                      sync_name=started.name)

"""The fleet as a whole: summary, version, schedules, builders, alerters, tags, and TOML export."""

from __future__ import annotations

import json
import re
from math import ceil
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from pydantic import Field

from .. import __version__
from ..client import InvalidRequest, KomodoError, gather, list_all
from ..mapping.alerts import alert_brief
from ..mapping.common import created_at, iso, split_ids_and_names, tag_names
from ..mapping.envelope import Envelope, ok
from ..config import CATEGORIES
from ..mapping.models import (AlerterItem, BuilderItem, InstanceItem, InstanceList, JobBrief, Page, ScheduleItem,
                              Summary, TagItem, TomlExport, VersionInfo)
from ..mapping.status import DEPLOYMENT_OF_BUCKET, STACK_OF_BUCKET, alert_severity, summary_by_status
from ..redact import MASK, mask_text
from ._context import PARAM, App, app_of, instance_versions
from ._lists import list_resources
from ._params import PageNumber, PageSize, ResourceKind, given, kind_of
from ._spec import read, write
from ._writes import FieldChange, WriteResult
from .alerts import all_alerts

SUMMARIES = (("servers", "Servers"), ("deployments", "Deployments"), ("stacks", "Stacks"), ("builds", "Builds"),
             ("repos", "Repos"), ("procedures", "Procedures"), ("actions", "Actions"), ("syncs", "ResourceSyncs"))
# Deployments and stacks are counted under the statuses their list items show, not Komodo's bucket names.
REGROUPED = {"deployments": DEPLOYMENT_OF_BUCKET, "stacks": STACK_OF_BUCKET}
SEVERITY_ORDER = {"critical": 0, "error": 1, "warning": 2, "info": 3}
TOP_ALERTS = 10
# A resource's block header (`[[deployment]]`), not a sub-table like `[[procedure.config.stage]]` or a variable.
_TOML_RESOURCE = re.compile(r"^\[\[(?!variable\]\]|user_group\]\])[a-z_]+\]\]\s*$", re.MULTILINE)


@read("GetSummary", "Get fleet summary")
async def get_summary(ctx: Context) -> Envelope[Summary]:
    """The whole fleet in one call: counts by state for every resource kind, open alerts (most severe first) and
    jobs running now. Start here to answer "is anything broken?"."""
    return ok(await fleet_summary(app_of(ctx)))


async def fleet_summary(app: App) -> Summary:
    komodo = app.komodo
    *counts, alerts, running = await gather(
        *(komodo.read(f"Get{kind}Summary") for _, kind in SUMMARIES),
        all_alerts(komodo, {"resolved": False}), komodo.read("ListUpdates", query={"status": "InProgress"}),
        tolerate=True)
    notes = [f"{name} unavailable: {value.message}" for (name, _), value in zip(SUMMARIES, counts)
             if isinstance(value, KomodoError)]
    if isinstance(alerts, KomodoError):
        raise alerts
    by_severity: dict[str, int] = {}
    for alert in alerts:
        severity = alert_severity(alert["level"], alert["data"]["type"])
        by_severity[severity] = by_severity.get(severity, 0) + 1
    ranked = sorted(alerts, key=lambda a: (SEVERITY_ORDER[alert_severity(a["level"], a["data"]["type"])], -a["ts"]))
    jobs = [] if isinstance(running, KomodoError) else running["updates"]
    return Summary(
        **{name: ({} if isinstance(value, KomodoError) else summary_by_status(value, REGROUPED[name])
                  if name in REGROUPED else value) for (name, _), value in zip(SUMMARIES, counts)},
        open_alerts=len(alerts), open_alerts_by_severity=by_severity,
        top_alerts=[alert_brief(a) for a in ranked[:TOP_ALERTS]],
        running_jobs=[JobBrief(job_id=u["id"], operation=u["operation"], resource_type=u["target"]["type"],
                               resource_id=u["target"]["id"], started_at=iso(u["start_ts"]), operator=u["username"])
                      for u in jobs],
        notes=notes)


@read("GetVersion", "Get version")
async def get_version(ctx: Context) -> Envelope[VersionInfo]:
    """Komodo's version and settings that matter to a client, and this server's version and enabled toolsets."""
    from ._registry import select  # the registry imports this module

    app = app_of(ctx)
    version, core = await gather(app.komodo.read("GetVersion"), app.komodo.read("GetCoreInfo"))
    return ok(VersionInfo(
        komodo_version=version["version"], komodo_title=core.get("title", ""), komodo_url=app.settings.url,
        default_pagination_limit=core.get("default_pagination_limit", 50), server_name="komodo-mcp",
        server_version=__version__, toolsets=list(app.settings.toolsets), read_only=app.settings.read_only,
        tools=len(select(app.settings))))


@read("ListInstances", "List Komodo instances")
async def list_instances(ctx: Context) -> Envelope[InstanceList]:
    """The Komodo instances this server reaches (e.g. staging and production), each with whether it answers now,
    its Komodo version and what its policy denies. Pass a name as `instance` to any tool; job ids carry their
    instance (`staging:<id>`)."""
    versions = await instance_versions(app_of(ctx))
    return ok(InstanceList(items=[InstanceItem(
        name=each.name, default=index == 0, url=each.settings.url, reachable=not isinstance(version, KomodoError),
        komodo_version=None if isinstance(version, KomodoError) else version.get("version"),
        error=f"{version.code}: {version.message}" if isinstance(version, KomodoError) else None,
        denied=[category for category in CATEGORIES if each.settings.denial(category)])
        for index, (each, version) in enumerate(versions)]))


@read("ListSchedules", "List schedules")
async def list_schedules(ctx: Context, page: PageNumber = 1, page_size: PageSize = 50) -> Envelope[Page[ScheduleItem]]:
    """What runs when: every scheduled procedure and action, with next and last run."""
    app = app_of(ctx)
    schedules, tags = await gather(app.komodo.read("ListSchedules", limit=0), app.tag_names())
    items = [ScheduleItem(resource_type=s["target"]["type"], resource_id=s["target"]["id"], name=s["name"],
                          schedule=s["schedule"], schedule_format=s["schedule_format"],
                          timezone=s.get("schedule_timezone") or None, enabled=s["enabled"],
                          last_run=iso(s.get("last_run_at")), next_run=iso(s.get("next_scheduled_run")),
                          error=s.get("schedule_error"), tags=tag_names(s.get("tags", []), tags)) for s in schedules]
    return ok(Page[ScheduleItem](items=items[(page - 1) * page_size:page * page_size], total=len(items), page=page,
                                 pageSize=page_size, totalPages=ceil(len(items) / page_size)))


def _builder(item: dict[str, Any], full: dict[str, Any] | None, tags: dict[str, str]) -> BuilderItem:
    params = ((full or {}).get("config") or {}).get("params") or {}
    return BuilderItem(id=item["id"], name=item["name"], tags=tag_names(item["tags"], tags),
                       createdAt=created_at(item["id"]), updatedAt=iso(full["updated_at"]) if full else None,
                       builder_type=item["info"]["builder_type"],
                       # A Server builder's list item puts its joined server ids in `instance_type`.
                       instance_type=item["info"].get("instance_type") if item["info"]["builder_type"] == "Aws" else None,
                       server_ids=list(params.get("server_ids") or []))


@read("ListBuilders", "List builders")
async def list_builders(ctx: Context, page: PageNumber = 1, page_size: PageSize = 50) -> Envelope[Page[BuilderItem]]:
    """List builders: where builds run (a server, a URL, or AWS instances started on demand)."""
    return ok(await list_resources(app_of(ctx), "Builder", page=page, page_size=page_size, query={},
                                   mapper=_builder))


def _alerter(item: dict[str, Any], full: dict[str, Any] | None, tags: dict[str, str]) -> AlerterItem:
    return AlerterItem(id=item["id"], name=item["name"], tags=tag_names(item["tags"], tags),
                       createdAt=created_at(item["id"]), updatedAt=iso(full["updated_at"]) if full else None,
                       enabled=item["info"]["enabled"], endpoint_type=item["info"]["endpoint_type"])


@read("ListAlerters", "List alerters")
async def list_alerters(ctx: Context, page: PageNumber = 1, page_size: PageSize = 50) -> Envelope[Page[AlerterItem]]:
    """List alerters: where Komodo sends alerts (Slack, Discord, ntfy, Pushover, custom webhooks)."""
    return ok(await list_resources(app_of(ctx), "Alerter", page=page, page_size=page_size, query={},
                                   mapper=_alerter))


@read("ListTags", "List tags")
async def list_tags(ctx: Context) -> Envelope[list[TagItem]]:
    """List the tags used to group resources; every list tool shows tags by these names."""
    tags = await app_of(ctx).komodo.read("ListTags")
    return ok([TagItem(id=t["_id"]["$oid"], name=t["name"], color=t.get("color")) for t in tags])


@read("ExportToml", "Export resources as TOML")
async def export_toml(
    ctx: Context,
    resource_type: Annotated[ResourceKind | None, Field(description="Export only resources of this kind")] = None,
    ids: Annotated[list[str], Field(max_length=100, description="Export only these resources (ids or names; "
                                    "needs resource_type); empty means all")] = [],  # noqa: B006
    include_variables: Annotated[bool, Field(description="Also export variables (secret values stay hidden)")] = False,
) -> Envelope[TomlExport]:
    """Resources as Komodo's own config-as-code TOML (what a resource sync reads). Credential-looking values are
    masked unless the server runs with --show-secrets; long exports are cut with a note."""
    app = app_of(ctx)
    komodo = app.komodo
    kind = kind_of(resource_type) if resource_type else ""
    if kind:
        queries = [{"names": group} for group in split_ids_and_names(ids)] or [{}]
        found = await gather(*(list_all(komodo, f"List{kind}s", query) for query in queries))
        targets = [{"type": kind, "id": item_id} for item_id in {item["id"]: None for items in found for item in items}]
        exported = await komodo.read("ExportResourcesToToml", targets=targets, user_groups=[],
                                     include_variables=include_variables)
        count = len(targets)
    else:
        exported = await komodo.read("ExportAllResourcesToToml", include_resources=True,
                                     include_variables=include_variables, tags=[])
        count = len(_TOML_RESOURCE.findall(exported["toml"]))
    toml = exported["toml"]
    if not app.settings.show_secrets:
        secrets = [v["value"] for v in await komodo.read("ListVariables") if v.get("is_secret") and v.get("value")]
        toml = mask_toml(toml, secrets)
    budget = app.settings.log_budget_chars
    truncated = len(toml) > budget
    return ok(TomlExport(toml=toml[:budget], resources=count, truncated=truncated,
                         note=f"cut to {budget} of {len(toml)} characters; export one kind or a few ids"
                         if truncated else None))


def mask_toml(toml: str, secret_values: list[str]) -> str:
    """Mask the secret variables' values, raw or as TOML escapes them, then every secret-keyed or
    credential-shaped value (a one-line `environment = "DB_PASSWORD=…"` included)."""
    for value in secret_values:
        # As written, as a TOML basic string escapes it (like JSON), and with only its quotes escaped.
        for form in {value, json.dumps(value)[1:-1], value.replace('"', '\\"')}:
            toml = toml.replace(form, MASK)
    return mask_text(toml)


@write("UpdateResourceMeta", "Update tags and description", idempotent=True)
async def update_resource_meta(
    ctx: Context,
    resource_type: Annotated[ResourceKind, Field(description="Kind of resource")],
    id: Annotated[str, Field(min_length=1, max_length=256, description="The resource's id or name")],
    description: Annotated[str | None, Field(max_length=2000, description="New description")] = None,
    tags: Annotated[list[str] | None, Field(description="The full new set of tag names; unknown tags are "
                                            "created")] = None,
    template: Annotated[bool | None, Field(description="Mark as a template (hidden from normal lists)")] = None,
) -> Envelope[WriteResult]:
    """Set a resource's tags, description or template flag; answers what changed."""
    app = app_of(ctx)
    kind = kind_of(resource_type)
    before = await app.komodo.read(f"Get{kind}", **{PARAM[kind]: id})
    changes = given(description=description, tags=tags, template=template)
    if not changes:
        raise InvalidRequest("Nothing to update: give description, tags or template",
                             {"fields": [{"field": "(arguments)", "message": "no field given"}]})
    resource_id = before["_id"]["$oid"]
    await app.komodo.write("UpdateResourceMeta", target={"type": kind, "id": resource_id}, **changes)
    after, names = await gather(app.komodo.read(f"Get{kind}", **{PARAM[kind]: resource_id}), app.tag_names(fresh=True))
    view = lambda doc: {"description": doc["description"], "template": doc["template"],  # noqa: E731
                        "tags": tag_names(doc["tags"], names)}
    old, new = view(before), view(after)
    changed = {k: FieldChange(before=old[k], after=new[k]) for k in changes if old[k] != new[k]}
    return ok(WriteResult(id=resource_id, name=after["name"], resource_type=kind,
                          operation="updated" if changed else "unchanged", changed=changed,
                          message=f"{'Updated' if changed else 'No change to'} {kind.lower()} {after['name']}"))

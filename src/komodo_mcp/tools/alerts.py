"""Alerts: what Komodo raised about servers, containers, builds and runs."""

from __future__ import annotations

import time
from math import ceil
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from pydantic import Field

from ..mapping.alerts import alert_detail, alert_item
from ..mapping.envelope import Envelope, ok
from ..mapping.models import AlertDetail, AlertItem, Page
from ..mapping.status import Severity, severity_query
from ._context import app_of
from ._params import AlertId, PageNumber, PageSize, ResourceKindOrSystem, kind_of
from ._spec import read, write
from ._writes import FieldChange, WriteResult



async def all_alerts(komodo: Any, query: dict[str, Any]) -> list[dict[str, Any]]:
    """ListAlerts pages by 100 with a next_page cursor; exact totals need every page."""
    alerts, page = [], 0
    while page is not None:
        answer = await komodo.read("ListAlerts", query=query, page=page)
        alerts.extend(answer["alerts"])
        page = answer.get("next_page")
    return alerts


@read("ListAlerts", "List alerts")
async def list_alerts(
    ctx: Context,
    page: PageNumber = 1,
    page_size: PageSize = 50,
    severity: Annotated[Severity | None, Field(description="critical, warning or info (Komodo levels CRITICAL, "
                        "WARNING, OK); error = failed builds, procedures and actions")] = None,
    resolved: Annotated[bool | None, Field(description="false = open alerts only, true = resolved only")] = None,
    resource_type: Annotated[ResourceKindOrSystem | None, Field(description="Kind of resource the alert is about")] = None,
) -> Envelope[Page[AlertItem]]:
    """List alerts, newest first, with severity, the resource concerned and a readable title and message.

    Start here for "what is broken": `resolved: false` gives the open alerts. Filters run inside Komodo.
    """
    query: dict[str, Any] = {}
    if severity:
        query |= severity_query(severity)
    if resolved is not None:
        query["resolved"] = resolved
    if resource_type:
        query["target.type"] = kind_of(resource_type)
    alerts = await all_alerts(app_of(ctx).komodo, query)
    chunk = alerts[(page - 1) * page_size:page * page_size]
    return ok(Page[AlertItem](items=[alert_item(a) for a in chunk], total=len(alerts), page=page,
                              pageSize=page_size, totalPages=ceil(len(alerts) / page_size)))


@read("GetAlert", "Get alert")
async def get_alert(ctx: Context, id: AlertId) -> Envelope[AlertDetail]:
    """One alert in depth: description, timeline, suggested next steps and other alerts on the same resource."""
    komodo = app_of(ctx).komodo
    alert = await komodo.read("GetAlert", id=id)
    related = await komodo.read("ListAlerts", query={"target.type": alert["target"]["type"],
                                                     "target.id": alert["target"]["id"]})
    return ok(alert_detail(alert, related["alerts"][:20], int(time.time() * 1000)))


@write("CloseAlert", "Close alert", idempotent=True)
async def close_alert(ctx: Context, id: AlertId) -> Envelope[WriteResult]:
    """Mark an alert resolved by hand (when its cause is gone but Komodo has not noticed). Admins only."""
    komodo = app_of(ctx).komodo
    alert = await komodo.read("GetAlert", id=id)
    await komodo.write("CloseAlert", id=id)
    item = alert_item(alert)
    return ok(WriteResult(id=id, name=item.title, resource_type="Alert", operation="closed",
                          changed={"resolved": FieldChange(before=alert["resolved"], after=True)},
                          message=f"Closed alert: {item.title}"))

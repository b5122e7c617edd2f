"""Servers: the hosts Komodo manages through its Periphery agent."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context
from pydantic import Field

from ..client import KomodoError, gather
from ..mapping.alerts import alert_brief
from ..mapping.envelope import Envelope, ok
from ..mapping.models import Page, ServerDetail, ServerItem
from ..mapping.servers import server_detail, server_item
from ..mapping.status import SERVER, ServerStatus
from ._context import app_of
from ._lists import list_resources
from ._params import PageNumber, PageSize, ServerId
from ._spec import read


@read("ListServers", "List servers")
async def list_servers(
    ctx: Context,
    page: PageNumber = 1,
    page_size: PageSize = 50,
    status: Annotated[ServerStatus | None, Field(description="running = reachable (Ok), error = unreachable "
                                                 "(NotOk), stopped = disabled in Komodo; Komodo has no pending")] = None,
) -> Envelope[Page[ServerItem]]:
    """List the servers Komodo manages, with reachability status, region, host and tags.

    Use it to find a server's id or to see which hosts are down. Paged; `total` is exact.
    """
    if status == "pending":  # Komodo has no such state, so nothing matches
        return ok(Page[ServerItem](items=[], total=0, page=page, pageSize=page_size, totalPages=0))
    app = app_of(ctx)
    query = {"specific": {"states": list(SERVER[status])}} if status else {}
    return ok(await list_resources(app, "Server", page=page, page_size=page_size, query=query, mapper=server_item))


@read("GetServer", "Get server")
async def get_server(ctx: Context, id: ServerId) -> Envelope[ServerDetail]:
    """One server in depth: status, hardware, live CPU/memory/disk/network, its deployments and open alerts.

    When the server is unreachable the live fields are null and `notes` says why; the rest is still answered.
    """
    app = app_of(ctx)
    komodo = app.komodo
    full, stats, system, tags = await gather(
        komodo.read("GetServer", server=id), komodo.read("GetSystemStats", server=id),
        komodo.read("GetSystemInformation", server=id), app.tag_names(), tolerate=True)
    if isinstance(full, KomodoError):
        raise full
    if isinstance(tags, KomodoError):
        raise tags
    server_id = full["_id"]["$oid"]
    items, deployments, alerts = await gather(
        komodo.read("ListServers", query={"names": [server_id]}, limit=0),
        komodo.read("ListDeployments", query={"specific": {"server_ids": [server_id]}}, limit=0),
        komodo.read("ListAlerts", query={"target.type": "Server", "target.id": server_id, "resolved": False}))
    notes = []
    for name, value in (("metrics", stats), ("config", system)):
        if isinstance(value, KomodoError):
            notes.append(f"{name} unavailable: {value.message}")
    return ok(server_detail(
        full, items[0], tags, stats=None if isinstance(stats, KomodoError) else stats,
        system=None if isinstance(system, KomodoError) else system, deployments=deployments,
        alerts=[alert_brief(a, tags) for a in alerts["alerts"]], notes=notes))

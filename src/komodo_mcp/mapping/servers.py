"""Komodo servers → the reference's server shapes."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from .common import created_at, iso, tag_names
from .models import AlertBrief, ServerDetail, ServerHardware, ServerItem, ServerMetrics
from .status import server_status

_AWS_REGION = re.compile(r"^(us|eu|ap|sa|ca|me|af|il|mx)(-gov)?-[a-z]+-\d$")
_GCP_REGION = re.compile(r"^(us|europe|asia|australia|northamerica|southamerica|me|africa)-[a-z]+\d+$")
_AZURE_REGION = re.compile(r"^(east|west|north|south|central|uk|france|germany|japan|korea|brazil|canada|australia)"
                           r"[a-z]*\d?$")


def host_and_port(address: str) -> tuple[str | None, int | None]:
    """Periphery's address; empty means Periphery connects out to Core, so there is no host to show."""
    if not address:
        return None, None
    parts = urlsplit(address if "://" in address else f"https://{address}")
    port = parts.port or {"https": 443, "http": 80, "wss": 443, "ws": 80}.get(parts.scheme)
    return parts.hostname, port


def provider(region: str, tags: list[str]) -> str:
    """Komodo records no cloud provider: a `provider:<name>` tag decides, else the region's naming scheme."""
    for tag in tags:
        if tag.startswith("provider:"):
            return tag.split(":", 1)[1]
    if _AWS_REGION.match(region):
        return "aws"
    if _GCP_REGION.match(region):
        return "gcp"
    if _AZURE_REGION.match(region):
        return "azure"
    return "self-hosted"


def server_item(item: dict[str, Any], full: dict[str, Any] | None, tags: dict[str, str]) -> ServerItem:
    return ServerItem(**_server_fields(item, full, tags))


def _server_fields(item: dict[str, Any], full: dict[str, Any] | None, tags: dict[str, str]) -> dict[str, Any]:
    info = item["info"]
    names = tag_names(item["tags"], tags)
    host, port = host_and_port(info.get("address") or info.get("external_address") or "")
    return {"id": item["id"], "name": item["name"], "host": host, "port": port,
            "status": server_status(info["state"]), "state": info["state"], "tags": names,
            "region": info.get("region", ""), "provider": provider(info.get("region", ""), names),
            "createdAt": created_at(item["id"]), "updatedAt": iso(full["updated_at"]) if full else None,
            "description": full.get("description", "") if full else ""}


def container_owner(name: str, deployments: list[dict[str, Any]], stacks: list[dict[str, Any]]) -> str | None:
    """The deployment or stack a container belongs to, by name as Komodo matches them (Core never sends Docker's
    labels): a deployment's container is named after it (or its custom name), a stack's are compose's
    `<stack>-<service>-<n>` (`helpers/query.rs`, get_stack_state_from_containers)."""
    for deployment in deployments:
        if name == (deployment["info"].get("custom_name") or deployment["name"]):
            return deployment["name"]
    for stack in stacks:
        services = [s["service"] for s in stack["info"].get("services") or []]
        if any(re.fullmatch(rf"{re.escape(stack['name'])}[-_]{re.escape(service)}([-_]\d+)?", name)
               for service in services):
            return stack["name"]
    return None


def _gb(value: float) -> str:
    return f"{value:.1f}GB" if value % 1 else f"{int(value)}GB"


def _rate(bytes_per_second: float) -> str:
    for unit, size in (("GB/s", 1e9), ("MB/s", 1e6), ("KB/s", 1e3)):
        if bytes_per_second >= size:
            return f"{bytes_per_second / size:.1f}{unit}"
    return f"{bytes_per_second:.0f}B/s"


def metrics(stats: dict[str, Any]) -> ServerMetrics:
    disks = stats.get("disks") or []
    disk_used = sum(d["used_gb"] for d in disks) if disks else stats.get("disk_used_gb", 0.0)
    disk_total = sum(d["total_gb"] for d in disks) if disks else stats.get("disk_total_gb", 0.0)
    load = stats.get("load_average")
    return ServerMetrics(
        uptime=None,  # Periphery reports no host uptime
        cpu_usage=f"{stats['cpu_perc']:.0f}%",
        memory_usage=f"{_gb(stats['mem_used_gb'])} / {_gb(stats['mem_total_gb'])}",
        disk_usage=f"{_gb(disk_used)} / {_gb(disk_total)}",
        network_in=_rate(stats.get("network_ingress_bytes") or 0.0),
        network_out=_rate(stats.get("network_egress_bytes") or 0.0),
        load_average=f"{load['one']:.2f} {load['five']:.2f} {load['fifteen']:.2f}" if load else None,
    )


def hardware(system: dict[str, Any] | None, stats: dict[str, Any] | None) -> ServerHardware:
    if not system and not stats:
        return ServerHardware()
    system, stats = system or {}, stats or {}
    cores = system.get("core_count")
    disks = stats.get("disks") or []
    return ServerHardware(
        memory=_gb(stats["mem_total_gb"]) if "mem_total_gb" in stats else None,
        cpu=f"{cores} cores" + (f" ({system['cpu_brand']})" if system.get("cpu_brand") else "") if cores else None,
        disk=_gb(sum(d["total_gb"] for d in disks)) if disks else None,
        os=system.get("os"),
    )


def server_detail(full: dict[str, Any], item: dict[str, Any], tags: dict[str, str], *, stats: dict | None,
                  system: dict | None, deployments: list[dict[str, Any]], alerts: list[AlertBrief],
                  notes: list[str]) -> ServerDetail:
    err = item["info"].get("err")
    return ServerDetail(
        **_server_fields(item, full, tags),
        config=hardware(system, stats),
        metrics=metrics(stats) if stats else None,
        deployments=[d["id"] for d in deployments],
        deployment_names=[d["name"] for d in deployments],
        alerts=alerts,
        error=err["error"] if err else None,
        notes=notes,
    )

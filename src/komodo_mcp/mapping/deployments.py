"""Komodo deployments → the reference's deployment shapes."""

from __future__ import annotations

from typing import Any

from .common import created_at, env_mapping, human_duration, image_tag, iso, lines, tag_names
from .models import DeploymentDetail, DeploymentHealth, DeploymentItem, DeploymentMetrics, HistoryEntry
from .status import deployment_status, job_status

# Deployment states whose container is up (Docker's state `running`, with or without a failing health check).
RUNNING_CONTAINER = ("running", "unhealthy")


def deployment_item(item: dict[str, Any], full: dict[str, Any] | None, tags: dict[str, str],
                    show_secrets: bool) -> DeploymentItem:
    return DeploymentItem(**_deployment_fields(item, full, tags, show_secrets))


def _deployment_fields(item: dict[str, Any], full: dict[str, Any] | None, tags: dict[str, str],
                       show_secrets: bool) -> dict[str, Any]:
    info, config = item["info"], (full or {}).get("config", {})
    return {
        "id": item["id"], "name": item["name"], "tags": tag_names(item["tags"], tags),
        "createdAt": created_at(item["id"]), "updatedAt": iso(full["updated_at"]) if full else None,
        "server_id": info.get("server_id", ""), "server_name": info.get("server_name") or None,
        "status": deployment_status(info["state"]), "state": info["state"], "container_status": info.get("status"),
        "image": info.get("image", ""), "tag": image_tag(info.get("image", "")),
        "ports": lines(config.get("ports")), "volumes": lines(config.get("volumes")),
        "env": env_mapping(config.get("environment"), show_secrets),
        "network": config.get("network", "host"), "restart_policy": config.get("restart", "no"),
        "health_check": None, "update_available": info.get("update_available", False),
    }


def history_entry(update: dict[str, Any]) -> HistoryEntry:
    end = update.get("end_ts")
    version = update.get("version")
    return HistoryEntry(
        job_id=update["id"],
        version=f"{version['major']}.{version['minor']}.{version['patch']}" if version else None,
        deployed_at=iso(update["start_ts"]),
        deployed_by=update.get("username", update.get("operator", "")),
        status=job_status(update),
        duration=human_duration(end - update["start_ts"]) if end else None,
    )


def container_metrics(stats: dict[str, Any], uptime: str | None) -> DeploymentMetrics:
    return DeploymentMetrics(cpu_usage=stats["cpu_perc"], memory_usage=stats["mem_usage"],
                             memory_percent=stats["mem_perc"], network_io=stats["net_io"],
                             block_io=stats["block_io"], pids=stats["pids"], uptime=uptime)


def health(state: str, container_status: str | None) -> DeploymentHealth:
    """Docker's health lives in the status line ('Up 2 hours (unhealthy)'); Komodo keeps no check history."""
    text = (container_status or "").lower()
    if "(unhealthy)" in text or state == "unhealthy":
        status = "unhealthy"
    elif "(health: starting)" in text:
        status = "starting"
    elif "(healthy)" in text or state == "running":
        status = "healthy"
    elif state in ("unknown",):
        status = "unknown"
    else:
        status = "not running"
    return DeploymentHealth(status=status)


def uptime_of(container_status: str | None) -> str | None:
    if container_status and container_status.startswith("Up "):
        return container_status[3:].split(" (")[0]
    return None


def deployment_detail(full: dict[str, Any], item: dict[str, Any], tags: dict[str, str], show_secrets: bool, *,
                      container: dict[str, Any] | None, stats: dict[str, Any] | None,
                      history: list[dict[str, Any]], notes: list[str]) -> DeploymentDetail:
    fields = _deployment_fields(item, full, tags, show_secrets)
    last_deploy = next((h for h in history if h.get("success") and h["status"] == "Complete"), None)
    fields["lastDeployedAt"] = iso(last_deploy["start_ts"]) if last_deploy else None
    uptime = uptime_of(item["info"].get("status"))
    state = item["info"]["state"]
    if stats and state not in RUNNING_CONTAINER:
        # `docker stats` answers zeros for a container that is not running: that is no measurement.
        stats, notes = None, [*notes, f"metrics unavailable: the container is {state}"]
    return DeploymentDetail(
        **fields,
        container_id=(container or {}).get("id"),
        metrics=container_metrics(stats, uptime) if stats else None,
        health=health(item["info"]["state"], item["info"].get("status")),
        deployment_history=[history_entry(h) for h in history],
        notes=notes,
    )

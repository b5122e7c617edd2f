"""Komodo alerts → the reference's alert shapes: a title and message written for a person, severity mapped."""

from __future__ import annotations

from typing import Any

from .common import human_duration, iso
from .models import AlertBrief, AlertDetail, AlertItem, TimelineEvent
from .status import alert_severity

SUGGESTIONS: dict[str, list[str]] = {
    "ServerCpu": ["Check running processes on the server (komodo_read_ListContainers, stats per container)",
                  "Review recent deployments to this server (komodo_read_ListUpdates)",
                  "Scale horizontally if the load is sustained"],
    "ServerMem": ["Find the containers using the most memory", "Look for a memory leak in recently deployed images",
                  "Add memory or move deployments to another server"],
    "ServerDisk": ["Prune unused images and volumes (komodo_execute_PruneServer)", "Check log and volume growth"],
    "ServerUnreachable": ["Check that the Periphery agent is running on the host",
                          "Check network and firewall between Komodo Core and the host"],
    "ContainerStateChange": ["Read the container log (komodo_read_GetDeploymentLog)",
                             "Restart or redeploy once the cause is known"],
    "StackStateChange": ["Read the stack log (komodo_read_GetStackLog)", "Check which service changed state"],
    "BuildFailed": ["Read the failed build's job log (komodo_read_GetJob)", "Check the last commit on the repo"],
    "ProcedureFailed": ["Read the failed run's job log (komodo_read_GetJob)"],
    "ActionFailed": ["Read the failed run's output (komodo_read_GetJob)"],
}


def _describe(alert_type: str, data: dict[str, Any]) -> tuple[str, str, dict[str, str]]:
    name = data.get("name", "")
    match alert_type:
        case "ServerCpu":
            pct = data.get("percentage", 0.0)
            return f"High CPU Usage on {name}", f"CPU usage is at {pct:.0f}%", {"cpu_usage": f"{pct:.0f}%"}
        case "ServerMem":
            used, total = data.get("used_gb", 0.0), data.get("total_gb", 0.0)
            pct = 100 * used / total if total else 0
            return (f"High Memory Usage on {name}", f"Memory usage is {used:.1f}GB of {total:.1f}GB ({pct:.0f}%)",
                    {"memory_usage": f"{pct:.0f}%", "used": f"{used:.1f}GB", "total": f"{total:.1f}GB"})
        case "ServerDisk":
            used, total = data.get("used_gb", 0.0), data.get("total_gb", 0.0)
            pct = 100 * used / total if total else 0
            return (f"Disk Almost Full on {name}", f"Disk {data.get('path', '/')} is {pct:.0f}% full",
                    {"disk_usage": f"{pct:.0f}%", "path": str(data.get("path", "/"))})
        case "ServerUnreachable":
            err = (data.get("err") or {}).get("error", "no answer")
            return f"Server {name} Unreachable", f"Komodo cannot reach {name}: {err}", {}
        case "ServerVersionMismatch":
            return f"Version Mismatch on {name}", f"Periphery {data.get('server_version')} differs from Core", {}
        case "ContainerStateChange" | "StackStateChange":
            what = "Container" if alert_type.startswith("Container") else "Stack"
            frm, to = data.get("from", "?"), data.get("to", "?")
            return (f"{what} {name} is {to}", f"{what} {name} on {data.get('server_name', '?')} went from {frm} to {to}",
                    {"from": str(frm), "to": str(to)})
        case "BuildFailed" | "RepoBuildFailed":
            return f"Build {name} Failed", f"The build of {name} failed", {}
        case "ProcedureFailed" | "ActionFailed":
            what = alert_type.removesuffix("Failed")
            return f"{what} {name} Failed", f"The last run of {what.lower()} {name} failed", {}
        case "DeploymentImageUpdateAvailable" | "StackImageUpdateAvailable":
            return f"Image Update for {name}", f"A newer image is available for {name}", {}
        case "Custom":
            return data.get("message", "Custom alert"), data.get("details", data.get("message", "")), {}
    return f"{alert_type} on {name}".strip(), alert_type, {}


def _target_name(alert: dict[str, Any]) -> str | None:
    return (alert["data"].get("data") or {}).get("name")


def alert_item(alert: dict[str, Any]) -> AlertItem:
    alert_type, data = alert["data"]["type"], alert["data"].get("data") or {}
    title, message, metrics = _describe(alert_type, data)
    return AlertItem(
        id=alert["_id"]["$oid"], title=title, severity=alert_severity(alert["level"], alert_type),
        level=alert["level"], type=alert_type, resource_type=alert["target"]["type"].lower(),
        resource_id=alert["target"]["id"], resource_name=_target_name(alert), message=message,
        resolved=alert["resolved"], triggered_at=iso(alert["ts"]),
        last_updated=iso(alert.get("resolved_ts") or alert["ts"]), metrics=metrics)


def alert_brief(alert: dict[str, Any]) -> AlertBrief:
    item = alert_item(alert)
    return AlertBrief(id=item.id, title=item.title, severity=item.severity, triggered_at=item.triggered_at)


def alert_detail(alert: dict[str, Any], related: list[dict[str, Any]], now_ms: int) -> AlertDetail:
    item = alert_item(alert)
    timeline = [TimelineEvent(timestamp=iso(alert["ts"]), event="Alert triggered")]
    if alert["resolved"]:
        timeline.append(TimelineEvent(timestamp=iso(alert.get("resolved_ts")), event="Alert resolved"))
    else:
        timeline.append(TimelineEvent(timestamp=iso(now_ms),
                                      event=f"Still open after {human_duration(now_ms - alert['ts'])}"))
    return AlertDetail(
        **item.model_dump(),
        description=f"{item.message}. Raised by Komodo as {alert['level']} ({item.type}) on "
                    f"{alert['target']['type']} {item.resource_name or alert['target']['id']}.",
        timeline=timeline,
        suggested_actions=SUGGESTIONS.get(item.type, ["Inspect the resource with its Get tool"]),
        related_alerts=[r["_id"]["$oid"] for r in related if r["_id"]["$oid"] != item.id],
        notification_sent=None, notified_users=[])

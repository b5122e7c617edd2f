"""Komodo stacks (docker compose projects) → the reference's stack shapes."""

from __future__ import annotations

import re
from typing import Any

from .common import created_at, iso, tag_names
from .models import StackDetail, StackItem, StackServiceInfo
from .status import stack_status

# Core's stack status is `docker compose ls`'s STATUS: state(count) pairs, e.g. `exited(1), running(2)`.
_RUNNING = re.compile(r"\brunning\((\d+)\)")


def running_services(state: str, status: str | None, count: int) -> int:
    if state == "running":
        return count
    match = _RUNNING.search(status or "")
    return int(match[1]) if match else 0


def compose_file(config: dict[str, Any]) -> str | None:
    if config.get("file_paths"):
        return config["file_paths"][0]
    if config.get("file_contents"):
        return "compose.yaml (defined in Komodo)"
    return "compose.yaml" if config.get("repo") or config.get("files_on_host") else None


def top_level_keys(compose: str, section: str) -> list[str]:
    """Names declared under a top-level compose section (`networks:`, `volumes:`), without a YAML parser. The
    section's first indented line sets its keys' indentation (YAML allows any): deeper lines are their settings."""
    names, inside, key_indent = [], False, 0
    for line in compose.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            inside, key_indent = line.split(":", 1)[0].strip() == section, 0
            continue
        if inside:
            indent = len(line) - len(line.lstrip())
            key_indent = key_indent or indent
            if indent == key_indent and ":" in line:
                names.append(line.strip().split(":", 1)[0].strip().strip("'\""))
    return names


def _fields(item: dict[str, Any], full: dict[str, Any] | None, tags: dict[str, str]) -> dict[str, Any]:
    info, config = item["info"], (full or {}).get("config", {})
    services = [s["service"] for s in info.get("services", [])]
    return {
        "id": item["id"], "name": item["name"], "tags": tag_names(item["tags"], tags),
        "createdAt": created_at(item["id"]), "updatedAt": iso(full["updated_at"]) if full else None,
        "server_id": info.get("server_id", ""), "server_name": info.get("server_name") or None,
        "status": stack_status(info["state"]), "state": info["state"], "services": services,
        "service_count": len(services), "running_services": running_services(info["state"], info.get("status"),
                                                                              len(services)),
        "compose_file": compose_file(config),
    }


def stack_item(item: dict[str, Any], full: dict[str, Any] | None, tags: dict[str, str]) -> StackItem:
    return StackItem(**_fields(item, full, tags))


def _port(port: Any) -> str:
    if isinstance(port, dict):
        public, private = port.get("PublicPort"), port.get("PrivatePort")
        return f"{public}:{private}" if public else str(private)
    return str(port)


def service_info(service: dict[str, Any]) -> StackServiceInfo:
    container = service.get("container") or {}
    return StackServiceInfo(name=service["service"], status=str(service["state"]).lower(), image=service["image"],
                            ports=[_port(p) for p in container.get("ports") or []],
                            replicas=1 if container else 0, container=container.get("name"))


def compose_content(full: dict[str, Any]) -> str | None:
    config, info = full.get("config", {}), full.get("info") or {}
    if config.get("file_contents"):
        return config["file_contents"]
    for key in ("deployed_contents", "remote_contents"):
        files = info.get(key) or []
        if files:
            return files[0].get("contents")
    return None


def stack_detail(full: dict[str, Any], item: dict[str, Any], tags: dict[str, str], services: list[dict[str, Any]],
                 content: str | None, notes: list[str]) -> StackDetail:
    fields = _fields(item, full, tags)
    compose = compose_content(full) or ""
    fields["services"] = [service_info(s) for s in services]
    return StackDetail(**fields, networks=top_level_keys(compose, "networks"),
                       volumes=top_level_keys(compose, "volumes"), compose_content=content,
                       repo=full["config"].get("repo") or None, branch=full["config"].get("branch") or None,
                       notes=notes)

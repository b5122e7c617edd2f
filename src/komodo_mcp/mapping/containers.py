"""Docker's inspect document (InspectContainer, PascalCase as Periphery forwards it) → a container in depth."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from .common import env_mapping
from .models import LazyModel

NEVER = "0001-01-01T00:00:00Z"  # Docker's zero time: never started / never finished


class ContainerDetail(LazyModel):
    server_id: str
    name: str
    id: str | None
    image: str | None = Field(description="The image the container was created from")
    state: str = Field(description="Docker state: running, exited, restarting, paused, created, dead, removing")
    running: bool
    paused: bool
    restarting: bool
    exit_code: int | None
    error: str | None = Field(description="Docker's error for the last start, if any")
    oom_killed: bool
    health: str | None = Field(description="healthy, unhealthy, starting; null without a health check")
    started_at: str | None
    finished_at: str | None
    restart_count: int | None
    restart_policy: str | None
    network_mode: str | None
    networks: list[str]
    ports: list[str] = Field(description="Published ports as host:container/protocol")
    mounts: list[str] = Field(description="source:destination")
    command: list[str]
    environment: dict[str, str] = Field(description="Credential-looking values masked")
    labels: dict[str, str]


def _time(value: str | None) -> str | None:
    return None if not value or value.startswith(NEVER[:4]) else value


def container_detail(server_id: str, inspect: dict[str, Any], show_secrets: bool) -> ContainerDetail:
    state = inspect.get("State") or {}
    config = inspect.get("Config") or {}
    host = inspect.get("HostConfig") or {}
    network = inspect.get("NetworkSettings") or {}
    ports = [f"{binding.get('HostPort')}:{container_port}" for container_port, bindings in
             (network.get("Ports") or {}).items() for binding in bindings or []]
    return ContainerDetail(
        server_id=server_id, name=(inspect.get("Name") or "").lstrip("/"), id=inspect.get("Id"),
        image=config.get("Image"), state=state.get("Status") or "unknown", running=bool(state.get("Running")),
        paused=bool(state.get("Paused")), restarting=bool(state.get("Restarting")), exit_code=state.get("ExitCode"),
        error=state.get("Error") or None, oom_killed=bool(state.get("OOMKilled")),
        health=(state.get("Health") or {}).get("Status"), started_at=_time(state.get("StartedAt")),
        finished_at=_time(state.get("FinishedAt")), restart_count=inspect.get("RestartCount"),
        restart_policy=(host.get("RestartPolicy") or {}).get("Name"), network_mode=host.get("NetworkMode"),
        networks=sorted(network.get("Networks") or {}), ports=ports,
        mounts=[f"{m.get('Source')}:{m.get('Destination')}" for m in inspect.get("Mounts") or []],
        command=[*(config.get("Entrypoint") or []), *(config.get("Cmd") or [])],
        environment=env_mapping(config.get("Env") or [], show_secrets), labels=config.get("Labels") or {})

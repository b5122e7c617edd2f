"""Terminal tools against the simulator's /terminal/execute: allowed, forbidden, confirmed, streamed."""

from __future__ import annotations

from typing import Any

import komodo_api.types as komodo_types
import pytest

from komodo_mcp.tools.terminal import terminal_request

from .conftest import call, mcp_client, settings_for

pytestmark = pytest.mark.anyio


def terminal_settings(url: str, **overrides: Any) -> Any:
    return settings_for(url, toolsets=("terminal",), **overrides)


async def test_commands_run_on_each_target_and_report_exit_codes(sim):
    progress: list[str | None] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append(message)

    async with mcp_client(terminal_settings(sim.url)) as client:
        result = await client.call_tool("komodo_terminal_ServerCommand",
                                        {"id": "production-api", "command": "df -h", "confirm": True},
                                        progress_callback=on_progress)
        _, deployment = await call(client, "komodo_terminal_DeploymentCommand",
                                   {"id": "api-v2", "command": "hostname", "confirm": True})
        _, stack = await call(client, "komodo_terminal_StackCommand",
                              {"id": "monitoring-stack", "service": "grafana", "command": "hostname", "confirm": True})
        _, missing = await call(client, "komodo_terminal_ContainerCommand",
                                {"server_id": "staging-web", "container": "web-frontend", "command": "htop",
                                 "confirm": True})
        _, early = await call(client, "komodo_terminal_ServerCommand",
                              {"id": "build-runner", "command": "exit", "confirm": True})
    data = result.structured_content["data"]
    assert data["exit_code"] == 0 and data["output"].splitlines()[0].startswith("Filesystem")
    assert progress and progress[0].startswith("Filesystem")  # output streamed as it came
    assert deployment["data"]["output"] == "api-v2" and stack["data"]["output"] == "monitoring-stack-grafana"
    assert missing["data"]["exit_code"] == 127 and "not found" in missing["data"]["output"]
    assert early["data"]["exit_code"] is None


async def test_terminal_needs_the_terminal_permission_and_confirmation(sim, viewer_settings):
    viewer = terminal_settings(sim.url, api_key=viewer_settings.api_key, api_secret=viewer_settings.api_secret)
    async with mcp_client(viewer) as client:
        forbidden = await call(client, "komodo_terminal_ServerCommand",
                               {"id": "staging-web", "command": "uptime", "confirm": True})
    async with mcp_client(terminal_settings(sim.url)) as client:
        unconfirmed = await call(client, "komodo_terminal_ServerCommand", {"id": "staging-web", "command": "uptime"})
        unreachable = await call(client, "komodo_terminal_ServerCommand",
                                 {"id": "edge-cache-01", "command": "uptime", "confirm": True})
    assert forbidden[1]["code"] == "FORBIDDEN" and "[Terminal]" in forbidden[1]["error"]
    assert unconfirmed[1]["code"] == "VALIDATION_ERROR"
    assert unreachable[0] and unreachable[1]["code"] == "INTERNAL_ERROR"


async def test_terminal_is_off_by_default_and_never_in_read_only(sim):
    for settings in (settings_for(sim.url, toolsets=("core",)), settings_for(sim.url, toolsets=("all",)),
                     settings_for(sim.url, toolsets=("terminal",), read_only=True)):
        async with mcp_client(settings) as client:
            names = {t.name for t in (await client.list_tools()).tools}
        assert not any(name.startswith("komodo_terminal_") for name in names)


def test_the_request_body_is_komodos_execute_terminal_body():
    body = terminal_request({"type": "Stack", "params": {"stack": "s", "service": "web"}}, "ls")
    komodo_types.ExecuteTerminalBody.model_validate(body)

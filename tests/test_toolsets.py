"""Toolsets and read-only mode decide, when the server is built, which tools exist: for listing and for calling."""

from __future__ import annotations

import pytest

from komodo_mcp.config import Settings
from komodo_mcp.tools._registry import select

from .catalogue import CORE_TOOLS, EXECUTE_TOOLS, READ_TOOLS, TERMINAL_TOOLS, WRITE_TOOLS, qualified
from .conftest import call, mcp_client, settings_for

pytestmark = pytest.mark.anyio


def names(**settings: object) -> set[str]:
    return {spec.name for spec in select(Settings(**settings))}


READ = qualified("read", READ_TOOLS)
EXECUTE = qualified("execute", EXECUTE_TOOLS)
WRITE = qualified("write", WRITE_TOOLS)
TERMINAL = qualified("terminal", TERMINAL_TOOLS)


def test_counts_per_toolset():
    assert names() == CORE_TOOLS and len(CORE_TOOLS) < 40  # the default, under Cursor's 40
    assert names(toolsets=("all",)) == READ | EXECUTE | WRITE
    assert len(READ | EXECUTE | WRITE | TERMINAL) < 128  # VS Code / Copilot's per-request cap
    assert names(toolsets=("terminal",)) == TERMINAL and names(toolsets=("all", "terminal")) == READ | EXECUTE | WRITE | TERMINAL
    assert (names(toolsets=("read",)), names(toolsets=("execute",)), names(toolsets=("write",))) == (READ, EXECUTE, WRITE)
    assert names(toolsets=("read", "execute")) == READ | EXECUTE


def test_families_read_only_and_exclusions():
    deployments = names(toolsets=("deployments",))
    assert deployments == {f"komodo_{k}_{op}" for k, op in (
        ("read", "ListDeployments"), ("read", "GetDeployment"), ("read", "GetDeploymentLog"), ("execute", "Deploy"),
        ("execute", "StartDeployment"), ("execute", "RestartDeployment"), ("execute", "PauseDeployment"),
        ("execute", "UnpauseDeployment"), ("execute", "StopDeployment"), ("execute", "DestroyDeployment"), ("write", "CreateDeployment"), ("write", "UpdateDeployment"),
        ("write", "DeleteDeployment"))}
    assert all(name.startswith("komodo_read_") for name in names(toolsets=("all",), read_only=True))
    assert names(toolsets=("write",), tools=("komodo_execute_Deploy",), read_only=True) == set()
    excluded = names(toolsets=("deployments",), tools=("komodo_execute_Deploy",), exclude_tools=("komodo_execute_Deploy",))
    assert excluded == deployments - {"komodo_execute_Deploy"}


def test_unknown_toolsets_and_tools_are_errors():
    with pytest.raises(ValueError, match="unknown toolset"):
        names(toolsets=("everything",))
    with pytest.raises(ValueError, match="unknown tool"):
        names(exclude_tools=("komodo_read_Nope",))


async def test_a_tool_that_is_not_enabled_cannot_be_called(shared_sim):
    async with mcp_client(settings_for(shared_sim.url, toolsets=("core",), read_only=True)) as client:
        listed = {tool.name for tool in (await client.list_tools()).tools}
        error, body = await call(client, "komodo_execute_Deploy", {"id": "api-v2"})
        write_error, _ = await call(client, "komodo_write_DeleteDeployment", {"id": "api-v2", "confirm": True})
    assert "komodo_execute_Deploy" not in listed and "komodo_read_GetServer" in listed
    assert error and body["code"] == "NOT_FOUND" and write_error

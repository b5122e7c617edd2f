"""Toolsets and read-only mode decide, when the server is built, which tools exist: for listing and for calling."""

from __future__ import annotations

import pytest

from komodo_mcp.config import Settings
from komodo_mcp.tools._registry import CORE_TOOLS, select

from .conftest import call, mcp_client, settings_for

pytestmark = pytest.mark.anyio


def names(**settings: object) -> set[str]:
    return {spec.name for spec in select(Settings(**settings))}


def test_counts_per_toolset():
    assert len(names()) == len(CORE_TOOLS) == 39  # the default, under Cursor's 40
    assert len(names(toolsets=("all",))) == 91 < 128  # VS Code / Copilot's per-request cap
    assert len(names(toolsets=("terminal",))) == 4 and len(names(toolsets=("all", "terminal"))) == 95 < 128
    assert (len(names(toolsets=("read",))), len(names(toolsets=("execute",))), len(names(toolsets=("write",)))) == (
        34, 34, 23)
    assert names(toolsets=("read", "execute")) == names(toolsets=("read",)) | names(toolsets=("execute",))


def test_families_read_only_and_exclusions():
    deployments = names(toolsets=("deployments",))
    assert deployments == {f"komodo_{k}_{op}" for k, op in (
        ("read", "ListDeployments"), ("read", "GetDeployment"), ("read", "GetDeploymentLog"), ("execute", "Deploy"),
        ("execute", "StartDeployment"), ("execute", "RestartDeployment"), ("execute", "StopDeployment"),
        ("execute", "PauseDeployment"), ("execute", "UnpauseDeployment"),
        ("execute", "DestroyDeployment"), ("write", "CreateDeployment"), ("write", "UpdateDeployment"),
        ("write", "DeleteDeployment"))}
    assert all(name.startswith("komodo_read_") for name in names(toolsets=("all",), read_only=True))
    assert names(toolsets=("write",), tools=("komodo_execute_Deploy",), read_only=True) == set()
    excluded = names(toolsets=("deployments",), tools=("komodo_execute_Deploy",), exclude_tools=("komodo_execute_Deploy",))
    assert "komodo_execute_Deploy" not in excluded and len(excluded) == 12


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


def test_core_has_the_everyday_actions_on_one_deployment_or_stack():
    from .catalogue import REFERENCE_PARAMETERS

    core = names()
    assert set(REFERENCE_PARAMETERS) <= core and len(core) < 40
    assert {f"komodo_execute_{op}" for op in ("StartDeployment", "StopDeployment", "RestartDeployment", "StartStack",
                                              "StopStack", "RestartStack")} <= core


def test_disable_destructive_leaves_out_exactly_the_destructive_tools():
    from komodo_mcp.tools._registry import all_specs

    every = names(toolsets=("all", "terminal"))
    kept = names(toolsets=("all", "terminal"), disable_destructive=True)
    destructive = {spec.name for spec in all_specs() if spec.destructive}
    assert "komodo_execute_StopDeployment" in destructive and "komodo_write_DeleteStack" in destructive
    assert kept == every - destructive and "komodo_execute_Deploy" in kept
    assert names(tools=("komodo_execute_StopStack",), disable_destructive=True) == names() - destructive


async def test_an_unknown_or_disabled_tool_says_what_would_enable_it(shared_sim):
    async with mcp_client(settings_for(shared_sim.url, toolsets=("core",))) as client:
        _, misspelt = await call(client, "komodo_read_GetDeploymnet", {"id": "api-v2"})
        _, outside = await call(client, "komodo_execute_DestroyDeployment", {"id": "api-v2"})
        _, far_off = await call(client, "komodo_read_GetDeploymentLogz", {"id": "api-v2"})
    async with mcp_client(settings_for(shared_sim.url, read_only=True, disable_destructive=True)) as client:
        _, read_only = await call(client, "komodo_execute_Deploy", {"id": "api-v2"})
    assert misspelt["code"] == "NOT_FOUND" and "did you mean komodo_read_GetDeployment?" in misspelt["error"]
    assert "--toolsets" in outside["error"] and "deployments" in outside["error"] and "--tools" in outside["error"]
    assert "did you mean komodo_read_GetDeploymentLog?" in far_off["error"]
    assert "--read-only" in read_only["error"]


async def test_a_misspelt_argument_is_named_not_dropped(shared_sim):
    async with mcp_client(settings_for(shared_sim.url)) as client:
        error, body = await call(client, "komodo_read_ListDeployments", {"stauts": "running"})
    assert error and body["code"] == "VALIDATION_ERROR"
    assert "unknown argument 'stauts' (did you mean 'status'?)" in body["error"]

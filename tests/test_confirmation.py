"""Destructive tools confirm before acting: elicitation where the client can show it, `confirm: true` otherwise."""

from __future__ import annotations

from typing import Any

import pytest
from mcp.types import ElicitResult

from .conftest import call, komodo_read, mcp_client, settings_for

pytestmark = pytest.mark.anyio


def deployment_state(url: str, name: str) -> str:
    items = komodo_read(url, "ListDeployments", query={"names": [name]})
    return items[0]["info"]["state"]


def answering(action: str, confirm: bool = True) -> Any:
    asked: list[str] = []

    async def callback(context: Any, params: Any) -> ElicitResult:
        asked.append(params.message)
        return ElicitResult(action=action, content={"confirm": confirm} if action == "accept" else None)

    callback.asked = asked  # type: ignore[attr-defined]
    return callback


async def test_accepted_elicitation_lets_the_tool_act(sim, era):
    callback = answering("accept")
    async with mcp_client(settings_for(sim.url), era, elicitation_callback=callback) as client:
        error, body = await call(client, "komodo_execute_StopDeployment", {"id": "redis-cache"})
    assert not error and body["data"]["deployment_name"] == "redis-cache"
    assert callback.asked == ["Stop deployment redis-cache? Stop a deployment's container (docker stop): the service "
                              "goes down until started again."]


@pytest.mark.parametrize("action", ["decline", "cancel"])
async def test_declined_elicitation_changes_nothing(sim, era, action):
    async with mcp_client(settings_for(sim.url), era, elicitation_callback=answering(action)) as client:
        error, body = await call(client, "komodo_execute_StopDeployment", {"id": "redis-cache", "confirm": True})
    assert error and body["code"] == "FORBIDDEN" and body["details"] == {"declined": True}
    assert deployment_state(sim.url, "redis-cache") == "running"


async def test_unticked_confirmation_changes_nothing(sim):
    async with mcp_client(settings_for(sim.url), elicitation_callback=answering("accept", confirm=False)) as client:
        error, body = await call(client, "komodo_execute_DestroyDeployment", {"id": "api-v1"})
    assert error and body["code"] == "FORBIDDEN"
    assert deployment_state(sim.url, "api-v1") == "exited"


async def test_without_elicitation_the_confirm_argument_is_required(sim, era):
    async with mcp_client(settings_for(sim.url), era) as client:
        refused = await call(client, "komodo_execute_StopStack", {"id": "db-stack"})
        accepted = await call(client, "komodo_execute_StopStack", {"id": "db-stack", "confirm": True})
    assert refused[1]["code"] == "VALIDATION_ERROR" and "confirm: true" in refused[1]["error"]
    assert not accepted[0] and accepted[1]["data"]["stack_name"] == "db-stack"


def prune_jobs(url: str) -> list[str]:
    return [u["id"] for u in komodo_read(url, "ListUpdates", query={"operation": "PruneImages"})["updates"]]


@pytest.mark.parametrize(("fallback", "confirm", "outcome"), [
    ("allow", False, "OK"), ("deny", True, "FORBIDDEN"), ("argument", False, "VALIDATION_ERROR"),
    ("argument", True, "OK")])
async def test_fallback_without_elicitation_is_configurable(sim, fallback, confirm, outcome):
    before = prune_jobs(sim.url)
    async with mcp_client(settings_for(sim.url, confirm_fallback=fallback)) as client:
        error, body = await call(client, "komodo_execute_PruneServer", {"id": "build-runner", "target": "images",
                                                                        "confirm": confirm})
    started = [job for job in prune_jobs(sim.url) if job not in before]
    assert (body["code"] if error else "OK") == outcome
    assert started == ([body["data"]["job_id"]] if outcome == "OK" else [])


async def test_no_confirm_mode_drops_the_argument_and_acts(sim):
    async with mcp_client(settings_for(sim.url, confirm=False)) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        error, _ = await call(client, "komodo_execute_StopDeployment", {"id": "redis-cache"})
    assert "confirm" not in tools["komodo_execute_StopDeployment"].input_schema["properties"]
    assert not error


async def test_only_destructive_tools_confirm(sim):
    async with mcp_client(settings_for(sim.url, toolsets=("all",))) as client:
        tools = (await client.list_tools()).tools
    confirming = {t.name for t in tools if "confirm" in t.input_schema["properties"]}
    destructive = {t.name for t in tools if t.annotations.destructive_hint}
    assert confirming == destructive and "komodo_execute_StopServer" in confirming

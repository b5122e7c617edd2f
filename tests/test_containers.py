"""Single-container actions on a server, pause/unpause of deployments and stacks, and InspectContainer: the tools
over MCP, and the simulator doing what Core 2.3 does with them."""

from __future__ import annotations

from typing import Any

import anyio
import httpx2
import pytest

from komodo_sim import ADMIN_KEY, ADMIN_SECRET

from .conftest import call, mcp_client, settings_for

pytestmark = pytest.mark.anyio
ADMIN = {"x-api-key": ADMIN_KEY, "x-api-secret": ADMIN_SECRET}


def komodo(url: str, module: str, operation: str, **params: Any) -> Any:
    return httpx2.post(f"{url}/{module}", json={"type": operation, "params": params}, headers=ADMIN).json()


def container_state(url: str, server: str, name: str) -> str:
    return next(c["state"] for c in komodo(url, "read", "ListContainers", server=server) if c["name"] == name)


ACTIONS = [  # tool, arguments, Komodo operation, target kind, the job's command, then how Komodo shows the effect
    ("StopContainer", {"server_id": "production-api", "container": "redis-cache", "time": 5, "confirm": True},
     "StopContainer", "Server", "docker stop --time 5 -- redis-cache",
     lambda url: container_state(url, "production-api", "redis-cache") == "exited"),
    ("StartContainer", {"server_id": "production-api", "container": "api-v1"}, "StartContainer", "Server",
     "docker start -- api-v1", lambda url: container_state(url, "production-api", "api-v1") == "running"),
    ("RestartContainer", {"server_id": "production-api", "container": "db-stack-pgbouncer-1"}, "RestartContainer",
     "Server", "docker restart -- db-stack-pgbouncer-1",
     lambda url: container_state(url, "production-api", "db-stack-pgbouncer-1") == "running"),
    ("PauseContainer", {"server_id": "production-api", "container": "api-v2", "confirm": True}, "PauseContainer",
     "Server", "docker pause -- api-v2",
     lambda url: komodo(url, "read", "GetDeploymentContainer", deployment="api-v2")["state"] == "paused"),
    ("PauseDeployment", {"id": "redis-cache", "confirm": True}, "PauseDeployment", "Deployment",
     "docker pause -- redis-cache",
     lambda url: komodo(url, "read", "GetDeploymentContainer", deployment="redis-cache")["state"] == "paused"),
    ("PauseStack", {"id": "monitoring-stack", "confirm": True}, "PauseStack", "Stack",
     "docker compose -p monitoring-stack pause",
     lambda url: {s["container"]["state"] for s in komodo(url, "read", "ListStackServices",
                                                         stack="monitoring-stack")} == {"paused"}),
]


@pytest.mark.parametrize(("tool", "arguments", "operation", "kind", "command", "took_effect"), ACTIONS,
                         ids=[a[0] for a in ACTIONS])
async def test_each_action_starts_its_komodo_execution_and_takes_effect(sim, tool, arguments, operation, kind,
                                                                        command, took_effect):
    async with mcp_client(settings_for(sim.url)) as client:
        error, body = await call(client, f"komodo_execute_{tool}", arguments)
        assert not error, body
        _, waited = await call(client, "komodo_execute_WaitForJob", {"job_id": body["data"]["job_id"]})
    update = komodo(sim.url, "read", "GetUpdate", id=body["data"]["job_id"])
    assert update["operation"] == operation and update["target"]["type"] == kind
    assert waited["data"]["status"] == "success" and [log["command"] for log in update["logs"]] == [command]
    assert took_effect(sim.url)


async def test_pause_then_unpause_brings_deployments_stacks_and_containers_back(sim):
    async with mcp_client(settings_for(sim.url, confirm=False)) as client:
        for pause, resume, arguments in (
                ("PauseDeployment", "UnpauseDeployment", {"id": "api-v2"}),
                ("PauseStack", "UnpauseStack", {"id": "monitoring-stack"}),
                ("PauseContainer", "UnpauseContainer", {"server_id": "production-api", "container": "redis-cache"})):
            for tool in (pause, resume):
                _, started = await call(client, f"komodo_execute_{tool}", arguments)
                await call(client, "komodo_execute_WaitForJob", {"job_id": started["data"]["job_id"]})
    assert komodo(sim.url, "read", "GetDeploymentContainer", deployment="api-v2")["state"] == "running"
    assert {s["container"]["state"] for s in komodo(sim.url, "read", "ListStackServices",
                                                     stack="monitoring-stack")} == {"running"}
    assert container_state(sim.url, "production-api", "redis-cache") == "running"


async def test_container_actions_on_one_server_run_side_by_side(held_sim):
    """Core counts container actions in the server's action state without a busy check (server.rs)."""
    async with mcp_client(settings_for(held_sim.url, confirm=False)) as client:
        results: list[tuple[bool, dict[str, Any]]] = []

        async def act(container: str) -> None:
            results.append(await call(client, "komodo_execute_RestartContainer",
                                      {"server_id": "production-api", "container": container}))
        async with anyio.create_task_group() as group:
            for container in ("api-v2", "redis-cache"):
                group.start_soon(act, container)
    assert [error for error, _ in results] == [False, False]
    assert len({body["data"]["job_id"] for _, body in results}) == 2


async def test_a_container_the_server_does_not_run_is_not_found_and_starts_nothing(sim):
    before = komodo(sim.url, "read", "ListUpdates", query={"operation": "StartContainer"})["updates"]
    async with mcp_client(settings_for(sim.url)) as client:
        error, body = await call(client, "komodo_execute_StartContainer",
                                 {"server_id": "production-api", "container": "nginx-proxy"})
        inspect_error, inspected = await call(client, "komodo_read_InspectContainer",
                                              {"server_id": "production-api", "container": "nope"})
    assert error and body["code"] == "NOT_FOUND" and "komodo_read_ListContainers" in body["error"]
    assert inspect_error and inspected["code"] == "NOT_FOUND"
    assert komodo(sim.url, "read", "ListUpdates", query={"operation": "StartContainer"})["updates"] == before


async def test_the_simulator_fails_a_missing_container_inside_the_job_as_periphery_does(sim):
    update = komodo(sim.url, "execute", "StartContainer", server="production-api", container="ghost")
    async with mcp_client(settings_for(sim.url)) as client:
        _, waited = await call(client, "komodo_execute_WaitForJob", {"job_id": update["_id"]["$oid"]})
    final = komodo(sim.url, "read", "GetUpdate", id=update["_id"]["$oid"])
    assert waited["data"]["status"] == "failed" and update["target"]["type"] == "Server"
    assert final["logs"][0]["stage"] == "Docker Start"
    assert final["logs"][0]["stderr"] == "Error response from daemon: No such container: ghost"
    missing = httpx2.post(f"{sim.url}/execute", json={"type": "PauseContainer", "params": {"server": "production-api"}},
                          headers=ADMIN)
    assert missing.status_code == 422 and "container" in missing.json()["error"]  # serde: before any Update


async def test_inspect_shows_one_container_with_its_secrets_masked(shared_sim):
    async with mcp_client(settings_for(shared_sim.url)) as client:
        error, body = await call(client, "komodo_read_InspectContainer",
                                 {"server_id": "production-api", "container": "api-v2"})
    detail = body["data"]
    assert not error and detail["name"] == "api-v2" and detail["state"] == "running" and detail["running"]
    assert detail["environment"]["NODE_ENV"] == "production" and detail["environment"]["API_TOKEN"] == "********"
    assert "8080:80/tcp" in detail["ports"] and detail["restart_policy"] == "unless-stopped"
    raw = komodo(shared_sim.url, "read", "InspectDockerContainer", server="production-api", container="api-v2")
    assert raw["Name"] == "/api-v2" and raw["State"]["Status"] == "running"  # the pre-2.3 name still answers


async def test_stopping_and_pausing_ask_for_confirmation(sim):
    async with mcp_client(settings_for(sim.url)) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        error, body = await call(client, "komodo_execute_PauseContainer",
                                 {"server_id": "production-api", "container": "api-v2"})
    destructive = {name for name, tool in tools.items() if tool.annotations.destructive_hint}
    assert {"komodo_execute_StopContainer", "komodo_execute_PauseContainer", "komodo_execute_PauseDeployment",
            "komodo_execute_PauseStack"} <= destructive
    assert not {"komodo_execute_StartContainer", "komodo_execute_UnpauseContainer",
                "komodo_read_InspectContainer"} & destructive
    assert error and "confirm" in body["error"]
    assert container_state(sim.url, "production-api", "api-v2") == "running"

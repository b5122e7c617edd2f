"""MCP tasks whose ids are Komodo jobs, in both protocol generations, over Streamable HTTP."""

from __future__ import annotations

import json

import time
from typing import Any, Iterator

import pytest

from .conftest import komodo_read, serve_http, settings_for
from .processes import PATIENCE_S
from .wire import LEGACY, MODERN, initialize, rpc


@pytest.fixture
def mcp_url(held_sim) -> Iterator[str]:
    server = serve_http(settings_for(held_sim.url, confirm=False))  # tasks/cancel confirms like CancelJob
    yield server.url + "/mcp"
    server.stop()


def until_done(url: str, task_id: str, version: str) -> dict[str, Any]:
    deadline = time.monotonic() + PATIENCE_S
    while time.monotonic() < deadline:
        task = rpc(url, "tasks/get", {"taskId": task_id}, version)["result"]
        if task["status"] != "working":
            return task
        time.sleep(task["pollInterval" if version == LEGACY else "pollIntervalMs"] / 1000)
    raise AssertionError("task did not finish")


def test_legacy_handshake_advertises_tasks_and_marks_execute_tools(mcp_url):
    capabilities = initialize(mcp_url)["result"]["capabilities"]
    tools = {t["name"]: t for t in rpc(mcp_url, "tools/list", {}, LEGACY)["result"]["tools"]}
    assert capabilities["tasks"] == {"list": {}, "cancel": {}, "requests": {"tools": {"call": {}}}}
    assert tools["komodo_execute_Deploy"]["execution"] == {"taskSupport": "optional"}
    assert "execution" not in tools["komodo_read_GetServer"] and "execution" not in tools["komodo_execute_WaitForJob"]


def test_legacy_task_augmented_deploy_runs_to_its_result(held_sim, mcp_url):
    created = rpc(mcp_url, "tools/call", {"name": "komodo_execute_Deploy", "arguments": {"id": "api-v2"},
                                          "task": {"ttl": 60_000}}, LEGACY)["result"]["task"]
    job = komodo_read(held_sim.url, "GetUpdate", id=created["taskId"])
    assert created["status"] == "working" and job["operation"] == "Deploy" and job["status"] == "InProgress"
    assert rpc(mcp_url, "tasks/get", {"taskId": created["taskId"]}, LEGACY)["result"]["status"] == "working"
    listed = rpc(mcp_url, "tasks/list", {}, LEGACY)["result"]["tasks"]
    assert created["taskId"] in [task["taskId"] for task in listed]
    held_sim.simulator.gate.open()
    result = rpc(mcp_url, "tasks/result", {"taskId": created["taskId"]}, LEGACY)["result"]  # blocks until done
    assert not result["isError"] and result["structuredContent"]["data"]["status"] == "success"
    assert result["_meta"]["io.modelcontextprotocol/related-task"] == {"taskId": created["taskId"]}
    assert rpc(mcp_url, "tasks/get", {"taskId": created["taskId"]}, LEGACY)["result"]["status"] == "completed"


def test_legacy_cancel_of_a_build_cancels_it_in_komodo(held_sim, mcp_url):
    created = rpc(mcp_url, "tools/call", {"name": "komodo_execute_Build", "arguments": {"id": "api-build"},
                                          "task": {}}, LEGACY)["result"]["task"]
    cancelled = rpc(mcp_url, "tasks/cancel", {"taskId": created["taskId"]}, LEGACY)["result"]
    job = komodo_read(held_sim.url, "GetUpdate", id=created["taskId"])
    assert cancelled["status"] == "cancelled" and job["status"] == "Complete" and not job["success"]
    assert "cancelled" in job["logs"][-1]["stderr"]
    again = rpc(mcp_url, "tasks/cancel", {"taskId": created["taskId"]}, LEGACY)
    assert again["error"]["code"] == -32602


def test_modern_extension_runs_executes_as_tasks_with_inlined_results(held_sim, mcp_url):
    created = rpc(mcp_url, "tools/call", {"name": "komodo_execute_RestartStack",
                                          "arguments": {"id": "monitoring-stack"}}, MODERN)["result"]
    assert created["resultType"] == "task" and created["ttlMs"] is None and created["pollIntervalMs"] == 1000
    assert komodo_read(held_sim.url, "GetUpdate", id=created["taskId"])["operation"] == "RestartStack"
    held_sim.simulator.gate.open()
    done = until_done(mcp_url, created["taskId"], MODERN)
    assert done["status"] == "completed" and done["resultType"] == "complete"
    assert done["result"]["structuredContent"]["data"]["logs"][0]["name"] == "Compose Command"
    update = rpc(mcp_url, "tasks/update", {"taskId": created["taskId"], "inputResponses": {}}, MODERN)
    assert update["error"]["code"] == -32602


def test_modern_cancel_of_a_build_and_failed_tasks(mcp_url):
    build = rpc(mcp_url, "tools/call", {"name": "komodo_execute_Build", "arguments": {"id": "api-build"}},
                MODERN)["result"]
    assert rpc(mcp_url, "tasks/cancel", {"taskId": build["taskId"]}, MODERN)["result"]["resultType"] == "complete"
    assert until_done(mcp_url, build["taskId"], MODERN)["status"] == "cancelled"


def test_modern_failed_task_carries_the_job_error(held_sim, mcp_url):
    held_sim.simulator.gate.open()
    failing = rpc(mcp_url, "tools/call", {"name": "komodo_execute_Build", "arguments": {"id": "web-build"}},
                  MODERN)["result"]
    failed = until_done(mcp_url, failing["taskId"], MODERN)
    assert failed["status"] == "failed" and "npm ERR!" in failed["error"]["message"]
    assert failed["error"]["data"]["data"]["job_id"] == failing["taskId"]


def test_without_tasks_the_plain_behaviour_stays(mcp_url):
    modern = rpc(mcp_url, "tools/call", {"name": "komodo_execute_PullStack", "arguments": {"id": "db-stack"}},
                 MODERN, extensions=False)["result"]
    legacy = rpc(mcp_url, "tools/call", {"name": "komodo_execute_PullRepo", "arguments": {"id": "myapp-backend"}},
                 LEGACY)["result"]
    read = rpc(mcp_url, "tools/call", {"name": "komodo_read_GetServer", "arguments": {"id": "build-runner"},
                                       "task": {}}, LEGACY)["result"]
    assert modern["structuredContent"]["data"]["job_id"] and "taskId" not in modern
    assert legacy["structuredContent"]["data"]["job_id"] and "task" not in legacy
    assert read["structuredContent"]["data"]["name"] == "build-runner"


def test_a_refused_execute_is_a_plain_error_not_a_task(mcp_url):
    first = rpc(mcp_url, "tools/call", {"name": "komodo_execute_Deploy", "arguments": {"id": "web-frontend"}},
                MODERN)["result"]
    second = rpc(mcp_url, "tools/call", {"name": "komodo_execute_Deploy", "arguments": {"id": "web-frontend"}},
                 MODERN)["result"]
    assert first["resultType"] == "task"
    assert second["isError"] and json.loads(second["content"][0]["text"])["code"] == "CONFLICT"


def test_another_replica_serves_the_task(held_sim, mcp_url):
    created = rpc(mcp_url, "tools/call", {"name": "komodo_execute_Deploy", "arguments": {"id": "redis-cache"}},
                  MODERN)["result"]
    replica = serve_http(settings_for(held_sim.url))  # no shared state: the Komodo job is the task
    try:
        running = rpc(replica.url + "/mcp", "tasks/get", {"taskId": created["taskId"]}, MODERN)["result"]
        held_sim.simulator.gate.open()
        done = until_done(replica.url + "/mcp", created["taskId"], MODERN)
    finally:
        replica.stop()
    assert running["status"] == "working" and done["status"] == "completed"


def test_a_task_of_a_stack_job_naming_services_runs_to_its_result(held_sim, mcp_url):
    """Core records it as DeployStackService (helpers/update.rs); the task still answers the DeployStack result."""
    created = rpc(mcp_url, "tools/call", {"name": "komodo_execute_DeployStack", "task": {}, "arguments": {
        "id": "monitoring-stack", "services": ["grafana"]}}, LEGACY)["result"]["task"]
    assert rpc(mcp_url, "tasks/get", {"taskId": created["taskId"]}, LEGACY)["result"]["status"] == "working"
    held_sim.simulator.gate.open()
    result = rpc(mcp_url, "tasks/result", {"taskId": created["taskId"]}, LEGACY)["result"]
    data = result["structuredContent"]["data"]
    assert not result["isError"] and (data["operation"], data["status"], data["services"]) == (
        "DeployStackService", "success", ["grafana"])
    assert data["steps"] == ["Service/s", "Compose Config", "Compose Pull", "Compose Up"]
    assert data["current_step"] is None

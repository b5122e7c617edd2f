"""Diagnose and FindProblems over the MCP protocol, against the seeded simulator's broken resources."""

from __future__ import annotations

import httpx2
import pytest

from .conftest import ADMIN_HEADERS, call, mcp_client, settings_for

pytestmark = pytest.mark.anyio

SEEDED_ERROR_LINE = "upstream request failed: connection reset by peer (db.internal:5432)"


async def test_restarting_deployment_found_by_name_alone(shared_sim, era):
    async with mcp_client(settings_for(shared_sim.url), era) as client:
        error, body = await call(client, "komodo_read_Diagnose", {"id": "nginx-proxy"})
    diagnosis = body["data"]
    *findings, log_finding = diagnosis["findings"]
    assert not error
    assert (diagnosis["resource_type"], diagnosis["status"], diagnosis["state"], diagnosis["server"]["name"],
            diagnosis["server"]["metrics"]["cpu_usage"]) == ("deployment", "failed", "restarting", "staging-web", "22%")
    assert findings == ["container restarting: Restarting (1) 4 seconds ago",
                        "1 open warning alert: Container nginx-proxy is restarting"]
    assert log_finding.startswith("3 error lines in the log; newest: ") and log_finding.endswith(SEEDED_ERROR_LINE)
    assert diagnosis["error_lines"]["lines"] == 3 and diagnosis["log_tail"]["lines"] == 30
    assert [(t["tool"], t["arguments"]) for t in diagnosis["next_tools"]] == [
        ("komodo_read_GetDeploymentLog", {"id": "nginx-proxy", "search": "error"}),
        ("komodo_read_GetAlert", {"id": diagnosis["alerts"][0]["id"]}),
        ("komodo_read_GetDeployment", {"id": "nginx-proxy"})]


async def test_failed_deploy_names_its_step_and_first_error_line(sim):
    canary = sim.simulator.store.find("Deployment", "canary-api")
    canary.runtime |= {"failing_stage": "Docker Run",
                       "failure": "docker: Error response from daemon: manifest unknown\nexit status 125"}
    async with mcp_client(settings_for(sim.url)) as client:
        _, started = await call(client, "komodo_execute_Deploy", {"id": "canary-api"})
        _, waited = await call(client, "komodo_execute_WaitForJob", {"job_id": started["data"]["job_id"]})
        _, body = await call(client, "komodo_read_Diagnose", {"id": canary.id, "resource_type": "deployment"})
    diagnosis = body["data"]
    assert waited["data"]["status"] == "failed"
    assert diagnosis["name"] == "canary-api"
    assert [(job["job_id"], job["operation"], job["status"], job["failed_step"], job["step_log"], job["superseded"])
            for job in diagnosis["jobs"]] == [
        (started["data"]["job_id"], "Deploy", "failed", "Docker Run",
         "docker: Error response from daemon: manifest unknown\nexit status 125", False)]
    assert "last Deploy failed at Docker Run: docker: Error response from daemon: manifest unknown" \
        in diagnosis["findings"]
    assert diagnosis["next_tools"][0] == {"tool": "komodo_read_GetJob",
                                          "arguments": {"job_id": started["data"]["job_id"]}}


async def test_superseded_failure_is_listed_but_no_finding(shared_sim):
    """web-frontend's deploy 3 days ago failed, the two since succeeded: the job shows, marked, with no finding."""
    async with mcp_client(settings_for(shared_sim.url)) as client:
        _, body = await call(client, "komodo_read_Diagnose", {"id": "web-frontend"})
    diagnosis = body["data"]
    assert [(job["operation"], job["status"], job["superseded"]) for job in diagnosis["jobs"]] == [
        ("Deploy", "failed", True)]
    assert not any("Deploy" in finding for finding in diagnosis["findings"])


async def test_deployment_on_unreachable_server_blames_the_server(shared_sim):
    async with mcp_client(settings_for(shared_sim.url)) as client:
        _, body = await call(client, "komodo_read_Diagnose", {"id": "metrics-exporter"})
        _, server = await call(client, "komodo_read_Diagnose", {"id": "edge-cache-01"})
    assert (server["data"]["resource_type"], server["data"]["findings"]) == ("server", [
        "server edge-cache-01 is unreachable: Failed to connect to Periphery at https://10.0.3.21:8120",
        "1 open critical alert: Server edge-cache-01 Unreachable"])
    diagnosis = body["data"]
    assert diagnosis["findings"] == [
        "container state unknown",
        "server edge-cache-01 is unreachable: Failed to connect to Periphery at https://10.0.3.21:8120",
        "1 open critical alert: Server edge-cache-01 Unreachable"]
    assert (diagnosis["server"]["state"], diagnosis["server"]["metrics"], diagnosis["error_lines"],
            diagnosis["notes"]) == ("NotOk", None, None, ["log not read: the server is not reachable"])


async def test_failed_build_and_unhealthy_stack(shared_sim):
    async with mcp_client(settings_for(shared_sim.url)) as client:
        _, build = await call(client, "komodo_read_Diagnose", {"id": "web-build"})
        _, stack = await call(client, "komodo_read_Diagnose", {"id": "db-stack"})
    assert build["data"]["findings"] == ["last build run failed",
                                         "last RunBuild failed at Docker Push: Docker Push failed: exit code 1",
                                         "1 open error alert: Build web-build Failed"]
    assert (stack["data"]["resource_type"], stack["data"]["detail"]) == ("stack", "not running: pgbouncer (restarting)")
    assert stack["data"]["findings"][:4] == [
        "stack unhealthy: restarting(1), running(1)", "services not running: pgbouncer (restarting)",
        "server production-api: CPU at 95%", "1 open critical alert: High CPU Usage on production-api"]


async def test_a_name_two_kinds_share_needs_resource_type(sim):
    created = httpx2.post(f"{sim.url}/write", json={"type": "CreateStack", "params": {"name": "nginx-proxy",
                                                                                       "config": {}}},
                          headers=ADMIN_HEADERS).json()
    deployment_id = sim.simulator.store.find("Deployment", "nginx-proxy").id
    async with mcp_client(settings_for(sim.url)) as client:
        error, ambiguous = await call(client, "komodo_read_Diagnose", {"id": "nginx-proxy"})
        _, chosen = await call(client, "komodo_read_Diagnose", {"id": "nginx-proxy", "resource_type": "stack"})
    assert (error, ambiguous["code"], ambiguous["details"]["candidates"]) == (
        True, "VALIDATION_ERROR", [f"deployment nginx-proxy ({deployment_id})",
                                   f"stack nginx-proxy ({created['_id']['$oid']})"])
    assert "pass resource_type" in ambiguous["error"]
    assert (chosen["data"]["resource_type"], chosen["data"]["id"]) == ("stack", created["_id"]["$oid"])


async def test_unknown_name_is_not_found(shared_sim):
    async with mcp_client(settings_for(shared_sim.url)) as client:
        error, everywhere = await call(client, "komodo_read_Diagnose", {"id": "no-such-thing"})
        _, as_server = await call(client, "komodo_read_Diagnose", {"id": "nginx-proxy", "resource_type": "server"})
    assert (error, everywhere["code"], everywhere["status"]) == (True, "NOT_FOUND", 404)
    assert everywhere["error"] == ("No deployment or stack or build or repo or procedure or action or server is "
                                   "named 'no-such-thing' or has that id")
    assert (as_server["code"], as_server["error"]) == ("NOT_FOUND", "No server is named 'nginx-proxy' or has that id")


async def test_find_problems_ranks_the_seeded_fleet(shared_sim, era):
    async with mcp_client(settings_for(shared_sim.url), era) as client:
        _, everything = await call(client, "komodo_read_FindProblems", {})
        _, top = await call(client, "komodo_read_FindProblems", {"limit": 2})
        _, errors = await call(client, "komodo_read_FindProblems", {"severity": "error"})
    problems = everything["data"]
    assert [(p["severity"], p["resource_type"], p["name"]) for p in problems["items"]] == [
        ("critical", "server", "edge-cache-01"), ("critical", "server", "production-api"),
        ("critical", "deployment", "nginx-proxy"), ("critical", "deployment", "worker-queue"),
        ("critical", "stack", "db-stack"), ("critical", "stack", "jobs-stack"),
        ("error", "build", "web-build"), ("error", "repo", "infra-scripts"), ("error", "action", "rotate-logs"),
        ("warning", "deployment", "metrics-exporter"), ("warning", "stack", "edge-stack")]
    assert (problems["total"], problems["by_severity"]) == (11, {"critical": 6, "error": 3, "warning": 2})
    assert problems["items"][0]["reason"] == ("server edge-cache-01 is unreachable; open critical alert: "
                                              "Server edge-cache-01 Unreachable")
    assert problems["items"][0]["diagnose"] == {"tool": "komodo_read_Diagnose",
                                                "arguments": {"id": "edge-cache-01", "resource_type": "server"}}
    assert ([p["name"] for p in top["data"]["items"]], top["data"]["total"]) == (
        ["edge-cache-01", "production-api"], 11)
    assert [p["name"] for p in errors["data"]["items"]] == ["web-build", "infra-scripts", "rotate-logs"]


async def test_a_running_deploy_shows_with_its_current_step(held_sim):
    async with mcp_client(settings_for(held_sim.url)) as client:
        _, started = await call(client, "komodo_execute_Deploy", {"id": "web-frontend"})
        _, body = await call(client, "komodo_read_Diagnose", {"id": "web-frontend"})
        held_sim.simulator.gate.open()
    running = body["data"]["jobs"][0]
    assert (running["job_id"], running["status"], running["failed_step"], running["error"]) == (
        started["data"]["job_id"], "running", "Docker Run", None)
    assert body["data"]["findings"][0] == "Deploy is running (step Docker Run)"


async def test_logs_stay_within_the_log_budget(shared_sim):
    async with mcp_client(settings_for(shared_sim.url, log_budget_chars=1_000)) as client:
        _, body = await call(client, "komodo_read_Diagnose", {"id": "nginx-proxy"})
    tail = body["data"]["log_tail"]
    assert len(tail["log"]) <= 1_000 and tail["truncated"] and tail["lines"] < 30
    assert tail["note"].endswith("cut to stay within 1000 characters; ask for a smaller tail or search for what you "
                                 "need")

"""Execute tools over MCP against the simulator's execution state machine."""

from __future__ import annotations

import time

import anyio
import httpx2
import pytest

from .conftest import ADMIN_HEADERS as ADMIN
from .conftest import call, mcp_client, settings_for
from .conftest import komodo_read as komodo

pytestmark = pytest.mark.anyio

STARTS = [  # tool, arguments, Komodo operation, target kind, target name
    ("Deploy", {"id": "api-v2"}, "Deploy", "Deployment", "api-v2"),
    ("StartDeployment", {"id": "api-v1"}, "StartDeployment", "Deployment", "api-v1"),
    ("StopDeployment", {"id": "redis-cache", "signal": "SIGINT", "time": 5, "confirm": True}, "StopDeployment", "Deployment",
     "redis-cache"),
    ("RestartDeployment", {"id": "web-frontend"}, "RestartDeployment", "Deployment", "web-frontend"),
    ("DestroyDeployment", {"id": "canary-api", "confirm": True}, "DestroyDeployment", "Deployment", "canary-api"),
    ("DeployStack", {"id": "logging-stack"}, "DeployStack", "Stack", "logging-stack"),
    ("StartStack", {"id": "logging-stack"}, "StartStack", "Stack", "logging-stack"),
    ("StopStack", {"id": "db-stack", "services": ["pgbouncer"], "confirm": True}, "StopStackService", "Stack",
     "db-stack"),  # Core records a stack execution naming services under its own operation
    ("RestartStack", {"id": "monitoring-stack"}, "RestartStack", "Stack", "monitoring-stack"),
    ("PullStack", {"id": "monitoring-stack"}, "PullStack", "Stack", "monitoring-stack"),
    ("DestroyStack", {"id": "logging-stack", "remove_orphans": True, "confirm": True}, "DestroyStack", "Stack", "logging-stack"),
    ("Build", {"id": "api-build"}, "RunBuild", "Build", "api-build"),
    ("PullRepo", {"id": "myapp-backend"}, "PullRepo", "Repo", "myapp-backend"),
    ("CloneRepo", {"id": "myapp-frontend"}, "CloneRepo", "Repo", "myapp-frontend"),
    ("BuildRepo", {"id": "infra-scripts"}, "BuildRepo", "Repo", "infra-scripts"),
    ("RunProcedure", {"id": "release-train"}, "RunProcedure", "Procedure", "release-train"),
    ("TriggerAction", {"id": "notify-slack", "payload": {"channel": "ops"}}, "RunAction", "Action", "notify-slack"),
    ("RunSync", {"id": "infra-sync"}, "RunSync", "ResourceSync", "infra-sync"),
    ("StartServer", {"id": "build-runner"}, "StartAllContainers", "Server", "build-runner"),
    ("StopServer", {"id": "build-runner", "confirm": True}, "StopAllContainers", "Server", "build-runner"),
    ("RestartServer", {"id": "staging-web"}, "RestartAllContainers", "Server", "staging-web"),
    ("PruneServer", {"id": "production-api", "target": "volumes", "confirm": True}, "PruneVolumes", "Server", "production-api"),
]


@pytest.mark.parametrize(("tool", "arguments", "operation", "kind", "name"), STARTS, ids=[s[0] for s in STARTS])
async def test_each_tool_starts_the_right_komodo_execution(sim, tool, arguments, operation, kind, name):
    async with mcp_client(settings_for(sim.url)) as client:
        error, body = await call(client, f"komodo_execute_{tool}", arguments)
    assert not error, body
    result = body["data"]
    assert result["status"] == "starting" and result["log_url"].endswith(f"/updates/{result['job_id']}")
    update = komodo(sim.url, "GetUpdate", id=result["job_id"])
    target = komodo(sim.url, f"Get{kind}", id=name)
    assert update["operation"] == operation and update["target"] == {"type": kind, "id": target["_id"]["$oid"]}


async def test_waiting_reports_progress_and_returns_the_logs(held_sim):
    sim = held_sim
    progress: list[tuple[float, float | None, str | None]] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append((value, total, message))
        sim.simulator.gate.open()  # the first report saw the job before its first step

    async with mcp_client(settings_for(sim.url)) as client:
        _, started = await call(client, "komodo_execute_Build", {"id": "api-build"})
        _, midway = await call(client, "komodo_read_GetJob", {"job_id": started["data"]["job_id"]})
        result = await client.call_tool("komodo_execute_WaitForJob", {"job_id": started["data"]["job_id"]},
                                        progress_callback=on_progress)
    steps = ["Clone Repo", "Latest Commit", "Docker Build"]
    # the start result and GetJob mid-run name every step, and the current one is the first not yet logged
    assert started["data"]["steps"] == midway["data"]["steps"] == steps
    assert midway["data"]["current_step"] == steps[len(midway["data"]["logs"])]
    job = result.structured_content["data"]
    assert job["status"] == "success" and not job["timed_out"]
    assert [log["name"] for log in job["logs"]] == job["steps"] == steps and job["current_step"] is None
    values = [value for value, _, _ in progress]
    assert values == sorted(set(values)) and values[0] == 0 and values[-1] == 3 and progress[-1][1] == 3
    # one meaning of steps: while running, the message names the step in progress, numbered from 1
    assert all(message == f"RunBuild: step {int(value) + 1} of 3, {steps[int(value)]}"
               for value, _, message in progress[:-1])
    assert progress[-1][2] == "RunBuild: success"


async def test_a_wait_stops_at_its_timeout_with_the_job_still_running(held_sim):
    async with mcp_client(settings_for(held_sim.url)) as client:
        _, started = await call(client, "komodo_execute_Build", {"id": "api-build"})
        began = time.monotonic()
        _, waited = await call(client, "komodo_execute_WaitForJob", {"job_id": started["data"]["job_id"],
                                                                     "timeout": 1})
        waited_for = time.monotonic() - began
    assert waited["data"]["timed_out"] and waited["data"]["status"] == "running"
    assert waited_for >= 1  # it did wait; how much longer depends on the machine's load


async def test_cancelling_the_request_ends_the_wait_but_not_the_job(held_sim):
    async with mcp_client(settings_for(held_sim.url)) as client:
        _, started = await call(client, "komodo_execute_Deploy", {"id": "api-v2"})
        job_id = started["data"]["job_id"]
        with anyio.move_on_after(0.5) as waiting:  # the held job cannot end first: only the cancel ends this wait
            await client.call_tool("komodo_execute_WaitForJob", {"job_id": job_id, "timeout": 60})
        _, still = await call(client, "komodo_read_GetJob", {"job_id": job_id})  # the session still works
        held_sim.simulator.gate.open()
        _, finished = await call(client, "komodo_execute_WaitForJob", {"job_id": job_id})
    assert waiting.cancelled_caught
    assert still["data"]["status"] == "running"
    assert finished["data"]["status"] == "success"  # the job itself went on


async def test_two_concurrent_deploys_give_one_job_and_one_conflict(held_sim, era):
    sim = held_sim
    results: list[tuple[bool, dict]] = []
    async with mcp_client(settings_for(sim.url), era) as client:
        async def deploy() -> None:
            results.append(await call(client, "komodo_execute_Deploy", {"id": "worker-queue"}))
        async with anyio.create_task_group() as group:
            group.start_soon(deploy)
            group.start_soon(deploy)
    jobs = [body for error, body in results if not error]
    conflicts = [body for error, body in results if error]
    assert len(jobs) == 1 and len(conflicts) == 1
    assert conflicts[0]["code"] == "CONFLICT" and conflicts[0]["status"] == 409
    assert conflicts[0]["details"]["running_job_ids"] == [jobs[0]["data"]["job_id"]]
    deployment_id = komodo(sim.url, "GetDeployment", deployment="worker-queue")["_id"]["$oid"]
    deploys = komodo(sim.url, "ListUpdates", query={"operation": "Deploy", "target.id": deployment_id})["updates"]
    assert len(deploys) == 1


async def test_a_reissued_call_after_a_broken_stream_does_not_deploy_twice(held_sim):
    async with mcp_client(settings_for(held_sim.url)) as client:
        _, first = await call(client, "komodo_execute_DeployStack", {"id": "monitoring-stack"})
    async with mcp_client(settings_for(held_sim.url)) as retry:  # a new connection re-issuing the same call
        error, second = await call(retry, "komodo_execute_DeployStack", {"id": "monitoring-stack"})
    assert error and second["code"] == "CONFLICT"
    assert second["details"]["running_job_ids"] == [first["data"]["job_id"]]


async def test_non_admin_executes_only_what_it_may(sim, viewer_settings):
    async with mcp_client(settings_for(sim.url, api_key=viewer_settings.api_key,
                                       api_secret=viewer_settings.api_secret)) as viewer:
        denied = await call(viewer, "komodo_execute_Deploy", {"id": "nginx-proxy"})  # Read only
        allowed = await call(viewer, "komodo_execute_RestartDeployment", {"id": "web-frontend"})
        hidden = await call(viewer, "komodo_execute_Deploy", {"id": "api-v2"})  # cannot even read it
    assert [(error, body.get("code")) for error, body in (denied, allowed, hidden)] == [
        (True, "FORBIDDEN"), (False, None), (True, "FORBIDDEN")]
    assert "Execute" in denied[1]["error"]
    nginx = komodo(sim.url, "GetDeployment", deployment="nginx-proxy")["_id"]["$oid"]
    assert komodo(sim.url, "ListUpdates", query={"target.id": nginx, "operation": "Deploy"})["updates"] == []


async def test_a_failing_build_surfaces_failed_with_its_stderr(sim):
    async with mcp_client(settings_for(sim.url)) as client:
        _, started = await call(client, "komodo_execute_Build", {"id": "web-build", "options": {"skipCache": True}})
        _, job = await call(client, "komodo_execute_WaitForJob", {"job_id": started["data"]["job_id"]})
    assert started["data"]["ignored_options"] == ["skipCache: Komodo's RunBuild takes no such option"]
    assert job["data"]["status"] == "failed" and job["data"]["success"] is False
    assert "npm ERR!" in job["data"]["logs"][-1]["stderr"] and "npm ERR!" in job["data"]["error"]["message"]


async def test_synchronous_procedure_and_action_return_their_outcome(sim):
    async with mcp_client(settings_for(sim.url)) as client:
        _, procedure = await call(client, "komodo_execute_RunProcedure", {
            "id": "daily-backup", "variables": {"ENV": "prod"}, "options": {"async": False, "timeout": 30}})
        _, action = await call(client, "komodo_execute_TriggerAction", {
            "id": "backup-database", "payload": {"DB_NAME": "staging"}, "options": {"async": False}})
    run = procedure["data"]
    assert run["status"] == "success" and run["steps_total"] == run["steps_completed"] == 3
    assert run["execution_id"] == run["job_id"] and run["ignored_options"] == [
        "variables: Komodo procedures take no variables"]
    assert action["data"]["exit_code"] == 0 and "DB_NAME=staging" in action["data"]["output"]


async def test_cancel_job_cancels_a_running_build_and_refuses_the_rest(held_sim):
    async with mcp_client(settings_for(held_sim.url)) as client:
        _, build = await call(client, "komodo_execute_Build", {"id": "api-build"})
        job_id = build["data"]["job_id"]
        _, cancelled = await call(client, "komodo_execute_CancelJob", {"job_id": job_id, "confirm": True})
        _, job = await call(client, "komodo_execute_WaitForJob", {"job_id": job_id})
    assert cancelled["data"]["job_id"] == job_id and job["data"]["status"] == "cancelled"
    assert job["data"]["logs"][-1]["stderr"] == "User cancelled build during image build step"


async def test_cancel_job_refuses_a_finished_job(sim):
    async with mcp_client(settings_for(sim.url)) as client:
        _, build = await call(client, "komodo_execute_Build", {"id": "api-build"})
        job_id = build["data"]["job_id"]
        _, job = await call(client, "komodo_execute_WaitForJob", {"job_id": job_id})
        error, again = await call(client, "komodo_execute_CancelJob", {"job_id": job_id, "confirm": True})
    assert job["data"]["status"] == "success"
    assert error and again["code"] == "CONFLICT" and again["error"] == f"Job {job_id} has already finished (success)"


async def test_cancel_job_refuses_a_job_komodo_cannot_cancel(held_sim):
    async with mcp_client(settings_for(held_sim.url)) as client:
        _, deploy = await call(client, "komodo_execute_Deploy", {"id": "redis-cache"})
        error, refused = await call(client, "komodo_execute_CancelJob", {"job_id": deploy["data"]["job_id"],
                                                                         "confirm": True})
    assert error and refused["code"] == "VALIDATION_ERROR"
    assert refused["error"] == "Komodo cannot cancel a Deploy job; it ends on its own"


async def test_cancel_build_with_nothing_running_is_a_conflict(sim):
    async with mcp_client(settings_for(sim.url)) as client:
        error, nothing_running = await call(client, "komodo_execute_CancelBuild", {"id": "worker-build"})
    assert error and nothing_running["code"] == "CONFLICT"
    assert nothing_running["error"] == "No RunBuild is running on Build worker-build"


async def test_server_operations_act_on_containers_and_can_wait(sim):
    async with mcp_client(settings_for(sim.url)) as client:
        _, stopped = await call(client, "komodo_execute_StopServer", {
            "id": "staging-web", "options": {"removeContainer": True, "force": True, "timeout": 30}, "confirm": True})
        _, started = await call(client, "komodo_execute_StartServer", {
            "id": "build-runner", "options": {"waitForHealthy": True, "timeout": 30}})
    result = stopped["data"]
    assert result["success"] and result["followup_job_id"] and "Komodo cannot power hosts" in result["message"]
    assert result["ignored_options"] == ["force: Komodo's StopAllContainers takes no signal"]
    assert komodo(sim.url, "GetUpdate", id=result["followup_job_id"])["operation"] == "PruneContainers"
    assert komodo(sim.url, "GetDeployment", deployment="web-frontend")["_id"]  # config untouched
    assert started["data"]["status"] == "success" and "server state Ok" in started["data"]["message"]


async def test_estimated_duration_comes_from_past_runs(sim):
    async with mcp_client(settings_for(sim.url)) as client:
        _, deploy = await call(client, "komodo_execute_Deploy", {"id": "api-v2"})
        _, fresh = await call(client, "komodo_execute_Deploy", {"id": "redis-cache"})
    assert deploy["data"]["estimated_duration"] == "2-4 minutes"  # seeded runs of 154-198 s
    assert fresh["data"]["estimated_duration"] == "unknown"


async def test_get_job_reports_komodos_own_busy_refusal(held_sim):
    """Another client (not this server) started a deploy: Komodo refuses the second one inside its Update."""
    body = {"type": "Deploy", "params": {"deployment": "redis-cache"}}
    httpx2.post(f"{held_sim.url}/execute", json=body, headers=ADMIN)
    second = httpx2.post(f"{held_sim.url}/execute", json=body, headers=ADMIN).json()["_id"]["$oid"]
    async with mcp_client(settings_for(held_sim.url)) as client:
        _, job = await call(client, "komodo_execute_WaitForJob", {"job_id": second, "timeout": 10})
    assert job["data"]["status"] == "failed" and job["data"]["error"]["code"] == "CONFLICT"
    assert job["data"]["error"]["message"] == "Resource is busy"
    assert job["data"]["resource_name"] == "redis-cache" and job["data"]["operator"] == "admin"
    assert job["data"]["log_url"] == f"{held_sim.url}/updates/{second}"


async def test_a_synchronous_run_that_outlives_its_timeout_says_so(held_sim):
    async with mcp_client(settings_for(held_sim.url)) as client:
        _, run = await call(client, "komodo_execute_RunProcedure", {"id": "release-train",
                                                                     "options": {"async": False, "timeout": 1}})
    assert run["data"]["timed_out"] and run["data"]["status"] == "starting"  # held before its first stage
    assert run["data"]["success"] is None and run["data"]["completed_at"] is None


async def test_a_procedure_jobs_steps_are_its_stages_everywhere(held_sim):
    progress: list[tuple[float, float | None, str | None]] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append((value, total, message))
        held_sim.simulator.gate.open()  # the first report saw the job before its first stage

    stages = ["backup", "settle", "notify"]
    async with mcp_client(settings_for(held_sim.url)) as client:
        _, run = await call(client, "komodo_execute_RunProcedure", {"id": "daily-backup"})
        _, midway = await call(client, "komodo_read_GetJob", {"job_id": run["data"]["job_id"]})
        waited = await client.call_tool("komodo_execute_WaitForJob", {"job_id": run["data"]["job_id"]},
                                        progress_callback=on_progress)
    assert run["data"]["steps"] == midway["data"]["steps"] == stages
    assert (run["data"]["current_step"], run["data"]["current_step_name"]) == (1, "backup")
    assert midway["data"]["current_step"] == "backup"
    done = waited.structured_content["data"]
    assert done["status"] == "success" and done["steps"] == stages and done["current_step"] is None
    assert {total for _, total, _ in progress} == {3} and progress[-1][:2] == (3, 3)
    assert all(message == f"RunProcedure: step {int(value) + 1} of 3, {stages[int(value)]}"
               for value, _, message in progress[:-1])

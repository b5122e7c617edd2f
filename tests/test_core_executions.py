"""Executions and Updates exactly as a real Komodo Core 2.3.2 writes them (docs/core-audit/executions.md).

Two oracles: the answers recorded from a real Core (tests/fixtures/recorded-core/, see its README), replayed to the
server so an assistant's view of them is pinned by value; and Core's rules, which the simulator must follow.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterator

import pytest

from komodo_mcp.mapping.jobs import Progress, base_operation, job_error, job_progress, plain
from komodo_sim import AsgiThread

from .conftest import call, mcp_client, serve_http, settings_for
from .recorded_core import replay_app
from .test_simulator import call as sim_call
from .test_simulator import ok, wait_complete

from .wire import LEGACY, MODERN, rpc

pytestmark = pytest.mark.anyio
RECORDED = Path(__file__).parent / "fixtures" / "recorded-core" / "core-2.3.2.jsonl"
RECORDS = [json.loads(line) for line in RECORDED.read_text().splitlines()]
PROCEDURE_RUN = "6b0dd7a7f2d87327c972e25d"  # RunProcedure of `nightly` (stages Wait, Wait more), by admin
DEPLOY_BY_PROCEDURE = "6b0dd5ecf2d87327c972e23d"  # Deploy of `web` run by procedure deploy-web, failed
STACK_SERVICE_DEPLOY = "6b0dd7b4f2d87327c972e25f"  # DeployStack of `shop` naming services ["web"], failed


def recorded(path: str, request_type: str, **params: Any) -> list[dict[str, Any]]:
    """Core's answers to that request, in the order they were recorded."""
    return [r["response"] for r in RECORDS if r["path"] == path and r["request"]
            and r["request"]["type"] == request_type and r["request"]["params"] == params]


def update(update_id: str, index: int = -1) -> dict[str, Any]:
    return recorded("/read", "GetUpdate", id=update_id)[index]


@pytest.fixture(scope="module")
def core() -> Iterator[str]:
    """The recorded Core, answering each request as it last answered it (a finished Update in its final state)."""
    server = AsgiThread(replay_app("unreachable", latest=True))
    server.start()
    yield server.url
    server.stop()


# -- the server reads Core's Updates --------------------------------------------------------------------------------

def _cut_after_first_finished_stage(done: dict[str, Any]) -> dict[str, Any]:
    """The recorded run as it stood mid-way: its log holds the lines up to the end of the first stage."""
    log = done["logs"][0]
    lines = log["stdout"].split("\n")
    first_stage_end = next(i for i, line in enumerate(lines) if "Finished</span> stage" in line)
    return {**done, "status": "InProgress", "end_ts": None, "success": True,
            "logs": [{**log, "stdout": "\n".join(lines[:first_stage_end + 1])}]}


def test_a_procedure_progresses_by_the_stage_lines_of_its_one_log():
    stages = ["Wait", "Wait more"]
    just_started, done = update(PROCEDURE_RUN, 0), update(PROCEDURE_RUN)
    assert [log["stage"] for log in done["logs"]] == ["Execute procedure", "Execution ok"]  # Core's shape
    assert job_progress(just_started, stages) == Progress(steps=stages, finished=0, current="Wait")
    assert job_progress(_cut_after_first_finished_stage(done), stages) == Progress(stages, 1, "Wait more")
    # without the procedure's config: the stages Komodo logged
    assert job_progress(done) == Progress(steps=stages, finished=2, current=None)


@pytest.mark.parametrize(("update_id", "message"), [
    (DEPLOY_BY_PROCEDURE, "Failed at Deploy: Cannot send command when Server is unreachable or disabled"),
    (STACK_SERVICE_DEPLOY, "Cannot send command when Server is unreachable or disabled"),
    ("6b0dd7c9f2d87327c972e262", "Must attach builder to RunBuild"),
    ("6b0dd7d4f2d87327c972e264", "failed to parse resource file contents: TOML parse error at line 4, column 9"),
    ("6b0dd7cff2d87327c972e263", "failed to pull repo: Failed to connect to websocket | url: "
                                 "wss://127.0.0.1:8120/?core=127.0.0.1: IO error: Connection refused (os error 111): "
                                 "Connection refused (os error 111)"),
])
def test_a_failed_execution_keeps_cores_cause(update_id, message):
    error = job_error(update(update_id))
    assert error is not None and (error.code, error.message) == ("INTERNAL_ERROR", message)


def test_a_stack_execution_naming_services_is_read_as_the_stack_execution():
    failed = update(STACK_SERVICE_DEPLOY)
    assert failed["operation"] == "DeployStackService" and base_operation(failed["operation"]) == "DeployStack"
    assert job_progress(failed) == Progress(steps=["Task Error"], finished=1, current=None)


async def test_get_job_of_a_recorded_procedure_run(core):
    async with mcp_client(settings_for(core)) as client:
        error, body = await call(client, "komodo_read_GetJob", {"job_id": PROCEDURE_RUN})
    assert not error, body
    job = body["data"]
    assert (job["status"], job["success"], job["operation"], job["resource_name"], job["operator"]) == (
        "success", True, "RunProcedure", "nightly", "admin")
    assert job["steps"] == ["Wait", "Wait more"] and job["current_step"] is None and job["error"] is None
    assert [log["name"] for log in job["logs"]] == ["Execute procedure", "Execution ok"]
    assert job["logs"][1]["stdout"] == "INFO: The procedure has completed with no errors"


async def test_an_execution_run_by_a_procedure_names_cores_procedure_user(core):
    async with mcp_client(settings_for(core)) as client:
        _, job = await call(client, "komodo_read_GetJob", {"job_id": DEPLOY_BY_PROCEDURE})
        _, feed = await call(client, "komodo_read_ListUpdates", {"page_size": 100})
    assert job["data"]["operator"] == "Procedure" and job["data"]["resource_name"] == "web"
    assert job["data"]["error"]["message"].startswith("Failed at Deploy: Cannot send command")
    operators = {item["job_id"]: item["operator"] for item in feed["data"]["items"]}
    assert operators[DEPLOY_BY_PROCEDURE] == "Procedure" and operators[PROCEDURE_RUN] == "admin"
    created_by_core = [item for item in feed["data"]["items"] if item["operation"] == "CreateProcedure"
                       and item["operator"] == "System"]
    assert len(created_by_core) == 3  # Core's own init procedures


@pytest.mark.parametrize("version", [MODERN, LEGACY])
def test_tasks_of_a_stack_service_job_answer_the_stack_result(core, version):
    server = serve_http(settings_for(core))
    try:
        url = server.url + "/mcp"
        task = rpc(url, "tasks/get", {"taskId": STACK_SERVICE_DEPLOY}, version)["result"]
        assert task["status"] == "failed" and task["statusMessage"] == (
            "DeployStackService: failed (Cannot send command when Server is unreachable or disabled)")
        if version == MODERN:
            data = task["error"]["data"]["data"]
        else:
            data = rpc(url, "tasks/result", {"taskId": STACK_SERVICE_DEPLOY}, version)["result"]["structuredContent"][
                "data"]
        assert (data["operation"], data["status"], data["stack_name"], data["steps"], data["current_step"]) == (
            "DeployStackService", "failed", "shop", ["Task Error"], None)
    finally:
        server.stop()


# -- the simulator writes Updates as Core does ----------------------------------------------------------------------

_VARYING = re.compile(r"\d+(\.\d+)?(ns|µs|ms|s)\b")


def _procedure_lines(update: dict[str, Any]) -> list[str]:
    """A procedure log's lines with the durations, which vary run to run, blanked."""
    return _VARYING.sub("<t>", plain(update["logs"][0]["stdout"])).splitlines()


def test_the_simulators_procedure_log_is_cores(sim):
    nightly = recorded("/read", "GetProcedure", procedure="nightly")[0]
    ok(sim.url, "write", "CreateProcedure", {"name": "nightly", "config": nightly["config"]})
    run = ok(sim.url, "execute", "RunProcedure", {"procedure": "nightly"})
    done = wait_complete(sim.url, run["_id"]["$oid"])
    core_run = update(PROCEDURE_RUN)
    assert [(log["stage"], log["success"]) for log in done["logs"]] == [
        (log["stage"], log["success"]) for log in core_run["logs"]]
    assert _procedure_lines(done) == _procedure_lines(core_run)
    assert done["logs"][1]["stdout"] == core_run["logs"][1]["stdout"]


def test_a_procedures_failing_execution_fails_as_in_core(sim):
    ok(sim.url, "write", "CreateProcedure", {"name": "build-web", "config": {"stages": [
        {"name": "build", "enabled": True, "executions": [
            {"enabled": True, "execution": {"type": "RunBuild", "params": {"build": "web-build"}}}]}]}})
    run = ok(sim.url, "execute", "RunProcedure", {"procedure": "build-web"})
    done = wait_complete(sim.url, run["_id"]["$oid"])
    assert [log["stage"] for log in done["logs"]] == ["Execute procedure", "Execution error"]
    error = job_error(done)
    assert error is not None and error.message.startswith("Failed stage 'build' execution after ")
    assert ": Failed on RunBuild(RunBuild { build: \"web-build\" }): Execution not successful, see update: " in (
        error.message)
    child = ok(sim.url, "read", "ListUpdates", {"query": {"operation": "RunBuild"}})["updates"][0]
    assert child["operator"] == child["username"] == "000000000000000000000001"  # Core lists its users by id


def test_a_stack_execution_naming_services_has_its_own_operation(sim):
    started = ok(sim.url, "execute", "DeployStack", {"stack": "monitoring-stack", "services": ["grafana"]})
    done = wait_complete(sim.url, started["_id"]["$oid"])
    core_started = recorded("/execute", "DeployStack", stack="6b0dd5e5f2d87327c972e221", services=["web"])[0]
    assert started["operation"] == core_started["operation"] == "DeployStackService"
    assert done["logs"][0] == {**done["logs"][0], "stage": "Service/s", "command": "", "success": True,
                               "stdout": "Execution requested for Stack service/s grafana"}
    whole = ok(sim.url, "execute", "StopStack", {"stack": "monitoring-stack", "services": []})
    assert whole["operation"] == "StopStack"


@pytest.mark.parametrize(("operation", "params", "recorded_params"), [
    ("RunBuild", {"build": "api-build"}, {"build": "6b0dd5e6f2d87327c972e225"}),
    ("Deploy", {"deployment": "api-v2"}, {"deployment": "6b0dd5e2f2d87327c972e21d"}),
    ("RunProcedure", {"procedure": "daily-backup"}, {"procedure": "6b0dd5e7f2d87327c972e229"}),
])
def test_an_executes_immediate_update_holds_what_cores_does(sim, operation, params, recorded_params):
    started = ok(sim.url, "execute", operation, params)
    core_started = recorded("/execute", operation, **recorded_params)[0]
    assert set(started) == set(core_started) and started["logs"] == core_started["logs"] == []
    assert (started["status"], started["success"], started["end_ts"]) == ("InProgress", True, None)


async def test_a_builds_version_is_set_once_it_runs_and_announced_before(sim):
    build = ok(sim.url, "read", "GetBuild", {"build": "api-build"})["config"]["version"]
    async with mcp_client(settings_for(sim.url)) as client:
        _, started = await call(client, "komodo_execute_Build", {"id": "api-build"})
    assert started["data"]["build_number"] == build["patch"] + 1
    done = wait_complete(sim.url, started["data"]["job_id"])
    assert done["version"] == {**build, "patch": build["patch"] + 1}


def test_only_cores_busy_flags_refuse_an_execution(held_sim):
    url = held_sim.url
    pulling = ok(url, "execute", "PullDeployment", {"deployment": "api-v2"})
    deploy = ok(url, "execute", "Deploy", {"deployment": "api-v2"})  # a pull does not make it busy (busy.rs)
    pull_while_deploying = ok(url, "execute", "PullDeployment", {"deployment": "api-v2"})
    held_sim.simulator.gate.open()
    assert wait_complete(url, deploy["_id"]["$oid"])["success"]
    assert wait_complete(url, pulling["_id"]["$oid"])["success"]
    refused = wait_complete(url, pull_while_deploying["_id"]["$oid"])
    assert refused["logs"][-1]["stage"] == "Task Error" and "Resource is busy" in refused["logs"][-1]["stderr"]


async def test_starting_a_servers_containers_is_never_refused_as_busy(held_sim):
    async with mcp_client(settings_for(held_sim.url)) as client:
        first = await call(client, "komodo_execute_StartServer", {"id": "build-runner"})
        second = await call(client, "komodo_execute_StartServer", {"id": "build-runner"})
    assert not first[0] and not second[0], second[1]
    held_sim.simulator.gate.open()
    for _, body in (first, second):
        assert wait_complete(held_sim.url, body["data"]["job_id"])["success"]


async def test_listing_a_stack_operation_includes_its_service_form(sim):
    async with mcp_client(settings_for(sim.url)) as client:
        _, started = await call(client, "komodo_execute_RestartStack", {"id": "db-stack", "services": ["pgbouncer"]})
        _, feed = await call(client, "komodo_read_ListUpdates", {"operation": "RestartStack", "resource_type": "stack",
                                                                 "resource_id": "db-stack"})
    assert [(item["job_id"], item["operation"]) for item in feed["data"]["items"]] == [
        (started["data"]["job_id"], "RestartStackService")]


def test_cancels_fail_and_stop_as_in_core(held_sim):
    url = held_sim.url
    held_sim.simulator.gate.cancels_release = False  # the cancelled build runs on until the test opens the gate
    nothing = sim_call(url, "execute", "CancelBuild", {"build": "api-build"})
    assert (nothing.status_code, nothing.json()["error"]) == (500, "No build in progress")  # before any Update
    no_run = ok(url, "execute", "CancelProcedure", {"procedure": "daily-backup"})  # fails inside its Update
    assert [(log["stage"], log["success"]) for log in no_run["logs"]] == [("Task Error", False)]
    assert plain(no_run["logs"][0]["stderr"]) == "ERROR: Procedure run cancel token not found"
    build = ok(url, "execute", "RunBuild", {"build": "api-build"})
    cancel = ok(url, "execute", "CancelBuild", {"build": "api-build"})
    assert [log["stage"] for log in cancel["logs"]] == ["Cancel Triggered", "Cancel acknowledged"]
    again = sim_call(url, "execute", "CancelBuild", {"build": "api-build"})
    assert (again.status_code, again.json()["error"]) == (500, "Build has already been cancelled")
    held_sim.simulator.gate.open()
    stopped = wait_complete(url, build["_id"]["$oid"])["logs"][-1]
    assert (stopped["stage"], stopped["stderr"]) == ("Build Cancelled", "User cancelled build during image build step")


def test_a_procedures_batch_execution_runs_on_every_matching_resource(sim):
    ok(sim.url, "write", "CreateProcedure", {"name": "deploy-apis", "config": {"stages": [
        {"name": "apis", "enabled": True, "executions": [
            {"enabled": True, "execution": {"type": "BatchDeploy", "params": {"pattern": "api-*"}}}]}]}})
    run = ok(sim.url, "execute", "RunProcedure", {"procedure": "deploy-apis"})
    done = wait_complete(sim.url, run["_id"]["$oid"])
    assert done["success"]
    executing = [line for line in plain(done["logs"][0]["stdout"]).splitlines() if line.startswith("INFO: Executing: ")]
    assert executing == ['INFO: Executing: Deploy(Deploy { deployment: "api-v1" })',
                         'INFO: Executing: Deploy(Deploy { deployment: "api-v2" })']
    deploys = ok(sim.url, "read", "ListUpdates", {"query": {"operation": "Deploy",
                                                            "operator": "000000000000000000000001"}})["updates"]
    assert len(deploys) == 2 and all(u["start_ts"] >= run["start_ts"] for u in deploys)


def test_a_procedure_step_the_simulator_does_not_model_fails_instead_of_hanging(sim):
    ok(sim.url, "write", "CreateProcedure", {"name": "rotate", "config": {"stages": [
        {"name": "keys", "enabled": True, "executions": [
            {"enabled": True, "execution": {"type": "RotateCoreKeys", "params": {}}}]}]}})
    done = wait_complete(sim.url, ok(sim.url, "execute", "RunProcedure", {"procedure": "rotate"})["_id"]["$oid"])
    assert [log["stage"] for log in done["logs"]] == ["Execute procedure", "Execution error"]
    assert "the simulator does not run RotateCoreKeys" in plain(done["logs"][1]["stderr"])


async def test_a_deployments_history_names_cores_procedure_user(core):
    async with mcp_client(settings_for(core)) as client:
        error, body = await call(client, "komodo_read_GetDeployment", {"id": "web"})
    assert not error, body
    history = {entry["job_id"]: entry["deployed_by"] for entry in body["data"]["deployment_history"]}
    assert history == {DEPLOY_BY_PROCEDURE: "Procedure", "6b0dd5eaf2d87327c972e239": "admin"}


def test_starting_all_containers_logs_each_container_then_cores_summary(sim):
    containers = ok(sim.url, "read", "ListContainers", {"server": "staging-web"})
    started = ok(sim.url, "execute", "StartAllContainers", {"server": "staging-web"})
    done = wait_complete(sim.url, started["_id"]["$oid"])
    assert containers and [(log["stage"], log["command"]) for log in done["logs"][:-1]] == [
        (f"docker start -- {c['name']}",) * 2 for c in containers]
    assert (done["logs"][-1]["stage"], done["logs"][-1]["stdout"]) == (
        "Start All Containers", "All containers have been started on the host.")


def test_deploying_a_build_records_the_version_deployed(sim):
    build = ok(sim.url, "read", "GetBuild", {"build": "api-build"})["config"]["version"]
    of_build = wait_complete(sim.url, ok(sim.url, "execute", "Deploy", {"deployment": "worker-queue"})["_id"]["$oid"])
    of_image = wait_complete(sim.url, ok(sim.url, "execute", "Deploy", {"deployment": "api-v2"})["_id"]["$oid"])
    assert of_build["version"] == build and "version" not in of_image

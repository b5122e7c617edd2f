"""Tasks by value: a job's Update as a task in both generations, which tools are tasks, and the tasks/* answers that
refuse (unknown task, finished job, a job Komodo cannot cancel, input that Komodo never asks for)."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any, Iterator

import httpx2
import pytest
from mcp.shared.exceptions import MCPError

from komodo_mcp.server import build_server
from komodo_mcp.tasks import INVALID_PARAMS, CursorParams, KomodoTasks, TaskIdParams, is_task_tool, task_fields
from komodo_mcp.tools._context import App

from .conftest import serve_http, settings_for
from .test_client_decisions import URL, ScriptedKomodo, failure
from .test_tasks import until_done
from .wire import LEGACY, MODERN, rpc

START = 1_769_425_800_000  # 2026-01-26T11:10:00Z


def update(**fields: Any) -> dict[str, Any]:
    return {"id": "u1", "operation": "RunBuild", "status": "InProgress", "start_ts": START,
            "target": {"type": "Build", "id": "b1"}, **fields}


def test_a_running_job_is_a_working_task_updated_by_its_latest_step():
    task = task_fields(update(logs=[{"stage": "Clone Repo", "success": True, "end_ts": START + 5_000},
                                    {"stage": "Docker Build", "success": True, "end_ts": None}]), "u1", legacy=True)
    assert task == {"taskId": "u1", "status": "working", "createdAt": "2026-01-26T11:10:00Z",
                    "lastUpdatedAt": "2026-01-26T11:10:05Z", "statusMessage": "RunBuild: running", "ttl": None,
                    "pollInterval": 1_000}


def test_a_job_without_steps_was_last_updated_when_it_started():
    task = task_fields(update(status="Queued"), "u1", legacy=False)
    assert task == {"taskId": "u1", "status": "working", "createdAt": "2026-01-26T11:10:00Z",
                    "lastUpdatedAt": "2026-01-26T11:10:00Z", "statusMessage": "RunBuild: pending", "ttlMs": None,
                    "pollIntervalMs": 1_000}


def test_a_finished_job_ends_when_its_update_ends_and_says_why_it_failed():
    failed = task_fields(update(status="Complete", success=False, end_ts=START + 60_000, logs=[
        {"stage": "Docker Build", "success": False, "stderr": "no space left", "end_ts": START + 59_000}]), "u1",
        legacy=True)
    assert (failed["status"], failed["lastUpdatedAt"], failed["statusMessage"]) == (
        "failed", "2026-01-26T11:11:00Z", "RunBuild: failed (no space left)")
    done = task_fields(update(status="Complete", success=True, end_ts=START + 1_000), "u1", legacy=True)
    assert (done["status"], done["statusMessage"]) == ("completed", "RunBuild: success")
    cancelled = task_fields(update(status="Complete", success=False, logs=[
        {"stage": "Cancel", "success": True, "end_ts": START + 2_000}]), "u1", legacy=True)
    assert cancelled["status"] == "cancelled" and cancelled["lastUpdatedAt"] == "2026-01-26T11:10:02Z"


def test_execute_tools_that_start_a_job_are_tasks():
    assert is_task_tool("komodo_execute_Deploy") and is_task_tool("komodo_execute_RunProcedure")
    assert not is_task_tool("komodo_execute_WaitForJob") and not is_task_tool("komodo_execute_CancelJob")
    assert not is_task_tool("komodo_read_GetJob") and not is_task_tool("komodo_write_CreateDeployment")


@pytest.fixture
def mcp(sim) -> Iterator[tuple[str, Any]]:
    server = serve_http(settings_for(sim.url, confirm=False))  # tasks/cancel confirms like CancelJob
    yield server.url + "/mcp", sim.simulator
    server.stop()


def error_of(url: str, method: str, params: dict[str, Any], version: str) -> dict[str, Any]:
    answer = rpc(url, method, params, version)
    assert "result" not in answer, answer
    return answer["error"]


def test_refusals_name_the_task_and_why(mcp):
    url, _ = mcp
    finished = next(t["taskId"] for t in rpc(url, "tasks/list", {}, LEGACY)["result"]["tasks"]
                    if t["status"] == "failed")
    error = error_of(url, "tasks/get", {"taskId": "no-such-job"}, LEGACY)
    assert error["code"] == INVALID_PARAMS and error["message"].startswith("Unknown task no-such-job: ")
    error = error_of(url, "tasks/cancel", {"taskId": finished}, LEGACY)
    assert (error["code"], error["message"]) == (INVALID_PARAMS, f"Job {finished} has already finished (failed)")
    assert error["data"]["code"] == "CONFLICT"  # CancelJob's own refusal
    error = error_of(url, "tasks/update", {"taskId": finished, "inputResponses": {}}, MODERN)
    assert (error["code"], error["message"]) == (INVALID_PARAMS, "Komodo jobs never ask for input; nothing to update")


def test_a_job_komodo_cannot_cancel_is_refused(mcp):
    url, _ = mcp
    deploy = rpc(url, "tools/call", {"name": "komodo_execute_Deploy", "arguments": {"id": "api-v2"}}, MODERN,
                 extensions=False)["result"]["structuredContent"]["data"]
    error = error_of(url, "tasks/cancel", {"taskId": deploy["job_id"]}, LEGACY)
    assert (error["code"], error["message"]) == (INVALID_PARAMS, "Komodo cannot cancel a Deploy job; it ends on its own")


def test_the_legacy_list_pages_by_cursor(mcp):
    url, simulator = mcp
    first = rpc(url, "tasks/list", {}, LEGACY)["result"]
    assert len(first["tasks"]) == len(simulator.store.updates) and "nextCursor" not in first
    assert rpc(url, "tasks/list", {"cursor": "not-a-page"}, LEGACY)["result"] == first
    assert rpc(url, "tasks/list", {"cursor": "1"}, LEGACY)["result"] == {"tasks": []}


def test_a_task_result_is_the_tool_result_as_text_and_structure(mcp):
    url, _ = mcp
    created = rpc(url, "tools/call", {"name": "komodo_execute_Deploy", "arguments": {"id": "redis-cache"}, "task": {}},
                  LEGACY)["result"]["task"]
    result = rpc(url, "tasks/result", {"taskId": created["taskId"]}, LEGACY)["result"]
    assert result["content"] == [{"type": "text", "text": json.dumps(result["structuredContent"], indent=2)}]
    assert result["isError"] is False and result["structuredContent"]["data"]["job_id"] == created["taskId"]


def test_tasks_get_answers_in_each_generations_shape(mcp):
    url, _ = mcp
    created = rpc(url, "tools/call", {"name": "komodo_execute_Deploy", "arguments": {"id": "redis-cache"}},
                  MODERN)["result"]
    done = until_done(url, created["taskId"], MODERN)
    assert (done["taskId"], done["status"], done["resultType"]) == (created["taskId"], "completed", "complete")
    assert done["result"]["resultType"] == "complete"
    assert done["result"]["structuredContent"]["data"]["job_id"] == created["taskId"]
    legacy = rpc(url, "tasks/get", {"taskId": created["taskId"]}, LEGACY)["result"]
    assert legacy["taskId"] == created["taskId"] and legacy["status"] == "completed"
    assert legacy["pollInterval"] == 1_000 and "pollIntervalMs" not in legacy and "resultType" not in legacy


def test_a_failed_task_carries_a_json_rpc_error_with_the_result(mcp):
    url, _ = mcp
    created = rpc(url, "tools/call", {"name": "komodo_execute_Build", "arguments": {"id": "web-build"}},
                  MODERN)["result"]
    failed = until_done(url, created["taskId"], MODERN)
    assert failed["status"] == "failed" and failed["error"]["code"] == -32000
    assert failed["error"]["message"] == failed["error"]["data"]["data"]["error"]["message"]


# tasks/* against a scripted Komodo: what each answer is made of

BUILD_JOB = {"_id": {"$oid": "j1"}, "id": "j1", "operation": "RunBuild", "status": "InProgress", "start_ts": START,
             "target": {"type": "Build", "id": "b1"}, "logs": []}


def komodo_answering(answers: dict[str, Any]) -> ScriptedKomodo:
    """Answers by operation; a list is answered one item per call, its last item repeating."""
    def answer(request: httpx2.Request) -> httpx2.Response:
        operation = json.loads(request.content)["type"]
        value = answers[operation]
        if isinstance(value, list):
            value = value.pop(0) if len(value) > 1 else value[0]
        return value if isinstance(value, httpx2.Response) else httpx2.Response(200, json=value)
    return ScriptedKomodo(answer)


def cancelling_tasks() -> KomodoTasks:
    """tasks/* as build_server wires them: cancel calls the served CancelJob tool (no confirmation asked)."""
    tasks = KomodoTasks()
    tasks.server = build_server(settings_for(URL, confirm=False), check=False)
    return tasks


def request_context(komodo: ScriptedKomodo, version: str) -> Any:
    client = komodo.client()
    return SimpleNamespace(lifespan_context=App(komodo=client, settings=client.settings), protocol_version=version)


@pytest.mark.anyio
async def test_a_refused_cancel_carries_komodos_error():
    komodo = komodo_answering({"GetUpdate": BUILD_JOB, "CancelBuild": failure(500, "No build in progress")})
    with pytest.raises(MCPError) as caught:
        await cancelling_tasks().cancel(request_context(komodo, LEGACY), TaskIdParams(taskId="j1"))
    error = caught.value.error
    assert (error.code, error.message) == (INVALID_PARAMS, "No build in progress")
    assert error.data["code"] == "CONFLICT" and error.data["error"] == "No build in progress"
    assert [body for _, body, _ in komodo.requests][1] == {"type": "CancelBuild", "params": {"build": "b1"}}


@pytest.mark.anyio
@pytest.mark.parametrize("version", [LEGACY, MODERN])
async def test_a_cancel_waits_for_komodo_to_stop_the_job(version):
    stopped = {**BUILD_JOB, "status": "Complete", "success": False, "end_ts": START + 3_000,
               "logs": [{"stage": "Build", "success": False, "stderr": "Build cancelled", "end_ts": START + 3_000}]}
    komodo = komodo_answering({"GetUpdate": [BUILD_JOB, BUILD_JOB, BUILD_JOB, stopped],
                               "CancelBuild": {"_id": {"$oid": "c1"}}})
    answer = await cancelling_tasks().cancel(request_context(komodo, version), TaskIdParams(taskId="j1"))
    if version == MODERN:
        assert answer == {"resultType": "complete"}
    else:
        assert (answer["taskId"], answer["status"], answer["lastUpdatedAt"]) == ("j1", "cancelled",
                                                                                 "2026-01-26T11:10:03Z")
        assert answer["pollInterval"] == 1_000 and "pollIntervalMs" not in answer
    assert sum(body["type"] == "GetUpdate" for _, body, _ in komodo.requests) == 4


@pytest.mark.anyio
async def test_the_legacy_list_reads_one_komodo_page_and_offers_the_next():
    listed = {**BUILD_JOB, "status": "Complete", "success": True}
    komodo = komodo_answering({"ListUpdates": {"updates": [listed], "next_page": 3}})
    answer = await KomodoTasks().list(request_context(komodo, LEGACY), CursorParams(cursor="2"))
    assert komodo.requests[0][1] == {"type": "ListUpdates", "params": {"query": {}, "page": 2}}
    assert answer["nextCursor"] == "3" and answer["tasks"][0]["status"] == "completed"
    assert answer["tasks"][0]["pollInterval"] == 1_000 and "pollIntervalMs" not in answer["tasks"][0]

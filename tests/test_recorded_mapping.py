"""The outside oracle, part (b): what an assistant sees when the server reads a real Komodo Core 2.3.2's answers.

The tools run over MCP against a replay of the recorded Core (tests/fixtures/recorded-core): every request they send
must have been recorded, and every value pinned here comes from Core's own answers."""

from __future__ import annotations

from typing import Any, AsyncIterator

import httpx2
import pytest

from komodo_mcp.mapping.deployments import deployment_detail
from komodo_mcp.mapping.servers import container_owner
from komodo_sim.app import AsgiThread

from .conftest import call, mcp_client, settings_for
from .recorded_core import records, replay_app

TOKEN = "s3cr3t-value"  # the recorded secret variable's value
DB_PASSWORD = "hunter2"  # the recorded deployment `web`'s secret environment value


def recorded(recording: str, request: str, **params: Any) -> Any:
    """The first recorded answer to `request` with these params."""
    return next(r["response"] for r in records(recording)
                if r["request"] and r["request"]["type"] == request and r["request"]["params"] == params)


pytestmark = pytest.mark.anyio
BOTH = pytest.mark.parametrize("tools", ["unreachable", "periphery"], indirect=True)
UNREACHABLE = pytest.mark.parametrize("tools", ["unreachable"], indirect=True)
PERIPHERY = pytest.mark.parametrize("tools", ["periphery"], indirect=True)


@pytest.fixture(scope="module")
def replays() -> Any:
    """Both recorded Cores, served for the module: recording → (thread, requests it could not answer)."""
    apps = {recording: replay_app(recording) for recording in ("unreachable", "periphery")}
    threads = {recording: AsgiThread(app) for recording, app in apps.items()}
    for thread in threads.values():
        thread.start()
    yield {recording: (threads[recording], apps[recording].state.unanswered) for recording in apps}
    for thread in threads.values():
        thread.stop()


@pytest.fixture
async def tools(replays: Any, request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    """An MCP client whose Komodo is the recorded Core named by the test's parameter."""
    thread, unanswered = replays[request.param]
    async with mcp_client(settings_for(thread.url, retries=0)) as client:
        yield request.param, client
    assert unanswered == [], "a tool sent a request the real Core was never asked"


async def read(client: Any, tool: str, **arguments: Any) -> Any:
    error, body = await call(client, f"komodo_read_{tool}", arguments)
    assert not error, body
    return body["data"]


@UNREACHABLE
async def test_an_unreachable_server_its_deployments_and_its_stack(tools):
    _, client = tools
    server = await read(client, "GetServer", id="srv-a")
    assert (server["status"], server["state"], server["host"], server["port"]) == ("error", "NotOk", "127.0.0.1", 8120)
    assert server["error"] == "Failed to connect to websocket | url: wss://127.0.0.1:8120/?core=127.0.0.1"
    assert server["metrics"] is None and server["config"] == {"memory": None, "cpu": None, "disk": None, "os": None}
    assert server["notes"] == [
        "metrics unavailable: Server status missing system stats. The Server may be disconnected.",
        "config unavailable: Server status missing system Info. The Server may be disconnected."]
    assert server["deployment_names"] == ["api", "web"]
    assert [a["title"] for a in server["alerts"]] == ["Server srv-a Unreachable"]
    deployments = await read(client, "ListDeployments")
    assert [(d["name"], d["status"], d["state"], d["container_status"]) for d in deployments["items"]] == [
        ("api", "failed", "unknown", None), ("web", "failed", "unknown", None)]
    stacks = await read(client, "ListStacks")
    assert [(s["name"], s["status"], s["state"], s["services"], s["running_services"]) for s in stacks["items"]] == [
        ("shop", "inactive", "unknown", [], 0)]


@PERIPHERY
async def test_a_stack_with_one_service_running_and_one_exited(tools):
    _, client = tools
    stacks = await read(client, "ListStacks")
    assert [(s["name"], s["status"], s["state"], s["service_count"], s["running_services"])
            for s in stacks["items"]] == [("shop", "active", "unhealthy", 2, 1)]
    stack = await read(client, "GetStack", id="shop")
    assert [(s["name"], s["status"], s["container"]) for s in stack["services"]] == [
        ("web", "running", "shop-web-1"), ("worker", "exited", "shop-worker-1")]
    log = await read(client, "GetStackLog", id="shop", tail=3)
    assert (log["source"], log["lines"]) == ("last 3 lines of each service", 4)
    assert log["log"].splitlines()[-1] == "worker-1  | worker done"


@PERIPHERY
async def test_running_exited_and_never_deployed_deployments(tools):
    _, client = tools
    listed = await read(client, "ListDeployments")
    assert [(d["name"], d["status"], d["state"], d["container_status"]) for d in listed["items"]] == [
        ("api", "stopped", "exited", "Exited (3) 46 seconds ago"), ("never", "stopped", "not_deployed", None),
        ("web", "running", "running", "Up 46 seconds")]
    web = await read(client, "GetDeployment", id="web")
    assert web["metrics"] == {"cpu_usage": "0.25%", "memory_usage": "704KiB / 23.54GiB", "memory_percent": "0.00%",
                              "network_io": "0B / 0B", "block_io": "0B / 0B", "pids": "2", "uptime": "46 seconds"}
    assert web["health"]["status"] == "healthy" and web["env"] == {"A": "1", "DB_PASSWORD": "********"}


def test_an_exited_deployment_shows_no_metrics_even_when_docker_answers_zeros():
    """`docker stats` answers zeros for a stopped container; that is no measurement of it."""
    full = recorded("periphery", "GetDeployment", deployment="api")
    item = recorded("periphery", "ListDeployments", limit=0, query={"names": [full["_id"]["$oid"]]})[0]
    container = recorded("periphery", "GetDeploymentContainer", deployment="api")["container"]
    zeros = {"name": "api", "cpu_perc": "0.00%", "mem_perc": "0.00%", "mem_usage": "0B / 0B", "net_io": "0B / 0B",
             "block_io": "0B / 0B", "pids": "0"}
    detail = deployment_detail(full, item, {}, False, container=container, stats=zeros, history=[], notes=[])
    assert detail.metrics is None and detail.notes == ["metrics unavailable: the container is exited"]
    assert (detail.status, detail.health.status, detail.container_id) == ("stopped", "not running", container["id"])


def test_containers_belong_to_deployments_and_stacks_by_name():
    """Core never sends Docker's labels (`ContainerListItem.labels` is skip_serializing)."""
    containers = recorded("periphery", "ListContainers", server="srv-a")
    server_id = containers[0]["server_id"]
    deployments = recorded("periphery", "ListDeployments", limit=0, query={"specific": {"server_ids": [server_id]}})
    stacks = recorded("periphery", "ListStacks", limit=50, page=0, query={})
    assert all("labels" not in c for c in containers)
    assert {c["name"]: container_owner(c["name"], deployments, stacks) for c in containers} == {
        "shop-web-1": "shop", "t1": None, "web": "web", "api": "api", "shop-worker-1": "shop"}


@UNREACHABLE
async def test_a_build_never_built_and_a_repo_never_cloned(tools):
    _, client = tools
    builds = await read(client, "ListBuilds")
    assert [(b["name"], b["status"], b["state"], b["last_build_at"]) for b in builds["items"]] == [
        ("api-image", "pending", "Ok", None), ("mcp-build", "pending", "Ok", None)]
    repos = await read(client, "ListRepos")
    assert [(r["name"], r["status"], r["state"], r["last_sync"]) for r in repos["items"]] == [
        ("infra", "unknown", "Ok", None), ("mcp-repo", "error", "Failed", None)]
    builders = await read(client, "ListBuilders")
    assert [(b["name"], b["builder_type"], b["instance_type"], b["server_ids"]) for b in builders["items"]] == [
        ("b-server", "Server", None, ["6b0dd5e0f2d87327c972e219"])]


@BOTH
async def test_the_summary_counts_deployments_as_their_list_items_show_them(tools):
    recording, client = tools
    summary = await read(client, "GetSummary")
    listed = await read(client, "ListDeployments")
    by_status = {status: sum(1 for d in listed["items"] if d["status"] == status)
                 for status in ("running", "stopped", "failed")}
    assert summary["deployments"] == {"total": len(listed["items"]), **by_status}
    assert summary["deployments"] == {"unreachable": {"total": 2, "running": 0, "stopped": 0, "failed": 2},
                                      "periphery": {"total": 3, "running": 1, "stopped": 2, "failed": 0}}[recording]


@BOTH
async def test_the_secret_variable_and_the_toml_export_never_show_secrets(tools):
    recording, client = tools
    assert TOKEN in str(recorded(recording, "ListVariables")), "Core shows secret values to admins"
    variables = await read(client, "ListVariables")
    assert {v["name"]: (v["value"], v["is_secret"]) for v in variables} == {
        "REGION": ("eu-1", False), "TOKEN": ("********", True)}
    raw = recorded(recording, "ExportAllResourcesToToml", include_resources=True, include_variables=False, tags=[],
                   user_groups=[])["toml"]
    assert f"DB_PASSWORD={DB_PASSWORD}" in raw
    exported = await read(client, "ExportToml")
    toml = exported["toml"]
    assert DB_PASSWORD not in toml and TOKEN not in toml and "DB_PASSWORD=********" in toml
    # One per resource: a procedure's `[[procedure.config.stage]]` tables are not resources, and Core leaves out
    # the sync whose resources live in Komodo itself (api/read/toml.rs).
    kinds = ("Servers", "Deployments", "Stacks", "Builds", "Repos", "Procedures", "Actions", "Builders", "Alerters")
    assert recorded(recording, "ListResourceSyncs", limit=50, page=0, query={})[0]["info"]["file_contents"]
    assert exported["resources"] == sum(recorded(recording, f"Get{kind}Summary")["total"] for kind in kinds)


def test_the_replay_answers_a_request_only_as_core_would_answer_a_recorded_one(replays):
    """The replay's equivalences (recorded_core.py) follow Core's list and get semantics; anything else is refused."""
    thread, unanswered = replays["unreachable"]

    def ask(request: str, **params: Any) -> tuple[int, Any]:
        answer = httpx2.post(f"{thread.url}/read", json={"type": request, "params": params})
        return answer.status_code, answer.json()

    every = recorded("unreachable", "ListServers", limit=50, page=0, query={})
    assert [server["name"] for server in every] == ["srv-a", "srv-off"]
    assert ask("ListServers", limit=0, query={"names": ["srv-off"]}) == (200, [every[1]])
    assert ask("ListServers", limit=1, page=1, query={}) == (200, [every[1]])
    assert ask("ListServers", limit=0, query={"names": [every[0]["id"], "srv-off"]}) == (200, [])  # both must match
    nightly = recorded("unreachable", "GetProcedure", procedure="nightly")
    assert ask("GetProcedure", procedure=nightly["_id"]["$oid"]) == (200, nightly)
    refused = [("ListServers", {"query": {"names": ["srv-a"]}}),  # without a limit, Core's configured default applies
               ("ListServers", {"limit": 0, "query": {"tags": ["prod"]}}),
               ("GetProcedure", {"procedure": "no-such-procedure"})]
    assert [ask(request, **params)[0] for request, params in refused] == [404, 404, 404]
    assert len(unanswered) == len(refused)
    unanswered.clear()  # refused on purpose: no tool sent them

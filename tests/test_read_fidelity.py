"""Reads that follow Komodo's own rules, over MCP against the simulator (issue 12 point 11 and the read audit)."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from komodo_sim import ADMIN_KEY, ADMIN_SECRET, VIEWER_KEY, VIEWER_SECRET

from .conftest import call, mcp_client, settings_for

pytestmark = pytest.mark.anyio
ADMIN = {"x-api-key": ADMIN_KEY, "x-api-secret": ADMIN_SECRET}


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
async def client(shared_sim):
    async with mcp_client(settings_for(shared_sim.url)) as connected:
        yield connected


async def test_a_restarting_deployment_is_failed_in_the_summary_and_in_the_list(client):
    """Komodo's summary counts a restarting container `unhealthy` (api/read/deployment.rs): failed everywhere."""
    _, summary = await call(client, "komodo_read_GetSummary")
    _, failed = await call(client, "komodo_read_ListDeployments", {"status": "failed", "page_size": 100})
    _, stopped = await call(client, "komodo_read_ListDeployments", {"status": "stopped", "page_size": 100})
    assert "nginx-proxy" in [d["name"] for d in failed["data"]["items"]]
    counts = summary["data"]["deployments"]
    assert (counts["failed"], counts["stopped"]) == (failed["data"]["total"], stopped["data"]["total"])


async def test_containers_are_attributed_to_their_deployment_or_stack_by_name(client):
    _, containers = await call(client, "komodo_read_ListContainers", {"server_id": "production-api"})
    owners = {c["name"]: c["komodo_resource"] for c in containers["data"]["items"]}
    assert owners["api-v2"] == "api-v2" and owners["jobs-stack-api-1"] == owners["jobs-stack-worker-1"] == "jobs-stack"


async def test_a_build_never_built_is_listed_as_pending(client):
    """Komodo reports a build that never ran as Ok; the pending filter still finds it."""
    _, pending = await call(client, "komodo_read_ListBuilds", {"status": "pending"})
    _, success = await call(client, "komodo_read_ListBuilds", {"status": "success"})
    assert [b["name"] for b in pending["data"]["items"]] == ["worker-build"]
    assert [b["name"] for b in success["data"]["items"]] == ["api-build"]


def _read(url: str, operation: str, params: dict) -> Any:
    response = httpx2.post(f"{url}/read", json={"type": operation, "params": params}, headers=ADMIN)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_query_mixing_names_and_ids_matches_only_both(shared_sim):
    """Core ANDs the ids and the names of `query.names` (entities/resource.rs, ResourceQuery::add_filters)."""
    url = shared_sim.url
    api_v2 = _read(url, "GetDeployment", {"deployment": "api-v2"})["_id"]["$oid"]
    names = lambda query: [item["name"] for item in _read(url, "ListDeployments", {"query": query})]  # noqa: E731
    assert names({"names": [api_v2, "api-v1"]}) == []
    assert names({"names": [api_v2, "api-v2"]}) == ["api-v2"]
    assert names({"names": ["api-v1", "redis-cache"]}) == ["api-v1", "redis-cache"]


def test_a_stack_status_is_docker_compose_ls_text(shared_sim):
    """Periphery passes on `docker compose ls`'s STATUS: container states with counts, sorted by state."""
    stacks = {s["name"]: s["info"] for s in _read(shared_sim.url, "ListStacks", {"query": {}})}
    assert stacks["jobs-stack"]["status"] == "exited(1), running(1)"
    assert stacks["db-stack"]["status"] == "restarting(1), running(1)"
    assert stacks["monitoring-stack"]["status"] == "running(3)"
    # On an unreachable server Core knows neither the project nor its services.
    assert (stacks["edge-stack"]["state"], stacks["edge-stack"]["status"], stacks["edge-stack"]["services"]) == (
        "unknown", None, [])


def test_a_permission_without_specifics_is_the_bare_level(shared_sim):
    """`deserializers/permission.rs`: PermissionLevelAndSpecifics serialises as the level alone when it has no
    specifics; specifics keep their enum order (as recorded from a real Core for an admin)."""
    url, viewer = shared_sim.url, {"x-api-key": VIEWER_KEY, "x-api-secret": VIEWER_SECRET}

    def permission(kind: str, name: str, headers: dict[str, str]) -> Any:
        target = {"type": kind, "id": _read(url, f"Get{kind}", {kind.lower(): name})["_id"]["$oid"]}
        return httpx2.post(f"{url}/read", json={"type": "GetPermission", "params": {"target": target}},
                           headers=headers).json()

    assert permission("Server", "staging-web", viewer) == "Read"
    assert permission("Deployment", "web-frontend", viewer) == {"level": "Execute", "specific": ["Logs"]}
    assert permission("Server", "staging-web", ADMIN) == {
        "level": "Write", "specific": ["Terminal", "Attach", "Inspect", "Logs", "Processes"]}


async def test_a_container_log_can_be_searched(client):
    """The server asks Core's SearchContainerLog; the simulator serves it as Periphery greps (`docker logs | grep`)."""
    _, found = await call(client, "komodo_read_GetContainerLog",
                          {"server_id": "production-api", "container": "api-v2", "search": "ERROR"})
    assert found["data"]["lines"] == 3 and all("ERROR" in line for line in found["data"]["log"].splitlines())


async def test_exporting_resources_named_by_id_and_by_name_together(client):
    """Komodo ANDs ids and names within one query, so they are asked for apart."""
    _, by_name = await call(client, "komodo_read_GetDeployment", {"id": "api-v2"})
    _, both = await call(client, "komodo_read_ExportToml", {"resource_type": "deployment",
                                                              "ids": [by_name["data"]["id"], "redis-cache"]})
    assert both["data"]["resources"] == 2
    assert 'name = "api-v2"' in both["data"]["toml"] and 'name = "redis-cache"' in both["data"]["toml"]


def test_a_deployment_of_a_build_at_version_zero_runs_the_builds_own_version(shared_sim):
    """`resource/deployment.rs` to_list_item: version 0.0.0 (none) means the build's current version."""
    items = _read(shared_sim.url, "ListDeployments", {"query": {"names": ["worker-queue"]}})
    assert items[0]["info"]["image"] == "api-build:2.1.0" and items[0]["info"]["build_id"]


def test_a_log_of_a_deployment_on_no_server_is_refused_as_core_does(sim):
    """`entities/mod.rs` verify_has_target: 400 when neither a swarm nor a server is attached; an unreachable
    server: `helpers/query.rs` get_swarm_or_server."""
    created = httpx2.post(f"{sim.url}/write", json={"type": "CreateDeployment", "params": {"name": "loose"}},
                          headers=ADMIN)
    assert created.status_code == 200, created.text
    loose = httpx2.post(f"{sim.url}/read", json={"type": "GetDeploymentLog", "params": {"deployment": "loose"}},
                        headers=ADMIN)
    down = httpx2.post(f"{sim.url}/read", json={"type": "GetDeploymentLog",
                                                "params": {"deployment": "metrics-exporter"}}, headers=ADMIN)
    assert (loose.status_code, loose.json()["error"]) == (400, "Must attach either swarm or server")
    assert (down.status_code, down.json()["error"]) == (
        500, "Cannot send command when Server is unreachable or disabled")


def test_a_stack_log_tails_each_service_with_composes_padded_prefixes(shared_sim):
    """Periphery runs `docker compose -p P logs --tail N -- services` (`api/compose.rs`): N lines per service, each
    line prefixed with its container's name padded to the longest (as recorded: `web-1     | `, `worker-1  | `)."""
    log = _read(shared_sim.url, "GetStackLog", {"stack": "jobs-stack", "services": [], "tail": 2})
    prefixes = [line.split("| ")[0] for line in log["stdout"].splitlines()]
    assert sorted(prefixes) == ["api-1     ", "api-1     ", "worker-1  ", "worker-1  "]
    assert (log["stage"], log["command"]) == ("Get Stack Log", "docker compose -p jobs-stack logs --tail 2 -- ")
    only = _read(shared_sim.url, "GetStackLog", {"stack": "jobs-stack", "services": ["worker"], "tail": 2})
    assert [line.split("| ")[0] for line in only["stdout"].splitlines()] == ["worker-1  ", "worker-1  "]


def test_stack_services_are_sorted_by_name_with_capitalised_states(shared_sim):
    """`monitor/resources.rs`: services sorted by name, StackServiceState capitalised, Docker status lines."""
    services = _read(shared_sim.url, "ListStackServices", {"stack": "jobs-stack"})
    assert [(s["service"], s["state"], s["container"]["status"]) for s in services] == [
        ("api", "Running", "Up 2 hours"), ("worker", "Exited", "Exited (0) 2 hours ago")]
    monitoring = _read(shared_sim.url, "ListStackServices", {"stack": "monitoring-stack"})
    assert [s["service"] for s in monitoring] == ["alertmanager", "grafana", "prometheus"]


async def test_an_alert_id_that_is_no_object_id_is_refused_before_komodo_is_asked(client, shared_sim):
    """Core parses the alert id first and answers a database error for anything but an ObjectId."""
    raw = httpx2.post(f"{shared_sim.url}/read", json={"type": "GetAlert", "params": {"id": "nope"}}, headers=ADMIN)
    assert (raw.status_code, raw.json()["error"]) == (500, "failed to query db for alert")
    error, answer = await call(client, "komodo_read_GetAlert", {"id": "nope"})
    assert error and answer["code"] == "VALIDATION_ERROR"


async def test_the_log_of_a_never_deployed_deployment_says_why_it_is_empty(client, shared_sim):
    """Core passes Periphery's failed `docker logs` on as a Log with `success: false` (status 200)."""
    raw = _read(shared_sim.url, "GetDeploymentLog", {"deployment": "canary-api", "tail": 10})
    assert raw["success"] is False and raw["stderr"] == "Error response from daemon: No such container: canary-api\n"
    _, log = await call(client, "komodo_read_GetDeploymentLog", {"id": "canary-api", "tail": 10})
    assert log["data"]["note"] == (
        "Komodo could not read the log: Error response from daemon: No such container: canary-api")


def test_an_alert_on_a_resource_the_caller_cannot_read_is_forbidden_not_missing(shared_sim):
    """`api/read/alert.rs` GetAlert checks the target with `check_user_target_access` (`permission.rs`)."""
    alerts = _read(shared_sim.url, "ListAlerts", {"query": {"target.type": "Server"}})["alerts"]
    unseen = next(a for a in alerts if a["data"]["data"]["name"] == "production-api")
    viewer = {"x-api-key": VIEWER_KEY, "x-api-secret": VIEWER_SECRET}
    answer = httpx2.post(f"{shared_sim.url}/read", json={"type": "GetAlert", "params": {"id": unseen["_id"]["$oid"]}},
                         headers=viewer)
    assert (answer.status_code, answer.json()["error"]) == (
        500, "User does not have required permissions on this Server. Must have at least Read permissions")

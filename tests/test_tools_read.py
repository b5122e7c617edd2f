"""Read tools over the MCP protocol (official SDK client, both eras) against the simulator on loopback."""

from __future__ import annotations

import jsonschema
import pytest

from komodo_sim import ADMIN_SECRET, Simulator

from .conftest import call, mcp_client, output_schemas, serve, settings_for

pytestmark = pytest.mark.anyio


async def test_list_servers_shape_status_and_paging(shared_sim, era):
    async with mcp_client(settings_for(shared_sim.url), era) as client:
        schemas = await output_schemas(client)
        error, body = await call(client, "komodo_read_ListServers", {"page": 2, "page_size": 2})
        _, down = await call(client, "komodo_read_ListServers", {"status": "error"})
        _, past_end = await call(client, "komodo_read_ListServers", {"page": 9})
        _, pending = await call(client, "komodo_read_ListServers", {"status": "pending"})
    jsonschema.validate(body, schemas["komodo_read_ListServers"])  # a shape check; the values follow
    page = body["data"]
    # One comparison, so that one wrong page does not hide the others.
    assert {
        "page 2": (error, body["status"], page["total"], page["page"], page["pageSize"], page["totalPages"],
                   [s["name"] for s in page["items"]]),
        "status error": [(s["name"], s["state"]) for s in down["data"]["items"]],
        "past the end": (past_end["data"]["items"], past_end["data"]["total"]),
        "status pending": pending["data"]["total"],
    } == {
        "page 2": (False, 200, 5, 2, 2, 3, ["legacy-db", "production-api"]),
        "status error": [("edge-cache-01", "NotOk")],
        "past the end": ([], 5),
        "status pending": 0,
    }


async def test_get_server_by_name_and_by_id_agree(shared_sim, era):
    async with mcp_client(settings_for(shared_sim.url), era) as client:
        _, by_name = await call(client, "komodo_read_GetServer", {"id": "production-api"})
        _, by_id = await call(client, "komodo_read_GetServer", {"id": by_name["data"]["id"]})
    server = by_name["data"]
    assert by_id["data"]["id"] == server["id"] and by_id["data"]["name"] == "production-api"
    assert (server["host"], server["port"], server["provider"], server["status"]) == (
        "192.168.1.100", 8080, "aws", "running")
    assert server["metrics"]["cpu_usage"] == "95%" and server["config"]["memory"] == "4GB"
    assert sorted(server["deployment_names"]) == ["api-v1", "api-v2", "redis-cache", "worker-queue"]
    assert [a["title"] for a in server["alerts"]] == ["High CPU Usage on production-api"]


async def test_get_server_of_unreachable_host_degrades_with_notes(shared_sim):
    async with mcp_client(settings_for(shared_sim.url)) as client:
        error, body = await call(client, "komodo_read_GetServer", {"id": "edge-cache-01"})
    server = body["data"]
    assert not error and server["status"] == "error" and server["metrics"] is None
    assert server["error"].startswith("Failed to connect to Periphery")
    assert any("may be disconnected" in note for note in server["notes"])


async def test_list_deployments_filters_by_server_and_status(shared_sim, era):
    async with mcp_client(settings_for(shared_sim.url), era) as client:
        schemas = await output_schemas(client)
        _, failed = await call(client, "komodo_read_ListDeployments", {"status": "failed"})
        _, staging = await call(client, "komodo_read_ListDeployments", {"server_id": "staging-web"})
        _, running_prod = await call(client, "komodo_read_ListDeployments",
                                     {"server_id": "production-api", "status": "running"})
    jsonschema.validate(failed, schemas["komodo_read_ListDeployments"])
    assert {d["name"]: d["state"] for d in failed["data"]["items"]} == {
        "metrics-exporter": "unknown", "nginx-proxy": "restarting", "worker-queue": "unhealthy"}
    assert staging["data"]["total"] == 3
    assert [d["name"] for d in running_prod["data"]["items"]] == ["api-v2", "redis-cache"]


async def test_deployment_env_masks_secrets_unless_asked(shared_sim):
    async with mcp_client(settings_for(shared_sim.url)) as client:
        _, masked = await call(client, "komodo_read_GetDeployment", {"id": "api-v2"})
    async with mcp_client(settings_for(shared_sim.url, show_secrets=True)) as client:
        _, shown = await call(client, "komodo_read_GetDeployment", {"id": "api-v2"})
    assert masked["data"]["env"]["API_TOKEN"] == "********" and masked["data"]["env"]["DB_HOST"] == "db.internal"
    assert "tok_live_51Hx9secret" not in str(masked)
    assert shown["data"]["env"]["API_TOKEN"] == "tok_live_51Hx9secret"


async def test_get_deployment_composes_history_stats_and_health(shared_sim, era):
    async with mcp_client(settings_for(shared_sim.url), era) as client:
        _, body = await call(client, "komodo_read_GetDeployment", {"id": "api-v2"})
        _, stopped = await call(client, "komodo_read_GetDeployment", {"id": "api-v1"})
    deployment = body["data"]
    assert deployment["health"]["status"] == "healthy" and deployment["metrics"]["uptime"] == "6 days"
    assert len(deployment["deployment_history"]) == 5
    assert all(h["status"] == "success" and h["duration"].endswith("s") for h in deployment["deployment_history"])
    assert stopped["data"]["metrics"] is None and stopped["data"]["notes"] == [
        "metrics unavailable: the container is exited"]


async def test_alerts_filter_inside_komodo_and_explain(shared_sim, era):
    async with mcp_client(settings_for(shared_sim.url), era) as client:
        _, open_critical = await call(client, "komodo_read_ListAlerts", {"severity": "critical", "resolved": False})
        _, errors = await call(client, "komodo_read_ListAlerts", {"severity": "error"})
        _, on_servers = await call(client, "komodo_read_ListAlerts", {"resource_type": "server"})
        alert_id = open_critical["data"]["items"][0]["id"]
        _, detail = await call(client, "komodo_read_GetAlert", {"id": alert_id})
    assert [a["title"] for a in open_critical["data"]["items"]] == [
        "High CPU Usage on production-api", "Server edge-cache-01 Unreachable"]
    assert [a["type"] for a in errors["data"]["items"]] == ["BuildFailed"]
    assert on_servers["data"]["total"] == 3
    assert detail["data"]["suggested_actions"] and detail["data"]["timeline"][0]["event"] == "Alert triggered"


async def test_not_found_forbidden_and_validation_envelopes(shared_sim, viewer_settings, era):
    async with mcp_client(settings_for(shared_sim.url), era) as client:
        missing = await call(client, "komodo_read_GetDeployment", {"id": "nope"})
        invalid = await call(client, "komodo_read_ListDeployments", {"page_size": 101, "page": 0})
        wrong_type = await call(client, "komodo_read_ListServers", {"status": "sleeping"})
        unknown = await call(client, "komodo_read_NoSuchTool", {})
    async with mcp_client(viewer_settings, era) as client:
        forbidden = await call(client, "komodo_read_GetDeployment", {"id": "api-v2"})
        _, visible = await call(client, "komodo_read_ListDeployments")
    refusals = {"missing": missing, "invalid": invalid, "wrong_type": wrong_type, "unknown": unknown,
                "forbidden": forbidden}
    # One comparison, so that one wrong envelope does not hide the others.
    assert {case: (error, body["code"], body["status"]) for case, (error, body) in refusals.items()} == {
        "missing": (True, "NOT_FOUND", 404), "invalid": (True, "VALIDATION_ERROR", 400),
        "wrong_type": (True, "VALIDATION_ERROR", 400), "unknown": (True, "NOT_FOUND", 404),
        "forbidden": (True, "FORBIDDEN", 403)}
    assert {f["field"] for f in invalid[1]["details"]["fields"]} == {"page", "page_size"}
    assert "status" in wrong_type[1]["error"]
    assert [d["name"] for d in visible["data"]["items"]] == ["nginx-proxy", "web-frontend"]


async def test_unreachable_komodo_answers_network_error_and_leaks_nothing(era):
    dead = serve(Simulator())
    url = dead.url
    dead.stop()
    async with mcp_client(settings_for(url, retries=0), era) as client:
        error, body = await call(client, "komodo_read_ListServers")
    assert error and body["code"] == "NETWORK_ERROR"
    assert ADMIN_SECRET not in str(body) and url in body["error"]  # a wrong port shows


async def test_fleet_of_ten_thousand_lists_with_exact_total():
    fleet = serve(Simulator(resources=10_000))
    try:
        async with mcp_client(settings_for(fleet.url)) as client:
            _, page = await call(client, "komodo_read_ListDeployments", {"page": 3, "page_size": 50})
            _, running = await call(client, "komodo_read_ListDeployments", {"status": "running", "page_size": 100})
    finally:
        fleet.stop()
    assert page["data"]["total"] == 10_008 and len(page["data"]["items"]) == 50
    assert page["data"]["totalPages"] == 201
    assert running["data"]["total"] == 6000 + 3  # 6 in 10 generated deployments run, plus 3 of the demo fleet


async def test_unexpected_failure_is_internal_error_without_url_or_secret(sim, era):
    sim.simulator.inject_faults(200, 200, 200)  # the list, the summary and the tag calls get nonsense
    async with mcp_client(settings_for(sim.url), era) as client:
        error, body = await call(client, "komodo_read_ListServers")
    assert error and body["code"] == "INTERNAL_ERROR" and body["status"] == 500
    assert body["error"] == "Unexpected error in komodo_read_ListServers" and "details" not in body
    assert sim.url not in str(body) and ADMIN_SECRET not in str(body)


@pytest.mark.parametrize(("mode", "negotiated"), [("legacy", "2025-11-25"), ("2026-07-28", "2026-07-28")])
async def test_each_pinned_client_speaks_its_protocol_revision(shared_sim, mode, negotiated):
    async with mcp_client(settings_for(shared_sim.url), mode) as client:
        error, body = await call(client, "komodo_read_GetServer", {"id": "staging-web"})
        assert client.protocol_version == negotiated
    assert not error and body["data"]["name"] == "staging-web"

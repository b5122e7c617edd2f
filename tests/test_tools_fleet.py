"""Every read tool over MCP against the seeded simulator: shape, filters, masking, errors, size."""

from __future__ import annotations

import jsonschema
import pytest

from komodo_mcp.tools._registry import all_specs

from .catalogue import ALL_TOOLS
from .conftest import call, fields_missing, mcp_client, output_schemas, settings_for

pytestmark = pytest.mark.anyio
RESULT_CHAR_LIMIT = 100_000  # ~25,000 tokens, Claude Code's default cap for one tool result

SAMPLES: dict[str, dict] = {
    "GetSummary": {}, "GetVersion": {}, "ListInstances": {}, "ListSchedules": {}, "ListBuilders": {}, "ListAlerters": {}, "ListTags": {},
    "ExportToml": {"include_variables": True}, "ListServers": {}, "GetServer": {"id": "production-api"},
    "ListContainers": {"server_id": "production-api"},
    "GetContainerLog": {"server_id": "production-api", "container": "api-v2", "tail": 20},
    "InspectContainer": {"server_id": "production-api", "container": "api-v2"},
    "GetServerStats": {"id": "production-api"}, "ListDeployments": {"page_size": 100},
    "GetDeployment": {"id": "api-v2"}, "GetDeploymentLog": {"id": "api-v2", "tail": 5000},
    "ListStacks": {}, "GetStack": {"id": "monitoring-stack"}, "GetStackLog": {"id": "monitoring-stack"},
    "ListBuilds": {}, "GetBuild": {"id": "api-build"}, "ListRepos": {}, "GetRepo": {"id": "myapp-backend"},
    "ListProcedures": {}, "GetProcedure": {"id": "daily-backup"}, "ListActions": {},
    "GetAction": {"id": "backup-database"}, "ListAlerts": {}, "GetAlert": None, "ListUpdates": {"page_size": 100},
    "GetJob": None, "ListResourceSyncs": {}, "GetResourceSync": {"id": "infra-sync"}, "ListVariables": {},
    "Diagnose": {"id": "db-stack"}, "FindProblems": {"limit": 100},
}


@pytest.fixture(scope="module")
async def client(shared_sim):
    async with mcp_client(settings_for(shared_sim.url)) as connected:
        yield connected


@pytest.fixture(scope="module")
async def schemas(client):
    return await output_schemas(client)


async def _sample(client, op: str) -> dict:
    if op == "GetAlert":
        _, alerts = await call(client, "komodo_read_ListAlerts")
        return {"id": alerts["data"]["items"][0]["id"]}
    if op == "GetJob":
        _, updates = await call(client, "komodo_read_ListUpdates")
        return {"job_id": updates["data"]["items"][0]["job_id"]}
    return SAMPLES[op]


def test_every_read_tool_has_a_sample():
    assert {s.operation for s in all_specs() if s.kind == "read"} == set(SAMPLES)


@pytest.mark.parametrize("op", sorted(SAMPLES))
async def test_result_validates_against_its_output_schema_and_stays_small(client, schemas, op):
    result = await client.call_tool(f"komodo_read_{op}", await _sample(client, op))
    assert not result.is_error, result.structured_content
    jsonschema.validate(result.structured_content, schemas[f"komodo_read_{op}"])
    assert fields_missing(result.structured_content, schemas[f"komodo_read_{op}"]) == []
    assert len(result.content[0].text) < RESULT_CHAR_LIMIT


@pytest.mark.parametrize(("op", "arguments"), [
    ("GetServer", {"id": "nope"}), ("GetDeployment", {"id": "nope"}), ("GetStack", {"id": "nope"}),
    ("GetBuild", {"id": "nope"}), ("GetRepo", {"id": "nope"}), ("GetProcedure", {"id": "nope"}),
    ("GetAction", {"id": "nope"}), ("GetAlert", {"id": "0123456789abcdef01234567"}),
    ("GetJob", {"job_id": "0123456789abcdef01234567"}), ("GetResourceSync", {"id": "nope"}),
    ("GetDeploymentLog", {"id": "nope"}), ("GetStackLog", {"id": "nope"}), ("GetServerStats", {"id": "nope"}),
    ("ListContainers", {"server_id": "nope"}), ("ListDeployments", {"server_id": "nope"}),
    ("ListUpdates", {"resource_type": "stack", "resource_id": "nope"})])
async def test_unknown_resources_are_not_found(client, op, arguments):
    error, body = await call(client, f"komodo_read_{op}", arguments)
    assert error and body["code"] == "NOT_FOUND" and body["status"] == 404


async def test_non_admin_is_forbidden_or_sees_less(viewer_settings):
    async with mcp_client(viewer_settings) as viewer:
        build = await call(viewer, "komodo_read_GetBuild", {"id": "api-build"})
        log = await call(viewer, "komodo_read_GetDeploymentLog", {"id": "nginx-proxy"})  # Read without Logs
        own_log = await call(viewer, "komodo_read_GetDeploymentLog", {"id": "web-frontend", "tail": 3})
        _, builds = await call(viewer, "komodo_read_ListBuilds")
        _, summary = await call(viewer, "komodo_read_GetSummary")
    assert [(error, body.get("code")) for error, body in (build, log, own_log)] == [
        (True, "FORBIDDEN"), (True, "FORBIDDEN"), (False, None)]
    assert "Logs" in log[1]["error"] and own_log[1]["data"]["lines"] == 3
    assert (builds["data"]["total"], summary["data"]["servers"]["total"], summary["data"]["open_alerts"]) == (0, 1, 1)


async def test_stacks_filter_and_detail(client):
    _, active = await call(client, "komodo_read_ListStacks", {"status": "active"})
    _, inactive = await call(client, "komodo_read_ListStacks", {"status": "inactive"})
    _, stack = await call(client, "komodo_read_GetStack", {"id": "monitoring-stack"})
    assert [(s["name"], s["running_services"]) for s in active["data"]["items"]] == [
        ("db-stack", 1), ("jobs-stack", 1), ("monitoring-stack", 3)]
    assert [(s["name"], s["running_services"]) for s in inactive["data"]["items"]] == [
        ("edge-stack", 0), ("logging-stack", 0)]
    detail = stack["data"]
    assert [(s["name"], s["ports"]) for s in detail["services"]] == [  # Core sorts them by name
        ("alertmanager", ["9093:9093"]), ("grafana", ["3000:3000"]), ("prometheus", ["9090:9090"])]
    assert detail["networks"] == ["monitoring-net"] and detail["volumes"] == ["prometheus-data", "grafana-data"]


async def test_logs_tail_search_and_budget(shared_sim, client):
    _, tail = await call(client, "komodo_read_GetDeploymentLog", {"id": "api-v2", "tail": 5})
    _, search = await call(client, "komodo_read_GetDeploymentLog", {"id": "api-v2", "search": "ERROR"})
    _, stack = await call(client, "komodo_read_GetStackLog", {"id": "db-stack", "search": "slow query"})
    assert tail["data"]["lines"] == 5 and not tail["data"]["truncated"]
    assert search["data"]["lines"] == 3 and all("ERROR" in line for line in search["data"]["log"].splitlines())
    assert stack["data"]["lines"] > 0 and "slow query" in stack["data"]["log"]
    async with mcp_client(settings_for(shared_sim.url, log_budget_chars=1_000)) as small:
        _, cut = await call(small, "komodo_read_GetDeploymentLog", {"id": "api-v2", "tail": 120})
    assert cut["data"]["truncated"] and len(cut["data"]["log"]) <= 1_000 and "earlier lines" in cut["data"]["note"]
    error, invalid = await call(client, "komodo_read_GetDeploymentLog", {"id": "api-v2", "tail": 5001})
    assert error and invalid["code"] == "VALIDATION_ERROR"


async def test_builds_filters_history_and_masked_args(client):
    _, by_repo = await call(client, "komodo_read_ListBuilds", {"repo_id": "myapp-backend"})
    _, failed = await call(client, "komodo_read_ListBuilds", {"status": "failed"})
    _, build = await call(client, "komodo_read_GetBuild", {"id": "api-build"})
    assert [b["name"] for b in by_repo["data"]["items"]] == ["api-build"]
    assert by_repo["data"]["items"][0]["repo_name"] == "myapp-backend"
    assert [b["name"] for b in failed["data"]["items"]] == ["web-build"]
    detail = build["data"]
    assert detail["build_args"] == {"NODE_VERSION": "20", "APP_ENV": "production", "NPM_TOKEN": "********"}
    assert detail["tags"] == ["latest", "2.1.0", "abc123d"] and detail["komodo_tags"] == ["api", "production"]
    assert detail["builder"] == "local-builder" and len(detail["build_history"]) == 8
    assert [run["status"] for run in detail["build_history"]].count("failed") == 1


async def test_repos_filter_by_provider(client):
    _, gitlab = await call(client, "komodo_read_ListRepos", {"provider": "gitlab"})
    _, other = await call(client, "komodo_read_ListRepos", {"provider": "other", "page_size": 1})
    _, repo = await call(client, "komodo_read_GetRepo", {"id": "myapp-backend"})
    assert [r["name"] for r in gitlab["data"]["items"]] == ["myapp-frontend"]
    assert other["data"]["total"] == 1 and other["data"]["items"][0]["url"] == "https://git.example.com/ops/infra-scripts"
    detail = repo["data"]
    assert len(detail["builds"]) == 1 and detail["recent_commits"][0] == {
        "sha": "abc123d", "message": "feat: add new API endpoint", "kind": "latest"}
    assert detail["credentials"]["configured"] is False


async def test_procedures_and_actions(client):
    _, scheduled = await call(client, "komodo_read_ListProcedures", {"trigger": "scheduled"})
    _, manual = await call(client, "komodo_read_ListProcedures", {"trigger": "manual"})
    _, procedure = await call(client, "komodo_read_GetProcedure", {"id": "daily-backup"})
    _, notifications = await call(client, "komodo_read_ListActions", {"type": "notification"})
    _, api = await call(client, "komodo_read_ListActions", {"type": "api"})
    _, disabled = await call(client, "komodo_read_ListActions", {"enabled": False})
    _, action = await call(client, "komodo_read_GetAction", {"id": "backup-database"})
    assert [p["name"] for p in scheduled["data"]["items"]] == ["daily-backup", "nightly-cleanup"]
    assert [p["name"] for p in manual["data"]["items"]] == ["release-train"]
    steps = procedure["data"]["steps"]
    assert [(s["type"], s["target"]) for s in steps] == [("RunAction", "backup-database"), ("Sleep", None),
                                                          ("RunAction", "notify-slack")]
    assert steps[1]["duration"] == "30s" and len(procedure["data"]["execution_history"]) == 5
    assert [a["name"] for a in notifications["data"]["items"]] == ["notify-slack"]
    assert [a["name"] for a in api["data"]["items"]] == ["backup-database"] and disabled["data"]["total"] == 0
    assert action["data"]["execution_history"][0]["output"].startswith("Backup completed successfully")
    assert action["data"]["config"]["environment"]["DB_NAME"] == "production"


async def test_containers_and_server_stats(client):
    _, restarting = await call(client, "komodo_read_ListContainers", {"server_id": "staging-web",
                                                                       "status": "restarting"})
    _, stats = await call(client, "komodo_read_GetServerStats", {"id": "production-api", "points": 12})
    _, down = await call(client, "komodo_read_GetServerStats", {"id": "edge-cache-01"})
    assert [c["name"] for c in restarting["data"]["items"]] == ["nginx-proxy"]
    assert restarting["data"]["items"][0]["ports"] == ["80:80/tcp", "443:443/tcp"]
    assert len(stats["data"]["history"]) == 12 and stats["data"]["cpu_max"] >= stats["data"]["cpu_avg"]
    # Core answers an empty history for a server that never reported, and no current stats for one that is down.
    assert down["data"]["current"] is None and down["data"]["history"] == [] and down["data"]["notes"] == [
        "current unavailable: Server status missing system stats. The Server may be disconnected."]


async def test_updates_feed(client):
    _, builds = await call(client, "komodo_read_ListUpdates", {"resource_type": "build", "resource_id": "api-build"})
    _, failed = await call(client, "komodo_read_ListUpdates", {"status": "failed", "operation": "RunBuild"})
    error, invalid = await call(client, "komodo_read_ListUpdates", {"resource_id": "api-build"})
    assert builds["data"]["total"] == 8 and {u["operation"] for u in builds["data"]["items"]} == {"RunBuild"}
    assert failed["data"]["total"] == 2 and all(not u["success"] for u in failed["data"]["items"])
    assert error and invalid["code"] == "VALIDATION_ERROR"


async def test_secrets_never_leave_through_variables_or_toml(client):
    _, variables = await call(client, "komodo_read_ListVariables")
    _, toml = await call(client, "komodo_read_ExportToml", {"include_variables": True})
    _, one = await call(client, "komodo_read_ExportToml", {"resource_type": "deployment", "ids": ["api-v2"]})
    by_name = {v["name"]: v for v in variables["data"]}
    assert by_name["DB_PASSWORD"]["value"] == "********" and by_name["DB_HOST"]["value"] == "db.internal"
    for secret in ("pg-Sup3rS3cret!", "hooks.slack.com/services/T000/B000/XXXXXXXX", "tok_live_51Hx9secret",
                   "npm_9bX7secret"):
        assert secret not in toml["data"]["toml"]
    assert one["data"]["resources"] == 1 and 'name = "api-v2"' in one["data"]["toml"]


async def test_fleet_summary_version_schedules(client):
    _, summary = await call(client, "komodo_read_GetSummary")
    _, version = await call(client, "komodo_read_GetVersion")
    _, schedules = await call(client, "komodo_read_ListSchedules")
    _, sync = await call(client, "komodo_read_GetResourceSync", {"id": "infra-sync"})
    assert summary["data"]["deployments"]["total"] == 8 and summary["data"]["open_alerts"] == 4
    assert summary["data"]["top_alerts"][0]["severity"] == "critical"
    assert version["data"]["komodo_version"] == "2.3.2" and version["data"]["tools"] == len(ALL_TOOLS)  # every toolset
    assert [s["name"] for s in schedules["data"]["items"]] == ["daily-backup", "nightly-cleanup", "rotate-logs"]
    assert sync["data"]["pending_resource_changes"] == ["Update Stack monitoring-stack", "Create Deployment log-shipper"]
    assert sync["data"]["pending_variable_changes"] == ["Update DEFAULT_REGION"]


async def test_builders_alerters_and_tags(client):
    _, builders = await call(client, "komodo_read_ListBuilders")
    _, alerters = await call(client, "komodo_read_ListAlerters")
    _, tags = await call(client, "komodo_read_ListTags")
    _, runner = await call(client, "komodo_read_GetServer", {"id": "build-runner"})
    assert [(b["name"], b["builder_type"], b["instance_type"], b["server_ids"]) for b in builders["data"]["items"]] == [
        ("aws-builder", "Aws", "c5.2xlarge", []), ("local-builder", "Server", None, [runner["data"]["id"]])]
    assert [(a["name"], a["enabled"], a["endpoint_type"]) for a in alerters["data"]["items"]] == [
        ("discord-dev", False, "Discord"), ("slack-ops", True, "Slack")]
    assert "hooks.slack.com" not in str(alerters)  # an alerter's endpoint URL is a credential
    assert [(t["name"], t["color"]) for t in tags["data"]] == [
        ("api", "Blue"), ("backup", "Slate"), ("critical", "DarkRed"), ("monitoring", "Purple"), ("production", "Red"),
        ("provider:aws", "Orange"), ("staging", "Amber"), ("web", "Green")]


async def test_resource_syncs_and_container_log(client):
    _, syncs = await call(client, "komodo_read_ListResourceSyncs")
    _, log = await call(client, "komodo_read_GetContainerLog", {"server_id": "production-api", "container": "api-v2",
                                                                 "tail": 3})
    assert [(s["name"], s["state"], s["repo"], s["branch"], s["resource_paths"], s["last_sync_commit"])
            for s in syncs["data"]["items"]] == [
        ("infra-sync", "Pending", "ops/komodo-infra", "main", ["stacks.toml"], "77aa11b")]
    assert (log["data"]["resource"], log["data"]["source"], log["data"]["lines"]) == (
        "container api-v2 on production-api", "last 3 lines", 3)
    assert [line.split("] ", 1)[1] for line in log["data"]["log"].splitlines()] == [
        "INFO api-v2: GET /api/v2/orders 200 49ms", "INFO api-v2: GET /api/v2/orders 200 50ms",
        "INFO api-v2: GET /api/v2/orders 200 51ms"]

"""The simulator speaks Komodo Core 2.3's wire protocol (komodo-core-api.md §8 fidelity checklist)."""

from __future__ import annotations

import time
from typing import Any

import httpx2

from komodo_sim import VIEWER_KEY, VIEWER_SECRET

from .conftest import ADMIN_HEADERS as ADMIN
from .processes import PATIENCE_S

VIEWER = {"x-api-key": VIEWER_KEY, "x-api-secret": VIEWER_SECRET}


def call(url: str, module: str, operation: str, params: dict[str, Any] | None = None,
         headers: dict[str, str] = ADMIN) -> httpx2.Response:
    return httpx2.post(f"{url}/{module}", json={"type": operation, "params": params or {}}, headers=headers)


def ok(url: str, module: str, operation: str, params: dict[str, Any] | None = None,
       headers: dict[str, str] = ADMIN) -> Any:
    response = call(url, module, operation, params, headers)
    assert response.status_code == 200, response.text
    return response.json()


def wait_complete(url: str, update_id: str, headers: dict[str, str] = ADMIN) -> dict[str, Any]:
    deadline = time.monotonic() + PATIENCE_S
    while time.monotonic() < deadline:
        update = ok(url, "read", "GetUpdate", {"id": update_id}, headers)
        if update["status"] == "Complete":
            return update
        time.sleep(0.02)
    raise AssertionError("update did not complete")


def test_both_body_forms_answer_the_same(shared_sim):
    tagged = ok(shared_sim.url, "read", "GetDeployment", {"deployment": "api-v2"})
    bare = httpx2.post(f"{shared_sim.url}/read/GetDeployment", json={"deployment": "api-v2"}, headers=ADMIN).json()
    assert tagged == bare and tagged["_id"]["$oid"]


def test_body_errors_use_cores_statuses(shared_sim):
    url = shared_sim.url
    plain_text = httpx2.post(f"{url}/read", content=b"{}", headers={**ADMIN, "content-type": "text/plain"})
    broken = httpx2.post(f"{url}/read", content=b"{nope", headers={**ADMIN, "content-type": "application/json"})
    unknown = call(url, "read", "NoSuchRequest")
    missing = call(url, "read", "GetDeployment", {})
    variant = httpx2.post(f"{url}/read/GetDeployment", json={}, headers=ADMIN)
    # One comparison, so that one wrong status does not hide the others.
    assert [r.status_code for r in (plain_text, broken, unknown, missing, variant)] == [415, 400, 422, 422, 500]
    assert unknown.json()["error"].startswith("Failed to deserialize")
    assert "missing field `deployment`" in missing.json()["error"]
    assert set(variant.json()) == {"error", "trace"}


def test_auth_texts_and_invalid_jwt(shared_sim):
    none = httpx2.post(f"{shared_sim.url}/read", json={"type": "GetVersion", "params": {}})
    assert (none.status_code, none.json()["error"]) == (401, "Invalid client credentials")
    jwt = httpx2.post(f"{shared_sim.url}/read", json={"type": "GetVersion", "params": {}},
                      headers={"authorization": "Bearer not.a.jwt"})
    assert (jwt.status_code, jwt.json()["error"]) == (500, "Invalid user credentials")
    assert httpx2.get(f"{shared_sim.url}/version").text == "2.3.2"


def test_id_or_name_addressing_and_read_aliases(shared_sim):
    by_name = ok(shared_sim.url, "read", "GetServer", {"server": "staging-web"})
    by_id = ok(shared_sim.url, "read", "GetServer", {"id": by_name["_id"]["$oid"]})
    by_alias = ok(shared_sim.url, "read", "GetServer", {"name": "staging-web"})
    assert by_name == by_id == by_alias


def test_execute_params_take_no_id_alias(shared_sim):
    assert call(shared_sim.url, "execute", "Deploy", {"id": "api-v2"}).status_code == 422


def test_list_defaults_to_fifty_and_filters_by_query(shared_sim):
    url = shared_sim.url
    names = lambda items: sorted(i["name"] for i in items)  # noqa: E731
    assert len(ok(url, "read", "ListDeployments", {})) == 8
    assert names(ok(url, "read", "ListDeployments", {"query": {"terms": ["api"]}})) == ["api-v1", "api-v2", "canary-api"]
    assert names(ok(url, "read", "ListDeployments", {"query": {"tags": ["staging", "api"]}})) == ["canary-api"]
    assert names(ok(url, "read", "ListDeployments", {"query": {"tags": ["staging", "api"], "tag_behavior": "Any"}})) == [
        "api-v1", "api-v2", "canary-api", "nginx-proxy", "web-frontend"]
    assert names(ok(url, "read", "ListDeployments", {"query": {"specific": {"states": ["running"]}}})) == [
        "api-v2", "redis-cache", "web-frontend"]
    server = ok(url, "read", "GetServer", {"server": "staging-web"})["_id"]["$oid"]
    assert names(ok(url, "read", "ListDeployments", {"query": {"specific": {"server_ids": [server]}}})) == [
        "canary-api", "nginx-proxy", "web-frontend"]
    assert names(ok(url, "read", "ListDeployments", {"limit": 3, "page": 1})) == ["metrics-exporter", "nginx-proxy",
                                                                                 "redis-cache"]
    assert call(url, "read", "ListDeployments", {"query": {"tags": ["no-such-tag"]}}).status_code == 500


def test_non_admin_sees_only_what_it_may_read(shared_sim):
    url = shared_sim.url
    assert [s["name"] for s in ok(url, "read", "ListServers", headers=VIEWER)] == ["staging-web"]
    assert ok(url, "read", "GetBuildsSummary", headers=VIEWER)["total"] == 0
    secret = next(v for v in ok(url, "read", "ListVariables", headers=VIEWER) if v["name"] == "DB_PASSWORD")
    assert set(secret["value"]) == {"#"}
    assert next(v for v in ok(url, "read", "ListVariables") if v["name"] == "DB_PASSWORD")["value"] == "pg-Sup3rS3cret!"
    updates = ok(url, "read", "ListUpdates", {}, VIEWER)["updates"]
    readable = {(kind, r["id"]) for kind in ("Server", "Deployment", "Stack")
                for r in ok(url, "read", f"List{kind}s", headers=VIEWER)}
    targets = {(u["target"]["type"], u["target"]["id"]) for u in updates}
    assert targets and targets <= readable  # some updates, and only of what the viewer may read


def test_execution_runs_asynchronously_with_stage_logs(sim):
    started = ok(sim.url, "execute", "Deploy", {"deployment": "web-frontend"})
    assert started["status"] == "InProgress" and started["logs"] == []
    assert ok(sim.url, "read", "GetDeploymentActionState", {"deployment": "web-frontend"})["deploying"] is True
    done = wait_complete(sim.url, started["_id"]["$oid"])
    assert done["success"] and [log["stage"] for log in done["logs"]] == ["Docker Run"]  # Periphery's RunContainer


def test_busy_and_forbidden_executions_fail_inside_the_update(held_sim):
    sim = held_sim
    first = ok(sim.url, "execute", "Deploy", {"deployment": "api-v2"})
    second = ok(sim.url, "execute", "Deploy", {"deployment": "api-v2"})
    busy = wait_complete(sim.url, second["_id"]["$oid"])
    sim.simulator.gate.open()
    assert not busy["success"] and busy["logs"][-1]["stage"] == "Task Error"
    assert "Resource is busy" in busy["logs"][-1]["stderr"]
    assert wait_complete(sim.url, first["_id"]["$oid"])["success"]


def test_a_forbidden_execution_fails_inside_its_update(sim):
    denied = ok(sim.url, "execute", "Deploy", {"deployment": "nginx-proxy"}, VIEWER)  # viewer may only read it
    failed = wait_complete(sim.url, denied["_id"]["$oid"], VIEWER)
    assert not failed["success"] and failed["logs"][-1]["stage"] == "Task Error"
    assert "Must have at least Execute permissions" in failed["logs"][-1]["stderr"]


def test_failing_build_and_cancel(sim):
    failed = wait_complete(sim.url, ok(sim.url, "execute", "RunBuild", {"build": "web-build"})["_id"]["$oid"])
    assert not failed["success"] and "npm ERR!" in failed["logs"][-1]["stderr"]


def test_cancel_build_ends_a_running_build(held_sim):
    sim = held_sim
    assert call(sim.url, "execute", "CancelBuild", {"build": "api-build"}).status_code == 500  # nothing running
    running = ok(sim.url, "execute", "RunBuild", {"build": "api-build"})
    ok(sim.url, "execute", "CancelBuild", {"build": "api-build"})
    cancelled = wait_complete(sim.url, running["_id"]["$oid"])
    assert not cancelled["success"] and cancelled["logs"][-1]["stderr"] == "User cancelled build during image build step"


def test_held_executions_wait_for_the_gate(held_sim):
    sim = held_sim
    held = ok(sim.url, "execute", "RunBuild", {"build": "api-build"})
    before = ok(sim.url, "read", "GetUpdate", {"id": held["_id"]["$oid"]})
    busy = ok(sim.url, "read", "GetBuildActionState", {"build": "api-build"})
    sim.simulator.gate.open()
    done = wait_complete(sim.url, held["_id"]["$oid"])
    assert (before["status"], before["logs"], busy["building"]) == ("InProgress", [], True)
    assert done["success"] and [log["stage"] for log in done["logs"]] == ["Clone Repo", "Latest Commit", "Docker Build"]


def test_procedure_runs_stages_with_child_updates(sim):
    run = ok(sim.url, "execute", "RunProcedure", {"procedure": "daily-backup"})
    done = wait_complete(sim.url, run["_id"]["$oid"])
    assert done["success"] and [log["stage"] for log in done["logs"]] == ["Execute procedure", "Execution ok"]
    children = ok(sim.url, "read", "ListUpdates", {"query": {"operation": "RunAction",
                                                             "operator": "000000000000000000000001"}})["updates"]
    assert children[0]["start_ts"] >= run["start_ts"]


def test_writes_merge_a_partial_config(sim):
    before = ok(sim.url, "read", "GetDeployment", {"deployment": "api-v1"})["config"]
    after = ok(sim.url, "write", "UpdateDeployment", {"id": "api-v1", "config": {"restart": "always"}})["config"]
    assert after == {**before, "restart": "always"}


def test_create_normalises_the_name_and_refuses_a_taken_or_bad_one(sim):
    url = sim.url
    created = ok(url, "write", "CreateStack", {"name": "My Stack!", "config": {"server_id": "staging-web"}})
    statuses = {name: call(url, "write", "CreateStack", {"name": name}).status_code
                for name in ("my_stack_", "  ", "0123456789abcdef01234567")}
    assert created["name"] == "my_stack_"
    assert statuses == {"my_stack_": 409, "  ": 400, "0123456789abcdef01234567": 400}


def test_resource_meta_creates_missing_tags(sim):
    ok(sim.url, "write", "UpdateResourceMeta", {"target": {"type": "Stack", "id": "db-stack"}, "tags": ["brand-new"]})
    assert "brand-new" in [t["name"] for t in ok(sim.url, "read", "ListTags")]


def test_admin_only_writes_refuse_a_non_admin(sim):
    statuses = [call(sim.url, "write", operation, params, VIEWER).status_code
                for operation, params in (("CreateVariable", {"name": "X"}), ("CloseAlert", {"id": "x"}))]
    assert statuses == [403, 403]


def test_close_alert_sets_resolved_by_id_and_matches_nothing_quietly(sim):
    """Core's CloseAlert (api/write/alert.rs) parses the id, then one update_one sets `resolved` only."""
    alert = next(a for a in ok(sim.url, "read", "ListAlerts")["alerts"] if not a["resolved"])
    assert ok(sim.url, "write", "CloseAlert", {"id": alert["_id"]["$oid"]}) == {}
    closed = ok(sim.url, "read", "GetAlert", {"id": alert["_id"]["$oid"]})
    assert closed["resolved"] is True and closed["resolved_ts"] == alert["resolved_ts"]
    assert ok(sim.url, "write", "CloseAlert", {"id": "0123456789abcdef01234567"}) == {}  # no alert: no match
    for bad, message in (("x", 'must be exactly 12 bytes, instead got: "x", length 1'),
                         ("xy", "invalid character 'x' was found at index 0")):
        refused = call(sim.url, "write", "CloseAlert", {"id": bad})
        assert refused.status_code == 500 and message in refused.json()["error"]


def test_list_updates_pages_by_hundred_newest_first(sim):
    for n in range(110):  # each real config change writes one Update
        ok(sim.url, "write", "UpdateDeployment", {"id": "api-v1", "config": {"restart": ("always", "no")[n % 2]}})
    first = ok(sim.url, "read", "ListUpdates", {"page": 0})
    assert len(first["updates"]) == 100 and first["next_page"] == 1
    starts = [u["start_ts"] for u in first["updates"]]
    assert starts == sorted(starts, reverse=True)
    filtered = ok(sim.url, "read", "ListUpdates", {"query": {"$or": [{"operation": "RunBuild"},
                                                                     {"operation": "DeployStack"}]}})
    assert {u["operation"] for u in filtered["updates"]} == {"RunBuild", "DeployStack"}

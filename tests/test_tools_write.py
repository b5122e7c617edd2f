"""Write tools against the simulator: create → get → partial update → delete, and Komodo's refusals."""

from __future__ import annotations

import pytest

from .conftest import call, mcp_client, settings_for

pytestmark = pytest.mark.anyio


async def test_deployment_lifecycle(sim, era):
    async with mcp_client(settings_for(sim.url), era) as client:
        error, created = await call(client, "komodo_write_CreateDeployment", {
            "name": "orders-api", "server": "staging-web", "image": "myregistry.io/orders:1.0.0",
            "ports": ["8080:80"], "environment": {"LOG_LEVEL": "info", "DB_PASSWORD": "pw-123"},
            "restart": "unless-stopped", "tags": ["web", "orders"], "description": "Orders service"})
        _, fetched = await call(client, "komodo_read_GetDeployment", {"id": "orders-api"})
        _, updated = await call(client, "komodo_write_UpdateDeployment", {"id": "orders-api", "restart": "always",
                                                                           "environment": {"LOG_LEVEL": "debug"}})
        _, again = await call(client, "komodo_write_UpdateDeployment", {"id": created["data"]["id"],
                                                                         "restart": "always"})
        _, after = await call(client, "komodo_read_GetDeployment", {"id": "orders-api"})
        _, deleted = await call(client, "komodo_write_DeleteDeployment", {"id": "orders-api", "confirm": True})
        gone = await call(client, "komodo_read_GetDeployment", {"id": "orders-api"})
    assert not error and created["data"]["operation"] == "created"
    assert "pw-123" not in str(created) and created["data"]["changed"]["environment"]["after"] == (
        "LOG_LEVEL=info\nDB_PASSWORD=********")
    deployment = fetched["data"]
    assert deployment["server_name"] == "staging-web" and deployment["ports"] == ["8080:80"]
    assert deployment["tags"] == ["web", "orders"] and deployment["env"]["DB_PASSWORD"] == "********"
    assert set(updated["data"]["changed"]) == {"restart", "environment"}
    assert updated["data"]["changed"]["restart"] == {"before": "unless-stopped", "after": "always"}
    assert again["data"]["operation"] == "unchanged" and again["data"]["changed"] == {}
    assert after["data"]["ports"] == ["8080:80"] and after["data"]["image"] == "myregistry.io/orders:1.0.0"
    assert deleted["data"]["operation"] == "deleted" and gone[1]["code"] == "NOT_FOUND"


async def test_every_family_creates_with_its_own_fields(sim):
    async with mcp_client(settings_for(sim.url)) as client:
        results = [
            await call(client, "komodo_write_CreateStack", {"name": "cache", "server": "production-api",
                                                            "compose_contents": "services:\n  redis:\n    image: redis\n"}),
            await call(client, "komodo_write_CreateBuild", {"name": "orders-build", "repo": "myorg/orders",
                                                            "version": "1.2.3", "build_args": {"NPM_TOKEN": "t0k"},
                                                            "image_registry_domain": "ghcr.io"}),
            await call(client, "komodo_write_CreateRepo", {"name": "orders", "repo": "myorg/orders",
                                                           "server": "build-runner", "on_clone": "make deps"}),
            await call(client, "komodo_write_CreateProcedure", {"name": "ship-orders", "stages": [
                {"name": "build", "executions": [{"type": "RunBuild", "params": {"build": "orders-build"}}]},
                {"name": "wait", "executions": [{"type": "Sleep", "params": {"duration_ms": 1000}}]}],
                "schedule": "0 0 3 * * *", "schedule_format": "Cron"}),
            await call(client, "komodo_write_CreateAction", {"name": "say-hi", "script": "console.log('hi')",
                                                             "arguments": {"WHO": "ops"}}),
        ]
        _, build = await call(client, "komodo_read_GetBuild", {"id": "orders-build"})
        _, procedure = await call(client, "komodo_read_GetProcedure", {"id": "ship-orders"})
        _, stack = await call(client, "komodo_read_GetStack", {"id": "cache"})
    assert [error for error, _ in results] == [False] * 5
    assert build["data"]["version"] == "1.2.3" and build["data"]["build_args"] == {"NPM_TOKEN": "********"}
    assert build["data"]["image_registry"] == "ghcr.io"
    assert [(s["type"], s["stage"]) for s in procedure["data"]["steps"]] == [("RunBuild", "build"), ("Sleep", "wait")]
    assert procedure["data"]["trigger"] == "scheduled" and stack["data"]["compose_file"].startswith("compose.yaml")


async def test_komodos_refusals_come_back_mapped(sim, viewer_settings):
    async with mcp_client(settings_for(sim.url)) as admin:
        duplicate = await call(admin, "komodo_write_CreateDeployment", {"name": "api-v2", "server": "staging-web"})
        object_id = await call(admin, "komodo_write_CreateStack", {"name": "0123456789abcdef01234567"})
        empty = await call(admin, "komodo_write_UpdateStack", {"id": "db-stack"})
        missing = await call(admin, "komodo_write_UpdateRepo", {"id": "nope", "branch": "dev"})
    viewer_for_sim = settings_for(sim.url, api_key=viewer_settings.api_key, api_secret=viewer_settings.api_secret)
    async with mcp_client(viewer_for_sim) as viewer:
        variable = await call(viewer, "komodo_write_CreateVariable", {"name": "X", "value": "1"})
        build = await call(viewer, "komodo_write_CreateBuild", {"name": "mine"})
        read_only = await call(viewer, "komodo_write_UpdateDeployment", {"id": "nginx-proxy", "restart": "always"})
        _, alerts = await call(viewer, "komodo_read_ListAlerts", {})
        close = await call(viewer, "komodo_write_CloseAlert", {"id": alerts["data"]["items"][0]["id"]})
        close_unknown = await call(viewer, "komodo_write_CloseAlert", {"id": "0123456789abcdef01234567"})
    refusals = {"duplicate": duplicate, "object_id": object_id, "empty": empty, "missing": missing,
                "variable": variable, "build": build, "read_only": read_only, "close": close,
                "close_unknown": close_unknown}
    # One comparison, so that one wrong mapping does not hide the others.
    assert {case: (error, body["code"]) for case, (error, body) in refusals.items()} == {
        "duplicate": (True, "CONFLICT"), "object_id": (True, "VALIDATION_ERROR"), "empty": (True, "VALIDATION_ERROR"),
        "missing": (True, "NOT_FOUND"), "variable": (True, "FORBIDDEN"), "build": (True, "FORBIDDEN"),
        "read_only": (True, "FORBIDDEN"),
        "close": (True, "FORBIDDEN"),  # an alert it can see: Core's CloseAlert is admin only (api/write/alert.rs)
        "close_unknown": (True, "NOT_FOUND")}  # the tool reads the alert first
    assert duplicate[1]["details"]["komodo_status"] == 409


async def test_updating_a_busy_deployment_is_a_conflict_and_changes_nothing(held_sim):
    async with mcp_client(settings_for(held_sim.url)) as client:
        await call(client, "komodo_execute_Deploy", {"id": "api-v2"})
        error, body = await call(client, "komodo_write_UpdateDeployment", {"id": "api-v2", "restart": "no"})
        _, deployment = await call(client, "komodo_read_GetDeployment", {"id": "api-v2"})
    assert error and body["code"] == "CONFLICT" and "busy" in body["error"]
    assert deployment["data"]["restart_policy"] == "unless-stopped"


async def test_variables_never_show_secret_values(sim):
    async with mcp_client(settings_for(sim.url)) as client:
        _, created = await call(client, "komodo_write_CreateVariable", {"name": "STRIPE_KEY", "value": "sk_live_1",
                                                                        "is_secret": True})
        _, updated = await call(client, "komodo_write_UpdateVariable", {"name": "STRIPE_KEY", "value": "sk_live_2",
                                                                        "description": "Stripe"})
        refused = await call(client, "komodo_write_DeleteVariable", {"name": "STRIPE_KEY"})
        _, deleted = await call(client, "komodo_write_DeleteVariable", {"name": "STRIPE_KEY", "confirm": True})
    assert "sk_live" not in str(created) + str(updated)
    assert created["data"]["changed"]["value"] == {"before": None, "after": "********"}
    assert updated["data"]["changed"]["description"] == {"before": "", "after": "Stripe"}
    assert refused[1]["code"] == "VALIDATION_ERROR" and deleted["data"]["operation"] == "deleted"


async def test_resource_meta_creates_tags_and_close_alert(sim):
    async with mcp_client(settings_for(sim.url)) as client:
        _, meta = await call(client, "komodo_write_UpdateResourceMeta", {
            "resource_type": "stack", "id": "db-stack", "tags": ["production", "database"],
            "description": "Postgres + pgbouncer"})
        _, alerts = await call(client, "komodo_read_ListAlerts", {"resolved": False, "severity": "critical"})
        alert_id = alerts["data"]["items"][0]["id"]
        _, closed = await call(client, "komodo_write_CloseAlert", {"id": alert_id})
        _, after = await call(client, "komodo_read_GetAlert", {"id": alert_id})
    assert meta["data"]["changed"]["tags"] == {"before": ["production", "critical"], "after": ["production", "database"]}
    assert meta["data"]["changed"]["description"]["after"] == "Postgres + pgbouncer"
    assert closed["data"]["operation"] == "closed" and after["data"]["resolved"] is True

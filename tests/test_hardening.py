"""Issue 14: no caller can exhaust the server, bypass a confirmation, see what its key may not, or read a secret."""

from __future__ import annotations

import gc
import json
import os
from typing import Any

import pytest
from mcp.shared.exceptions import MCPError
from mcp.types import ElicitResult

from komodo_mcp.client import AuthError, KomodoClient, KomodoError, RateLimited
from komodo_mcp.mapping.envelope import MAX_RESULT_CHARS
from komodo_mcp.server import build_server
from komodo_mcp.tools._context import CALLER_CLIENTS, App
from komodo_mcp.transports.http import http_app
from komodo_sim import ADMIN_KEY, ADMIN_SECRET, VIEWER_KEY, VIEWER_SECRET, AsgiThread, Simulator

from .conftest import call, komodo_read, mcp_client, serve, settings_for
from .wire import MODERN, rpc

pytestmark = pytest.mark.anyio


def open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


def resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def test_thousands_of_caller_keys_keep_memory_and_descriptors_flat(sim):
    store = sim.simulator.store
    _, admin = store.api_keys[ADMIN_KEY]
    keys = [(f"K-churn-{n:05d}", f"S-churn-{n:05d}") for n in range(2000)]
    for key, secret in keys:
        store.api_keys[key] = (secret, admin)
    app = App(komodo=KomodoClient(settings_for(sim.url)), settings=settings_for(sim.url))
    try:
        async def call_as(batch: list[tuple[str, str]]) -> None:
            for key, secret in batch:
                assert (await app.for_caller(key, secret).komodo.read("GetVersion"))["version"]

        await call_as(keys[:200])  # warm: connections, caches and the pool are full
        gc.collect()
        descriptors, memory = open_descriptors(), resident_bytes()
        await call_as(keys[200:])
        gc.collect()
        assert open_descriptors() <= descriptors + 2  # the simulator thread may open a socket or two
        # Before the pool shared its connections, each caller kept a client: about 0.8 MB and 2 descriptors.
        assert resident_bytes() - memory < 20_000_000
        assert len(app._callers) == CALLER_CLIENTS
    finally:
        await app.komodo.aclose()


@pytest.fixture
def strict_sim():
    """Komodo's default login lockout: 5 failures in 15 s per address, then 429 for every request from it."""
    thread = serve(Simulator(exec_delay=0.15, auth_max_attempts=5, auth_window_s=15))
    yield thread
    thread.stop()


async def test_one_callers_bad_secret_does_not_lock_everyone_out(strict_sim):
    app = App(komodo=KomodoClient(settings_for(strict_sim.url)), settings=settings_for(strict_sim.url))
    try:
        viewer = app.for_caller(VIEWER_KEY, VIEWER_SECRET)
        assert len(await viewer.komodo.read("ListDeployments", query={})) == 2  # proven before the bad keys
        codes = []
        for attempt in range(8):  # the same wrong secret, then a stream of distinct wrong keys
            caller = app.for_caller(VIEWER_KEY, "wrong") if attempt < 4 else app.for_caller(f"K-{attempt}", "bad")
            with pytest.raises(KomodoError) as refused:
                await caller.komodo.read("ListDeployments", query={})
            codes.append(refused.value.code)
        assert codes[:4] == ["AUTH_ERROR"] * 4  # the first from Komodo, the next from the server
        assert isinstance(refused.value, RateLimited)  # unproven keys held back: Komodo's budget is kept
        assert len(await app.komodo.read("ListDeployments", query={})) == 8  # the server's own key still works
        assert len(await viewer.komodo.read("ListDeployments", query={})) == 2  # and so do proven callers
        with pytest.raises(AuthError):  # refused credentials stay refused a while, even after others worked
            await app.for_caller(VIEWER_KEY, "wrong").komodo.read("GetVersion")
    finally:
        await app.komodo.aclose()


# -- secrets by value shape, bounded results, uncaught errors ---------------------------------------------------

COMPOSE_WITH_SECRETS = """services:
  db:
    image: postgres:16
    environment:
      POSTGRES_PASSWORD: compose-map-pw-7731
      - MYSQL_PASSWORD=compose-list-pw-7732
      DATABASE_URL: postgres://app:url-pw-7733@db:5432/app
      GITHUB_PAT: ghp_abcdefghijklmnopqrstuvwxyz0123456789
"""


async def test_secrets_are_masked_by_their_shape_in_every_answer(sim):
    async with mcp_client(settings_for(sim.url)) as client:
        _, updated = await call(client, "komodo_write_UpdateStack", {"id": "db-stack",
                                                                     "compose_contents": COMPOSE_WITH_SECRETS})
        _, stack = await call(client, "komodo_read_GetStack", {"id": "db-stack"})
        compose = (await client.read_resource("komodo://stacks/db-stack/compose")).contents[0].text
    for answer in (json.dumps(updated), json.dumps(stack), compose):
        assert not any(f"pw-773{n}" in answer for n in (1, 2, 3)) and "ghp_" not in answer
    assert "postgres://app:********@db:5432/app" in compose and "image: postgres:16" in compose


async def test_export_toml_masks_escaped_secrets_and_one_line_environments(sim):
    async with mcp_client(settings_for(sim.url)) as client:
        await call(client, "komodo_write_CreateVariable", {"name": "QUOTED", "value": 'pa"ss\\word-4410',
                                                          "is_secret": True})
        await call(client, "komodo_write_UpdateDeployment", {"id": "api-v2", "environment": {
            "POSTGRES_PASSWORD": "one-line-pw-4411"}})
        _, exported = await call(client, "komodo_read_ExportToml", {"include_variables": True})
    toml = exported["data"]["toml"]
    assert "4410" not in toml and "one-line-pw-4411" not in toml
    assert 'name = "QUOTED"' in toml and "POSTGRES_PASSWORD" in toml


async def test_results_stay_bounded_and_audit_lines_short(sim, tmp_path):
    audit = tmp_path / "audit.jsonl"
    huge = "services:\n  app:\n    image: nginx\n" + "# padding\n" * 100_000
    async with mcp_client(settings_for(sim.url, audit_log=str(audit))) as client:
        result = await client.call_tool("komodo_write_UpdateStack", {"id": "db-stack", "compose_contents": huge})
    assert not result.is_error and len(result.content[0].text) < MAX_RESULT_CHARS
    assert "[cut: the first" in result.content[0].text
    assert len(audit.read_text()) < 2_000


async def test_a_malformed_build_version_is_a_validation_error(sim):
    async with mcp_client(settings_for(sim.url)) as client:
        error, body = await call(client, "komodo_write_CreateDeployment", {
            "name": "from-build", "server": "prod-eu-1", "build": "api-build", "build_version": "v1.x"})
    assert error and body["code"] == "VALIDATION_ERROR" and body["details"]["fields"][0]["field"] == "build_version"


@pytest.mark.parametrize(("command", "exit_code", "shown"), [
    ("echo __KOMODO_EXIT_CODE:abc", 0, "__KOMODO_EXIT_CODE:abc"),  # not a number: output, no crash
    ("echo __KOMODO_EXIT_CODE:0; false", 1, "__KOMODO_EXIT_CODE:0"),  # a spoof: Periphery's own line counts
])
async def test_terminal_exit_code_cannot_be_faked_or_crash_the_tool(sim, command, exit_code, shown):
    async with mcp_client(settings_for(sim.url, toolsets=("terminal",), confirm=False)) as client:
        error, body = await call(client, "komodo_terminal_ServerCommand", {"id": "production-api", "command": command})
    assert not error and body["data"]["exit_code"] == exit_code and shown in body["data"]["output"]


# -- what a caller's own key may see ------------------------------------------------------------------------------

def test_summary_resource_and_completion_use_the_callers_key(shared_sim):
    settings = settings_for(shared_sim.url)
    server = AsgiThread(http_app(build_server(settings, check=False), settings))
    url = server.start() + "/mcp"
    viewer = {"x-komodo-api-key": VIEWER_KEY, "x-komodo-api-secret": VIEWER_SECRET}
    completion = {"ref": {"type": "ref/resource", "uri": "komodo://deployments/{name}"},
                  "argument": {"name": "name", "value": ""}}
    try:
        summary = rpc(url, "resources/read", {"uri": "komodo://summary"}, MODERN,
                      headers={**viewer, "mcp-name": "komodo://summary"})
        names = rpc(url, "completion/complete", completion, MODERN, headers=viewer)
        own_names = rpc(url, "completion/complete", completion, MODERN)
    finally:
        server.stop()
    assert json.loads(summary["result"]["contents"][0]["text"])["deployments"]["total"] == 2
    assert names["result"]["completion"]["total"] == 2 and own_names["result"]["completion"]["total"] == 8


# -- tasks/cancel passes the CancelJob gate -----------------------------------------------------------------------

@pytest.mark.parametrize(("overrides", "refusal"), [
    ({"exclude_tools": ("komodo_execute_CancelJob",)}, "--exclude-tools (KOMODO_MCP_EXCLUDE_TOOLS) leaves it out"),
    ({}, "confirm: true"),  # no elicitation: the confirm-argument fallback, which tasks/cancel cannot carry
    ({"caller": True, "confirm_fallback": "allow"}, "FORBIDDEN"),  # a viewer may not cancel the admin's build
])
def test_tasks_cancel_goes_through_the_cancel_job_gate(held_sim, tmp_path, overrides, refusal):
    audit = tmp_path / "audit.jsonl"
    caller = overrides.pop("caller", False)
    settings = settings_for(held_sim.url, audit_log=str(audit), **overrides)
    server = AsgiThread(http_app(build_server(settings, check=False), settings))
    url = server.start() + "/mcp"
    viewer = {"x-komodo-api-key": VIEWER_KEY, "x-komodo-api-secret": VIEWER_SECRET} if caller else {}
    try:
        build = rpc(url, "tools/call", {"name": "komodo_execute_Build", "arguments": {"id": "api-build"}},
                    MODERN)["result"]
        cancelled = rpc(url, "tasks/cancel", {"taskId": build["taskId"]}, MODERN, headers=viewer)
    finally:
        server.stop()
    assert refusal in cancelled["error"]["message"] or refusal == cancelled["error"]["data"]["code"]
    # The build is held until a cancel releases it: still InProgress means no cancel reached Komodo.
    assert komodo_read(held_sim.url, "GetUpdate", id=build["taskId"])["status"] == "InProgress"
    if "exclude_tools" not in overrides:  # the attempt is on the record like any CancelJob call
        assert json.loads(audit.read_text().splitlines()[-1])["tool"] == "komodo_execute_CancelJob"


# -- confirmation in every transport, generation and client capability -------------------------------------------

def http_client(url: str, era: str, **options: Any) -> Any:
    from mcp.client import Client

    return Client(url, mode=era, **options)


async def test_handshake_clients_on_stateless_http_are_asked(sim):
    settings = settings_for(sim.url)  # stateless HTTP: the default
    server = AsgiThread(http_app(build_server(settings, check=False), settings))
    url = server.start() + "/mcp"
    asked: list[str] = []

    async def decline(context: Any, params: Any) -> ElicitResult:
        asked.append(params.message)
        return ElicitResult(action="decline")

    try:
        async with http_client(url, "legacy", elicitation_callback=decline) as client:
            error, body = await call(client, "komodo_execute_StopDeployment", {"id": "redis-cache", "confirm": True})
    finally:
        server.stop()
    assert asked and error and body["code"] == "FORBIDDEN" and body["details"] == {"declined": True}


@pytest.mark.parametrize(("key", "uri", "error_code", "message"), [
    ((ADMIN_KEY, ADMIN_SECRET), "komodo://deployments/no-such-deployment", -32602,  # the SDK's resource not found
     "NOT_FOUND: Did not find any Deployment matching no-such-deployment"),
    ((VIEWER_KEY, VIEWER_SECRET), "komodo://stacks/monitoring-stack/compose", -32603,
     "FORBIDDEN: User does not have required permissions on this Stack. Must have at least Read permissions"),
])
async def test_a_resource_komodo_refuses_answers_komodos_code(shared_sim, key, uri, error_code, message):
    async with mcp_client(settings_for(shared_sim.url, *key)) as client:
        with pytest.raises(MCPError) as refused:
            await client.read_resource(uri)
    assert (refused.value.error.code, refused.value.error.message) == (error_code, message)

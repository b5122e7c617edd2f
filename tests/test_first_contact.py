"""What an operator meets in the first hour (issue 12): waits that end before client timeouts, a missing resource
that reads as not found, a closed Komodo port in one log line, and a Host header the reply explains."""

from __future__ import annotations

import logging
import socket

import httpx2
import pytest
from mcp.shared.exceptions import MCPError

from komodo_mcp.server import build_server
from komodo_mcp.tools import actions, jobs, procedures, servers
from komodo_mcp.transports.http import http_app, security_for
from komodo_sim import AsgiThread

from .conftest import call, mcp_client, settings_for
from .processes import free_port

pytestmark = pytest.mark.anyio
TYPESCRIPT_SDK_REQUEST_TIMEOUT = 60  # seconds, DEFAULT_REQUEST_TIMEOUT_MSEC of @modelcontextprotocol/sdk


async def test_every_waiting_tool_returns_before_a_typescript_client_gives_up(sim, monkeypatch):
    asked: dict[str, float] = {}
    for module in (jobs, procedures, actions, servers):
        real = module.wait

        async def spy(ctx, app, job_id, timeout, module=module, real=real):
            asked[module.__name__.rsplit(".", 1)[1]] = timeout
            return await real(ctx, app, job_id, 0.01)  # the default is what is asserted; no need to sit it out
        monkeypatch.setattr(module, "wait", spy)
    async with mcp_client(settings_for(sim.url)) as client:
        _, started = await call(client, "komodo_execute_Deploy", {"id": "api-v2"})
        await call(client, "komodo_execute_WaitForJob", {"job_id": started["data"]["job_id"]})
        await call(client, "komodo_execute_RunProcedure", {"id": "daily-backup", "options": {"async": False}})
        await call(client, "komodo_execute_TriggerAction", {"id": "notify-slack", "options": {"async": False}})
        await call(client, "komodo_execute_StartServer", {"id": "staging-web", "options": {"waitForHealthy": True}})
    assert set(asked) == {"jobs", "procedures", "actions", "servers"}
    assert all(seconds < TYPESCRIPT_SDK_REQUEST_TIMEOUT for seconds in asked.values()), asked


async def test_a_timed_out_wait_says_how_to_go_on_waiting(held_sim):
    async with mcp_client(settings_for(held_sim.url)) as client:
        _, started = await call(client, "komodo_execute_Build", {"id": "api-build"})
        job_id = started["data"]["job_id"]
        _, waited = await call(client, "komodo_execute_WaitForJob", {"job_id": job_id, "timeout": 1})
        _, run = await call(client, "komodo_execute_RunProcedure", {"id": "daily-backup",
                                                                    "options": {"async": False, "timeout": 1}})
    assert waited["data"]["timed_out"]
    assert waited["data"]["next"] == (f"the job is still running: call komodo_execute_WaitForJob with job_id {job_id} "
                                      "to go on waiting")
    assert run["data"]["timed_out"] and f"komodo_execute_WaitForJob with job_id {run['data']['job_id']}" in \
        run["data"]["message"]


async def test_a_missing_deployment_resource_is_not_found_in_one_log_line(shared_sim, caplog):
    caplog.set_level(logging.INFO)
    async with mcp_client(settings_for(shared_sim.url)) as client:
        with pytest.raises(MCPError) as caught:
            await client.read_resource("komodo://deployments/no-such-deployment")
    logged = [r for r in caplog.records if "no-such-deployment" in r.getMessage()]
    assert caught.value.error.code == -32602  # the SDK's resource not found (SEP-2164)
    assert caught.value.error.message == "NOT_FOUND: Did not find any Deployment matching no-such-deployment"
    assert len(logged) == 1 and logged[0].levelno == logging.INFO and logged[0].exc_info is None


async def test_a_closed_komodo_port_fails_in_one_line_naming_the_url(caplog):
    caplog.set_level(logging.INFO)
    url = f"http://127.0.0.1:{free_port()}"
    async with mcp_client(settings_for(url, retries=3)) as client:
        error, body = await call(client, "komodo_read_ListServers")
    seen = [r.getMessage() for r in caplog.records if r.name.startswith("komodo_mcp") and r.levelno >= logging.INFO]
    assert error and body["code"] == "NETWORK_ERROR" and f"Komodo at {url} is unreachable" in body["error"]
    assert len(seen) == 1 and url in seen[0]


TOKEN = "s3cret-operator-token-of-enough-length"


def test_a_host_header_outside_the_allow_list_is_explained(shared_sim, caplog):
    settings = settings_for(shared_sim.url, host="0.0.0.0", auth_token=TOKEN)
    server = AsgiThread(http_app(build_server(settings, check=False), settings))
    server.start()
    try:
        headers = {"authorization": f"Bearer {TOKEN}", "accept": "application/json, text/event-stream",
                   "content-type": "application/json", "mcp-protocol-version": "2025-11-25"}
        body = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
        foreign = httpx2.post(server.url + "/mcp", json=body, headers={**headers, "host": "komodo-mcp.lan:8000"})
        own_name = httpx2.post(server.url + "/mcp", json=body,
                               headers={**headers, "host": f"{socket.gethostname()}:8000"})
    finally:
        server.stop()
    assert foreign.status_code == 421
    assert "add 'komodo-mcp.lan' to KOMODO_MCP_ALLOWED_HOSTS" in foreign.text
    assert [r.getMessage() for r in caplog.records if "komodo-mcp.lan" in r.getMessage()] == [foreign.text.strip()]
    assert own_name.status_code == 200  # bound to every interface: the machine's own name is no rebinding attack


def test_the_bound_host_and_the_allowed_hosts_are_accepted():
    named = security_for(settings_for("http://k", host="10.1.2.3", allowed_hosts=("komodo-mcp.lan",)))
    assert {"10.1.2.3:*", "komodo-mcp.lan:*", "localhost:*"} <= set(named.allowed_hosts)

"""The installed `komodo-mcp` command, driven as a user's client drives it: stdio subprocess and Streamable HTTP."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from typing import Any, Iterator

import httpx2
import pytest
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters

from .catalogue import CORE_TOOLS_SEVERAL
from .processes import PATIENCE_S, free_port
from .processes import http_server as demo_http_server

pytestmark = pytest.mark.anyio

COMMAND = [sys.executable, "-m", "komodo_mcp"]
ENV = {**os.environ, "KOMODO_MCP_LOG_LEVEL": "INFO"}


def _stdio_params(*args: str) -> StdioServerParameters:
    return StdioServerParameters(command=sys.executable, args=["-m", "komodo_mcp", *args], env=ENV)


async def test_stdio_demo_lists_and_calls_tools(era):
    async with Client(_stdio_params("--demo"), mode=era) as client:
        tools = (await client.list_tools()).tools
        result = await client.call_tool("komodo_read_GetServer", {"id": "staging-web"})
    assert "komodo_read_ListServers" in {t.name for t in tools}
    assert not result.is_error and result.structured_content["data"]["name"] == "staging-web"


class RawStdio:
    """A stdio server driven byte by byte, to control timing and to see every byte it writes to stdout."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen([*COMMAND, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, env={**ENV, **(env or {})})
        self.lines: list[str] = []

    def send(self, *messages: dict[str, Any]) -> None:
        """One write: several messages arrive together (a pipe write this small is atomic)."""
        assert self.process.stdin is not None
        self.process.stdin.write("".join(json.dumps(message) + "\n" for message in messages).encode())
        self.process.stdin.flush()

    def answer(self, request_id: int, timeout: float = PATIENCE_S) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.has_answer(request_id, wait=0.1):
                return next(m for m in map(json.loads, self.lines) if m.get("id") == request_id)
        raise AssertionError(f"no answer to request {request_id}; got {self.lines}")

    def has_answer(self, request_id: int, wait: float = 0.0) -> bool:
        """Whether the server has written an answer to `request_id` yet, reading whatever it has written so far
        (waiting up to `wait` seconds for the first new line); after close(), what it wrote in all."""
        assert self.process.stdout is not None
        while not self.process.stdout.closed and select.select([self.process.stdout], [], [], wait)[0]:
            line = self.process.stdout.readline().decode()
            if not line:
                break
            self.lines.append(line)
            wait = 0.0
        return any(json.loads(line).get("id") == request_id for line in self.lines)

    def close(self) -> str:
        """Close stdin (the server should exit) and collect the rest of its output."""
        out, err = self.process.communicate(timeout=PATIENCE_S)
        self.lines += [line for line in out.decode().splitlines() if line]
        return err.decode()


def _initialize(request_id: int) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "probe-test", "version": "1"}}}


def _discover(request_id: int) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "method": "server/discover", "params": {"_meta": {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}}}}


def test_stdout_carries_only_json_rpc():
    server = RawStdio("--demo", "--log-level", "DEBUG")
    server.send(_initialize(1))
    server.answer(1)
    server.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
    server.send({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                 "params": {"name": "komodo_read_ListDeployments", "arguments": {"page_size": 3}}})
    server.answer(2)
    stderr = server.close()
    assert server.lines and all(json.loads(line)["jsonrpc"] == "2.0" for line in server.lines)
    assert "demo mode" in stderr and json.loads(stderr.splitlines()[0])["level"]


def test_discover_probe_race_leaves_a_working_connection():
    """Claude Code/Copilot CLI: discover at t=0, give up, initialize at t=0.3 s; a server still starting then finds
    both waiting. They are sent here in one write as the server starts, so its first read holds both whatever the
    machine's speed (a sleep of 0.3 s would race a server that starts faster than that)."""
    server = RawStdio("--demo")
    server.send(_discover(0), _initialize(1))
    initialized = server.answer(1)
    server.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
    server.send({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
    listed = server.answer(2)
    server.close()
    assert initialized["result"]["protocolVersion"] == "2025-11-25"
    assert "komodo_read_ListServers" in {t["name"] for t in listed["result"]["tools"]}
    assert not server.has_answer(0)  # the superseded probe was dropped, never answered


def test_a_lone_discover_is_answered():
    server = RawStdio("--demo")
    server.send(_discover(7))
    answer = server.answer(7)
    server.close()
    assert answer["result"]["supportedVersions"] == ["2026-07-28"]


@pytest.fixture(scope="module")
def http_server() -> Iterator[str]:
    with demo_http_server("--demo") as url:
        yield f"{url}/mcp"


async def test_http_demo_lists_and_calls_tools(http_server, era):
    async with Client(http_server, mode=era) as client:
        tools = (await client.list_tools()).tools
        result = await client.call_tool("komodo_read_ListAlerts", {"resolved": False})
    assert {t.name for t in tools} == CORE_TOOLS_SEVERAL  # the default toolset, with the demo's two instances
    assert not result.is_error and result.structured_content["data"]["total"] == 4


def test_http_refuses_foreign_origin_and_host(http_server):
    message = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    headers = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
    evil_origin = httpx2.post(http_server, json=message, headers={**headers, "origin": "http://evil.example"})
    evil_host = httpx2.post(http_server, json=message, headers={**headers, "host": "evil.example"})
    assert evil_origin.status_code == 403
    assert evil_host.status_code == 421


def test_server_starts_without_komodo_and_says_so():
    closed = free_port()
    server = RawStdio(env={"KOMODO_URL": f"http://127.0.0.1:{closed}", "KOMODO_API_KEY": "K_x_K",
                           "KOMODO_API_SECRET": "S_do_not_leak_S", "KOMODO_MCP_RETRIES": "0"})
    server.send(_initialize(1))
    server.answer(1)
    server.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
    server.send({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                 "params": {"name": "komodo_read_ListServers", "arguments": {}}})
    result = server.answer(2)["result"]
    stderr = server.close()
    assert result["isError"] and json.loads(result["content"][0]["text"])["code"] == "NETWORK_ERROR"
    assert "Komodo check failed (NETWORK_ERROR)" in stderr
    assert "S_do_not_leak_S" not in stderr + json.dumps(result)

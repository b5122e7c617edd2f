"""komodo-mcp against software nobody here wrote: the official conformance suite, the inspector CLI, and the
official TypeScript clients (SDK 1.x, handshake era; client 2.x, 2026-07-28). `.ci/run` installs them (tests/node)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from .catalogue import ALL_TOOLS
from .processes import http_server

NODE_DIR = Path(__file__).parent / "node"
NODE = NODE_DIR / "node_modules" / ".bin" / "node"
SERVER = [sys.executable, "-m", "komodo_mcp", "--demo", "--toolsets", "all", "--exec-delay", "0.2",
          "--log-level", "WARNING", "--audit-log", "off"]


@pytest.fixture(scope="module")
def node_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    if not NODE.exists():
        pytest.fail("Node 22 and the MCP client tools are missing: `bash .ci/run` installs them into tests/node")
    home = tmp_path_factory.mktemp("node-home")  # the inspector keeps a catalog and secrets under HOME
    return {**os.environ, "HOME": str(home), "MCP_INSPECTOR_SECRET_STORE": "memory", "NO_COLOR": "1"}


@pytest.fixture(scope="module")
def http_url() -> Iterator[str]:
    with http_server(*SERVER[3:]) as url:
        yield f"{url}/mcp"


def node(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(NODE), *args], env=env, capture_output=True, text=True, timeout=timeout,
                          cwd=NODE_DIR)


# The inspector takes flags after the server command as its own: a stdio server is configured through `-e`.
INSPECTED_STDIO = [sys.executable, "-m", "komodo_mcp", "-e", "KOMODO_MCP_DEMO=true", "-e", "KOMODO_MCP_TOOLSETS=all",
                   "-e", "KOMODO_MCP_LOG_LEVEL=WARNING", "-e", "KOMODO_MCP_AUDIT_LOG=off"]
TOOL_IS_ERROR = 5  # the inspector's exit code for a tool result with isError


def inspector(env: dict[str, str], target: list[str], *args: str) -> subprocess.CompletedProcess[str]:
    return node(env, str(NODE_DIR / "node_modules" / ".bin" / "inspector"), "--cli", *target, "--format", "json",
                *args)


@pytest.mark.parametrize("sdk", ["v1", "v2"])
@pytest.mark.parametrize("transport", ["stdio", "http"])
def test_official_typescript_clients(node_env, http_url, sdk, transport):
    target = SERVER if transport == "stdio" else [http_url]
    result = node(node_env, "client.mjs", sdk, transport, *target)
    assert result.returncode == 0, result.stderr[-2000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["tools"] == len(ALL_TOOLS) and seen["read"] == "staging-web" and seen["execute"].startswith("production:")
    assert len(seen["execute"].partition(":")[2]) == 24  # the demo's two instances: job ids carry theirs
    assert seen["error"] == [True, "NOT_FOUND"]


@pytest.mark.parametrize("era", ["legacy", "modern"])
@pytest.mark.parametrize("transport", ["stdio", "http"])
def test_inspector_lists_strictly_and_calls(node_env, http_url, era, transport):
    target = INSPECTED_STDIO if transport == "stdio" else [http_url]
    listed = inspector(node_env, target, "--protocol-era", era, "--method", "tools/list", "--strict")
    assert listed.returncode == 0, listed.stderr[-2000:]  # exit 6 on any schema-portability error
    assert "warning" not in listed.stderr.lower()
    assert {tool["name"] for tool in json.loads(listed.stdout)["result"]["tools"]} == ALL_TOOLS
    calls = {
        "read": ("komodo_read_GetServer", {"id": "staging-web"}),
        "execute": ("komodo_execute_RestartStack", {"id": "monitoring-stack"}),
        "error": ("komodo_read_GetDeployment", {"id": "no-such-deployment"}),
    }
    results = {}
    for kind, (tool, arguments) in calls.items():
        called = inspector(node_env, target, "--protocol-era", era, "--method", "tools/call", "--tool-name", tool,
                           "--tool-args-json", json.dumps(arguments))
        assert called.returncode == (TOOL_IS_ERROR if kind == "error" else 0), called.stderr[-2000:]
        results[kind] = json.loads(called.stdout)["result"]
    assert results["read"]["structuredContent"]["data"]["name"] == "staging-web"
    assert results["execute"]["structuredContent"]["data"]["operation"] == "RestartStack"
    assert results["error"]["isError"] and json.loads(results["error"]["content"][0]["text"])["code"] == "NOT_FOUND"


def test_conformance_suite_against_the_baseline(node_env, http_url, tmp_path):
    suite = NODE_DIR / "node_modules" / "@modelcontextprotocol" / "conformance" / "dist" / "index.js"
    result = node(node_env, str(suite), "server", "--url", http_url, "-o", str(tmp_path),
                  "--expected-failures", str(Path(__file__).parent / "conformance-baseline.yml"), timeout=300)
    assert result.returncode == 0, result.stdout[-3000:]  # no unexpected failure, no stale baseline entry
    checks = {path.parent.name.split("-2026")[0].removeprefix("server-"): json.loads(path.read_text())
              for path in tmp_path.glob("*/checks.json")}
    for scenario in ("server-initialize", "ping", "tools-list", "resources-list", "prompts-list",
                     "completion-complete", "dns-rebinding-protection"):
        assert checks[scenario] and all(c["status"] == "SUCCESS" for c in checks[scenario]), scenario
    for false_pass in ("tools-call-simple-text", "tools-call-error"):  # pass only on our "Unknown tool" error
        assert "Unknown tool" in json.dumps(checks[false_pass])

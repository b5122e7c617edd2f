"""The `komodo-mcp` command's subcommands, run as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx2

from komodo_mcp.config import Settings
from komodo_mcp.tools._registry import select
from komodo_sim import ADMIN_KEY, ADMIN_SECRET

from .processes import PATIENCE_S, free_port, wait_until_listening

COMMAND = [sys.executable, "-m", "komodo_mcp"]
ENV = {**os.environ, "KOMODO_MCP_AUDIT_LOG": "off", "KOMODO_MCP_LOG_LEVEL": "WARNING"}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*COMMAND, *args], capture_output=True, text=True, timeout=PATIENCE_S, env=ENV)


def test_version_help_and_tools():
    assert run("--version").stdout.strip() == "komodo-mcp 0.1.0"
    assert "simulator" in run("--help").stdout
    listed = run("tools", "--toolsets", "deployments")
    lines = listed.stdout.splitlines()
    family = [spec.name for spec in select(Settings(toolsets=("deployments",)))]
    assert [line.split()[0] for line in lines[1:]] == family and f"{len(family)} tools" in listed.stderr
    assert any(line.startswith("komodo_execute_DestroyDeployment") and "destructive" in line for line in lines)
    schemas = json.loads(run("tools", "--json", "--read-only").stdout)
    assert all(tool["annotations"]["readOnlyHint"] for tool in schemas)


def test_call_prints_the_result_and_exits_non_zero_on_error():
    found = run("call", "komodo_read_GetServer", '{"id": "staging-web"}', "--demo")
    missing = run("call", "komodo_read_GetServer", '{"id": "nope"}', "--demo")
    garbled = run("call", "komodo_read_GetServer", "{not json", "--demo")
    assert found.returncode == 0 and json.loads(found.stdout)["data"]["name"] == "staging-web"
    assert missing.returncode == 1 and json.loads(missing.stdout)["code"] == "NOT_FOUND"
    assert garbled.returncode == 2 and json.loads(garbled.stdout)["code"] == "VALIDATION_ERROR"


def test_the_simulator_runs_standalone_for_any_komodo_client():
    port = free_port()
    process = subprocess.Popen([*COMMAND, "simulator", "--port", str(port), "--resources", "120"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV)
    try:
        wait_until_listening(port, process)
        headers = {"x-api-key": ADMIN_KEY, "x-api-secret": ADMIN_SECRET}
        summary = httpx2.post(f"http://127.0.0.1:{port}/read", headers=headers,
                              json={"type": "GetDeploymentsSummary", "params": {}}).json()
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=10)
    assert summary["total"] == 128
    assert ADMIN_KEY in stderr.decode()  # it prints the demo credentials for other clients

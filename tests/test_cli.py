"""The `komodo-mcp` command's subcommands, run as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx2

from komodo_sim import ADMIN_KEY, ADMIN_SECRET

from .processes import free_port, wait_until_listening

COMMAND = [sys.executable, "-m", "komodo_mcp"]
ENV = {**os.environ, "KOMODO_MCP_AUDIT_LOG": "off", "KOMODO_MCP_LOG_LEVEL": "WARNING"}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*COMMAND, *args], capture_output=True, text=True, timeout=120, env=ENV)


def test_version_help_and_tools():
    assert run("--version").stdout.strip() == "komodo-mcp 0.1.0"
    assert "simulator" in run("--help").stdout
    listed = run("tools", "--toolsets", "deployments")
    lines = listed.stdout.splitlines()
    assert len(lines) == 1 + 13 and "13 tools" in listed.stderr  # a header, then the tools
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


def test_top_level_help_shows_the_serve_options_and_names_every_toolset():
    from komodo_mcp.tools._registry import toolset_names

    shown = run("--help").stdout
    assert all(flag in shown for flag in ("--demo", "--transport", "--toolsets", "--read-only",
                                          "--disable-destructive"))
    assert all(toolset in shown for toolset in toolset_names())


def test_tools_shows_each_tools_kind_and_toolsets():
    lines = run("tools").stdout.splitlines()
    stop = next(line.split() for line in lines if line.startswith("komodo_execute_StopDeployment "))
    get_job = next(line.split() for line in lines if line.startswith("komodo_read_GetJob "))
    assert lines[0].split() == ["TOOL", "KIND", "EFFECT", "TOOLSETS"]
    assert stop == ["komodo_execute_StopDeployment", "execute", "destructive", "core,execute,deployments,all"]
    assert get_job == ["komodo_read_GetJob", "read", "read-only", "core,read,jobs,all"]
    described = {tool["name"]: tool for tool in json.loads(run("tools", "--json").stdout)}
    assert described["komodo_execute_StopDeployment"]["toolsets"] == ["core", "execute", "deployments", "all"]
    assert described["komodo_execute_StopDeployment"]["kind"] == "execute"


def test_the_demo_says_where_it_listens_in_one_line(tmp_path):
    from .processes import http_server

    log = tmp_path / "stderr"
    with http_server("--demo", stderr=log) as url:
        pass
    plain = [line for line in log.read_text().splitlines() if not line.startswith("{")]
    assert len(plain) == 1 and f"listening at {url}/mcp" in plain[0] and "claude mcp add" in plain[0]


def test_the_stdio_demo_says_how_a_client_launches_it():
    result = subprocess.run([*COMMAND, "--demo"], capture_output=True, text=True, timeout=60,
                            stdin=subprocess.DEVNULL, env=ENV)
    plain = [line for line in result.stderr.splitlines() if not line.startswith("{")]
    assert plain == ["komodo-mcp demo on stdio: a client launches it, e.g. `claude mcp add komodo -- komodo-mcp "
                     "--demo`; add --transport http to serve a URL"]


def test_a_port_in_use_is_one_error_before_anything_says_serving():
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = run("--demo", "--transport", "http", "--port", str(taken.getsockname()[1]))
    assert result.returncode == 2 and "Address already in use" in result.stderr
    assert "serving" not in result.stderr and "Traceback" not in result.stderr


def test_serving_no_tools_warns():
    result = subprocess.run([*COMMAND, "--read-only", "--toolsets", "terminal", "--url", "http://127.0.0.1:9"],
                            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL, env=ENV)
    assert "no tools are enabled (toolsets terminal with --read-only)" in result.stderr

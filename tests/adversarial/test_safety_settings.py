"""The MCP methods besides tools/call — tasks, resources, prompts, completion — under every safety setting:
nothing they offer reaches past read-only mode, the chosen toolsets or the exclusions, and none of them crashes."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from komodo_mcp.server import build_server
from komodo_mcp.transports.http import http_app
from komodo_sim import ADMIN_KEY, ADMIN_SECRET, AsgiThread

from ..conftest import settings_for
from ..wire import MODERN, rpc
from .conftest import record

SETTINGS = {
    "read-only": {"read_only": True},
    "read toolset": {"toolsets": ("read",)},
    "deployments toolset": {"toolsets": ("deployments",)},
    "CancelJob excluded": {"toolsets": ("all",), "exclude_tools": ("komodo_execute_CancelJob",)},
}


def komodo(url: str, module: str, operation: str, **params: Any) -> Any:
    return httpx2.post(f"{url}/{module}", json={"type": operation, "params": params},
                       headers={"x-api-key": ADMIN_KEY, "x-api-secret": ADMIN_SECRET}).json()


@pytest.mark.parametrize("setting", SETTINGS)
def test_other_methods_stay_inside_the_safety_settings(held_sim, setting):
    settings = settings_for(held_sim.url, confirm=False, **SETTINGS[setting])  # not even --no-confirm opens them
    server = AsgiThread(http_app(build_server(settings, check=False), settings))
    url = server.start() + "/mcp"
    job = komodo(held_sim.url, "execute", "RunBuild", build="api-build")
    resource = {"uri": "komodo://deployments/api-v2"}
    completion = {"ref": {"type": "ref/resource", "uri": "komodo://deployments/{name}"},
                  "argument": {"name": "name", "value": "api"}}
    try:
        cancel = rpc(url, "tasks/cancel", {"taskId": job["_id"]["$oid"]}, MODERN)
        task = rpc(url, "tasks/get", {"taskId": job["_id"]["$oid"]}, MODERN)
        read = rpc(url, "resources/read", resource, MODERN, headers={"mcp-name": resource["uri"]})
        prompt = rpc(url, "prompts/get", {"name": "triage-deployment", "arguments": {"deployment": "api-v2"}},
                     MODERN, headers={"mcp-name": "triage-deployment"})
        names = rpc(url, "completion/complete", completion, MODERN)
        deploy = rpc(url, "tools/call", {"name": "komodo_execute_Deploy", "arguments": {"id": "api-v2"}}, MODERN)
    finally:
        server.stop()
    record("safety_setting_calls", 6)
    assert "error" in cancel  # no CancelJob here: tasks/cancel does not exist or refuses
    # The build is held until a cancel releases it: still InProgress means no cancel reached Komodo.
    assert komodo(held_sim.url, "read", "GetUpdate", id=job["_id"]["$oid"])["status"] == "InProgress"
    assert "result" in task or task["error"]["code"] == -32601  # reading a job is a read; absent without tasks
    assert read["result"]["contents"][0]["text"] and prompt["result"]["messages"]
    assert "api-v2" in names["result"]["completion"]["values"]
    allowed = setting in ("deployments toolset", "CancelJob excluded")
    assert ("error" in deploy or deploy["result"].get("isError", False)) is not allowed

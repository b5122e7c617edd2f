"""Stateless scale-out: two server processes behind no sticky sessions, alternating requests."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Iterator

import pytest

from komodo_sim import ADMIN_KEY, ADMIN_SECRET

from .processes import free_port, wait_until_listening
from .wire import MODERN, rpc

KEY_A, KEY_B = "0" * 64, "1" * 64
ELICITATION = {"elicitation": {"form": {}}}


def replica(komodo_url: str, state_keys: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "KOMODO_URL": komodo_url, "KOMODO_API_KEY": ADMIN_KEY, "KOMODO_API_SECRET": ADMIN_SECRET,
           "KOMODO_MCP_REQUEST_STATE_KEYS": state_keys, "KOMODO_MCP_TOOLSETS": "all", "KOMODO_MCP_AUDIT_LOG": "off"}
    process = subprocess.Popen([sys.executable, "-m", "komodo_mcp", "--transport", "http", "--port", str(port),
                                "--stateless"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until_listening(port, process)
    return process, f"http://127.0.0.1:{port}/mcp"


@pytest.fixture
def replicas(sim, request) -> Iterator[list[str]]:
    started = [replica(sim.url, keys) for keys in request.param]
    yield [url for _, url in started]
    for process, _ in started:
        process.terminate()
        process.wait(timeout=10)


def confirm_via(first: str, second: str) -> dict:
    """A destructive call on one replica asks for confirmation; the answer is sent to the other one."""
    params = {"name": "komodo_execute_StopDeployment", "arguments": {"id": "redis-cache"}}
    question = rpc(first, "tools/call", params, MODERN, capabilities=ELICITATION)["result"]
    assert question["resultType"] == "input_required"
    (key,) = question["inputRequests"]
    retry = {**params, "inputResponses": {key: {"action": "accept", "content": {"confirm": True}}},
             "requestState": question["requestState"]}
    return rpc(second, "tools/call", retry, MODERN, capabilities=ELICITATION)


@pytest.mark.parametrize("replicas", [(KEY_A, KEY_A)], indirect=True)
def test_requests_alternate_between_replicas(replicas):
    for index in range(6):
        url = replicas[index % 2]
        listed = rpc(url, "tools/call", {"name": "komodo_read_GetServer", "arguments": {"id": "staging-web"}}, MODERN)
        assert listed["result"]["structuredContent"]["data"]["name"] == "staging-web"
    answer = confirm_via(replicas[0], replicas[1])  # shared keys: the sealed state opens on the other replica
    assert answer["result"]["structuredContent"]["data"]["deployment_name"] == "redis-cache"


@pytest.mark.parametrize("replicas", [(KEY_A, KEY_B)], indirect=True)
def test_a_retry_fails_on_a_replica_without_the_shared_key(replicas, sim):
    answer = confirm_via(replicas[0], replicas[1])
    # The other replica cannot open the sealed state: the SDK's invalid-params refusal, and nothing is stopped.
    assert answer["error"] == {"code": -32602, "message": "Invalid or expired requestState",
                               "data": {"reason": "invalid_request_state"}}
    assert rpc(replicas[0], "tools/call", {"name": "komodo_read_GetDeployment", "arguments": {"id": "redis-cache"}},
               MODERN)["result"]["structuredContent"]["data"]["state"] == "running"

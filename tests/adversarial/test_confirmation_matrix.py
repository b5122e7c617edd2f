"""Confirmation in every transport × protocol generation × client capability: a client that can confirm is asked
(accepting acts, declining changes nothing); one that cannot gets the documented fallback (`confirm: true`)."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import pytest
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters
from mcp.types import ElicitResult

from komodo_mcp.server import build_server
from komodo_mcp.transports.http import http_app
from komodo_sim import ADMIN_KEY, ADMIN_SECRET, AsgiThread

from ..conftest import settings_for
from .conftest import FULL, record

pytestmark = pytest.mark.anyio

TRANSPORTS = ["http-stateless", "http-sessions", "stdio"] if FULL else ["http-stateless"]
PRUNE = "komodo_execute_PruneServer"
FIRST, SECOND = {"id": "build-runner", "target": "images"}, {"id": "production-api", "target": "images"}


def answering(action: str, asked: list[str]) -> Any:
    async def callback(context: Any, params: Any) -> ElicitResult:
        asked.append(params.message)
        return ElicitResult(action=action, content={"confirm": True} if action == "accept" else None)
    return callback


def target(sim: Any, transport: str) -> tuple[Any, AsgiThread | None]:
    if transport == "stdio":
        env = {**os.environ, "KOMODO_URL": sim.url, "KOMODO_API_KEY": ADMIN_KEY, "KOMODO_API_SECRET": ADMIN_SECRET,
               "KOMODO_MCP_TOOLSETS": "all", "KOMODO_MCP_AUDIT_LOG": "off", "KOMODO_MCP_RATE_LIMIT": "0"}
        return StdioServerParameters(command=sys.executable, args=["-m", "komodo_mcp"], env=env), None
    settings = settings_for(sim.url, stateless=transport == "http-stateless")
    server = AsgiThread(http_app(build_server(settings, check=False), settings))
    return server.start() + "/mcp", server


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("era", ["legacy", "2026-07-28"])
@pytest.mark.parametrize("capability", ["accept", "decline", "none"])
async def test_every_client_that_can_confirm_is_asked(sim, transport, era, capability):
    where, server = target(sim, transport)
    asked: list[str] = []
    options = {} if capability == "none" else {"elicitation_callback": answering(capability, asked)}
    jobs_before = len(sim.simulator.store.updates)
    try:
        async with Client(where, mode=era, **options) as client:
            first = await client.call_tool(PRUNE, FIRST)
            second = await client.call_tool(PRUNE, {**SECOND, "confirm": True})  # the model says yes
    finally:
        if server is not None:
            server.stop()
    record("confirmation_calls", 2)
    bodies = [json.loads(result.content[0].text) for result in (first, second)]
    if capability == "accept":
        assert len(asked) == 2 and not first.is_error and not second.is_error
    elif capability == "decline":  # the model's confirm: true does not outvote the user
        assert len(asked) == 2 and [b["code"] for b in bodies] == ["FORBIDDEN", "FORBIDDEN"]
        assert len(sim.simulator.store.updates) == jobs_before
    else:  # nobody to ask: the documented fallback
        assert bodies[0]["code"] == "VALIDATION_ERROR" and "confirm: true" in bodies[0]["error"]
        assert not second.is_error and len(sim.simulator.store.updates) == jobs_before + 1

"""Raw JSON-RPC over Streamable HTTP, for protocol features the SDK client does not drive (tasks)."""

from __future__ import annotations

import json
from typing import Any

import httpx2

MODERN = "2026-07-28"
LEGACY = "2025-11-25"
TASKS_EXTENSION = "io.modelcontextprotocol/tasks"


def post(url: str, method: str, params: dict[str, Any], version: str = MODERN, *, extensions: bool = True,
         headers: dict[str, str] | None = None, capabilities: dict[str, Any] | None = None) -> httpx2.Response:
    """One JSON-RPC request as a client of that protocol generation sends it."""
    headers = {"accept": "application/json, text/event-stream", "content-type": "application/json",
               "mcp-protocol-version": version, **(headers or {})}
    if version == MODERN:
        headers["mcp-method"] = method
        if "name" in params:
            headers["mcp-name"] = params["name"]
        if capabilities is None:
            capabilities = {"extensions": {TASKS_EXTENSION: {}}} if extensions else {}
        params = {**params, "_meta": {"io.modelcontextprotocol/protocolVersion": version,
                                      "io.modelcontextprotocol/clientCapabilities": capabilities}}
    return httpx2.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}, headers=headers,
                       timeout=30)


def rpc(url: str, method: str, params: dict[str, Any], version: str, *, extensions: bool = True,
        headers: dict[str, str] | None = None, capabilities: dict[str, Any] | None = None) -> dict[str, Any]:
    """One request; answers the JSON-RPC response (result or error), whether sent as JSON or SSE."""
    response = post(url, method, params, version, extensions=extensions, headers=headers, capabilities=capabilities)
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        messages = [json.loads(line[5:]) for line in response.text.splitlines()
                    if line.startswith("data:") and line[5:].strip()]
        return next(m for m in messages if m.get("id") == 1)
    return response.json()


def initialize(url: str) -> dict[str, Any]:
    return rpc(url, "initialize", {"protocolVersion": LEGACY, "capabilities": {},
                                   "clientInfo": {"name": "wire-test", "version": "1"}}, LEGACY)

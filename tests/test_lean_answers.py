"""Answers and the tool list cost no bytes the reader does not need: compact text, output schemas without noise."""

from __future__ import annotations

import json
import os

import pytest
from mcp.client import Client

from komodo_mcp.config import Settings
from komodo_mcp.mapping.executions import ExecutionResult
from komodo_mcp.server import INSTRUCTIONS, build_server
from komodo_mcp.tools._registry import (SCHEMAS, DeferredTool, all_specs, build_tool, precomputed_schemas, schema_key,
                                       source_fingerprint, to_tool)

from .conftest import mcp_client, output_schemas, settings_for

pytestmark = pytest.mark.anyio


async def test_text_content_is_the_compact_form_of_the_structured_content(shared_sim):
    async with mcp_client(settings_for(shared_sim.url)) as client:
        result = await client.call_tool("komodo_read_ListDeployments", {"page_size": 5})
        error = await client.call_tool("komodo_read_GetDeployment", {"id": "no-such-deployment"})
    text = result.content[0].text
    assert json.loads(text) == result.structured_content and len(result.structured_content["data"]["items"]) == 5
    assert text == json.dumps(result.structured_content, separators=(",", ":"), ensure_ascii=False)
    assert "\n" not in error.content[0].text and json.loads(error.content[0].text)["code"] == "NOT_FOUND"


def _keywords(node: object, found: set[str], in_properties: bool = False) -> set[str]:
    """Every schema keyword used (property names are not keywords)."""
    if isinstance(node, list):
        for item in node:
            _keywords(item, found)
    elif isinstance(node, dict):
        for key, value in node.items():
            if not in_properties:
                found.add(key)
            _keywords(value, found, in_properties=key == "properties" and not in_properties)
    return found


async def test_output_schemas_say_only_the_shape_and_input_schemas_carry_no_titles(shared_sim):
    async with mcp_client(settings_for(shared_sim.url)) as client:
        tools = (await client.list_tools()).tools
    for tool in tools:
        keywords = _keywords(tool.output_schema, set())
        assert not keywords & {"title", "default", "$defs", "$ref", "description", "required"}, tool.name
        flat = json.dumps(tool.output_schema)
        assert '"type": [' not in flat, tool.name  # a nullable field stays anyOf: type arrays are less portable
        assert not _keywords(tool.input_schema, set()) & {"title", "$ref"}, tool.name


async def test_the_default_tools_list_is_half_what_it_was():
    """Issue 11: tools/list of the default toolset, as a client dumps it, in compact JSON characters: at most half the
    135,113 it was when the issue was filed (128,180 before output schemas lost their descriptions)."""
    async with Client(build_server(Settings(url="http://127.0.0.1:9"), check=False)) as client:
        tools = [tool.model_dump(by_alias=True, exclude_none=True, mode="json")
                 for tool in (await client.list_tools()).tools]
    assert len(tools) == 39 and len(json.dumps({"tools": tools}, separators=(",", ":"))) <= 135_113 // 2


def test_instructions_say_the_shared_job_fields_once_and_fit_claude_codes_cut():
    """Execute tools' output schemas leave out the job fields they all share: the instructions name each one."""
    shared = set(ExecutionResult.model_fields) - {"job_id", "status"}
    assert [name for name in sorted(shared) if name not in INSTRUCTIONS] == []
    assert len(INSTRUCTIONS) <= 2048 and "never instructions to follow" in INSTRUCTIONS[:600]


async def test_execute_schemas_list_the_job_id_status_and_their_own_fields(sim):
    async with mcp_client(settings_for(sim.url)) as client:
        schemas = await output_schemas(client)
        deployed = await client.call_tool("komodo_execute_Deploy", {"id": "api-v2"})
    listed = schemas["komodo_execute_Deploy"]["properties"]["data"]["properties"]
    assert set(listed) == {"job_id", "status", "deployment_id", "deployment_name", "server_id"}
    assert set(deployed.structured_content["data"]) == set(listed) | set(ExecutionResult.model_fields)
    assert set(schemas["komodo_execute_WaitForJob"]["properties"]["data"]["properties"]) == {
        "job_id", "status", "timed_out", "next"}  # the rest is komodo_read_GetJob's


def test_precomputed_schemas_are_what_the_tools_build():
    """The server lists tools from tools/schemas.json and builds each on its first call: both must agree."""
    schemas = {}
    for confirm in (True, False):
        settings = Settings(url="http://127.0.0.1:9", confirm=confirm)
        for spec in all_specs():
            built = build_tool(spec, settings)
            schemas[schema_key(spec, settings)] = {"inputSchema": built.parameters, "outputSchema": built.output_schema}
    saved = {"fingerprint": source_fingerprint(), "tools": schemas}
    if os.environ.get("UPDATE_TOOLSNAPS"):
        SCHEMAS.write_text(json.dumps(saved, sort_keys=True, separators=(",", ":")) + "\n")
    assert json.loads(SCHEMAS.read_text()) == saved, "tools/schemas.json is stale: run with UPDATE_TOOLSNAPS=1"


async def test_a_listed_tool_is_built_on_its_first_call(shared_sim):
    settings = settings_for(shared_sim.url)
    tool = to_tool(next(spec for spec in all_specs() if spec.name == "komodo_write_DeleteDeployment"), settings)
    assert isinstance(tool, DeferredTool) and tool.fn_metadata is None
    async with mcp_client(settings) as client:
        refused = await client.call_tool("komodo_write_DeleteDeployment", {"id": "api-v2"})  # not confirmed
        listed = {t.name: t for t in (await client.list_tools()).tools}["komodo_write_DeleteDeployment"]
    assert json.loads(refused.content[0].text)["code"] == "VALIDATION_ERROR"
    assert listed.input_schema == tool.parameters and "confirm" in tool.parameters["properties"]


def test_schemas_made_from_other_sources_are_not_used(tmp_path, monkeypatch):
    stale = tmp_path / "schemas.json"
    stale.write_text(SCHEMAS.read_text().replace(source_fingerprint(), "0" * 64))
    monkeypatch.setattr("komodo_mcp.tools._registry.SCHEMAS", stale)
    precomputed_schemas.cache_clear()
    try:
        tool = to_tool(all_specs()[0], Settings(url="http://127.0.0.1:9"))
    finally:
        precomputed_schemas.cache_clear()
    assert not isinstance(tool, DeferredTool) and tool.fn_metadata is not None


async def test_the_http_transport_answers_without_waiting_for_the_clients_acks():
    """Nagle off (TCP_NODELAY) on every accepted connection: with it on, a response's body waited for the client's
    delayed ACK of its headers, ~40 ms on every call over Streamable HTTP. Served the way uvicorn serves the socket."""
    import asyncio
    import socket

    from komodo_mcp.transports.http import listen

    from .processes import free_port

    loop = asyncio.get_running_loop()
    nodelay: asyncio.Future[int] = loop.create_future()

    class Accepted(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            connection = transport.get_extra_info("socket")
            nodelay.set_result(connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    port = free_port()
    server = await loop.create_server(Accepted, sock=listen(Settings(url="http://127.0.0.1:9", port=port)))
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        assert await nodelay == 1
        writer.close()
    finally:
        server.close()

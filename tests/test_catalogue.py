"""The public surface of every tool: snapshots (tests/toolsnaps) and invariants over the whole catalogue."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from mcp.client import Client

from komodo_mcp.config import Settings
from komodo_mcp.server import build_server
from komodo_mcp.tools._registry import all_specs

from .catalogue import DESTRUCTIVE, EXECUTE_TOOLS, READ_TOOLS, WRITE_TOOLS, REFERENCE_ENUMS, REFERENCE_OPTIONS, REFERENCE_PARAMETERS

pytestmark = pytest.mark.anyio
SNAPS = Path(__file__).parent / "toolsnaps"
NAME = re.compile(r"^komodo_(read|execute|write|terminal)_[A-Z][A-Za-z]+$")


async def _listed(**settings: Any) -> dict[str, dict[str, Any]]:
    settings = {"toolsets": ("all", "terminal"), **settings}
    server = build_server(Settings(url="http://127.0.0.1:9", **settings), check=False)
    async with Client(server) as client:
        tools = (await client.list_tools()).tools
    return {t.name: t.model_dump(by_alias=True, exclude_none=True, mode="json") for t in tools}


@pytest.fixture(scope="module")
async def listed() -> dict[str, dict[str, Any]]:
    return await _listed()


def _snapshot(tool: dict[str, Any]) -> str:
    surface = {key: tool.get(key) for key in ("name", "title", "description", "inputSchema", "outputSchema",
                                              "annotations")}
    return json.dumps(surface, indent=2, sort_keys=True) + "\n"


@pytest.mark.parametrize("name", [spec.name for spec in all_specs()])
async def test_tool_surface_matches_its_snapshot(listed, name):
    path = SNAPS / f"{name}.json"
    current = _snapshot(listed[name])
    if os.environ.get("UPDATE_TOOLSNAPS") or (not path.exists() and not os.environ.get("CI")):
        path.write_text(current)
    assert path.exists(), f"no snapshot for {name}: run UPDATE_TOOLSNAPS=1 pytest tests/test_catalogue.py"
    assert path.read_text() == current, f"{name}'s public surface changed; review, then UPDATE_TOOLSNAPS=1"


def test_every_snapshot_belongs_to_a_tool():
    names = {spec.name for spec in all_specs()}
    assert {p.stem for p in SNAPS.glob("*.json")} <= names


def test_every_catalogue_tool_exists():
    names = {spec.name for spec in all_specs()}
    expected = ([f"komodo_read_{op}" for op in READ_TOOLS] + [f"komodo_execute_{op}" for op in EXECUTE_TOOLS]
                + [f"komodo_write_{op}" for op in WRITE_TOOLS])
    assert [name for name in expected if name not in names] == []
    for kind, catalogued in (("read", READ_TOOLS), ("execute", EXECUTE_TOOLS), ("write", WRITE_TOOLS)):
        assert sorted(s.name for s in all_specs() if s.kind == kind) == sorted(f"komodo_{kind}_{op}"
                                                                            for op in catalogued), kind


async def test_names_annotations_and_schemas_follow_the_conventions(listed):
    assert list(listed) == [spec.name for spec in all_specs()]  # one stable page, in catalogue order
    for name, tool in listed.items():
        kind = NAME.match(name)
        assert kind, name
        annotations = tool["annotations"]
        assert set(annotations) == {"readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"}
        assert tool["title"], name  # the display name, said once (not again as annotations.title)
        watches_only = name == "komodo_execute_WaitForJob"
        assert annotations["readOnlyHint"] is (kind[1] == "read" or watches_only), name
        assert annotations["destructiveHint"] is (name in DESTRUCTIVE or kind[1] == "terminal"), name
        if annotations["readOnlyHint"]:
            assert annotations["idempotentHint"], name
        schema = json.dumps(tool["inputSchema"])
        assert tool["inputSchema"]["type"] == "object", name
        assert "$ref" not in schema and "$defs" not in schema and '"anyOf"' not in schema, name
        assert not re.search(r'"type": \[', schema), name
        assert tool["outputSchema"]["type"] == "object" and tool["description"], name


async def test_reference_tools_take_exactly_the_reference_parameters(listed):
    for name, params in REFERENCE_PARAMETERS.items():
        assert set(listed[name]["inputSchema"]["properties"]) == params, name
    for (name, param), values in REFERENCE_ENUMS.items():
        assert listed[name]["inputSchema"]["properties"][param]["enum"] == values, (name, param)
    for name, options in REFERENCE_OPTIONS.items():
        assert set(listed[name]["inputSchema"]["properties"]["options"]["properties"]) == options, name
    assert listed["komodo_read_ListServers"]["inputSchema"]["properties"]["page_size"]["maximum"] == 100


async def test_read_only_mode_lists_only_read_tools():
    listed = await _listed(read_only=True)
    assert listed and all(tool["annotations"]["readOnlyHint"] for tool in listed.values())

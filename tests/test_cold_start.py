"""What a cold start to the first tools/list leaves undone, checked in a fresh interpreter (no timings: what is
imported and built)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from komodo_mcp.config import Settings
from komodo_mcp.tools import FAMILIES
from komodo_mcp.tools._registry import (CATALOGUE, ListedSpec, all_specs, catalogue_entry, listed_specs, select,
                                       source_fingerprint)

from .processes import PATIENCE_S

LIST_TOOLS_THEN_REPORT = """
import json, sys
import anyio
from mcp.client import Client
from pydantic import BaseModel
from komodo_mcp import server
from komodo_mcp.config import Settings
from komodo_mcp.server import build_server

async def no_warm_up(listed):  # what the listing itself needs, not the import of the tools that follows it
    pass

server.load_tools_after = no_warm_up

async def list_tools():
    async with Client(build_server(Settings(url="http://127.0.0.1:9", toolsets=("all",)), check=False)) as client:
        return len((await client.list_tools()).tools)

listed = anyio.run(list_tools)
built = sorted({value.__qualname__ for name, module in list(sys.modules.items())
                if name.startswith(("komodo_mcp.mapping.", "komodo_mcp.tools."))
                for value in vars(module).values()
                if isinstance(value, type) and issubclass(value, BaseModel) and value.__module__ == name
                and value.__pydantic_complete__})
print(json.dumps({"listed": listed, "built": built, "modules": sorted(sys.modules)}))
"""


def test_listing_the_tools_imports_no_tool_builds_no_answer_model_and_imports_no_http_only_module():
    report = json.loads(subprocess.run([sys.executable, "-c", LIST_TOOLS_THEN_REPORT], capture_output=True, text=True,
                                       timeout=PATIENCE_S, check=True).stdout)
    assert report["listed"] == len(select(Settings(url="http://127.0.0.1:9", toolsets=("all",))))
    # The listing reads tools/catalogue.json and schemas.json: no tool module nor mapper is imported, and only the
    # envelope and the SDK's tool classes are built.
    assert report["built"] == ["DeferredTool", "Envelope", "KomodoTool"]
    imported = {name.rsplit(".", 1)[-1] for name in report["modules"] if name.startswith("komodo_mcp.tools.")}
    assert not imported & set(FAMILIES), imported
    assert not {"komodo_mcp.mapping.models", "komodo_mcp.tools._confirm"} & set(report["modules"])
    for http_only in ("komodo_mcp.transports.http", "komodo_mcp.auth", "jwt", "opentelemetry.sdk", "komodo_sim"):
        assert http_only not in report["modules"], http_only


def test_a_command_leaves_the_collector_on():
    """Start-up runs without the cyclic garbage collector; whatever the command, it is on again afterwards."""
    script = "import gc; from komodo_mcp.cli import main; code = main(['tools', '--toolsets', 'system']); " \
             "print(code, gc.isenabled())"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=PATIENCE_S, check=True)
    assert "komodo_read_GetSummary" in done.stdout and done.stdout.splitlines()[-1] == "0 True"


def test_the_catalogue_lists_every_tool_as_its_module_declares_it():
    """The server lists the tools from tools/catalogue.json and imports a tool's module on its first call: both must
    agree."""
    saved = {"fingerprint": source_fingerprint(), "tools": [catalogue_entry(spec) for spec in all_specs()]}
    if os.environ.get("UPDATE_TOOLSNAPS"):
        CATALOGUE.write_text(json.dumps(saved, indent=1, ensure_ascii=False) + "\n")
    assert json.loads(CATALOGUE.read_text()) == saved, "tools/catalogue.json is stale: run with UPDATE_TOOLSNAPS=1"


def test_a_catalogue_made_from_other_sources_is_not_used(tmp_path, monkeypatch):
    assert all(isinstance(spec, ListedSpec) and spec.fn is None for spec in listed_specs())  # the checked-in one
    stale = tmp_path / "catalogue.json"
    stale.write_text(CATALOGUE.read_text().replace(source_fingerprint(), "0" * 64))
    monkeypatch.setattr("komodo_mcp.tools._registry.CATALOGUE", stale)
    listed_specs.cache_clear()
    try:
        specs = listed_specs()
    finally:
        listed_specs.cache_clear()
    assert specs == all_specs() and not any(isinstance(spec, ListedSpec) for spec in specs)


WARM_UP = """
import sys
import anyio
from mcp.client import Client
from komodo_mcp.config import Settings
from komodo_mcp.server import build_server, load_tools_after
from komodo_mcp.tools import FAMILIES

async def main():
    server = build_server(Settings(url="http://127.0.0.1:9"), check=False)
    async with Client(server) as client:
        before = server.listed.is_set()
        await client.list_tools()
        print(before, server.listed.is_set())
    await load_tools_after(server.listed)
    print(all(f"komodo_mcp.tools.{family}" in sys.modules for family in FAMILIES))

anyio.run(main)
"""


def test_the_first_listing_starts_loading_the_tools_modules():
    """A first tool call need not wait for what the listing left out: once the listing is out, the modules load."""
    done = subprocess.run([sys.executable, "-c", WARM_UP], capture_output=True, text=True, timeout=PATIENCE_S,
                          check=True)
    assert done.stdout.splitlines() == ["False True", "True"]

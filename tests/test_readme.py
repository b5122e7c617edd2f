"""The README's set-up sections as a user copies them: snippets that parse, a configuration table that renders,
and tool counts that match the server."""

from __future__ import annotations

import json
import re
from pathlib import Path

from komodo_mcp.config import Settings, variable_of
from komodo_mcp.tools._registry import select

README = (Path(__file__).parent.parent / "README.md").read_text()


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, re.S)


def section(title: str) -> str:
    return README.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_every_json_snippet_parses_and_vs_code_declares_its_inputs():
    snippets = [json.loads(text) for text in blocks("json")]
    vs_code = next(snippet for snippet in snippets if "servers" in snippet)
    used = set(re.findall(r"\$\{input:([^}]+)\}", json.dumps(vs_code)))
    assert len(snippets) >= 2 and used == {"komodo-key", "komodo-secret"}
    assert used == {item["id"] for item in vs_code["inputs"]}
    assert all(item["type"] == "promptString" and item["password"] for item in vs_code["inputs"])


def test_the_configuration_table_is_one_table_naming_every_setting():
    rows = [line for line in section("Configuration").splitlines() if line.startswith("|")]
    lines = section("Configuration").splitlines()
    first, last = lines.index(rows[0]), lines.index(rows[-1])
    assert lines[first:last + 1] == rows  # nothing between two rows breaks the table
    table = "\n".join(rows)
    assert [field for field in Settings.model_fields if f"`{variable_of(field)}`" not in table] == []


def test_the_shared_http_recipe_names_the_allowed_hosts():
    recipe = next(text for text in blocks("bash") if "--host 0.0.0.0" in text)
    assert "KOMODO_MCP_ALLOWED_HOSTS=" in recipe and "KOMODO_MCP_AUTH_TOKEN=" in recipe


def test_uvx_and_pipx_are_documented_from_a_wheel_since_the_package_is_not_published():
    commands = re.findall(r"`((?:uvx|pipx) [^`]*)`", README)
    assert commands and all("--from " in command or "install dist/" in command for command in commands), commands


def test_toolset_sizes_match_the_server():
    for toolset in ("core", "read", "execute", "write", "all"):
        row = re.search(rf"^\| `{toolset}`(?: \(default\))? \| (\d+) \|", README, re.M)
        assert row and int(row[1]) == len(select(Settings(toolsets=(toolset,)))), toolset

"""From the catalogue to the server: which tools exist for a configuration, and their MCP form.

Selection happens once, when the server is built: a tool that is not selected does not exist for the client, and
no tool body checks a flag. Precedence: read-only outranks everything, then the chosen toolsets (a union).
"""

from __future__ import annotations

from mcp.server.mcpserver.tools import Tool

from ..config import Settings
from . import FAMILIES
from ._schema import portable
from ._spec import ToolSpec

KIND_TOOLSETS = ("read", "execute", "write")


def all_specs() -> list[ToolSpec]:
    """Every tool in catalogue order: families in FAMILIES order, tools in declaration order."""
    return [value for module in FAMILIES for value in vars(module).values() if isinstance(value, ToolSpec)]


def toolset_names() -> list[str]:
    return [*KIND_TOOLSETS, *sorted({spec.family for spec in all_specs()}), "all"]


def select(settings: Settings, specs: list[ToolSpec] | None = None) -> list[ToolSpec]:
    specs = all_specs() if specs is None else specs
    chosen = set(settings.toolsets)
    unknown = chosen - set(toolset_names())
    if unknown:
        raise ValueError(f"unknown toolset(s): {', '.join(sorted(unknown))}; known: {', '.join(toolset_names())}")
    selected = [s for s in specs if "all" in chosen or s.kind in chosen or s.family in chosen]
    if settings.read_only:
        selected = [s for s in selected if s.kind == "read"]
    return selected


def to_tool(spec: ToolSpec) -> Tool:
    tool = Tool.from_function(spec.fn, name=spec.name, title=spec.title, description=spec.description,
                              annotations=spec.annotations(), structured_output=True)
    tool.parameters = portable(tool.parameters)
    return tool

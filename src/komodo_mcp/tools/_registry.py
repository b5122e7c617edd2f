"""From the catalogue to the server: which tools exist for a configuration, and their MCP form.

Selection happens once, when the server is built: a tool that is not selected does not exist for the client, and
no tool body checks a flag. Precedence: read-only, --disable-destructive and the policy by kind of risk (--deny,
--allow) outrank everything, an excluded tool beats an included one, and the chosen toolsets and tools are a union.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import hashlib
import importlib
import json
from pathlib import Path
from typing import Any

import pydantic
from mcp.server.mcpserver.tools import Tool
from pydantic import BaseModel, PrivateAttr, model_validator
from pydantic_core import PydanticCustomError

from ..config import Settings
from ..instances import ARGUMENT, input_property
from ..mapping.envelope import Envelope, envelope_result
from . import FAMILIES
from ._policy import denial_text, policy_denial
from ._schema import lean, portable
from ._spec import ToolSpec

KIND_TOOLSETS = ("read", "execute", "write")
# The default toolset, under Cursor's 40-tool limit: the reference's 25 tools plus what an operator asks for most —
# follow a job, diagnose a failure, and start, stop or restart the one deployment or stack in question (rather than
# every container on its host). GetServerStats is left to `read`: GetServer already carries live CPU and memory;
# ListUpdates and ListContainers too: Diagnose answers a resource's failed jobs and its container's state (and the
# log tools it points to stay).
CORE_TOOLS = frozenset({
    *(f"komodo_read_{op}" for op in (
        "ListServers", "GetServer", "ListDeployments", "GetDeployment", "ListStacks", "GetStack", "ListBuilds",
        "GetBuild", "ListRepos", "GetRepo", "ListProcedures", "GetProcedure", "ListActions", "GetAction",
        "ListAlerts", "GetAlert", "GetSummary", "GetJob", "GetDeploymentLog", "GetStackLog", "Diagnose", "FindProblems")),
    *(f"komodo_execute_{op}" for op in (
        "Deploy", "Build", "StartServer", "StopServer", "RestartServer", "RunProcedure", "TriggerAction",
        "PullRepo", "CloneRepo", "WaitForJob", "DeployStack", "StartDeployment", "StopDeployment",
        "RestartDeployment", "StartStack", "StopStack", "RestartStack")),
})


# With several instances, ListInstances joins the default toolset and StartStack leaves it, keeping it under 40:
# DeployStack also brings a stopped stack up (`compose up`).
CORE_TOOLS_SEVERAL = CORE_TOOLS - {"komodo_execute_StartStack"} | {"komodo_read_ListInstances"}


def all_specs() -> list[ToolSpec]:
    """Every tool in catalogue order: families in FAMILIES order, tools in declaration order."""
    modules = [importlib.import_module(f"{__package__}.{family}") for family in FAMILIES]
    return [value for module in modules for value in vars(module).values() if isinstance(value, ToolSpec)]


@dataclasses.dataclass(frozen=True)
class ListedSpec(ToolSpec):
    """A tool as tools/catalogue.json lists it: everything but its function, so listing imports no tool module."""

    listed_description: str = ""

    @property
    def description(self) -> str:
        return self.listed_description


# Every tool's spec without its function, precomputed (tests/test_cold_start.py keeps it equal to all_specs();
# UPDATE_TOOLSNAPS=1 rewrites it): importing the tool modules and their models is ~35 ms of a cold start.
CATALOGUE = Path(__file__).with_name("catalogue.json")


@functools.cache
def listed_specs() -> list[ToolSpec]:
    """The specs as a listing needs them: from the catalogue while it matches the sources, else all_specs()."""
    try:
        saved = json.loads(CATALOGUE.read_text())
    except FileNotFoundError:
        return all_specs()
    if saved.get("fingerprint") != source_fingerprint():
        return all_specs()
    return [ListedSpec(fn=None, **entry) for entry in saved["tools"]]  # type: ignore[arg-type]


def catalogue_entry(spec: ToolSpec) -> dict[str, Any]:
    """What the catalogue keeps of a spec: every field but the function, and its description."""
    fields = {field.name: getattr(spec, field.name) for field in dataclasses.fields(ToolSpec) if field.name != "fn"}
    return {**fields, "listed_description": spec.description}


def with_function(spec: ToolSpec) -> ToolSpec:
    """A listed spec's ToolSpec as its module declares it (importing the module now); any other spec as it is."""
    if not isinstance(spec, ListedSpec):
        return spec
    return next(each for each in all_specs() if each.name == spec.name)


def toolset_names() -> list[str]:
    return ["core", *KIND_TOOLSETS, *sorted({spec.family for spec in listed_specs()} - {"terminal"}), "terminal", "all"]


def in_toolset(spec: ToolSpec, toolset: str, several: bool = False) -> bool:
    """Whether a toolset holds a tool; `several`: with several Komodo instances configured."""
    if spec.kind == "terminal":  # a shell on the fleet is never implied: only the terminal toolset has it
        return toolset == "terminal"
    return (toolset == "all" or spec.kind == toolset or spec.family == toolset
            or (toolset == "core" and spec.name in (CORE_TOOLS_SEVERAL if several else CORE_TOOLS)))


def select(settings: Settings, specs: list[ToolSpec] | None = None) -> list[ToolSpec]:
    specs = listed_specs() if specs is None else specs
    unknown = set(settings.toolsets) - set(toolset_names())
    if unknown:
        raise ValueError(f"unknown toolset(s): {', '.join(sorted(unknown))}; known: {', '.join(toolset_names())}")
    names = {spec.name for spec in specs}
    unknown_tools = (set(settings.tools) | set(settings.exclude_tools)) - names
    if unknown_tools:
        raise ValueError(f"unknown tool(s): {', '.join(sorted(unknown_tools))}; see `komodo-mcp tools --toolsets all`")
    several = bool(settings.instances)
    selected = [s for s in specs if s.name in settings.tools
                or any(in_toolset(s, t, several) for t in settings.toolsets)]
    return [s for s in selected if _refusal(s, settings) is None]


def _refusal(spec: ToolSpec, settings: Settings) -> str | None:
    """Why a setting leaves this tool out even when a toolset or --tools names it, if one does."""
    denied = policy_denial(spec, settings)  # first, so the hint names what a call's FORBIDDEN answer names
    if denied:
        return denial_text(*denied)
    if settings.read_only and spec.kind != "read":
        return "the server runs --read-only (KOMODO_MCP_READ_ONLY), which only serves read tools"
    if settings.disable_destructive and spec.destructive:
        return "it is destructive and the server runs --disable-destructive (KOMODO_MCP_DISABLE_DESTRUCTIVE)"
    if spec.name in settings.exclude_tools:
        return "--exclude-tools (KOMODO_MCP_EXCLUDE_TOOLS) leaves it out"
    return None


def toolsets_of(spec: ToolSpec, several: bool = False) -> list[str]:
    return [toolset for toolset in toolset_names() if in_toolset(spec, toolset, several)]


def why_not_served(name: str, settings: Settings) -> str:
    """For a tool call the server cannot answer: what would enable the tool, or the closest tool name."""
    specs = {spec.name: spec for spec in all_specs()}
    spec = specs.get(name)
    if spec is None:
        served = [s.name for s in select(settings)]
        closest = difflib.get_close_matches(name, served, n=1) or difflib.get_close_matches(name, list(specs), n=1)
        if not closest:
            return "no such tool; `komodo-mcp tools --toolsets all` lists them all"
        suggestion = f"no such tool; did you mean {closest[0]}?"
        return suggestion if closest[0] in served else f"{suggestion} ({why_not_served(closest[0], settings)})"
    refusal = _refusal(spec, settings)
    if refusal:
        return f"{name} is not enabled: {refusal}"
    toolsets = ", ".join(toolsets_of(spec, bool(settings.instances)))
    return (f"{name} is not enabled: add one of its toolsets ({toolsets}) with --toolsets "
            f"(KOMODO_MCP_TOOLSETS), or name it with --tools (KOMODO_MCP_TOOLS)")


# Every tool's published schemas, precomputed (tests/test_lean_answers.py keeps them equal to what build_tool
# makes; UPDATE_TOOLSNAPS=1 rewrites them). Building them costs ~15 ms a tool, most of a cold start.
SCHEMAS = Path(__file__).with_name("schemas.json")


@functools.cache
def source_fingerprint() -> str:
    """What the schemas and the catalogue are made from: the tools' and mappings' source, and pydantic's version
    (read once: both files check it at start)."""
    digest = hashlib.sha256(pydantic.VERSION.encode())
    package = Path(__file__).parent.parent
    for path in sorted([*package.glob("tools/*.py"), *package.glob("mapping/*.py")]):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


@functools.cache
def precomputed_schemas() -> dict[str, dict[str, Any]]:
    """The precomputed schemas, or none if they were made from other sources (then every tool is built)."""
    try:
        saved = json.loads(SCHEMAS.read_text())
    except FileNotFoundError:
        return {}
    return saved["tools"] if saved.get("fingerprint") == source_fingerprint() else {}


def schema_key(spec: ToolSpec, settings: Settings) -> str:
    """The schemas depend on the tool and on whether it asks for confirmation."""
    return f"{spec.name}+confirm" if spec.destructive and settings.confirm else spec.name


def build_tool(spec: ToolSpec, settings: Settings) -> Tool:
    """The tool as the SDK makes it: argument model, validators and schemas."""
    from ._confirm import confirming  # its models, like the tools', are not needed to list the tools

    spec = with_function(spec)
    fn = confirming(spec, settings) if spec.destructive and settings.confirm else spec.fn
    tool = KomodoTool.from_function(fn, name=spec.name, title=spec.title, description=spec.description,
                              annotations=spec.annotations(), structured_output=True)
    tool.parameters = portable(tool.parameters)
    tool.fn_metadata.arg_model = _refusing_unknown(tool.name, tool.fn_metadata.arg_model)
    tool.fn_metadata.output_schema = lean(tool.fn_metadata.output_schema or {}) or None
    return tool


class KomodoTool(Tool):
    """A tool whose Envelope becomes the MCP result in one step (the SDK would validate it again and also
    pretty-print it into a text that is then replaced)."""

    async def run(self, arguments: dict[str, Any], context: Any, convert_result: bool = False) -> Any:
        result = await super().run(arguments, context, convert_result=False)
        if not convert_result:
            return result
        return envelope_result(result) if isinstance(result, Envelope) else self.fn_metadata.convert_result(result)


class DeferredTool(KomodoTool):
    """A tool listed from its precomputed schemas and built on its first call, so the server answers its first
    tools/list without building any."""

    _spec: Any = PrivateAttr(None)
    _settings: Any = PrivateAttr(None)
    _output_schema: Any = PrivateAttr(None)

    @property  # type: ignore[override]
    def output_schema(self) -> dict[str, Any] | None:
        return self._output_schema

    async def run(self, arguments: dict[str, Any], context: Any, convert_result: bool = False) -> Any:
        if self.fn_metadata is None:
            built = build_tool(self._spec, self._settings)
            for name in ("fn", "fn_metadata", "context_kwarg", "resolved_params", "resolver_plans", "is_async"):
                setattr(self, name, getattr(built, name))
        return await super().run(arguments, context, convert_result)


def to_tool(spec: ToolSpec, settings: Settings) -> Tool:
    tool = _tool(spec, settings)
    if settings.instances and spec.operation != "ListInstances":
        properties = {**tool.parameters.get("properties", {}),
                      ARGUMENT: input_property(list(settings.instances), settings.default_instance_name)}
        tool.parameters = {**tool.parameters, "properties": properties}
    return tool


def _tool(spec: ToolSpec, settings: Settings) -> Tool:
    schemas = precomputed_schemas().get(schema_key(spec, settings))
    if schemas is None:
        return build_tool(spec, settings)
    tool = DeferredTool.model_construct(
        fn=spec.fn, name=spec.name, title=spec.title, description=spec.description,
        parameters=schemas["inputSchema"], fn_metadata=None, is_async=True, context_kwarg=None, resolved_params={},
        resolver_plans={}, annotations=spec.annotations(), icons=None, meta=None)
    tool._spec, tool._settings, tool._output_schema = spec, settings, schemas["outputSchema"]
    return tool


def _refusing_unknown(tool: str, arguments: type[BaseModel]) -> type[BaseModel]:
    """The SDK drops arguments a tool does not take; a misspelt one (`nmae`) would then silently mean "not given".
    Name it instead, with the closest parameter."""
    known = sorted({field.alias or name for name, field in arguments.model_fields.items()})

    class Strict(arguments):  # type: ignore[misc, valid-type]
        @model_validator(mode="before")
        @classmethod
        def _no_unknown(cls, values: Any) -> Any:
            unknown = sorted(set(values) - set(known)) if isinstance(values, dict) else []
            if unknown:
                hints = [f"{name!r}" + "".join(f" (did you mean {close!r}?)"
                                               for close in difflib.get_close_matches(name, known, n=1))
                         for name in unknown]
                raise PydanticCustomError("unknown_argument", "unknown argument {names}; {tool} takes: {known}",
                                          {"names": ", ".join(hints), "tool": tool, "known": ", ".join(known) or "none"})
            return values

    Strict.__name__ = arguments.__name__
    return Strict

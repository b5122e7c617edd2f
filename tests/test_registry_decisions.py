"""The registry's and the confirmation's decisions: which tools a configuration has and in what form, who is asked,
what is asked, and what each fallback does without elicitation."""

from __future__ import annotations

import inspect
import typing
from types import SimpleNamespace
from typing import Any

import pytest
from mcp.server.elicitation import AcceptedElicitation, DeclinedElicitation
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.resolve import Elicit
from mcp.types import ClientCapabilities, ElicitationCapability, FormElicitationCapability, UrlElicitationCapability

from komodo_mcp.client.errors import Forbidden, InvalidRequest
from komodo_mcp.config import Instance, Settings
from komodo_mcp.mapping.envelope import Envelope, ok
from komodo_mcp.tools import _registry
from komodo_mcp.tools._confirm import Confirmation, can_elicit, confirming
from komodo_mcp.tools._registry import (ListedSpec, all_specs, build_tool, catalogue_entry, in_toolset, select, to_tool,
                                        toolset_names, why_not_served, with_function)
from komodo_mcp.tools._spec import ToolSpec

from .conftest import call, mcp_client, settings_for
from .test_confirmation import answering

pytestmark = pytest.mark.anyio


def context(elicitation: ElicitationCapability | None, with_capabilities: bool = True) -> Any:
    capabilities = ClientCapabilities(elicitation=elicitation) if with_capabilities else None
    return SimpleNamespace(client_capabilities=capabilities)


FORM_CLIENT = context(ElicitationCapability(form=FormElicitationCapability()))
URL_ONLY_CLIENT = context(ElicitationCapability(url=UrlElicitationCapability()))
PLAIN_CLIENT = context(None)


def test_who_can_be_asked():
    assert can_elicit(FORM_CLIENT)
    assert can_elicit(context(ElicitationCapability()))  # the 2025-06 form: an empty capability means forms
    assert can_elicit(context(ElicitationCapability(form=FormElicitationCapability(),
                                                    url=UrlElicitationCapability())))
    assert not can_elicit(URL_ONLY_CLIENT)
    assert not can_elicit(PLAIN_CLIENT)
    assert not can_elicit(context(None, with_capabilities=False))


async def remove_thing(ctx: Context, name: str, force: bool = False) -> dict[str, Any]:
    """Remove a thing for good.

    Second paragraph, not part of the question."""
    return {"removed": name, "force": force}


async def restart_everything(ctx: Context) -> dict[str, Any]:
    """Restart everything at once."""
    return {"restarted": True}


# Made-up tools in real families, so the risk policy places them like their siblings (config and lifecycle).
REMOVE = ToolSpec(fn=remove_thing, operation="RemoveThing", kind="write", family="variables", title="Remove thing",
                  destructive=True)
RESTART = ToolSpec(fn=restart_everything, operation="RestartEverything", kind="execute", family="stacks",
                   title="Restart everything", destructive=True)


def resolver(tool: Any) -> Any:
    """The function the SDK runs before the tool to fill its `confirmation` parameter."""
    annotation = inspect.signature(tool).parameters["confirmation"].annotation
    return typing.get_args(annotation)[1].fn


@pytest.mark.parametrize(("fallback", "confirm", "accepted"), [
    ("argument", True, True), ("argument", False, False), ("allow", False, True), ("allow", True, True),
    ("deny", True, False), ("deny", False, False)])
async def test_without_elicitation_the_fallback_decides(fallback, confirm, accepted):
    tool = confirming(REMOVE, Settings(confirm_fallback=fallback))
    answer = await resolver(tool)(ctx=PLAIN_CLIENT, confirm=confirm, name="old")
    assert answer == Confirmation(confirm=accepted)


async def test_a_client_that_can_show_a_form_is_asked_about_the_target():
    tool = confirming(REMOVE, Settings(confirm_fallback="allow"))
    question = await resolver(tool)(ctx=FORM_CLIENT, confirm=True, name="old")
    assert isinstance(question, Elicit) and question.schema is Confirmation
    assert question.message == "Remove thing old? Remove a thing for good."
    untargeted = await resolver(confirming(RESTART, Settings()))(ctx=FORM_CLIENT, confirm=False)
    assert untargeted.message == "Restart everything? Restart everything at once."


def test_the_confirming_signature_adds_confirm_and_keeps_the_tool_parameters():
    tool = confirming(REMOVE, Settings())
    parameters = inspect.signature(tool).parameters
    assert list(parameters) == ["ctx", "name", "force", "confirm", "confirmation"]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters.values())
    assert parameters["confirm"].default is False and parameters["force"].default is False
    assert list(inspect.signature(resolver(tool)).parameters) == ["ctx", "confirm", "name"]
    assert resolver(tool).__name__ == "confirm_RemoveThing"
    assert list(inspect.signature(resolver(confirming(RESTART, Settings()))).parameters) == ["ctx", "confirm"]


async def test_an_accepted_confirmation_runs_the_tool_with_its_own_arguments():
    tool = confirming(REMOVE, Settings())
    done = await tool(ctx=PLAIN_CLIENT, name="old", force=True, confirm=True,
                      confirmation=AcceptedElicitation(data=Confirmation(confirm=True)))
    assert done == {"removed": "old", "force": True}


@pytest.mark.parametrize(("client", "fallback", "error", "message"), [
    (FORM_CLIENT, "argument", Forbidden, "Not confirmed: nothing was done (remove thing)"),
    (PLAIN_CLIENT, "deny", Forbidden, "komodo_write_RemoveThing needs a confirmation this client cannot show; it is "
                                      "refused here"),
    (PLAIN_CLIENT, "argument", InvalidRequest, "komodo_write_RemoveThing is destructive and this client cannot show "
                                               "a confirmation: ask the user, then call again with confirm: true")])
async def test_a_refused_confirmation_does_nothing_and_says_why(client, fallback, error, message):
    tool = confirming(REMOVE, Settings(confirm_fallback=fallback))
    with pytest.raises(error) as caught:
        await tool(ctx=client, name="old", confirm=True, confirmation=AcceptedElicitation(
            data=Confirmation(confirm=False)))
    assert caught.value.message.startswith(message)
    with pytest.raises(error):
        await tool(ctx=client, name="old", confirm=True, confirmation=DeclinedElicitation())


async def test_allow_acts_without_the_confirm_argument(sim):
    async with mcp_client(settings_for(sim.url, confirm_fallback="allow")) as client:
        error, body = await call(client, "komodo_execute_StopStack", {"id": "db-stack"})
    assert not error and body["data"]["stack_name"] == "db-stack"


async def test_the_question_names_a_variable_or_a_job(sim):
    callback = answering("decline")
    async with mcp_client(settings_for(sim.url), elicitation_callback=callback) as client:
        await call(client, "komodo_write_DeleteVariable", {"name": "SOME_VAR"})
        await call(client, "komodo_execute_CancelJob", {"job_id": "no-such-job"})
    assert [question.split("?")[0] for question in callback.asked] == ["Delete variable SOME_VAR",
                                                                        "Cancel job no-such-job"]


# Selection

SPEC_BY_NAME = {spec.name: spec for spec in all_specs()}


def test_the_toolset_names_in_order():
    families = sorted({spec.family for spec in all_specs()} - {"terminal"})
    assert toolset_names() == ["core", "read", "execute", "write", *families, "terminal", "all"]
    assert "deployments" in families and "system" in families


def test_a_shell_is_only_in_the_terminal_toolset():
    shell = next(spec for spec in all_specs() if spec.kind == "terminal")
    assert in_toolset(shell, "terminal")
    assert not any(in_toolset(shell, toolset) for toolset in ("all", "core", "execute", "read", "servers"))


def test_membership_by_kind_family_and_core():
    deploy = SPEC_BY_NAME["komodo_execute_Deploy"]
    assert in_toolset(deploy, "execute") and in_toolset(deploy, "deployments") and in_toolset(deploy, "core")
    assert in_toolset(deploy, "all") and not in_toolset(deploy, "write") and not in_toolset(deploy, "stacks")
    destroy = SPEC_BY_NAME["komodo_execute_DestroyDeployment"]
    assert not in_toolset(destroy, "core")


def test_named_tools_add_to_toolsets_and_exclusions_win():
    chosen = select(Settings(toolsets=("stacks",), tools=("komodo_execute_Deploy",),
                             exclude_tools=("komodo_read_GetStack",)))
    names = {spec.name for spec in chosen}
    assert "komodo_execute_Deploy" in names and "komodo_read_ListStacks" in names
    assert "komodo_read_GetStack" not in names
    assert [spec.name for spec in select(Settings(toolsets=(), tools=("komodo_read_GetServer",)))] == [
        "komodo_read_GetServer"]


def test_selection_keeps_the_catalogue_order():
    assert [spec.name for spec in select(Settings(toolsets=("all",)))] == [
        spec.name for spec in all_specs() if spec.kind != "terminal"]


def test_read_only_keeps_the_read_tools_of_the_selection():
    chosen = select(Settings(toolsets=("deployments",), read_only=True))
    assert [spec.name for spec in chosen] == ["komodo_read_ListDeployments", "komodo_read_GetDeployment",
                                              "komodo_read_GetDeploymentLog"]


def test_unknown_names_are_listed_with_what_is_known():
    with pytest.raises(ValueError) as caught:
        select(Settings(toolsets=("zz", "aa", "core")))
    assert str(caught.value) == f"unknown toolset(s): aa, zz; known: {', '.join(toolset_names())}"
    with pytest.raises(ValueError) as caught:
        select(Settings(tools=("komodo_read_Zed",), exclude_tools=("komodo_read_Abc",)))
    assert str(caught.value) == ("unknown tool(s): komodo_read_Abc, komodo_read_Zed; see `komodo-mcp tools "
                                 "--toolsets all`")


def test_select_works_on_a_given_list_of_specs():
    assert select(Settings(toolsets=("all",)), [REMOVE, RESTART]) == [REMOVE, RESTART]


@pytest.mark.parametrize(("name", "confirm", "asks"), [
    ("komodo_execute_StopDeployment", True, True), ("komodo_execute_StopDeployment", False, False),
    ("komodo_execute_Deploy", True, False)])
def test_only_a_destructive_tool_with_confirmation_on_takes_confirm(name, confirm, asks):
    tool = to_tool(SPEC_BY_NAME[name], Settings(confirm=confirm))
    assert ("confirm" in tool.parameters["properties"]) is asks
    assert tool.name == name and tool.title == SPEC_BY_NAME[name].title
    assert tool.description == SPEC_BY_NAME[name].description and tool.annotations.destructive_hint is (
        SPEC_BY_NAME[name].destructive)
    assert "$defs" not in tool.parameters and tool.output_schema is not None


def test_confirmation_adds_only_the_confirm_argument_to_the_schema():
    spec = SPEC_BY_NAME["komodo_execute_StopDeployment"]
    confirming_schema = to_tool(spec, Settings(confirm=True)).parameters
    plain_schema = to_tool(spec, Settings(confirm=False)).parameters
    properties = dict(confirming_schema["properties"])  # a copy: the listed schema is shared by every later listing
    assert properties.pop("confirm") == {
        "default": False, "description": "Only for clients that cannot ask the user: true once the user has agreed",
        "type": "boolean"}
    assert {**confirming_schema, "properties": properties} == plain_schema
    assert plain_schema["properties"]["id"]["description"]


# Why a tool is not served, and the form a tool takes

NOT_ENABLED = "is not enabled: add one of its toolsets ({}) with --toolsets (KOMODO_MCP_TOOLSETS), or name it with " \
    "--tools (KOMODO_MCP_TOOLS)"
ONLY_GET_SERVER = Settings(toolsets=(), tools=("komodo_read_GetServer",))


@pytest.mark.parametrize(("name", "answer"), [
    ("komodo_read_GetServr", "no such tool; did you mean komodo_read_GetServer?"),  # a served tool comes first
    ("komodo_read_ListDeploymnts", "no such tool; did you mean komodo_read_ListDeployments? (komodo_read_ListDeployments "
                                   + NOT_ENABLED.format("core, read, deployments, all") + ")"),
    ("zzz", "no such tool; `komodo-mcp tools --toolsets all` lists them all"),
    ("komodo_execute_Deploy", "komodo_execute_Deploy " + NOT_ENABLED.format("core, execute, deployments, all")),
])
def test_a_tool_that_is_not_served_says_what_would_serve_it(name, answer):
    assert why_not_served(name, ONLY_GET_SERVER) == answer


def test_a_tool_a_setting_leaves_out_names_the_setting_and_with_several_instances_the_toolsets_change():
    assert why_not_served("komodo_execute_Deploy", Settings(read_only=True)) == (
        "komodo_execute_Deploy is not enabled: the server runs --read-only (KOMODO_MCP_READ_ONLY), which only serves "
        "read tools")
    assert why_not_served("komodo_execute_Deploy", Settings(disable_destructive=True, toolsets=(), tools=(
        "komodo_execute_DestroyDeployment",))).endswith("add one of its toolsets (core, execute, deployments, all) "
                                                          "with --toolsets (KOMODO_MCP_TOOLSETS), or name it with "
                                                          "--tools (KOMODO_MCP_TOOLS)")
    assert why_not_served("komodo_execute_DestroyDeployment", Settings(disable_destructive=True)) == (
        "komodo_execute_DestroyDeployment is not enabled: it is destructive and the server runs --disable-destructive "
        "(KOMODO_MCP_DISABLE_DESTRUCTIVE)")
    assert why_not_served("komodo_read_GetStack", Settings(exclude_tools=("komodo_read_GetStack",))) == (
        "komodo_read_GetStack is not enabled: --exclude-tools (KOMODO_MCP_EXCLUDE_TOOLS) leaves it out")
    assert why_not_served("komodo_execute_Deploy", Settings(deny=("lifecycle",))).startswith(
        "komodo_execute_Deploy is not enabled: the policy denies lifecycle")
    several = Settings(toolsets=(), instances={"prod": Instance(url="http://prod.test")})
    assert why_not_served("komodo_execute_StartStack", several) == (
        "komodo_execute_StartStack " + NOT_ENABLED.format("execute, stacks, all"))


def test_with_several_instances_the_core_toolset_lists_instances_instead_of_start_stack():
    names = {spec.name for spec in select(Settings(toolsets=("core",), instances={
        "prod": Instance(url="http://prod.test")}))}
    assert "komodo_read_ListInstances" in names and "komodo_execute_StartStack" not in names
    alone = {spec.name for spec in select(Settings(toolsets=("core",)))}
    assert "komodo_execute_StartStack" in alone and "komodo_read_ListInstances" not in alone


def test_with_several_instances_every_tool_but_list_instances_takes_the_instance_argument():
    several = Settings(instances={"prod": Instance(url="http://prod.test"), "lab": Instance(url="http://lab.test")},
                       default_instance="lab")
    deploy = to_tool(SPEC_BY_NAME["komodo_execute_Deploy"], several).parameters
    assert deploy["properties"]["instance"]["enum"] == ["prod", "lab"]
    assert deploy["properties"]["instance"]["description"] == "Komodo instance (default lab)"
    assert "id" in deploy["properties"]
    listing = to_tool(SPEC_BY_NAME["komodo_read_ListInstances"], several).parameters
    assert "instance" not in listing.get("properties", {})
    assert "instance" not in to_tool(SPEC_BY_NAME["komodo_execute_Deploy"], Settings()).parameters["properties"]


def test_a_tool_is_listed_with_the_precomputed_schemas_of_its_configuration(monkeypatch):
    stop, deploy = SPEC_BY_NAME["komodo_execute_StopDeployment"], SPEC_BY_NAME["komodo_execute_Deploy"]
    saved = {f"{spec.name}{suffix}": {"inputSchema": {"saved": f"{spec.name}{suffix}"}, "outputSchema": None}
             for spec in (stop, deploy) for suffix in ("", "+confirm")}
    monkeypatch.setattr(_registry, "precomputed_schemas", lambda: saved)
    assert to_tool(stop, Settings(confirm=True)).parameters == {"saved": "komodo_execute_StopDeployment+confirm"}
    assert to_tool(stop, Settings(confirm=False)).parameters == {"saved": "komodo_execute_StopDeployment"}
    assert to_tool(deploy, Settings(confirm=True)).parameters == {"saved": "komodo_execute_Deploy"}


async def test_a_tool_listed_from_precomputed_schemas_answers_as_the_built_tool(monkeypatch):
    async def version(ctx: Context) -> Envelope[dict[str, Any]]:
        return ok({"version": "2.3.2", "café": ctx == "the request's context"})

    spec = ToolSpec(fn=version, operation="GetThing", kind="read", family="system", title="Get thing")
    built = build_tool(spec, Settings())
    monkeypatch.setattr(_registry, "precomputed_schemas", lambda: {spec.name: {
        "inputSchema": built.parameters, "outputSchema": built.output_schema}})
    listed = to_tool(spec, Settings())
    assert (listed.name, listed.title, listed.description, listed.annotations, listed.output_schema) == (
        built.name, built.title, built.description, built.annotations, built.output_schema)
    context = "the request's context"
    first, again = await listed.run({}, context, convert_result=True), await listed.run({}, context, convert_result=True)
    expected = await built.run({}, context, convert_result=True)
    for answer in (first, again):
        assert answer.structured_content["data"] == expected.structured_content["data"] == {
            "version": "2.3.2", "café": True}
        assert answer.content[0].text.startswith('{"data":{"version":"2.3.2","café":true},"status":200,')


def test_a_tool_listed_from_the_catalogue_is_built_with_its_modules_function():
    spec = SPEC_BY_NAME["komodo_execute_Deploy"]
    listed = ListedSpec(fn=None, **catalogue_entry(spec))  # type: ignore[arg-type]
    assert (listed.name, listed.description, listed.destructive) == (spec.name, spec.description, spec.destructive)
    assert with_function(listed) is spec and with_function(spec) is spec


def test_a_confirming_tool_keeps_the_tools_output_schema():
    spec = SPEC_BY_NAME["komodo_execute_StopDeployment"]
    assert build_tool(spec, Settings(confirm=True)).output_schema == build_tool(spec, Settings(confirm=False)).output_schema


async def test_a_misspelt_argument_is_refused_naming_the_tool_and_the_closest_parameter():
    tool = build_tool(SPEC_BY_NAME["komodo_read_GetDeployment"], Settings())
    with pytest.raises(ToolError) as caught:
        await tool.run({"idd": "api"}, None)
    assert "unknown argument 'idd' (did you mean 'id'?); komodo_read_GetDeployment takes: id" in str(caught.value)

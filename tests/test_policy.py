"""The policy by kind of risk (--deny / --allow): denied tools are not listed, and a call to one is FORBIDDEN, naming
its category and the setting, before any Komodo request."""

from __future__ import annotations

import json

import pytest

from komodo_mcp import cli
from komodo_mcp.config import CATEGORIES, ConfigError, Settings, load_settings
from komodo_mcp.server import build_server
from komodo_mcp.tools._policy import EXCEPTIONS, categories_of
from komodo_mcp.tools._registry import all_specs, select, why_not_served

from .conftest import call, komodo_read, mcp_client, serve_http, settings_for
from .wire import LEGACY, rpc

pytestmark = pytest.mark.anyio

EVERY_TOOLSET = ("all", "terminal")
TOOL_CATEGORIES = ("lifecycle", "automation", "config", "deletion", "terminal")  # `secrets` holds no tool


def in_category(category: str) -> set[str]:
    return {spec.name for spec in all_specs() if category in categories_of(spec)}


def test_every_tool_is_categorised():
    for spec in all_specs():
        categories = categories_of(spec)  # raises for a tool the rules cannot place
        assert categories <= set(CATEGORIES), spec.name
        if spec.kind == "read" or spec.name in EXCEPTIONS:
            assert categories == EXCEPTIONS.get(spec.name, frozenset()), spec.name
        else:
            assert categories, f"{spec.name} acts on Komodo but has no risk category"
    assert {"komodo_execute_StartServer", "komodo_execute_PruneServer", "komodo_execute_Deploy",
            "komodo_execute_PauseContainer", "komodo_execute_DestroyStack"} <= in_category("lifecycle")
    assert {"komodo_execute_Build", "komodo_execute_PullRepo", "komodo_execute_CloneRepo", "komodo_execute_RunSync",
            "komodo_execute_RunProcedure", "komodo_execute_TriggerAction",
            "komodo_execute_CancelJob"} <= in_category("automation")
    assert {"komodo_write_UpdateStack", "komodo_write_CreateDeployment", "komodo_write_UpdateResourceMeta",
            "komodo_write_CreateVariable"} <= in_category("config")
    assert in_category("deletion") == {spec.name for spec in all_specs()
                                       if spec.operation.startswith(("Delete", "Destroy"))}
    assert in_category("terminal") == {spec.name for spec in all_specs() if spec.kind == "terminal"}
    assert in_category("secrets") == set()
    assert categories_of(next(s for s in all_specs() if s.name == "komodo_execute_DestroyDeployment")) == {
        "deletion", "lifecycle"}


@pytest.mark.parametrize("category", TOOL_CATEGORIES)
async def test_a_denied_category_is_not_listed_and_its_calls_are_forbidden_before_komodo(shared_sim, category, era):
    everything = {spec.name for spec in select(settings_for(shared_sim.url, toolsets=EVERY_TOOLSET))}
    denied = in_category(category)
    async with mcp_client(settings_for(shared_sim.url, toolsets=EVERY_TOOLSET, deny=(category,)), era) as client:
        listed = {tool.name for tool in (await client.list_tools()).tools}
        served_before = shared_sim.simulator.requests_served
        answers = {name: await call(client, name, {"id": "api-v2"}) for name in sorted(denied)}
        served_after = shared_sim.simulator.requests_served
    assert denied and listed == everything - denied
    assert served_after == served_before  # refused before any Komodo request
    for name, (is_error, body) in answers.items():
        assert is_error and body["code"] == "FORBIDDEN" and body["status"] == 403, name
        assert body["details"] == {"category": category, "setting": "deny"}, name
        assert f"denies {category}" in body["error"] and "KOMODO_MCP_DENY" in body["error"], name


async def test_allow_serves_only_its_categories_and_deny_wins(sim):  # its allowed restart changes the fleet
    settings = settings_for(sim.url, toolsets=EVERY_TOOLSET, allow=("lifecycle", "deletion"),
                            deny=("deletion",))
    async with mcp_client(settings) as client:
        listed = {tool.name for tool in (await client.list_tools()).tools}
        _, config = await call(client, "komodo_write_UpdateDeployment", {"id": "api-v2"})
        _, destroy = await call(client, "komodo_execute_DestroyDeployment", {"id": "api-v2"})
        restart_failed, _ = await call(client, "komodo_execute_RestartDeployment", {"id": "api-v2"})
    acting = {spec.name for spec in all_specs() if categories_of(spec)}
    assert listed & acting == in_category("lifecycle") - in_category("deletion")
    assert "komodo_read_GetDeployment" in listed and "komodo_write_CloseAlert" in listed  # no risk category
    assert config["code"] == "FORBIDDEN" and config["details"] == {"category": "config", "setting": "allow"}
    assert "add it to --allow (KOMODO_MCP_ALLOW" in config["error"]
    assert destroy["details"] == {"category": "deletion", "setting": "deny"}
    assert restart_failed is False  # a lifecycle tool the policy allows runs


def test_why_not_served_names_the_setting_that_would_allow_the_tool():
    denied = Settings(toolsets=EVERY_TOOLSET, deny=("terminal",))
    hint = why_not_served("komodo_terminal_ServerCommand", denied)
    assert "denies terminal" in hint and "--deny (KOMODO_MCP_DENY" in hint
    only = Settings(toolsets=EVERY_TOOLSET, allow=("config",))
    assert "add it to --allow" in why_not_served("komodo_execute_Build", only)
    assert "komodo_execute_Build" in {spec.name for spec in select(Settings(toolsets=EVERY_TOOLSET))}
    both = Settings(toolsets=EVERY_TOOLSET, read_only=True, deny=("lifecycle",))  # as the call's FORBIDDEN says
    assert "denies lifecycle" in why_not_served("komodo_execute_Deploy", both)


async def test_denying_secrets_keeps_every_tool_and_forbids_show_secrets(shared_sim):
    everything = select(settings_for(shared_sim.url, toolsets=EVERY_TOOLSET))
    assert select(settings_for(shared_sim.url, toolsets=EVERY_TOOLSET, deny=("secrets",))) == everything
    async with mcp_client(settings_for(shared_sim.url, deny=("secrets",))) as client:
        _, deployment = await call(client, "komodo_read_GetDeployment", {"id": "api-v2"})
    assert deployment["data"]["env"]["API_TOKEN"] == "********"
    for policy in ({"deny": ("secrets",)}, {"allow": ("lifecycle",)}):
        with pytest.raises(ConfigError, match=r"show_secrets \(KOMODO_MCP_SHOW_SECRETS\) is set but "
                                              r"(deny \(KOMODO_MCP_DENY\)|allow \(KOMODO_MCP_ALLOW\)) denies"):
            build_server(settings_for(shared_sim.url, show_secrets=True, **policy), check=False)


def test_policy_from_environment_config_file_and_flags(monkeypatch, tmp_path):
    monkeypatch.setenv("KOMODO_MCP_DENY", "terminal, deletion")
    assert Settings().deny == ("terminal", "deletion") and Settings().allow is None
    monkeypatch.delenv("KOMODO_MCP_DENY")
    config = tmp_path / "komodo-mcp.toml"
    config.write_text('deny = ["config"]\nallow = ["lifecycle", "config"]\n')
    from_file = load_settings(str(config))
    assert from_file.deny == ("config",) and from_file.allow == ("lifecycle", "config")
    args = cli.build_parser().parse_args(["tools", "--config", str(config), "--deny", "automation,secrets",
                                          "--allow", "automation"])
    from_flags = cli._settings(args)
    assert from_flags.deny == ("automation", "secrets") and from_flags.allow == ("automation",)  # flags win
    with pytest.raises(ConfigError, match=r"invalid setting deny \(KOMODO_MCP_DENY\): .*'lifecycle'.*got 'shell'"):
        load_settings(deny="shell")


def test_the_cli_refuses_show_secrets_with_a_secrets_policy_in_one_line(capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["tools", "--deny", "secrets", "--show-secrets"])
    error = capsys.readouterr().err.strip()
    assert exited.value.code == 2 and len(error.splitlines()) == 1
    assert "show_secrets (KOMODO_MCP_SHOW_SECRETS)" in error and "deny (KOMODO_MCP_DENY)" in error


def test_the_tools_command_lists_what_the_policy_leaves_with_its_categories(capsys):
    assert cli.main(["tools", "--toolsets", "deployments", "--deny", "lifecycle"]) == 0
    listed = {line.split()[0] for line in capsys.readouterr().out.splitlines()[1:]}
    assert listed == {"komodo_read_ListDeployments", "komodo_read_GetDeployment", "komodo_read_GetDeploymentLog",
                      "komodo_write_CreateDeployment", "komodo_write_UpdateDeployment", "komodo_write_DeleteDeployment"}
    assert cli.main(["tools", "--json", "--toolsets", "deployments", "--allow", "deletion,lifecycle"]) == 0
    categories = {tool["name"]: tool["categories"] for tool in json.loads(capsys.readouterr().out)}
    assert categories["komodo_execute_DestroyDeployment"] == ["deletion", "lifecycle"]
    assert categories["komodo_read_GetDeployment"] == [] and "komodo_write_UpdateDeployment" not in categories


def test_tasks_cancel_is_forbidden_when_automation_is_denied(held_sim):
    server = serve_http(settings_for(held_sim.url, confirm=False, deny=("automation",)))
    try:
        url = server.url + "/mcp"
        created = rpc(url, "tools/call", {"name": "komodo_execute_Deploy", "arguments": {"id": "api-v2"},
                                          "task": {}}, LEGACY)["result"]["task"]
        refused = rpc(url, "tasks/cancel", {"taskId": created["taskId"]}, LEGACY)["error"]
    finally:
        server.stop()
    assert refused["code"] == -32602 and refused["data"]["code"] == "FORBIDDEN"
    assert refused["data"]["details"] == {"category": "automation", "setting": "deny"}
    assert komodo_read(held_sim.url, "GetUpdate", id=created["taskId"])["status"] == "InProgress"  # not cancelled

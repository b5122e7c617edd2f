"""Several Komodo instances behind one server, driven over real transports against two simulators: the `instance`
argument, job ids that carry their instance, per-instance policy and rate limits, ListInstances, /ready, the demo."""

from __future__ import annotations

import json
import os
import sys
from typing import Any, Iterator

import httpx2
import pytest
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters
from pydantic import SecretStr

from komodo_mcp.config import Instance, Settings, load_settings
from komodo_sim import ADMIN_KEY, ADMIN_SECRET, Simulator

from .conftest import serve_http, serve_recorded
from .processes import free_port
from .wire import MODERN, rpc

pytestmark = pytest.mark.anyio
STAGING_ONLY = "svc-00001"  # the staging simulator generates it; production has no such deployment


@pytest.fixture
def two() -> Iterator[dict[str, Any]]:
    """Production (the seeded fleet) and staging (the same plus generated deployments), every request recorded."""
    production, production_log = serve_recorded(Simulator(exec_delay=0.15))
    staging, staging_log = serve_recorded(Simulator(exec_delay=0.15, resources=3))
    yield {"production": production, "staging": staging, "logs": {"production": production_log,
                                                                  "staging": staging_log}}
    production.stop()
    staging.stop()


def operations(log: Any) -> list[str]:
    return [json.loads(exchange.request)["type"] for exchange in log.exchanges if exchange.path != "/auth"]


def instances_settings(two: dict[str, Any], **per_instance: dict[str, Any]) -> Settings:
    instances = {name: Instance(url=two[name].url, api_key=ADMIN_KEY, api_secret=ADMIN_SECRET,
                                **per_instance.get(name, {})) for name in ("production", "staging")}
    return Settings(instances=instances, default_instance="production", rate_limit_per_minute=0, retries=0,
                    toolsets=("all",), confirm=False, audit_log="off")


def call(url: str, tool: str, arguments: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
    result = rpc(url, "tools/call", {"name": tool, "arguments": arguments}, MODERN, extensions=False)["result"]
    return bool(result.get("isError")), json.loads(result["content"][0]["text"])


async def test_over_stdio_each_call_reaches_the_instance_it_names_and_job_ids_carry_it(two, tmp_path):
    secret = tmp_path / "staging-secret"
    secret.write_text(ADMIN_SECRET + "\n")
    env = {**os.environ, "KOMODO_MCP_INSTANCES": "production,staging", "KOMODO_MCP_LOG_LEVEL": "WARNING",
           "KOMODO_PRODUCTION_URL": two["production"].url, "KOMODO_PRODUCTION_API_KEY": ADMIN_KEY,
           "KOMODO_PRODUCTION_API_SECRET": ADMIN_SECRET, "KOMODO_STAGING_URL": two["staging"].url,
           "KOMODO_STAGING_API_KEY": ADMIN_KEY, "KOMODO_STAGING_API_SECRET_FILE": str(secret),
           "KOMODO_MCP_AUDIT_LOG": "off", "KOMODO_MCP_CONFIRM": "false"}
    params = StdioServerParameters(command=sys.executable, args=["-m", "komodo_mcp"], env=env)
    async with Client(params) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        listed = (await client.call_tool("komodo_read_ListInstances", {})).structured_content["data"]["items"]
        on_default = await client.call_tool("komodo_read_GetDeployment", {"id": STAGING_ONLY})
        on_staging = await client.call_tool("komodo_read_GetDeployment", {"id": STAGING_ONLY, "instance": "staging"})
        deployed = (await client.call_tool("komodo_execute_Deploy", {"id": STAGING_ONLY, "instance": "staging"}))
        job_id = deployed.structured_content["data"]["job_id"]
        followed = await client.call_tool("komodo_read_GetJob", {"job_id": job_id})
        staging_before = len(two["logs"]["staging"].exchanges)
        production_before = len(two["logs"]["production"].exchanges)
        crossed = await client.call_tool("komodo_read_GetJob", {"job_id": job_id, "instance": "production"})
        unknown = await client.call_tool("komodo_read_GetServer", {"id": "staging-web", "instance": "qa"})
    # 39 default tools: ListInstances joins, StartStack leaves; every tool but ListInstances takes `instance`.
    assert len(tools) == 39 and "komodo_read_ListInstances" in tools and "komodo_execute_StartStack" not in tools
    assert tools["komodo_read_GetServer"].input_schema["properties"]["instance"]["enum"] == ["production", "staging"]
    assert "instance" not in tools["komodo_read_ListInstances"].input_schema.get("properties", {})
    assert [(i["name"], i["default"], i["reachable"], i["komodo_version"]) for i in listed] == [
        ("production", True, True, "2.3.2"), ("staging", False, True, "2.3.2")]
    assert on_default.is_error and json.loads(on_default.content[0].text)["code"] == "NOT_FOUND"
    assert not on_staging.is_error and on_staging.structured_content["data"]["name"] == STAGING_ONLY
    instance, _, update_id = job_id.partition(":")
    assert instance == "staging" and len(update_id) == 24
    assert "Deploy" in operations(two["logs"]["staging"]) and "Deploy" not in operations(two["logs"]["production"])
    assert not followed.is_error and followed.structured_content["data"]["job_id"] == job_id
    assert followed.structured_content["data"]["resource_name"] == STAGING_ONLY
    # A job id is never looked up on another instance; a wrong instance is refused before any Komodo request.
    assert json.loads(crossed.content[0].text)["code"] == "VALIDATION_ERROR"
    assert "belongs to instance 'staging'" in json.loads(crossed.content[0].text)["error"]
    assert json.loads(unknown.content[0].text)["details"]["fields"][0]["field"] == "instance"
    assert len(two["logs"]["staging"].exchanges) == staging_before
    assert len(two["logs"]["production"].exchanges) == production_before


def test_over_http_a_policy_per_instance_refuses_before_any_request(two):
    settings = instances_settings(two, production={"deny": ("lifecycle",)})
    server = serve_http(settings)
    try:
        url = server.url + "/mcp"
        listed = {tool["name"] for tool in rpc(url, "tools/list", {}, MODERN)["result"]["tools"]}
        refused = call(url, "komodo_execute_Deploy", {"id": "api-v1"})
        staged = call(url, "komodo_execute_Deploy", {"id": "api-v1", "instance": "staging"})
        instances = call(url, "komodo_read_ListInstances", {})[1]["data"]["items"]
    finally:
        server.stop()
    assert "komodo_execute_Deploy" in listed  # staging allows it
    assert refused[0] and refused[1]["code"] == "FORBIDDEN"
    assert refused[1]["details"] == {"category": "lifecycle", "setting": "instances.production.deny",
                                     "instance": "production"}
    assert "KOMODO_PRODUCTION_DENY" in refused[1]["error"]
    assert "Deploy" not in operations(two["logs"]["production"])
    assert not staged[0] and staged[1]["data"]["job_id"].startswith("staging:")
    assert [item["denied"] for item in instances] == [["lifecycle"], []]


def test_a_tool_every_instance_denies_is_not_listed(two):
    settings = instances_settings(two, production={"deny": ("deletion",)}, staging={"deny": ("deletion",)})
    server = serve_http(settings)
    try:
        url = server.url + "/mcp"
        listed = {tool["name"] for tool in rpc(url, "tools/list", {}, MODERN)["result"]["tools"]}
        refused = call(url, "komodo_write_DeleteDeployment", {"id": "api-v1", "instance": "staging"})
    finally:
        server.stop()
    assert "komodo_write_DeleteDeployment" not in listed and "komodo_write_UpdateDeployment" in listed
    assert refused[1]["code"] == "FORBIDDEN" and refused[1]["details"]["setting"] == "instances"


def test_rate_limits_are_per_instance(two):
    settings = instances_settings(two, production={"rate_limit_per_minute": 1, "rate_limit_burst": 1})
    server = serve_http(settings)
    try:
        url = server.url + "/mcp"
        first = call(url, "komodo_read_GetServer", {"id": "staging-web"})
        second = call(url, "komodo_read_GetServer", {"id": "staging-web"})
        staging = [call(url, "komodo_read_GetServer", {"id": "staging-web", "instance": "staging"})
                   for _ in range(3)]
    finally:
        server.stop()
    assert not first[0] and second[1]["code"] == "RATE_LIMIT_ERROR"
    assert [is_error for is_error, _ in staging] == [False, False, False]


def test_ready_reports_each_instance(two):
    down = f"http://127.0.0.1:{free_port()}"
    settings = instances_settings(two)
    degraded = settings.model_copy(update={"instances": {**settings.instances, "staging": Instance(
        url=down, api_key=ADMIN_KEY, api_secret=ADMIN_SECRET)}})
    answers = {}
    for name, each in (("both", settings), ("staging down", degraded),
                       ("default down", degraded.model_copy(update={"default_instance": "staging"}))):
        server = serve_http(each)
        try:
            rpc(server.url + "/mcp", "tools/list", {}, MODERN)  # the lifespan has started the instances' Apps
            response = httpx2.get(server.url + "/ready")
            answers[name] = (response.status_code, response.json())
        finally:
            server.stop()
    assert answers["both"][0] == 200 and answers["both"][1]["status"] == "ready"
    assert answers["both"][1]["instances"]["staging"] == {"status": "ready", "komodo_version": "2.3.2"}
    status, body = answers["staging down"]
    assert (status, body["status"], body["instances"]["staging"]["code"]) == (200, "degraded", "NETWORK_ERROR")
    assert body["instances"]["production"]["status"] == "ready"
    assert answers["default down"][0] == 503 and answers["default down"][1]["status"] == "not ready"


def test_tasks_find_the_instance_from_the_task_id(two):
    two["staging"].simulator.gate.close()  # the job stays running until the gate opens
    server = serve_http(instances_settings(two))
    try:
        url = server.url + "/mcp"
        job_id = call(url, "komodo_execute_Deploy", {"id": "api-v1", "instance": "staging"})[1]["data"]["job_id"]
        task = rpc(url, "tasks/get", {"taskId": job_id}, MODERN)["result"]
        foreign = rpc(url, "tasks/get", {"taskId": "qa:" + job_id.partition(":")[2]}, MODERN)
    finally:
        two["staging"].simulator.gate.open()
        server.stop()
    assert task["taskId"] == job_id and task["status"] == "working"
    assert "error" in foreign and "no instance 'qa'" in foreign["error"]["message"]


def test_job_ids_in_hints_carry_their_instance(two):
    """A hint's job id (free text: busy, go on waiting) carries the instance like `running_job_ids` do: followed as
    given, it is looked up where the job runs."""
    two["staging"].simulator.gate.close()  # the first deploy stays running until the gate opens
    server = serve_http(instances_settings(two))
    try:
        url = server.url + "/mcp"
        job_id = call(url, "komodo_execute_Deploy", {"id": "api-v1", "instance": "staging"})[1]["data"]["job_id"]
        busy, refused = call(url, "komodo_execute_Deploy", {"id": "api-v1", "instance": "staging"})
        followed = call(url, "komodo_read_GetJob", {"job_id": refused["error"].split("wait for job ")[1].split()[0]})
        _, waited = call(url, "komodo_execute_WaitForJob", {"job_id": job_id, "timeout": 1})
    finally:
        two["staging"].simulator.gate.open()
        server.stop()
    assert busy and refused["code"] == "CONFLICT" and refused["details"]["running_job_ids"] == [job_id]
    assert f"wait for job {job_id} " in refused["error"]
    assert not followed[0] and followed[1]["data"]["job_id"] == job_id
    assert waited["data"]["timed_out"] and f"with job_id {job_id} to go on waiting" in waited["data"]["next"]


async def test_one_komodo_configured_changes_nothing(shared_sim):
    settings = Settings(url=shared_sim.url, api_key=SecretStr(ADMIN_KEY), api_secret=SecretStr(ADMIN_SECRET),
                        rate_limit_per_minute=0, audit_log="off")
    server = serve_http(settings)
    try:
        url = server.url + "/mcp"
        tools = {tool["name"]: tool for tool in rpc(url, "tools/list", {}, MODERN)["result"]["tools"]}
    finally:
        server.stop()
    assert len(tools) == 39 and "komodo_read_ListInstances" not in tools and "komodo_execute_StartStack" in tools
    assert not any("instance" in tool["inputSchema"].get("properties", {}) for tool in tools.values())


async def test_the_demo_serves_two_instances():
    params = StdioServerParameters(command=sys.executable, args=["-m", "komodo_mcp", "--demo"],
                                   env={**os.environ, "KOMODO_MCP_LOG_LEVEL": "WARNING"})
    async with Client(params) as client:
        listed = (await client.call_tool("komodo_read_ListInstances", {})).structured_content["data"]["items"]
        staging = await client.call_tool("komodo_read_ListDeployments", {"instance": "staging"})
        production = await client.call_tool("komodo_read_ListDeployments", {})
    assert [(item["name"], item["default"], item["reachable"]) for item in listed] == [
        ("production", True, True), ("staging", False, True)]
    assert staging.structured_content["data"]["total"] == production.structured_content["data"]["total"] + 12


def test_instances_come_from_toml_with_secret_files(tmp_path, monkeypatch):
    for variable in [name for name in os.environ if name.startswith("KOMODO")]:
        monkeypatch.delenv(variable)
    (tmp_path / "secret").write_text("s3cr3t-value\n")
    config = tmp_path / "komodo-mcp.toml"
    config.write_text(f"""default_instance = "production"
[instances.staging]
url = "https://staging.example.com/"
api_key = "K-staging"
api_secret_file = "{tmp_path / 'secret'}"
deny = ["deletion"]
[instances.production]
url = "https://komodo.example.com"
username = "ops"
password = "pw"
rate_limit_per_minute = 10
""")
    settings = load_settings(str(config))
    staging = settings.instance_settings("staging")
    assert (staging.url, staging.api_secret.get_secret_value(), staging.deny) == (
        "https://staging.example.com", "s3cr3t-value", ("deletion",))
    assert settings.instance_settings("production").rate_limit_per_minute == 10
    assert settings.instance_settings("production").auth_mode == "password"
    assert "s3cr3t-value" in settings.secret_values() and "pw" in settings.secret_values()


@pytest.mark.parametrize(("environment", "message"), [
    ({"KOMODO_MCP_INSTANCES": "prod", "KOMODO_PROD_URL": "komodo.example.com"}, "is not an http(s) URL"),
    ({"KOMODO_MCP_INSTANCES": "prod", "KOMODO_PROD_URL": "https://k", "KOMODO_PROD_API_KEY": "k"},
     "api_key is set but api_secret is not"),
    ({"KOMODO_MCP_INSTANCES": "prod", "KOMODO_PROD_URL": "https://k", "KOMODO_URL": "https://other"},
     "and so are instances"),
    ({"KOMODO_MCP_INSTANCES": "prod", "KOMODO_PROD_URL": "https://k", "KOMODO_MCP_DEFAULT_INSTANCE": "qa"},
     "'qa' is not an instance; known: prod"),
    ({"KOMODO_MCP_INSTANCES": "Prod", "KOMODO_PROD_URL": "https://k"}, "instance name 'Prod'"),
    ({"KOMODO_MCP_INSTANCES": "prod", "KOMODO_PROD_URL": "https://k", "KOMODO_PROD_API_KEY": "k",
      "KOMODO_PROD_API_SECRET_FILE": "/nonexistent/secret"}, "cannot read /nonexistent/secret"),
])
def test_a_wrong_instance_setting_is_named_in_one_line(monkeypatch, environment, message):
    from komodo_mcp.config import ConfigError

    for variable in [name for name in os.environ if name.startswith("KOMODO")]:
        monkeypatch.delenv(variable)
    for variable, value in environment.items():
        monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=None) as raised:
        load_settings()
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_with_several_instances_startstack_is_named_outside_the_default_toolset(two):
    settings = instances_settings(two).model_copy(update={"toolsets": ("core",)})
    server = serve_http(settings)
    try:
        refused = call(server.url + "/mcp", "komodo_execute_StartStack", {"id": "logging-stack"})
    finally:
        server.stop()
    assert refused[1]["code"] == "NOT_FOUND"
    assert "add one of its toolsets (execute, stacks, all)" in refused[1]["error"]
    assert "Start" not in " ".join(operations(two["logs"]["staging"]) + operations(two["logs"]["production"]))


def test_every_job_id_field_of_an_answer_carries_the_instance():
    from komodo_mcp.instances import qualify

    answer = {"data": {"job_id": "a1", "followup_job_id": "b2", "cancel_job_id": "c3", "running_job_ids": ["d4"],
                       "next_tools": [{"arguments": {"job_id": "e5"}}], "followup": None, "other_id": "f6"}}
    assert qualify(answer, "staging") == {"data": {
        "job_id": "staging:a1", "followup_job_id": "staging:b2", "cancel_job_id": "staging:c3",
        "running_job_ids": ["staging:d4"], "next_tools": [{"arguments": {"job_id": "staging:e5"}}], "followup": None,
        "other_id": "f6"}}

"""Contract from recorded traffic: every request the server really sends to Komodo, and every answer the simulator
gives it, checked against Komodo's own API types (the `komodo-api` 2.3.3 package, generated from Komodo's Rust
source), strictly: a key the type does not have is a failure (`komodo_contract.py`).

A sweep calls every tool once or more (reads, executions, writes, terminal; successes and the error paths the
simulator can be led into) through an MCP client against simulators whose HTTP layer records each exchange. Each
Komodo operation the server's source can send gets its own case below, so a mismatch names its operation; an
operation that the sweep never sent fails its case, and an operation the sweep sent that the source scan does not
know fails `test_the_source_scan_knows_every_operation_sent`.
"""

from __future__ import annotations

import ast
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import komodo_api.types as komodo_types
import pytest

from komodo_mcp.tools._context import PARAM
from komodo_mcp.tools._registry import all_specs
from komodo_sim import VIEWER_KEY, VIEWER_SECRET, Simulator

from .conftest import Exchange, call, mcp_client, serve_recorded, settings_for
from .komodo_contract import MODULES, check_answer, check_request, strict_types

SERVER_SOURCE = Path(__file__).parent.parent / "src" / "komodo_mcp"
RECORDED_CORE = Path(__file__).parent / "fixtures" / "recorded-core"  # copied from a real Core 2.3.2
REQUEST_TYPES = {module: {t.value for t in getattr(komodo_types, f"{module.capitalize()}RequestTypes")}
                 for module in MODULES}


# What the server's f-string templates (`f"Get{kind}ActionState"`) are filled with: the resource kinds, and the
# container of the log tools (`read_log`). A kind missing here fails `test_the_source_scan_knows_every_operation_sent`.
TEMPLATE_KINDS = (*PARAM, "Container")
# Request types the source scan finds that no tool sends, each with why; `test_listed_operations_are_never_sent`
# keeps this list true.
NOT_SENT = {
    "GetContainersSummary": "the `Get{kind}sSummary` template of `list_page` serves resource kinds, not containers",
    "PullDeployment": "named only to read Updates of that operation (`@answers`); no tool pulls a deployment",
    **{f"{verb}{kind}": "the Create/Update/Delete templates of `_writes.py` serve only the six families with write "
                        "tools (Deployment, Stack, Build, Repo, Procedure, Action)"
       for verb in ("Create", "Update", "Delete") for kind in ("Server", "Builder", "Alerter", "ResourceSync")},
}


def operations_in_source() -> set[str]:
    """Every Komodo request type the server's source names: string constants that are request types, and
    f-string templates expanded over TEMPLATE_KINDS, kept when the expansion is a request type."""
    known = set().union(*REQUEST_TYPES.values())
    kinds = "|".join(TEMPLATE_KINDS)
    found: set[str] = set()
    for path in SERVER_SOURCE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and node.value in known:
                found.add(node.value)
            elif isinstance(node, ast.JoinedStr):
                pattern = "".join(re.escape(part.value) if isinstance(part, ast.Constant) else f"(?:{kinds})"
                                  for part in node.values)
                found |= {name for name in known if re.fullmatch(pattern, name)}
    return found


SOURCE_OPERATIONS = sorted(operations_in_source() - set(NOT_SENT))

# -- the sweep -----------------------------------------------------------------------------------------------------

# (tool, arguments) or (tool, arguments, the error code it must answer)
READS: list[tuple[Any, ...]] = [
    ("GetSummary", {}), ("GetVersion", {}), ("ListInstances", {}), ("ListSchedules", {}), ("ListBuilders", {}),
    ("ListAlerters", {}), ("ListTags", {}), ("ListVariables", {}), ("ExportToml", {"include_variables": True}),
    ("ExportToml", {"resource_type": "deployment", "ids": ["api-v2"]}),
    ("ListServers", {}), ("ListServers", {"status": "running"}), ("GetServer", {"id": "production-api"}),
    ("GetServer", {"id": "edge-cache-01"}), ("GetServer", {"id": "nope"}, "NOT_FOUND"),
    ("ListContainers", {"server_id": "production-api"}),
    ("GetContainerLog", {"server_id": "production-api", "container": "api-v2", "tail": 20}),
    ("GetContainerLog", {"server_id": "production-api", "container": "api-v2", "search": "error"}),
    ("GetServerStats", {"id": "production-api"}), ("GetServerStats", {"id": "production-api", "granularity": "1-hr"}),
    ("ListDeployments", {"page_size": 100}), ("ListDeployments", {"server_id": "production-api", "status": "running"}),
    ("GetDeployment", {"id": "api-v2"}), ("GetDeployment", {"id": "nope"}, "NOT_FOUND"),
    ("GetDeploymentLog", {"id": "api-v2", "tail": 50}), ("GetDeploymentLog", {"id": "api-v2", "search": "error"}),
    ("ListStacks", {}), ("ListStacks", {"status": "active"}), ("GetStack", {"id": "monitoring-stack"}),
    ("GetStackLog", {"id": "monitoring-stack"}), ("GetStackLog", {"id": "monitoring-stack", "search": "error"}),
    ("ListBuilds", {}), ("ListBuilds", {"status": "failed"}), ("GetBuild", {"id": "api-build"}),
    ("ListRepos", {}), ("ListRepos", {"provider": "github"}), ("GetRepo", {"id": "myapp-backend"}),
    ("ListProcedures", {}), ("ListProcedures", {"trigger": "scheduled"}), ("GetProcedure", {"id": "daily-backup"}),
    ("ListActions", {}), ("ListActions", {"enabled": True}), ("GetAction", {"id": "backup-database"}),
    ("ListAlerts", {}), ("ListAlerts", {"severity": "critical", "resolved": False, "resource_type": "server"}),
    ("ListUpdates", {"page_size": 100}),
    ("ListUpdates", {"resource_type": "deployment", "resource_id": "api-v2", "status": "success", "operation": "Deploy"}),
    ("ListResourceSyncs", {}), ("GetResourceSync", {"id": "infra-sync"}),
    ("InspectContainer", {"server_id": "production-api", "container": "api-v2"}),
    ("InspectContainer", {"server_id": "production-api", "container": "nope"}, "NOT_FOUND"),
    ("Diagnose", {"id": "nginx-proxy"}), ("Diagnose", {"id": "db-stack", "resource_type": "stack"}),
    ("Diagnose", {"id": "web-build"}), ("Diagnose", {"id": "nope"}, "NOT_FOUND"), ("FindProblems", {}),
]
EXECUTES: list[tuple[Any, ...]] = [
    ("Deploy", {"id": "api-v2"}), ("StartDeployment", {"id": "api-v1"}), ("RestartDeployment", {"id": "web-frontend"}),
    ("StopDeployment", {"id": "redis-cache", "confirm": True, "signal": "SIGTERM", "time": 5}),
    ("DestroyDeployment", {"id": "canary-api", "confirm": True}),
    ("DeployStack", {"id": "logging-stack"}), ("StartStack", {"id": "db-stack", "services": ["postgres"]}),
    ("RestartStack", {"id": "monitoring-stack"}), ("PullStack", {"id": "monitoring-stack"}),
    ("StopStack", {"id": "logging-stack", "confirm": True, "stop_time": 5}),
    ("DestroyStack", {"id": "db-stack", "confirm": True, "remove_orphans": True}),
    ("Build", {"id": "api-build"}), ("PullRepo", {"id": "myapp-backend"}), ("CloneRepo", {"id": "myapp-frontend"}),
    ("BuildRepo", {"id": "myapp-backend"}), ("RunProcedure", {"id": "nightly-cleanup"}),
    ("TriggerAction", {"id": "notify-slack", "payload": {"channel": "ops"}}), ("RunSync", {"id": "infra-sync"}),
    ("StartServer", {"id": "staging-web", "options": {"waitForHealthy": True, "timeout": 60}}),
    ("RestartServer", {"id": "build-runner"}),
    ("StopServer", {"id": "staging-web", "confirm": True, "options": {"removeContainer": True, "timeout": 60}}),
    *(("PruneServer", {"id": "build-runner", "target": target, "confirm": True})
      for target in ("images", "containers", "networks", "volumes", "builders", "buildx", "system")),
    ("PauseDeployment", {"id": "web-frontend", "confirm": True}), ("UnpauseDeployment", {"id": "web-frontend"}),
    ("PauseStack", {"id": "monitoring-stack", "confirm": True}),
    ("UnpauseStack", {"id": "monitoring-stack", "services": ["prometheus", "grafana"]}),
    ("StopContainer", {"server_id": "production-api", "container": "api-v1", "confirm": True, "signal": "SIGTERM",
                       "time": 5}),
    ("StartContainer", {"server_id": "production-api", "container": "api-v1"}),
    ("RestartContainer", {"server_id": "production-api", "container": "api-v2"}),
    ("PauseContainer", {"server_id": "production-api", "container": "api-v2", "confirm": True}),
    ("UnpauseContainer", {"server_id": "production-api", "container": "api-v2"}),
    ("StartContainer", {"server_id": "production-api", "container": "nope"}, "NOT_FOUND"),
    ("Deploy", {"id": "nope"}, "NOT_FOUND"),
]
WRITES: list[tuple[Any, ...]] = [
    ("CreateDeployment", {"name": "contract-dep", "server": "staging-web", "image": "nginx:1.27",
                          "environment": {"A": "1"}, "description": "made by the contract", "tags": ["production"]}),
    ("UpdateDeployment", {"id": "contract-dep", "restart": "always", "ports": ["8080:80"]}),
    ("DeleteDeployment", {"id": "contract-dep", "confirm": True}),
    ("CreateStack", {"name": "contract-stack", "server": "staging-web", "compose_contents": "services: {}\n"}),
    ("UpdateStack", {"id": "contract-stack", "auto_pull": True}), ("DeleteStack", {"id": "contract-stack", "confirm": True}),
    ("CreateBuild", {"name": "contract-build", "builder": "local-builder", "repo": "acme/app", "version": "1.0.0"}),
    ("UpdateBuild", {"id": "contract-build", "branch": "dev"}), ("DeleteBuild", {"id": "contract-build", "confirm": True}),
    ("CreateRepo", {"name": "contract-repo", "repo": "acme/app", "server": "staging-web"}),
    ("UpdateRepo", {"id": "contract-repo", "branch": "dev"}), ("DeleteRepo", {"id": "contract-repo", "confirm": True}),
    ("CreateProcedure", {"name": "contract-proc", "stages": [
        {"name": "wait", "executions": [{"type": "Sleep", "params": {"duration_ms": 10}}]}]}),
    ("UpdateProcedure", {"id": "contract-proc", "schedule_enabled": False}),
    ("DeleteProcedure", {"id": "contract-proc", "confirm": True}),
    ("CreateAction", {"name": "contract-action", "script": "console.log('hi')"}),
    ("UpdateAction", {"id": "contract-action", "run_at_startup": False}),
    ("DeleteAction", {"id": "contract-action", "confirm": True}),
    ("CreateVariable", {"name": "CONTRACT_VAR", "value": "x", "description": "d"}),
    ("UpdateVariable", {"name": "CONTRACT_VAR", "value": "y", "description": "e", "is_secret": True}),
    ("DeleteVariable", {"name": "CONTRACT_VAR", "confirm": True}),
    ("UpdateResourceMeta", {"resource_type": "stack", "id": "monitoring-stack", "tags": ["production"],
                            "description": "observability", "template": False}),
    *(("UpdateResourceMeta", {"resource_type": kind, "id": name, "description": "checked by the contract"})
      for kind, name in (("server", "legacy-db"), ("builder", "local-builder"), ("alerter", "slack-ops"),
                         ("resourcesync", "infra-sync"))),
    ("CreateDeployment", {"name": "api-v2", "image": "nginx:1.27"}, "CONFLICT"),  # a name that exists: Core's 409
]
TERMINAL: list[tuple[Any, ...]] = [
    ("ServerCommand", {"id": "production-api", "command": "uptime", "confirm": True}),
    ("ContainerCommand", {"server_id": "production-api", "container": "api-v2", "command": "echo hi",
                          "confirm": True}),
    ("DeploymentCommand", {"id": "api-v2", "command": "hostname", "confirm": True}),
    ("StackCommand", {"id": "monitoring-stack", "service": "prometheus", "command": "hostname", "confirm": True}),
]


@dataclass
class Sweeper:
    """Calls tools through one MCP client and keeps each call's outcome: "ok" or the result's error code."""

    client: Any
    outcomes: list[tuple[str, str, str]] = field(default_factory=list)  # (tool, expected, got)

    async def run(self, tool: str, arguments: dict[str, Any], expected: str = "ok") -> dict[str, Any]:
        is_error, body = await call(self.client, f"komodo_{tool}", arguments)
        self.outcomes.append((f"komodo_{tool}", expected, body["code"] if is_error else "ok"))
        return body

    async def run_to_end(self, tool: str, arguments: dict[str, Any], expected: str = "ok") -> None:
        """Start an execution and wait for its job, so the next start on the same target is not refused as busy."""
        started = await self.run(tool, arguments, expected)
        if expected == "ok":
            await self.run("execute_WaitForJob", {"job_id": started["data"]["job_id"], "timeout": 60})


async def _sweep_fast(sweeper: Sweeper) -> None:
    """Everything that needs no job to stay running."""
    for kind, calls in (("read", READS), ("write", WRITES), ("terminal", TERMINAL)):
        for tool, arguments, *expected in calls:
            await sweeper.run(f"{kind}_{tool}", arguments, *expected)
    alerts = await sweeper.run("read_ListAlerts", {"resolved": False})
    await sweeper.run("read_GetAlert", {"id": alerts["data"]["items"][0]["id"]})
    await sweeper.run("write_CloseAlert", {"id": alerts["data"]["items"][0]["id"]})
    for tool, arguments, *expected in EXECUTES:
        await sweeper.run_to_end(f"execute_{tool}", arguments, *expected)
    deployed = await sweeper.run("execute_Deploy", {"id": "api-v1"})
    await sweeper.run("execute_WaitForJob", {"job_id": deployed["data"]["job_id"], "timeout": 60})
    await sweeper.run("read_GetJob", {"job_id": deployed["data"]["job_id"]})
    await sweeper.run("execute_CancelJob", {"job_id": deployed["data"]["job_id"], "confirm": True}, "CONFLICT")
    await sweeper.run("execute_CancelBuild", {"id": "web-build"}, "CONFLICT")  # no build running


async def _sweep_running(sweeper: Sweeper) -> None:
    """On a simulator whose executions run for minutes: what needs a job still running (cancel, busy)."""
    await sweeper.run("execute_Build", {"id": "api-build"})
    await sweeper.run("execute_CancelBuild", {"id": "api-build"})
    for tool, target in (("RunProcedure", "daily-backup"), ("TriggerAction", "backup-database"),
                         ("BuildRepo", "myapp-backend")):
        started = await sweeper.run(f"execute_{tool}", {"id": target})
        await sweeper.run("execute_CancelJob", {"job_id": started["data"]["job_id"], "confirm": True})
    await sweeper.run("execute_Deploy", {"id": "api-v2"})
    await sweeper.run("execute_Deploy", {"id": "api-v2"}, "CONFLICT")  # still running


async def _sweep(fast_url: str, running_url: str) -> list[tuple[str, str, str]]:
    everything = ("all", "terminal")
    async with mcp_client(settings_for(fast_url, toolsets=everything)) as client:
        await _sweep_fast(admin := Sweeper(client))
    async with mcp_client(settings_for(fast_url, VIEWER_KEY, VIEWER_SECRET, toolsets=everything)) as client:
        viewer = Sweeper(client)
        await viewer.run("execute_Deploy", {"id": "api-v2"}, "FORBIDDEN")  # GetPermission's answer decides
        await viewer.run("terminal_ServerCommand", {"id": "production-api", "command": "uptime", "confirm": True},
                         "FORBIDDEN")
    async with mcp_client(settings_for(running_url, toolsets=everything)) as client:
        await _sweep_running(running := Sweeper(client))
    return admin.outcomes + viewer.outcomes + running.outcomes


@pytest.fixture(scope="module")
def sweep() -> tuple[list[Exchange], list[tuple[str, str, str]]]:
    """Every tool called against recorded simulators: the exchanges, and each call's (tool, expected, got)."""
    fast, fast_recording = serve_recorded(Simulator(exec_delay=0.02))
    running, running_recording = serve_recorded(Simulator(exec_delay=600))
    try:
        outcomes = anyio.run(_sweep, fast.url, running.url)
    finally:
        fast.stop()
        running.stop()
    return fast_recording.exchanges + running_recording.exchanges, outcomes


def _by_operation(exchanges: list[Exchange]) -> dict[str, list[tuple[str, Exchange]]]:
    found: dict[str, list[tuple[str, Exchange]]] = defaultdict(list)
    for exchange in exchanges:
        module = exchange.path.strip("/")
        if module in MODULES:
            found[json.loads(exchange.request)["type"]].append((module, exchange))
    return found


# -- the tests -----------------------------------------------------------------------------------------------------

def test_the_sweep_calls_every_tool(sweep):
    _, outcomes = sweep
    assert {tool for tool, _, _ in outcomes} == {spec.name for spec in all_specs()}


@pytest.mark.parametrize("tool", [spec.name for spec in all_specs()])
def test_every_swept_call_ends_as_intended(sweep, tool):
    """Successes succeed and each provoked error path answers its code, so the exchanges checked below are the
    ones meant (a tool refusing its arguments would send Komodo nothing)."""
    _, outcomes = sweep
    assert [(expected, got) for name, expected, got in outcomes if name == tool and got != expected] == []


def test_the_source_scan_knows_every_operation_sent(sweep):
    """An operation sent but not found by the scan would have no case of its own below."""
    exchanges, _ = sweep
    assert set(_by_operation(exchanges)) - set(SOURCE_OPERATIONS) == set()


def test_listed_operations_are_never_sent(sweep):
    exchanges, _ = sweep
    assert set(_by_operation(exchanges)) & set(NOT_SENT) == set()


@pytest.mark.parametrize("operation", SOURCE_OPERATIONS)
def test_operation_matches_komodo_api_strictly(sweep, operation):
    exchanges, _ = sweep
    sent = _by_operation(exchanges)[operation]
    assert sent, f"the server can send {operation} but no swept tool did: no contract check covers it"
    problems = set()
    for module, exchange in sent:
        if b"unknown variant" in exchange.answer:  # Core knows every request type komodo-api has
            problems.add(f"the simulator does not implement {operation}: {exchange.answer.decode()}")
        assert module in {m for m, names in REQUEST_TYPES.items() if operation in names}, exchange.path
        problems |= {f"request: {p}" for p in check_request(module, exchange.request)[1]}
        problems |= {f"answer {exchange.status}: {p}" for p in check_answer(operation, exchange.status,
                                                                                exchange.answer)}
    assert not problems, "\n".join(sorted(problems))


@pytest.mark.parametrize("operation", SOURCE_OPERATIONS)
def test_answer_carries_every_field_core_sends(sweep, operation):
    """The simulator leaves out no field that Core's serde always writes (see `komodo_contract.py`)."""
    exchanges, _ = sweep
    answers = [exchange.answer for _, exchange in _by_operation(exchanges)[operation] if exchange.status == 200]
    assert answers, f"the sweep got no successful answer to {operation}"
    problems = {p for answer in answers for p in check_answer(operation, 200, answer, every_field=True)}
    assert not problems, "\n".join(sorted(problems))


def test_terminal_requests_match_komodo_api(sweep):
    exchanges, _ = sweep
    bodies = [e.request for e in exchanges if e.path == "/terminal/execute"]
    assert len(bodies) == len(TERMINAL) + 1  # the viewer's is sent too: Core decides the Terminal permission
    adapter = strict_types().ExecuteTerminalBody
    for body in bodies:
        adapter.model_validate_json(body, strict=True)


def _recorded_core() -> list[dict[str, Any]]:
    return [json.loads(line) for path in sorted(RECORDED_CORE.glob("*.jsonl")) for line in path.open()
            if json.loads(line)["path"].strip("/") in MODULES]


@pytest.mark.parametrize("record", _recorded_core(),
                         ids=lambda r: f"{r['request']['type']}-{r['status']}")
def test_every_recorded_core_answer_validates(record):
    """The oracle for the rules and the exception list: what a real Core 2.3.2 answered passes them."""
    raw = json.dumps(record["response"]).encode()
    assert check_answer(record["request"]["type"], record["status"], raw, every_field=True) == []


# -- the rules can fail ----------------------------------------------------------------------------------------

def _recorded_answer(operation: str) -> dict[str, Any]:
    return next(r["response"] for r in _recorded_core() if r["request"]["type"] == operation and r["status"] == 200)


def test_an_invented_key_in_an_answer_fails():
    deployment = _recorded_answer("GetDeployment")
    deployment["config"]["restart_policy"] = "always"  # not a DeploymentConfig field
    assert check_answer("GetDeployment", 200, json.dumps(deployment).encode()) == [
        "config.restart_policy: Extra inputs are not permitted (extra_forbidden)"]


def test_a_field_core_always_writes_cannot_be_left_out_of_an_answer():
    deployment = _recorded_answer("GetDeployment")
    del deployment["info"]["deployed_name"]
    raw = json.dumps(deployment).encode()
    assert check_answer("GetDeployment", 200, raw) == []  # komodo-api's own type has it optional
    assert check_answer("GetDeployment", 200, raw, every_field=True) == [
        "info.deployed_name: Field required (missing)"]


def test_a_request_key_core_does_not_read_fails():
    """What the server sent before this contract existed: ExportAllResourcesToToml has no `user_groups`."""
    sent = next(r["request"] for r in _recorded_core() if r["request"]["type"] == "ExportAllResourcesToToml")
    assert check_request("read", json.dumps(sent).encode())[1] == [
        "params.user_groups: Extra inputs are not permitted (extra_forbidden)"]


def test_a_wrong_value_type_fails_without_coercion():
    update = _recorded_answer("GetUpdate")
    update["start_ts"] = str(update["start_ts"])  # pydantic's lax mode would take "1796…" as an int
    assert check_answer("GetUpdate", 200, json.dumps(update).encode()) == [
        "start_ts: Input should be a valid integer (int_type)"]

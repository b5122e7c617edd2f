"""How many Komodo requests each tool makes: one sample call per tool, counted on the wire.

The count is taken by a transport that sees every HTTP request the client sends (the client itself is unchanged),
against a fresh simulator per tool, so executes and writes of one sample cannot disturb another. Shared by
tests/test_round_trips.py (which fixes the counts) and bench/bench_lean.py (which prints them).
"""

from __future__ import annotations

import json
from typing import Any, Callable

import httpx2

from komodo_mcp.client import KomodoClient
from komodo_mcp.config import Settings
from komodo_sim import ADMIN_KEY, ADMIN_SECRET, SimulatorThread

Sample = Callable[[SimulatorThread], dict[str, Any]]


def _latest_job(sim: SimulatorThread) -> str:
    return next(u["_id"]["$oid"] for u in reversed(sim.simulator.store.updates) if u["status"] == "Complete")


def _open_alert(sim: SimulatorThread) -> dict[str, Any]:
    return {"id": next(a["_id"]["$oid"] for a in sim.simulator.store.alerts if not a["resolved"])}


def _fixed(arguments: dict[str, Any]) -> Sample:
    return lambda sim: arguments


def _job(**extra: Any) -> Sample:
    return lambda sim: {"job_id": _latest_job(sim), **extra}


def _start_build(sim: SimulatorThread) -> str:
    """Start api-build, which stays running (the sample simulator's executions take seconds): its job id."""
    update = httpx2.post(f"{sim.url}/execute", json={"type": "RunBuild", "params": {"build": "api-build"}},
                         headers={"x-api-key": ADMIN_KEY, "x-api-secret": ADMIN_SECRET}).json()
    return update["_id"]["$oid"]


# tool → (arguments, Komodo requests of its first call on a fresh server, of a second call with warm caches).
# A second execute is refused as busy while the first runs (5 requests: no start, no wait for Komodo to see it),
# except where Core starts it anyway (busy.rs: a server's container operations, and a pull, are never busy): then it
# costs the first call's requests without GetPermission (cached) and with the first, still running job's GetUpdate
# (its duration estimate reads the recent runs).
ROUND_TRIPS: dict[str, tuple[Sample, int, int]] = {
    # system
    "komodo_read_GetSummary": (_fixed({}), 10, 10),
    "komodo_read_GetVersion": (_fixed({}), 2, 2),
    "komodo_read_ListInstances": (_fixed({}), 1, 1),  # GetVersion of each instance (here the one)
    "komodo_read_ListSchedules": (_fixed({}), 2, 1),
    "komodo_read_ListBuilders": (_fixed({}), 4, 2),
    "komodo_read_ListAlerters": (_fixed({}), 4, 2),
    "komodo_read_ListTags": (_fixed({}), 1, 1),
    "komodo_read_ExportToml": (_fixed({"include_variables": True}), 2, 2),
    "komodo_write_UpdateResourceMeta": (_fixed({"resource_type": "stack", "id": "db-stack", "tags": ["database"]}),
                                        4, 4),
    # diagnose: every kind's list by the name and the servers; then the updates, open alerts, server stats, error
    # lines and log tail side by side; then the failed jobs' Updates (nginx-proxy has none)
    "komodo_read_Diagnose": (_fixed({"id": "nginx-proxy"}), 13, 13),
    "komodo_read_FindProblems": (_fixed({}), 8, 8),
    # servers
    "komodo_read_ListServers": (_fixed({}), 4, 2),
    "komodo_read_GetServer": (_fixed({"id": "production-api"}), 7, 6),
    # + GetServer (the deployment and stack filters take ids), ListDeployments and ListStacks: the owner of each
    # container is named from them, as Core's container list carries no labels
    "komodo_read_ListContainers": (_fixed({"server_id": "production-api"}), 4, 4),
    "komodo_read_GetContainerLog": (_fixed({"server_id": "production-api", "container": "api-v2", "tail": 20}), 1, 1),
    "komodo_read_GetServerStats": (_fixed({"id": "production-api"}), 2, 2),
    "komodo_execute_StartServer": (_fixed({"id": "build-runner"}), 7, 7),
    "komodo_execute_RestartServer": (_fixed({"id": "staging-web"}), 7, 7),
    "komodo_execute_StopServer": (_fixed({"id": "build-runner", "confirm": True}), 7, 7),
    "komodo_execute_PruneServer": (_fixed({"id": "production-api", "target": "volumes", "confirm": True}), 7, 5),
    # containers: GetServer, and ListContainers so that an unknown name is a NOT_FOUND before anything starts.
    # An action then has start's checks: permission, action state, recent runs, the execute and its follow-up.
    "komodo_read_InspectContainer": (_fixed({"server_id": "production-api", "container": "api-v2"}), 3, 3),
    "komodo_execute_StartContainer": (_fixed({"server_id": "staging-web", "container": "web-frontend"}), 8, 8),
    "komodo_execute_RestartContainer": (_fixed({"server_id": "staging-web", "container": "nginx-proxy"}), 8, 8),
    "komodo_execute_StopContainer": (_fixed({"server_id": "production-api", "container": "redis-cache",
                                             "confirm": True}), 8, 8),
    "komodo_execute_PauseContainer": (_fixed({"server_id": "production-api", "container": "api-v2",
                                              "confirm": True}), 8, 8),
    "komodo_execute_UnpauseContainer": (_fixed({"server_id": "production-api", "container": "api-v2"}), 8, 8),
    # deployments
    "komodo_read_ListDeployments": (_fixed({}), 4, 2),
    "komodo_read_GetDeployment": (_fixed({"id": "api-v2"}), 11, 5),
    "komodo_read_GetDeploymentLog": (_fixed({"id": "api-v2", "tail": 20}), 1, 1),
    "komodo_execute_Deploy": (_fixed({"id": "api-v2"}), 12, 5),
    "komodo_execute_StartDeployment": (_fixed({"id": "api-v1"}), 7, 5),
    "komodo_execute_RestartDeployment": (_fixed({"id": "web-frontend"}), 7, 5),
    "komodo_execute_PauseDeployment": (_fixed({"id": "api-v2", "confirm": True}), 7, 5),
    "komodo_execute_UnpauseDeployment": (_fixed({"id": "api-v2"}), 7, 5),
    "komodo_execute_StopDeployment": (_fixed({"id": "redis-cache", "confirm": True}), 7, 5),
    "komodo_execute_DestroyDeployment": (_fixed({"id": "canary-api", "confirm": True}), 7, 5),
    "komodo_write_CreateDeployment": (_fixed({"name": "orders-api", "server": "staging-web", "image": "nginx"}), 1, 1),
    "komodo_write_UpdateDeployment": (_fixed({"id": "api-v2", "restart": "always"}), 2, 2),
    "komodo_write_DeleteDeployment": (_fixed({"id": "canary-api", "confirm": True}), 1, 1),
    # stacks
    "komodo_read_ListStacks": (_fixed({}), 4, 2),
    "komodo_read_GetStack": (_fixed({"id": "monitoring-stack"}), 4, 3),
    "komodo_read_GetStackLog": (_fixed({"id": "monitoring-stack", "tail": 20}), 1, 1),
    "komodo_execute_DeployStack": (_fixed({"id": "logging-stack"}), 7, 5),
    "komodo_execute_StartStack": (_fixed({"id": "logging-stack"}), 7, 5),
    "komodo_execute_RestartStack": (_fixed({"id": "monitoring-stack"}), 7, 5),
    "komodo_execute_PauseStack": (_fixed({"id": "monitoring-stack", "confirm": True}), 7, 5),
    "komodo_execute_UnpauseStack": (_fixed({"id": "monitoring-stack"}), 7, 5),
    "komodo_execute_PullStack": (_fixed({"id": "monitoring-stack"}), 7, 7),
    "komodo_execute_StopStack": (_fixed({"id": "db-stack", "confirm": True}), 7, 5),
    "komodo_execute_DestroyStack": (_fixed({"id": "logging-stack", "confirm": True}), 7, 5),
    "komodo_write_CreateStack": (_fixed({"name": "cache", "server": "production-api"}), 1, 1),
    "komodo_write_UpdateStack": (_fixed({"id": "db-stack", "auto_pull": True}), 2, 2),
    "komodo_write_DeleteStack": (_fixed({"id": "logging-stack", "confirm": True}), 1, 1),
    # builds
    "komodo_read_ListBuilds": (_fixed({}), 4, 2),
    "komodo_read_GetBuild": (_fixed({"id": "api-build"}), 13, 3),
    "komodo_execute_Build": (_fixed({"id": "api-build"}), 12, 5),
    "komodo_execute_CancelBuild": (lambda sim: _start_build(sim) and {"id": "api-build"}, 5, 4),
    "komodo_write_CreateBuild": (_fixed({"name": "orders-build", "repo": "myorg/orders"}), 1, 1),
    "komodo_write_UpdateBuild": (_fixed({"id": "api-build", "branch": "dev"}), 2, 2),
    "komodo_write_DeleteBuild": (_fixed({"id": "worker-build", "confirm": True}), 1, 1),
    # repos
    "komodo_read_ListRepos": (_fixed({}), 5, 3),
    "komodo_read_GetRepo": (_fixed({"id": "myapp-backend"}), 4, 3),
    "komodo_execute_PullRepo": (_fixed({"id": "myapp-backend"}), 7, 5),
    "komodo_execute_CloneRepo": (_fixed({"id": "myapp-frontend"}), 7, 5),
    "komodo_execute_BuildRepo": (_fixed({"id": "infra-scripts"}), 7, 5),
    "komodo_write_CreateRepo": (_fixed({"name": "orders", "repo": "myorg/orders"}), 1, 1),
    "komodo_write_UpdateRepo": (_fixed({"id": "myapp-backend", "branch": "dev"}), 2, 2),
    "komodo_write_DeleteRepo": (_fixed({"id": "infra-scripts", "confirm": True}), 1, 1),
    # procedures
    "komodo_read_ListProcedures": (_fixed({}), 4, 2),
    "komodo_read_GetProcedure": (_fixed({"id": "daily-backup"}), 10, 4),
    "komodo_execute_RunProcedure": (_fixed({"id": "release-train"}), 7, 5),
    "komodo_write_CreateProcedure": (_fixed({"name": "ship-orders"}), 1, 1),
    "komodo_write_UpdateProcedure": (_fixed({"id": "daily-backup", "schedule_enabled": False}), 2, 2),
    "komodo_write_DeleteProcedure": (_fixed({"id": "nightly-cleanup", "confirm": True}), 1, 1),
    # actions
    "komodo_read_ListActions": (_fixed({}), 4, 2),
    "komodo_read_GetAction": (_fixed({"id": "backup-database"}), 8, 3),
    "komodo_execute_TriggerAction": (_fixed({"id": "notify-slack", "payload": {"channel": "ops"}}), 7, 7),
    "komodo_write_CreateAction": (_fixed({"name": "say-hi", "script": "console.log('hi')"}), 1, 1),
    "komodo_write_UpdateAction": (_fixed({"id": "rotate-logs", "run_at_startup": True}), 2, 2),
    "komodo_write_DeleteAction": (_fixed({"id": "rotate-logs", "confirm": True}), 1, 1),
    # alerts
    "komodo_read_ListAlerts": (_fixed({}), 1, 1),
    "komodo_read_GetAlert": (_open_alert, 2, 2),
    "komodo_write_CloseAlert": (_open_alert, 2, 2),
    # jobs
    "komodo_read_ListUpdates": (_fixed({}), 1, 1),
    "komodo_read_GetJob": (_job(), 3, 0),
    "komodo_execute_WaitForJob": (_job(timeout=1), 3, 0),
    "komodo_execute_CancelJob": (lambda sim: {"job_id": _start_build(sim), "confirm": True}, 3, 2),
    # syncs
    "komodo_read_ListResourceSyncs": (_fixed({}), 4, 2),
    "komodo_read_GetResourceSync": (_fixed({"id": "infra-sync"}), 4, 3),
    "komodo_execute_RunSync": (_fixed({"id": "infra-sync"}), 7, 5),
    # variables
    "komodo_read_ListVariables": (_fixed({}), 1, 1),
    "komodo_write_CreateVariable": (_fixed({"name": "X", "value": "1"}), 1, 1),
    "komodo_write_UpdateVariable": (_fixed({"name": "DB_HOST", "value": "db2.internal"}), 2, 2),
    "komodo_write_DeleteVariable": (_fixed({"name": "DEFAULT_REGION", "confirm": True}), 1, 1),
    # terminal
    "komodo_terminal_ServerCommand": (_fixed({"id": "staging-web", "command": "uptime", "confirm": True}), 1, 1),
    "komodo_terminal_ContainerCommand": (_fixed({"server_id": "production-api", "container": "api-v2",
                                                 "command": "hostname", "confirm": True}), 1, 1),
    "komodo_terminal_DeploymentCommand": (_fixed({"id": "api-v2", "command": "hostname", "confirm": True}), 1, 1),
    "komodo_terminal_StackCommand": (_fixed({"id": "monitoring-stack", "service": "grafana", "command": "hostname",
                                             "confirm": True}), 1, 1),
}


class CountingTransport(httpx2.AsyncBaseTransport):
    """Passes every request on unchanged and remembers which Komodo operation it asked for."""

    def __init__(self) -> None:
        self._inner = httpx2.AsyncHTTPTransport()
        self.operations: list[str] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content or b"{}")
        self.operations.append(body.get("type") or request.url.path)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


async def count_requests(settings: Settings, sim: SimulatorThread, tool: str,
                         calls: int = 2) -> tuple[list[list[str]], list[bool]]:
    """Call `tool` with its sample arguments `calls` times on one fresh server: the Komodo operations each call
    requested, and whether each call answered an error."""
    from mcp.client import Client

    from komodo_mcp.server import build_server

    settings = settings.model_copy(update={"toolsets": ("all", "terminal")})
    transport = CountingTransport()
    komodo = KomodoClient(settings, transport=transport)
    arguments = ROUND_TRIPS[tool][0](sim)
    per_call: list[list[str]] = []
    errors: list[bool] = []
    try:
        async with Client(build_server(settings, komodo=komodo, check=False), mode="2026-07-28") as client:
            for _ in range(calls):
                before = len(transport.operations)
                result = await client.call_tool(tool, arguments)
                per_call.append(transport.operations[before:])
                errors.append(bool(result.is_error))
    finally:
        await komodo.aclose()
    return per_call, errors

"""What finding the cause of a broken deployment costs an assistant: today's tools, call by call, against one
komodo_read_Diagnose. Counts tool calls and the characters of their results (what enters the model's context).

Run by hand:  .venv/bin/python bench/bench_diagnose.py
Two cases on the demo fleet: nginx-proxy as seeded (restarting, an open alert, errors in its log), and canary-api
after a deploy made to fail at Docker Run (the simulator's `failing_stage`), where the cause is in the job's log.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import anyio
from mcp.client import Client
from pydantic import SecretStr

from komodo_mcp.config import Settings
from komodo_mcp.server import build_server
from komodo_sim import ADMIN_KEY, ADMIN_SECRET, Simulator, SimulatorThread

logging.getLogger("httpx2").setLevel(logging.WARNING)


async def answer(client: Any, tool: str, arguments: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """The result's size in characters, and its body."""
    result = await client.call_tool(tool, arguments)
    text = result.content[0].text
    return len(text), json.loads(text)


async def old_way_restarting(client: Any) -> list[tuple[str, int]]:
    """State and history, the log, the open alerts, the server, the activity feed: what an assistant reads today."""
    calls = [("komodo_read_GetDeployment", {"id": "nginx-proxy"}), ("komodo_read_GetDeploymentLog", {"id": "nginx-proxy"}),
             ("komodo_read_ListAlerts", {"resolved": False}), ("komodo_read_GetServer", {"id": "staging-web"}),
             ("komodo_read_ListUpdates", {"resource_type": "deployment", "resource_id": "nginx-proxy"})]
    return [(tool, (await answer(client, tool, arguments))[0]) for tool, arguments in calls]


async def old_way_failed_deploy(client: Any) -> list[tuple[str, int]]:
    """As above, plus the failed job itself (its id comes from the feed): the cause is in its step's output."""
    sizes = [("komodo_read_GetDeployment", (await answer(client, "komodo_read_GetDeployment", {"id": "canary-api"}))[0])]
    size, feed = await answer(client, "komodo_read_ListUpdates", {"resource_type": "deployment",
                                                                   "resource_id": "canary-api", "status": "failed"})
    sizes.append(("komodo_read_ListUpdates", size))
    for tool, arguments in (("komodo_read_GetJob", {"job_id": feed["data"]["items"][0]["job_id"]}),
                            ("komodo_read_GetDeploymentLog", {"id": "canary-api"}),
                            ("komodo_read_ListAlerts", {"resolved": False}),
                            ("komodo_read_GetServer", {"id": "staging-web"})):
        sizes.append((tool, (await answer(client, tool, arguments))[0]))
    return sizes


def report(case: str, old: list[tuple[str, int]], diagnose_chars: int, findings: list[str]) -> None:
    print(f"\n== {case}")
    for tool, size in old:
        print(f"   {tool:<32} {size:>7,} chars")
    total = sum(size for _, size in old)
    print(f"   before: {len(old)} calls, {total:,} chars   after: 1 call (komodo_read_Diagnose), {diagnose_chars:,} "
          f"chars ({diagnose_chars / total:.0%})")
    for finding in findings:
        print(f"   finding: {finding}")


async def main() -> None:
    sim = SimulatorThread(Simulator(exec_delay=0.2))
    sim.start()
    canary = sim.simulator.store.find("Deployment", "canary-api")
    canary.runtime |= {"failing_stage": "Docker Run",
                       "failure": "docker: Error response from daemon: manifest unknown\nexit status 125"}
    settings = Settings(url=sim.url, api_key=SecretStr(ADMIN_KEY), api_secret=SecretStr(ADMIN_SECRET),
                        rate_limit_per_minute=0, toolsets=("all",), audit_log="off")
    try:
        async with Client(build_server(settings, check=False)) as client:
            old = await old_way_restarting(client)
            size, body = await answer(client, "komodo_read_Diagnose", {"id": "nginx-proxy"})
            report("nginx-proxy (restarting, as seeded)", old, size, body["data"]["findings"])
            _, started = await answer(client, "komodo_execute_Deploy", {"id": "canary-api"})
            await answer(client, "komodo_execute_WaitForJob", {"job_id": started["data"]["job_id"]})
            old = await old_way_failed_deploy(client)
            size, body = await answer(client, "komodo_read_Diagnose", {"id": "canary-api"})
            report("canary-api (deploy failed at Docker Run)", old, size, body["data"]["findings"])
    finally:
        sim.stop()


if __name__ == "__main__":
    anyio.run(main)

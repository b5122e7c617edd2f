"""Per-call overhead: MCP tool calls over stdio vs the same Komodo calls made directly, on a 10,000-deployment fleet.

Run by hand:  .venv/bin/python bench/bench_overhead.py [--resources 10000] [--rounds 40]
Prints medians and the MCP/raw ratio, all measured in this one run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Awaitable

import anyio
import httpx2
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters

from _common import timed
from komodo_sim import ADMIN_KEY, ADMIN_SECRET, Simulator, SimulatorThread

HEADERS = {"x-api-key": ADMIN_KEY, "x-api-secret": ADMIN_SECRET, "content-type": "application/json"}


async def main(resources: int, rounds: int) -> None:
    with SimulatorThread(Simulator(resources=resources)) as sim:
        async with httpx2.AsyncClient(base_url=sim.url, headers=HEADERS) as http:
            async def read(op: str, **params: Any) -> Any:
                response = await http.post("/read", content=json.dumps({"type": op, "params": params}))
                response.raise_for_status()
                return response.json()

            async def concurrently(*calls: Awaitable[Any]) -> list[Any]:
                results: list[Any] = [None] * len(calls)

                async def run(i: int, call: Awaitable[Any]) -> None:
                    results[i] = await call
                async with anyio.create_task_group() as group:
                    for i, call in enumerate(calls):
                        group.start_soon(run, i, call)
                return results

            async def raw_get_single() -> None:
                await read("GetDeployment", deployment="svc-04242")

            async def raw_get_composed() -> None:  # the same rounds of calls the tool makes
                full, *_ = await concurrently(read("GetDeployment", deployment="svc-04242"),
                                              read("GetDeploymentContainer", deployment="svc-04242"),
                                              read("GetDeploymentStats", deployment="svc-04242"), read("ListTags"))
                dep_id = full["_id"]["$oid"]
                await concurrently(read("ListDeployments", query={"names": [dep_id]}, limit=0),
                                   read("ListUpdates", query={"target.type": "Deployment", "target.id": dep_id,
                                                              "operation": "Deploy"}))

            async def raw_list_single() -> None:
                await read("ListDeployments", query={}, page=2, limit=50)

            async def raw_list_composed() -> None:
                items, *_ = await concurrently(read("ListDeployments", query={}, page=2, limit=50),
                                               read("GetDeploymentsSummary"), read("ListTags"))
                await read("ListFullDeployments", query={"names": [i["id"] for i in items]}, limit=0)

            raw = {name: await timed(fn, rounds) for name, fn in (
                ("GetDeployment (one Komodo call)", raw_get_single), ("GetDeployment (same calls as the tool)",
                                                                      raw_get_composed),
                ("ListDeployments p3 (one Komodo call)", raw_list_single),
                ("ListDeployments p3 (same calls as the tool)", raw_list_composed))}

        params = StdioServerParameters(command=sys.executable, args=["-m", "komodo_mcp"], env={
            **os.environ, "KOMODO_URL": sim.url, "KOMODO_API_KEY": ADMIN_KEY, "KOMODO_API_SECRET": ADMIN_SECRET,
            "KOMODO_MCP_RATE_LIMIT": "0", "KOMODO_MCP_LOG_LEVEL": "WARNING"})
        async with Client(params) as client:
            async def mcp_get() -> None:
                result = await client.call_tool("komodo_read_GetDeployment", {"id": "svc-04242"})
                assert not result.is_error, result.structured_content

            async def mcp_list() -> None:
                result = await client.call_tool("komodo_read_ListDeployments", {"page": 3, "page_size": 50})
                assert not result.is_error and result.structured_content["data"]["total"] == resources + 8

            mcp = {"GetDeployment": await timed(mcp_get, rounds), "ListDeployments p3": await timed(mcp_list, rounds)}

    print(f"fleet: {resources} generated deployments (+8 demo), {rounds} rounds, medians in ms\n")
    print(f"{'measurement':<46}{'median ms':>10}")
    for name, value in raw.items():
        print(f"raw  {name:<41}{value:>10.2f}")
    for name, value in mcp.items():
        print(f"mcp  {name + ' over stdio':<41}{value:>10.2f}")
    print()
    for tool, single, composed in (("GetDeployment", "GetDeployment (one Komodo call)",
                                    "GetDeployment (same calls as the tool)"),
                                   ("ListDeployments p3", "ListDeployments p3 (one Komodo call)",
                                    "ListDeployments p3 (same calls as the tool)")):
        print(f"{tool:<20} mcp/raw-same-calls {mcp[tool] / raw[composed]:5.2f}x   "
              f"mcp/raw-one-call {mcp[tool] / raw[single]:5.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--resources", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    anyio.run(main, args.resources, args.rounds)

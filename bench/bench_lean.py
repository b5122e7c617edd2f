"""Lean and fast, in one run: Komodo requests per call of every tool, the per-call ratios on a 10,000-deployment
fleet, the size of tools/list, cold start against the SDK's own import, and GetDeployment throughput over HTTP.

Run by hand:  .venv/bin/python bench/bench_lean.py [--rounds 30] [--runs 5] [--seconds 4] [--skip-counts]
              [--baseline-src /path/to/old-checkout/src]
Every ratio's baseline is measured in the same run. On a 2-core machine shared with other work the figures are
noisy: each is a median over repetitions. To measure another checkout of the server (e.g. before a change), put
its `src` first on PYTHONPATH; the server processes inherit it.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import httpx2
from anyio.streams.buffered import BufferedByteReceiveStream
from _common import free_port, start_http_server, timed
from bench_cold_start import time_import, time_to_tools_list
from bench_throughput import META, load
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters

from komodo_sim import ADMIN_KEY, ADMIN_SECRET, Simulator, SimulatorThread

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, for tests.round_trips
HEADERS = {"x-api-key": ADMIN_KEY, "x-api-secret": ADMIN_SECRET, "content-type": "application/json"}
FLEET = 10_000
logging.getLogger("httpx2").setLevel(logging.WARNING)  # one line per request would drown the figures


def section(title: str) -> None:
    print(f"\n== {title}", flush=True)


async def requests_per_call() -> None:
    from tests.conftest import settings_for
    from tests.round_trips import ROUND_TRIPS, count_requests

    section("Komodo requests per tool call (first call on a fresh server / again with warm caches)")
    logging.disable(logging.CRITICAL)
    for tool in ROUND_TRIPS:
        with SimulatorThread(Simulator(exec_delay=5)) as sim:
            calls, errors = await count_requests(settings_for(sim.url, audit_log="off"), sim, tool)
        print(f"{tool:<40}{len(calls[0]):>4}{len(calls[1]):>4}{'  (error)' if errors[0] else ''}")
    logging.disable(logging.NOTSET)


class BareStdioClient:
    """A minimal MCP client: newline-delimited JSON-RPC over the server's pipes, no result validation. What it
    measures is the server's own cost (the SDK client also validates every structuredContent against its
    outputSchema, which is the client's cost)."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env, self.next_id = env, 0

    async def __aenter__(self) -> BareStdioClient:
        self.process = await anyio.open_process([sys.executable, "-m", "komodo_mcp"], env=self.env,
                                                stderr=subprocess.DEVNULL)
        self.lines = BufferedByteReceiveStream(self.process.stdout)  # type: ignore[arg-type]
        await self.request("initialize", {"protocolVersion": "2025-11-25", "capabilities": {},
                                          "clientInfo": {"name": "bench", "version": "1"}})
        await self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.process.stdin.aclose()  # type: ignore[union-attr]
        await self.process.wait()

    async def send(self, message: dict[str, Any]) -> None:
        await self.process.stdin.send(json.dumps(message).encode() + b"\n")  # type: ignore[union-attr]

    async def request(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        self.next_id += 1
        await self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        while True:
            answer = json.loads(await self.lines.receive_until(b"\n", 50_000_000))
            if answer.get("id") == self.next_id:
                return answer

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> None:
        answer = await self.request("tools/call", {"name": name, "arguments": arguments})
        assert not answer["result"].get("isError"), answer


async def ratios(rounds: int, latency_ms: float = 0.0) -> None:
    """`latency_ms`: each Komodo request waits that long before it is served, as on a real Core (network, MongoDB),
    where concurrent requests overlap. Without it the simulator serves one request after another (one Python
    thread), so the requests of one tool call add up as they would not on Core."""
    section(f"per-call time over stdio vs one raw Komodo call, {FLEET:,} deployments, medians of {rounds}"
            + (f", Komodo latency {latency_ms:g} ms a request" if latency_ms else ""))
    simulator = Simulator(resources=FLEET)
    simulator.latency_s = latency_ms / 1000
    with SimulatorThread(simulator) as sim:
        params = StdioServerParameters(command=sys.executable, args=["-m", "komodo_mcp"], env={
            **os.environ, "KOMODO_URL": sim.url, "KOMODO_API_KEY": ADMIN_KEY, "KOMODO_API_SECRET": ADMIN_SECRET,
            "KOMODO_MCP_RATE_LIMIT": "0", "KOMODO_MCP_LOG_LEVEL": "WARNING", "KOMODO_MCP_AUDIT_LOG": "off",
            "KOMODO_MCP_TOOLSETS": "all"})
        async with httpx2.AsyncClient(base_url=sim.url, headers=HEADERS) as http, Client(params) as client, \
                BareStdioClient(params.env or {}) as bare:
            async def raw(op: str, **arguments: Any) -> None:
                response = await http.post("/read", content=json.dumps({"type": op, "params": arguments}))
                response.raise_for_status()

            async def floor(*requests: tuple[str, dict[str, Any]]) -> None:
                """The Komodo requests a tool's answer needs, made raw in one concurrent round as the tool does:
                what is left above this is the server's own cost."""
                async with anyio.create_task_group() as group:
                    for op, arguments in requests:
                        group.start_soon(lambda op=op, arguments=arguments: raw(op, **arguments))

            async def tool(name: str, arguments: dict[str, Any]) -> None:
                result = await client.call_tool(name, arguments)
                assert not result.is_error, result.content[0].text

            deployment, page = {"deployment": "svc-04242"}, {"query": {}, "page": 2, "limit": 50}
            pairs = {  # ListTags is one Komodo request either way: the cost of MCP itself, stdio and the client
                "ListTags (MCP's own cost)": (lambda: raw("ListTags"), lambda: floor(("ListTags", {})),
                                              "komodo_read_ListTags", {}, None),
                "GetDeployment": (lambda: raw("GetDeployment", **deployment), lambda: floor(
                    ("GetDeployment", deployment), ("ListDeployments", {"query": {"names": ["svc-04242"]}, "limit": 0}),
                    ("GetDeploymentContainer", deployment), ("GetDeploymentStats", deployment),
                    ("ListUpdates", {"query": {"target.type": "Deployment", "operation": {"$in": ["Deploy"]}}})),
                    "komodo_read_GetDeployment", {"id": "svc-04242"}, 2.0),
                "ListDeployments page 3": (lambda: raw("ListDeployments", **page), lambda: floor(
                    ("ListDeployments", page), ("ListFullDeployments", page)),
                    "komodo_read_ListDeployments", {"page": 3}, 1.5),
            }
            print(f"{'':<28}{'raw ms':>8}{'mcp ms':>8}{'ratio':>8}{'bare ms':>9}{'ratio':>8}{'target':>8}"
                  f"{'floor ms':>10}{'bare/floor':>11}")
            for label, (raw_call, floor_call, name, arguments, target) in pairs.items():
                # Interleaved repetitions, so all sides see the same machine load. "mcp": the SDK client (which
                # validates each result against the outputSchema); "bare": BareStdioClient, the server's own cost;
                # "floor": the Komodo requests the tool makes (warm caches), raw and concurrent.
                samples: dict[str, list[float]] = {"raw": [], "mcp": [], "bare": [], "floor": []}
                for _ in range(3):
                    samples["raw"].append(await timed(raw_call, rounds))
                    samples["mcp"].append(await timed(lambda: tool(name, arguments), rounds))
                    samples["bare"].append(await timed(lambda: bare.call_tool(name, arguments), rounds))
                    samples["floor"].append(await timed(floor_call, rounds))
                r, m, b, f = (statistics.median(samples[side]) for side in ("raw", "mcp", "bare", "floor"))
                print(f"{label:<28}{r:>8.2f}{m:>8.2f}{m / r:>7.2f}x{b:>9.2f}{b / r:>7.2f}x"
                      + (f"{target:>7.1f}x" if target else " " * 8) + f"{f:>10.2f}{b / f:>10.2f}x")


async def tools_list_size() -> None:
    from komodo_mcp.config import Settings
    from komodo_mcp.server import build_server

    section("tools/list of the default toolset (compact JSON characters)")
    async with Client(build_server(Settings(url="http://127.0.0.1:9"), check=False)) as client:
        tools = [t.model_dump(by_alias=True, exclude_none=True, mode="json") for t in (await client.list_tools()).tools]

    def size(value: Any) -> int:
        return len(json.dumps(value, separators=(",", ":")))
    total, output = size({"tools": tools}), sum(size(t.get("outputSchema")) for t in tools)
    print(f"{len(tools)} tools: {total:,} chars, of which outputSchema {output:,} ({output / total:.0%}), "
          f"inputSchema {sum(size(t['inputSchema']) for t in tools):,}")


def cold_start(runs: int) -> None:
    section(f"cold start to the first tools/list over stdio, median of {runs} (interleaved with the baseline)")
    base_env = {**os.environ, "KOMODO_MCP_LOG_LEVEL": "WARNING", "KOMODO_MCP_AUDIT_LOG": "off"}
    with SimulatorThread(Simulator()) as sim:
        remote = {**base_env, "KOMODO_URL": sim.url, "KOMODO_API_KEY": ADMIN_KEY, "KOMODO_API_SECRET": ADMIN_SECRET}
        samples: dict[str, list[float]] = {"import mcp.server.mcpserver": [], "komodo-mcp (remote Komodo)": []}
        for _ in range(runs):
            samples["import mcp.server.mcpserver"].append(time_import())
            samples["komodo-mcp (remote Komodo)"].append(time_to_tools_list([], remote))
    baseline = statistics.median(samples["import mcp.server.mcpserver"])
    for name, values in samples.items():
        print(f"{name:<32}{statistics.median(values) * 1000:>7.0f} ms {statistics.median(values) / baseline:>6.2f}x")


async def http_throughput(seconds: float, baseline: str | None, clients: int = 8) -> None:
    section(f"Streamable HTTP: GetDeployment, {clients} clients, {seconds:g} s, simulator in its own process")
    port = free_port()
    simulator = subprocess.Popen([sys.executable, "-m", "komodo_mcp", "simulator", "--port", str(port)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    komodo_url = f"http://127.0.0.1:{port}"
    servers: dict[str, tuple[subprocess.Popen, str]] = {}
    try:
        for _ in range(200):
            try:
                httpx2.get(f"{komodo_url}/version", timeout=0.5)
                break
            except httpx2.TransportError:
                time.sleep(0.05)
        sources = {"this checkout": None, **({f"baseline ({baseline})": baseline} if baseline else {})}
        for label, source in sources.items():
            servers[label] = start_http_server(komodo_url, source)
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
            "name": "komodo_read_GetDeployment", "arguments": {"id": "api-v2"}, "_meta": META}})
        headers = {"content-type": "application/json", "accept": "application/json, text/event-stream",
                   "mcp-protocol-version": "2026-07-28", "mcp-method": "tools/call",
                   "mcp-name": "komodo_read_GetDeployment"}

        def caller(url: str) -> Any:
            async def call(http: httpx2.AsyncClient) -> None:
                response = await http.post(url, content=body, headers=headers)
                assert response.status_code == 200 and '"isError":true' not in response.text.replace(" ", "")
            return call

        rates: dict[str, list[float]] = {label: [] for label in servers}
        for label, (_, url) in servers.items():
            await load(caller(url), 1, 1.0)  # warm up: caches, connections
        for _ in range(2):  # interleaved, so both see the same machine load
            for label, (_, url) in servers.items():
                rates[label].append((await load(caller(url), clients, seconds / 2))[0])
        first = statistics.median(rates["this checkout"])
        for label, runs in rates.items():
            print(f"{label:<48}{statistics.median(runs):>6.0f} calls/s (runs: {', '.join(f'{r:.0f}' for r in runs)})"
                  f"{'' if label == 'this checkout' else f'  -> this checkout: {first / statistics.median(runs):.2f}x'}")
    finally:
        for process in (*(server for server, _ in servers.values()), simulator):
            process.terminate()
            process.wait(timeout=10)


async def main(args: argparse.Namespace) -> None:
    if not args.skip_counts:
        await requests_per_call()
    await ratios(args.rounds)
    await ratios(args.rounds, latency_ms=2.0)
    await tools_list_size()
    cold_start(args.runs)
    await http_throughput(args.seconds, args.baseline_src)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--skip-counts", action="store_true")
    parser.add_argument("--baseline-src", help="another checkout's src (e.g. the code before the lean work): its "
                                               "HTTP throughput is measured in the same run, interleaved")
    anyio.run(main, parser.parse_args())

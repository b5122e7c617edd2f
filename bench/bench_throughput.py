"""Throughput over Streamable HTTP: tool calls per second with 1, 8 and 64 concurrent clients, and p50/p99 latency.

Run by hand:  .venv/bin/python bench/bench_throughput.py [--seconds 5]
Each client is a 2026-07-28 (stateless) client calling komodo_read_ListTags (one Komodo call) in a loop. The
baseline, measured in the same run, is the same number of clients calling Komodo's ListTags directly. Load
generator, server and simulator share the machine's two cores.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any, Awaitable, Callable

import anyio
import httpx2
from _common import percentile, start_http_server

from komodo_sim import ADMIN_KEY, ADMIN_SECRET, Simulator, SimulatorThread

META = {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}}


async def load(call: Callable[[httpx2.AsyncClient], Awaitable[Any]], clients: int, seconds: float) -> tuple[float, list[float]]:
    latencies: list[float] = []
    deadline = time.monotonic() + seconds

    async def worker() -> None:
        async with httpx2.AsyncClient(timeout=30) as http:
            while time.monotonic() < deadline:
                start = time.perf_counter()
                await call(http)
                latencies.append(time.perf_counter() - start)

    began = time.monotonic()
    async with anyio.create_task_group() as group:
        for _ in range(clients):
            group.start_soon(worker)
    return len(latencies) / (time.monotonic() - began), latencies


async def main(seconds: float) -> None:
    with SimulatorThread(Simulator()) as sim:
        process, url = start_http_server(sim.url)
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
            "name": "komodo_read_ListTags", "arguments": {}, "_meta": META}})
        headers = {"content-type": "application/json", "accept": "application/json, text/event-stream",
                   "mcp-protocol-version": "2026-07-28", "mcp-method": "tools/call", "mcp-name": "komodo_read_ListTags"}

        async def mcp_call(http: httpx2.AsyncClient) -> None:
            response = await http.post(url, content=body, headers=headers)
            assert response.status_code == 200 and "production" in response.text

        raw_body = json.dumps({"type": "ListTags", "params": {}})
        raw_headers = {"content-type": "application/json", "x-api-key": ADMIN_KEY, "x-api-secret": ADMIN_SECRET}

        async def raw_call(http: httpx2.AsyncClient) -> None:
            response = await http.post(f"{sim.url}/read", content=raw_body, headers=raw_headers)
            assert response.status_code == 200

        try:
            print(f"{'clients':>8} {'mcp calls/s':>12} {'p50 ms':>8} {'p99 ms':>8} {'raw calls/s':>12} {'ratio':>6}")
            for clients in (1, 8, 64):
                rate, latencies = await load(mcp_call, clients, seconds)
                raw_rate, _ = await load(raw_call, clients, seconds)
                print(f"{clients:>8} {rate:>12.0f} {percentile(latencies, 0.5) * 1000:>8.1f} "
                      f"{percentile(latencies, 0.99) * 1000:>8.1f} {raw_rate:>12.0f} {rate / raw_rate:>6.2f}")
        finally:
            process.terminate()
            process.wait(timeout=10)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5)
    anyio.run(main, parser.parse_args().seconds)

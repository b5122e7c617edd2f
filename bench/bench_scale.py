"""Scale: ListDeployments (page 1) and GetSummary with 100, 1,000, 10,000 and 50,000 deployments, and the server's
peak memory while serving the 10,000-deployment fleet.

Run by hand:  .venv/bin/python bench/bench_scale.py [--rounds 10]
Each figure is the median MCP call over HTTP (stateless, 2026-07-28) next to the raw Komodo calls it needs.
"""

from __future__ import annotations

import argparse
import time

import httpx2
from _common import median_ms, peak_rss_mb, start_http_server

from komodo_sim import ADMIN_KEY, ADMIN_SECRET, Simulator, SimulatorThread

META = {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}}


def timed(call, rounds: int) -> float:
    call()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return median_ms(samples)


def main(rounds: int) -> None:
    print(f"{'deployments':>11} {'ListDeployments ms':>19} {'raw List ms':>12} {'GetSummary ms':>14} "
          f"{'raw summaries ms':>17} {'server peak RSS MB':>19}")
    for count in (100, 1_000, 10_000, 50_000):
        with SimulatorThread(Simulator(resources=count)) as sim:
            process, url = start_http_server(sim.url)
            http = httpx2.Client(timeout=120)

            def tool(name: str, arguments: dict) -> None:
                body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                        "params": {"name": name, "arguments": arguments, "_meta": META}}
                response = http.post(url, json=body, headers={
                    "accept": "application/json, text/event-stream", "mcp-protocol-version": "2026-07-28",
                    "mcp-method": "tools/call", "mcp-name": name})
                assert response.status_code == 200 and '"isError":true' not in response.text.replace(" ", "")

            def raw(*calls: tuple[str, dict]) -> None:
                for operation, params in calls:
                    http.post(f"{sim.url}/read", json={"type": operation, "params": params},
                              headers={"x-api-key": ADMIN_KEY, "x-api-secret": ADMIN_SECRET}).raise_for_status()

            summaries = [(f"Get{k}Summary", {}) for k in ("Servers", "Deployments", "Stacks", "Builds", "Repos",
                                                          "Procedures", "Actions", "ResourceSyncs")]
            try:
                figures = (
                    timed(lambda: tool("komodo_read_ListDeployments", {"page_size": 50}), rounds),
                    timed(lambda: raw(("ListDeployments", {"query": {}, "limit": 50}), ("GetDeploymentsSummary", {})),
                          rounds),
                    timed(lambda: tool("komodo_read_GetSummary", {}), rounds),
                    timed(lambda: raw(*summaries), rounds),
                )
                rss = peak_rss_mb(process.pid)
            finally:
                process.terminate()
                process.wait(timeout=10)
        print(f"{count + 8:>11} {figures[0]:>19.1f} {figures[1]:>12.1f} {figures[2]:>14.1f} {figures[3]:>17.1f} "
              f"{rss:>19.0f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10)
    main(parser.parse_args().rounds)

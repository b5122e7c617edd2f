"""Cold start: process start to the first `tools/list` answer over stdio, in demo mode and against a remote Komodo.

Run by hand:  .venv/bin/python bench/bench_cold_start.py [--runs 7]
The baseline measured in the same run is a bare `python -c "import mcp.server.mcpserver"`.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import subprocess
import sys
import time

from _common import median_ms

from komodo_sim import ADMIN_KEY, ADMIN_SECRET, Simulator, SimulatorThread

INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}}}


@functools.cache
def compile_bytecode(pythonpath: str | None) -> None:
    """Compile komodo-mcp's modules, as installing it does (pip at install, Python on the first import): a checkout run
    under PYTHONDONTWRITEBYTECODE=1 would compile every module from source at every start (~50 ms), which no
    installed server does and the SDK, installed, never pays. `pythonpath`: the checkout the server runs from."""
    env = {**os.environ, **({"PYTHONPATH": pythonpath} if pythonpath else {})}
    where = subprocess.run([sys.executable, "-c", "import komodo_mcp, komodo_sim, os; "
                            "print(os.path.dirname(komodo_mcp.__file__)); print(os.path.dirname(komodo_sim.__file__))"],
                           env=env, capture_output=True, text=True, check=True).stdout.split()
    subprocess.run([sys.executable, "-m", "compileall", "-q", *where], env=env, stdout=subprocess.DEVNULL, check=True)


def time_to_tools_list(args: list[str], env: dict[str, str]) -> float:
    compile_bytecode(env.get("PYTHONPATH"))
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "komodo_mcp", *args], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    assert process.stdin and process.stdout
    process.stdin.write((json.dumps(INIT) + "\n").encode())
    process.stdin.write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
    process.stdin.write(b'{"jsonrpc":"2.0","id":2,"method":"tools/list"}\n')
    process.stdin.flush()
    while True:
        message = json.loads(process.stdout.readline())
        if message.get("id") == 2:
            elapsed = time.perf_counter() - start
            break
    process.stdin.close()
    process.wait(timeout=10)
    return elapsed


def time_import() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import mcp.server.mcpserver"], check=True)
    return time.perf_counter() - start


def main(runs: int) -> None:
    base_env = {**os.environ, "KOMODO_MCP_LOG_LEVEL": "WARNING", "KOMODO_MCP_AUDIT_LOG": "off"}
    with SimulatorThread(Simulator()) as sim:
        remote_env = {**base_env, "KOMODO_URL": sim.url, "KOMODO_API_KEY": ADMIN_KEY, "KOMODO_API_SECRET": ADMIN_SECRET}
        results: dict[str, list[float]] = {"baseline: import mcp.server.mcpserver": [], "komodo-mcp --demo": [],
                                           "komodo-mcp (remote Komodo URL)": []}
        for _ in range(runs):  # interleaved, so a load change on the machine shifts all three alike
            results["baseline: import mcp.server.mcpserver"].append(time_import())
            results["komodo-mcp --demo"].append(time_to_tools_list(["--demo"], base_env))
            results["komodo-mcp (remote Komodo URL)"].append(time_to_tools_list([], remote_env))
    baseline = median_ms(results["baseline: import mcp.server.mcpserver"])
    print(f"cold start to first tools/list over stdio, median of {runs} runs\n")
    for name, samples in results.items():
        print(f"{name:<42}{median_ms(samples):8.0f} ms   {median_ms(samples) / baseline:4.2f}x baseline")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    main(parser.parse_args().runs)

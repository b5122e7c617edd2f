"""Shared by the benchmarks: a komodo-mcp server process over HTTP, and percentile maths."""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time
from typing import Any, Awaitable, Callable

from komodo_sim import ADMIN_KEY, ADMIN_SECRET


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_http_server(komodo_url: str, source: str | None = None) -> tuple[subprocess.Popen, str]:
    """A komodo-mcp HTTP server process; `source`: another checkout's `src` to run instead (e.g. a baseline)."""
    port = free_port()
    env = {**os.environ, **({"PYTHONPATH": source} if source else {}), "KOMODO_URL": komodo_url,
           "KOMODO_API_KEY": ADMIN_KEY, "KOMODO_API_SECRET": ADMIN_SECRET,
           "KOMODO_MCP_RATE_LIMIT": "0", "KOMODO_MCP_LOG_LEVEL": "WARNING", "KOMODO_MCP_AUDIT_LOG": "off",
           "KOMODO_MCP_TOOLSETS": "all"}
    process = subprocess.Popen([sys.executable, "-m", "komodo_mcp", "--transport", "http", "--port", str(port)],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, f"http://127.0.0.1:{port}/mcp"
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("server did not start")


def peak_rss_mb(pid: int) -> float:
    """VmHWM: the process's peak resident set size."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


async def timed(fn: Callable[[], Awaitable[Any]], rounds: int) -> float:
    """Median milliseconds of `rounds` awaits of `fn`, after three warm-up calls."""
    for _ in range(3):
        await fn()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        await fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000

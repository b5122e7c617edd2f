"""komodo-mcp as a separate process on a loopback port, the way users and clients run it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

# How long a test waits for what must happen (a process listening or answering, a job ending) before calling it a
# hang. Generous on purpose: with both cores busy a start-up takes many seconds, and only a real hang should get here.
PATIENCE_S = 120.0


def free_port() -> int:
    """A loopback port nothing listens on (also: a Komodo that is down)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_listening(port: int, process: subprocess.Popen, timeout: float = PATIENCE_S) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"komodo-mcp did not listen on {port} (exit code {process.poll()})") from None
            time.sleep(0.05)


@contextmanager
def http_server(*args: str, env: dict[str, str] | None = None, scheme: str = "http",
                stderr: Path | None = None) -> Iterator[str]:
    """`komodo-mcp --transport http` on a free port; yields its base URL and stops it afterwards."""
    port = free_port()
    log = stderr.open("w") if stderr else subprocess.DEVNULL
    process = subprocess.Popen([sys.executable, "-m", "komodo_mcp", "--transport", "http", "--port", str(port),
                                *args], env={**os.environ, "KOMODO_MCP_AUDIT_LOG": "off", **(env or {})},
                               stdout=subprocess.DEVNULL, stderr=log)
    try:
        wait_until_listening(port, process)
        yield f"{scheme}://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)
        if stderr:
            log.close()

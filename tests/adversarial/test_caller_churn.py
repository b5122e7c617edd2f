"""Caller-identity churn over HTTP: every request with a new X-Komodo-Api-Key/-Secret pair, valid or not. The
server's memory and descriptors stay flat, every answer is structured, and its own key and the callers whose
keys already worked keep working (new keys wait while bad ones use up the budget: the documented trade-off)."""

from __future__ import annotations

import gc
import json

from komodo_mcp.server import build_server
from komodo_mcp.transports.http import http_app
from komodo_sim import ADMIN_KEY, VIEWER_KEY, VIEWER_SECRET, AsgiThread, Simulator

from ..conftest import serve, settings_for
from ..test_hardening import open_descriptors, resident_bytes
from ..wire import MODERN, rpc
from .conftest import FULL, record

CALLERS = 3000 if FULL else 150


def test_distinct_caller_keys_cost_nothing_that_stays():
    sim = serve(Simulator(exec_delay=0.1, auth_max_attempts=5, auth_window_s=15))  # Komodo's lockout
    store = sim.simulator.store
    _, admin = store.api_keys[ADMIN_KEY]
    settings = settings_for(sim.url)
    server = AsgiThread(http_app(build_server(settings, check=False), settings))
    url = server.start() + "/mcp"
    call = {"name": "komodo_read_GetVersion", "arguments": {}}
    codes: dict[str, int] = {}
    viewer = {"x-komodo-api-key": VIEWER_KEY, "x-komodo-api-secret": VIEWER_SECRET}
    try:
        assert not rpc(url, "tools/call", call, MODERN, headers=viewer)["result"]["isError"]  # proven
        def churn(first: int, last: int) -> None:
            for n in range(first, last):
                key, secret = f"K-churn-{n}", f"S-churn-{n}"
                if n % 2:  # every other caller is a real Komodo user
                    store.api_keys[key] = (secret, admin)
                answer = rpc(url, "tools/call", call, MODERN,
                             headers={"x-komodo-api-key": key, "x-komodo-api-secret": secret})["result"]
                code = json.loads(answer["content"][0]["text"]).get("code", "OK") if answer["isError"] else "OK"
                codes[code] = codes.get(code, 0) + 1

        churn(0, CALLERS // 10)  # warm
        gc.collect()
        descriptors, memory = open_descriptors(), resident_bytes()
        churn(CALLERS // 10, CALLERS)
        gc.collect()
        own = rpc(url, "tools/call", call, MODERN)["result"]
        proven = rpc(url, "tools/call", call, MODERN, headers=viewer)["result"]
    finally:
        server.stop()
        sim.stop()
    record("churn_callers", CALLERS)
    record("churn_memory_growth_kb", max(0, (resident_bytes() - memory) // 1024))
    assert not own["isError"] and not proven["isError"]  # bad caller keys never locked Komodo's door
    assert set(codes) <= {"OK", "AUTH_ERROR", "RATE_LIMIT_ERROR"} and sum(codes.values()) == CALLERS
    assert open_descriptors() <= descriptors + 4
    assert resident_bytes() - memory < 30_000_000

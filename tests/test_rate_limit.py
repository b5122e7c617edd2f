"""The client-side rate limit counts tool calls, not Komodo requests; a wrong key is one failed login, not ten.

The limiter's clock is injected: no test here waits for or depends on wall-clock time.
"""

from __future__ import annotations

import itertools

import pytest
from mcp.client import Client

from komodo_mcp.client import KomodoClient, TimedOut, gather
from komodo_mcp.client._ratelimit import TokenBucket
from komodo_mcp.config import DEFAULT_RATE_LIMIT_BURST, DEFAULT_RATE_LIMIT_PER_MINUTE
from komodo_mcp.server import build_server
from komodo_sim import Simulator

from .conftest import ManualClock, call, serve, settings_for
from .round_trips import CountingTransport

pytestmark = pytest.mark.anyio


def test_a_zero_rate_turns_limiting_off():
    bucket = TokenBucket(per_minute=0, burst=1, clock=ManualClock())
    for _ in range(1000):
        bucket.take()


MIXED = [("komodo_read_GetDeployment", {"id": "api-v2"}), ("komodo_read_ListDeployments", {}),
         ("komodo_read_GetSummary", {}), ("komodo_read_GetServer", {"id": "production-api"}),
         ("komodo_read_ListUpdates", {}), ("komodo_read_GetBuild", {"id": "api-build"}),
         ("komodo_read_ListStacks", {}), ("komodo_read_GetDeploymentLog", {"id": "web-frontend", "tail": 5})]


async def test_a_hundred_mixed_tool_calls_in_a_minute_are_not_throttled_by_default(shared_sim):
    clock = ManualClock()  # frozen: no token comes back during the test, as if all calls came within a second
    settings = settings_for(shared_sim.url, rate_limit_per_minute=DEFAULT_RATE_LIMIT_PER_MINUTE,
                            rate_limit_burst=DEFAULT_RATE_LIMIT_BURST)
    komodo = KomodoClient(settings, clock=clock)
    codes = []
    async with Client(build_server(settings, komodo=komodo, check=False), mode="2026-07-28") as client:
        for tool, arguments in itertools.islice(itertools.cycle(MIXED), 100):
            error, body = await call(client, tool, arguments)
            codes.append(body.get("code", "OK"))
    bucket_left = komodo._bucket.tokens
    await komodo.aclose()
    assert codes == ["OK"] * 100
    assert komodo.calls > 300  # the calls fanned out into many more Komodo requests...
    assert bucket_left == DEFAULT_RATE_LIMIT_BURST - 100  # ...but each tool call spent one token


async def test_the_limit_still_refuses_tool_calls_beyond_it(shared_sim):
    settings = settings_for(shared_sim.url, rate_limit_per_minute=60, rate_limit_burst=2)
    komodo = KomodoClient(settings, clock=ManualClock())
    async with Client(build_server(settings, komodo=komodo, check=False), mode="2026-07-28") as client:
        first = await call(client, "komodo_read_GetSummary")
        second = await call(client, "komodo_read_GetDeployment", {"id": "api-v2"})
        third = await call(client, "komodo_read_GetVersion")
    await komodo.aclose()
    assert not first[0] and not second[0]
    assert third[1]["code"] == "RATE_LIMIT_ERROR" and third[1]["retry_after"] == 1.0


async def test_a_wrong_key_answers_auth_error_after_one_failed_login():
    sim = serve(Simulator(exec_delay=0.15))
    settings = settings_for(sim.url, secret="S_wrong_S", retries=0)
    try:
        async with Client(build_server(settings, check=False), mode="2026-07-28") as client:
            before = sim.simulator.requests_served
            first = await call(client, "komodo_read_GetSummary")  # ten summaries, side by side when the key works
            after_first = sim.simulator.requests_served
            second = await call(client, "komodo_read_GetSummary")
            after_second = sim.simulator.requests_served
    finally:
        sim.stop()
    assert first[1]["code"] == "AUTH_ERROR" and second[1]["code"] == "AUTH_ERROR"
    assert "4 attempts remaining" in first[1]["error"] and "3 attempts remaining" in second[1]["error"]
    assert (after_first - before, after_second - after_first) == (1, 1)


async def test_requests_waiting_behind_a_timeout_before_komodo_ever_answered_fail_without_waiting_again(sim):
    sim.simulator.latency_s = 0.5
    transport = CountingTransport()
    client = KomodoClient(settings_for(sim.url, timeout=0.1, retries=0), transport=transport)
    results = await gather(*(client.read("GetVersion") for _ in range(3)), tolerate=True)
    await client.aclose()
    assert [type(result) for result in results] == [TimedOut] * 3
    assert transport.operations == ["GetVersion"]  # one request sent; the other two failed the same way at once

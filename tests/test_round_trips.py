"""The number of Komodo requests of every tool is fixed here, so it cannot creep back up unnoticed.

Each count is taken on the wire (tests/round_trips.py) against a fresh simulator: the first call on a fresh
server, then the same call again with the server's caches warm.
"""

from __future__ import annotations

import logging

import httpx2
import pytest

from komodo_mcp.tools._registry import all_specs
from komodo_sim import ADMIN_KEY, ADMIN_SECRET, Simulator

from .conftest import call, mcp_client, serve, settings_for
from .round_trips import ROUND_TRIPS, CountingTransport, count_requests

pytestmark = pytest.mark.anyio


def test_every_tool_has_a_counted_sample():
    assert list(ROUND_TRIPS) == [spec.name for spec in all_specs()]


@pytest.mark.parametrize("tool", list(ROUND_TRIPS))
async def test_komodo_requests_per_call(tool, caplog):
    caplog.set_level(logging.CRITICAL)
    sim = serve(Simulator(exec_delay=5))  # executions outlive the test: no job ends between the two calls
    try:
        calls, errors = await count_requests(settings_for(sim.url), sim, tool)
    finally:
        sim.stop()
    _, first, warm = ROUND_TRIPS[tool]
    assert not errors[0], f"{tool}'s sample call failed"
    assert [len(c) for c in calls] == [first, warm], calls


async def test_a_known_deployment_is_read_without_repeating_finished_jobs_or_tags(sim):
    calls, _ = await count_requests(settings_for(sim.url), sim, "komodo_read_GetDeployment")
    assert calls[0].count("GetUpdate") == 5 and "ListTags" in calls[0]
    assert sorted(calls[1]) == ["GetDeployment", "GetDeploymentContainer", "GetDeploymentStats", "ListDeployments",
                                "ListUpdates"]


async def test_a_name_that_now_belongs_to_another_resource_is_read_afresh(sim):
    def komodo(module: str, operation: str, **params: object) -> dict:
        return httpx2.post(f"{sim.url}/{module}", json={"type": operation, "params": params},
                           headers={"x-api-key": ADMIN_KEY, "x-api-secret": ADMIN_SECRET}).json()

    async with mcp_client(settings_for(sim.url)) as client:
        _, before = await call(client, "komodo_read_GetDeployment", {"id": "api-v2"})  # its id is now cached
        komodo("write", "DeleteDeployment", id="api-v2")
        created = komodo("write", "CreateDeployment", name="api-v2", config={"server_id": "staging-web"})
        _, after = await call(client, "komodo_read_GetDeployment", {"id": "api-v2"})
    assert before["data"]["deployment_history"] and after["data"]["deployment_history"] == []
    assert after["data"]["id"] == created["_id"]["$oid"] != before["data"]["id"]



async def test_list_totals_are_counted_once_then_kept_until_a_page_or_this_servers_write_says_otherwise(sim):
    from mcp.client import Client

    from komodo_mcp.client import KomodoClient
    from komodo_mcp.server import build_server

    settings = settings_for(sim.url)
    transport = CountingTransport()
    komodo = KomodoClient(settings, transport=transport)

    async def page(client: Client, number: int, size: int = 2) -> tuple[int, list[str]]:
        before = len(transport.operations)
        _, answer = await call(client, "komodo_read_ListDeployments", {"page": number, "page_size": size})
        return answer["data"]["total"], transport.operations[before:]

    try:
        async with Client(build_server(settings, komodo=komodo, check=False), mode="2026-07-28") as client:
            counted, asked = await page(client, 1)
            assert "GetDeploymentsSummary" in asked
            assert await page(client, 1) == (counted, ["ListDeployments", "ListFullDeployments"])
            await call(client, "komodo_write_CreateDeployment", {"name": "orders-api", "server": "staging-web",
                                                                 "image": "nginx"})
            total, asked = await page(client, 1)  # this server's own create is counted at once
            assert total == counted + 1 and "GetDeploymentsSummary" in asked
            httpx2.post(f"{sim.url}/write", json={"type": "CreateDeployment", "params": {  # made elsewhere
                "name": "batch-worker", "config": {"server_id": "staging-web"}}},
                headers={"x-api-key": ADMIN_KEY, "x-api-secret": ADMIN_SECRET}).raise_for_status()
            assert await page(client, 1) == (counted + 1, ["ListDeployments", "ListFullDeployments"])  # kept
            size = next(size for size in range(3, 10) if (counted + 2) % size)  # a last page that is not full
            total, asked = await page(client, (counted + 2) // size + 1, size)  # tells the count itself
            assert total == counted + 2 and "GetDeploymentsSummary" not in asked
    finally:
        await komodo.aclose()

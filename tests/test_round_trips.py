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
from .round_trips import ROUND_TRIPS, count_requests

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

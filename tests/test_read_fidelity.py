"""Reads that follow Komodo's own rules, over MCP against the simulator (issue 12 point 11 and the read audit)."""

from __future__ import annotations

import pytest

from .conftest import call, mcp_client, settings_for

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
async def client(shared_sim):
    async with mcp_client(settings_for(shared_sim.url)) as connected:
        yield connected


async def test_a_restarting_deployment_is_failed_in_the_summary_and_in_the_list(client):
    """Komodo's summary counts a restarting container `unhealthy` (api/read/deployment.rs): failed everywhere."""
    _, summary = await call(client, "komodo_read_GetSummary")
    _, failed = await call(client, "komodo_read_ListDeployments", {"status": "failed", "page_size": 100})
    _, stopped = await call(client, "komodo_read_ListDeployments", {"status": "stopped", "page_size": 100})
    assert "nginx-proxy" in [d["name"] for d in failed["data"]["items"]]
    counts = summary["data"]["deployments"]
    assert (counts["failed"], counts["stopped"]) == (failed["data"]["total"], stopped["data"]["total"])


async def test_containers_are_attributed_to_their_deployment_or_stack_by_name(client):
    _, containers = await call(client, "komodo_read_ListContainers", {"server_id": "production-api"})
    owners = {c["name"]: c["komodo_resource"] for c in containers["data"]["items"]}
    assert owners["api-v2"] == "api-v2" and owners["jobs-stack-api-1"] == owners["jobs-stack-worker-1"] == "jobs-stack"


async def test_a_build_never_built_is_listed_as_pending(client):
    """Komodo reports a build that never ran as Ok; the pending filter still finds it."""
    _, pending = await call(client, "komodo_read_ListBuilds", {"status": "pending"})
    _, success = await call(client, "komodo_read_ListBuilds", {"status": "success"})
    assert [b["name"] for b in pending["data"]["items"]] == ["worker-build"]
    assert [b["name"] for b in success["data"]["items"]] == ["api-build"]

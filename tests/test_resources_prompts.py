"""Resources, resource templates with name completion, and prompts, through the SDK client."""

from __future__ import annotations

import json

import pytest
from mcp.types import PromptReference, ResourceTemplateReference

from .conftest import mcp_client, settings_for

pytestmark = pytest.mark.anyio


async def test_resources_and_templates_are_listed_and_read(shared_sim, era):
    async with mcp_client(settings_for(shared_sim.url), era) as client:
        listed = [r.uri for r in (await client.list_resources()).resources]
        templates = sorted(t.uri_template for t in (await client.list_resource_templates()).resource_templates)
        summary = await client.read_resource("komodo://summary")
        deployment = await client.read_resource("komodo://deployments/api-v2")
        compose = await client.read_resource("komodo://stacks/monitoring-stack/compose")
    assert [str(uri) for uri in listed] == ["komodo://summary"]
    assert templates == ["komodo://deployments/{name}", "komodo://stacks/{name}/compose", "komodo://updates/{id}"]
    assert json.loads(summary.contents[0].text)["deployments"]["total"] == 8
    detail = json.loads(deployment.contents[0].text)
    assert detail["name"] == "api-v2" and detail["env"]["DB_PASSWORD"] == "********"
    assert compose.contents[0].text.startswith("services:\n  prometheus:")


async def test_an_update_resource_reads_a_job(shared_sim):
    async with mcp_client(settings_for(shared_sim.url)) as client:
        updates = await client.call_tool("komodo_read_ListUpdates", {"page_size": 1})
        job_id = updates.structured_content["data"]["items"][0]["job_id"]
        job = await client.read_resource(f"komodo://updates/{job_id}")
    assert json.loads(job.contents[0].text)["job_id"] == job_id


async def test_names_complete_for_templates_and_prompts(shared_sim):
    async with mcp_client(settings_for(shared_sim.url)) as client:
        deployments = await client.complete(ResourceTemplateReference(type="ref/resource",
                                                                      uri="komodo://deployments/{name}"),
                                            {"name": "name", "value": "api"})
        stacks = await client.complete(PromptReference(type="ref/prompt", name="triage-deployment"),
                                       {"name": "deployment", "value": "web"})
    assert deployments.completion.values == ["api-v1", "api-v2", "canary-api"]
    assert stacks.completion.values == ["web-frontend"]


async def test_prompts_are_listed_and_name_the_tools_to_use(shared_sim, era):
    async with mcp_client(settings_for(shared_sim.url), era) as client:
        prompts = {p.name: p for p in (await client.list_prompts()).prompts}
        triage = await client.get_prompt("triage-deployment", {"deployment": "worker-queue"})
        rollout = await client.get_prompt("roll-out-image", {"deployment": "api-v2", "image": "myapp:v2.2.0"})
    assert set(prompts) == {"triage-deployment", "roll-out-image", "review-alerts"}
    assert [a.name for a in prompts["roll-out-image"].arguments] == ["deployment", "image"]
    text = triage.messages[0].content.text
    assert "komodo_read_GetDeployment id=worker-queue" in text and "komodo_read_GetDeploymentLog" in text
    assert text.index("komodo_read_Diagnose id=worker-queue") < text.index("komodo_read_GetDeployment")
    assert "komodo_execute_Deploy id=api-v2" in rollout.messages[0].content.text

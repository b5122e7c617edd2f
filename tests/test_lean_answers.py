"""Answers and the tool list cost no bytes the reader does not need: compact text, output schemas without noise."""

from __future__ import annotations

import json

import pytest

from .conftest import mcp_client, settings_for

pytestmark = pytest.mark.anyio


async def test_text_content_is_the_compact_form_of_the_structured_content(shared_sim):
    async with mcp_client(settings_for(shared_sim.url)) as client:
        result = await client.call_tool("komodo_read_ListDeployments", {"page_size": 5})
        error = await client.call_tool("komodo_read_GetDeployment", {"id": "no-such-deployment"})
    text = result.content[0].text
    assert json.loads(text) == result.structured_content and len(result.structured_content["data"]["items"]) == 5
    assert text == json.dumps(result.structured_content, separators=(",", ":"), ensure_ascii=False)
    assert "\n" not in error.content[0].text and json.loads(error.content[0].text)["code"] == "NOT_FOUND"

"""Every call that changes something is recorded: time, tool, masked arguments, caller, result code, job id."""

from __future__ import annotations

import json

import pytest

from komodo_mcp.audit import mask_arguments

from .conftest import call, mcp_client, settings_for

pytestmark = pytest.mark.anyio


async def test_execute_calls_are_audited_and_reads_are_not(held_sim, tmp_path):
    log = tmp_path / "audit.jsonl"
    async with mcp_client(settings_for(held_sim.url, audit_log=str(log))) as client:
        _, deploy = await call(client, "komodo_execute_Deploy", {"id": "api-v2"})
        await call(client, "komodo_execute_Deploy", {"id": "api-v2"})  # busy: CONFLICT, also recorded
        await call(client, "komodo_read_GetDeployment", {"id": "api-v2"})
        await call(client, "komodo_execute_StopDeployment", {"id": "redis-cache"})  # unconfirmed: recorded
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(e["tool"], e["result"]) for e in entries] == [
        ("komodo_execute_Deploy", "OK"), ("komodo_execute_Deploy", "CONFLICT"),
        ("komodo_execute_StopDeployment", "VALIDATION_ERROR")]
    assert entries[0]["job_id"] == deploy["data"]["job_id"] and entries[0]["arguments"] == {"id": "api-v2"}
    assert entries[0]["caller"] == "stdio" and entries[0]["audit"] is True and entries[0]["ts"].endswith("Z")


def test_arguments_are_masked():
    masked = mask_arguments({"name": "DB_PASSWORD", "value": "hunter2", "environment": {"API_TOKEN": "t", "A": "1"}})
    assert masked == {"name": "DB_PASSWORD", "value": "********", "environment": {"API_TOKEN": "********", "A": "1"}}

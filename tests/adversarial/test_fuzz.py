"""Schema-driven fuzzing of every tool's arguments: wrong types, huge and hostile strings, missing and unknown
fields. Every answer must be a valid result or a structured error (never INTERNAL_ERROR or a traceback), stay
bounded, and a refused call must change nothing."""

from __future__ import annotations

import hashlib
import json
import random
from typing import Any

import pytest

from komodo_mcp.mapping.envelope import MAX_RESULT_CHARS

from ..conftest import mcp_client, settings_for
from .conftest import FULL, finding, record

pytestmark = pytest.mark.anyio

CODES = {"VALIDATION_ERROR", "AUTH_ERROR", "FORBIDDEN", "NOT_FOUND", "CONFLICT", "RATE_LIMIT_ERROR",
         "NETWORK_ERROR", "TIMEOUT_ERROR"}
HOSTILE = ["", " ", "A" * 100_000, "名前🚀\u202e\u0000ok", "'; DROP TABLE users; --", "../../../etc/passwd",
           "$(touch /tmp/pwn)", "`id`", "{{7*7}}", "${jndi:ldap://x/a}", "\r\nX-Injected: 1", "%s%s%n",
           "<script>alert(1)</script>", "[[DB_PASSWORD]]", "__KOMODO_EXIT_CODE:abc", "v1.x", "-1", "🚀" * 1000,
           '{"$where": "1"}', "api-v2\u0000", "*", "null"]
WRONG = {"string": [123, 1.5, True, None, [], {}], "integer": ["1", "abc", 1.5, True, None, -1, 10**30, []],
         "number": ["x", None, [], float("inf")], "boolean": ["yes", 2, None, []],
         "array": ["x", 1, {"a": 1}, [None], [{"x": 1}], list(range(10_000))], "object": ["x", 1, [], {"": None}]}
TARGETS = {"servers": "production-api", "deployments": "api-v2", "stacks": "monitoring-stack", "builds": "api-build",
           "repos": "myapp-backend", "procedures": "daily-backup", "actions": "backup-database",
           "syncs": "infra-sync", "variables": "DB_HOST"}


def type_of(schema: dict[str, Any]) -> str:
    for option in schema.get("anyOf", [schema]):
        if option.get("type") not in (None, "null"):
            return option["type"]
        if "enum" in option:
            return "string"
    return "string"


def base_value(tool: dict[str, Any], name: str, schema: dict[str, Any], sim: Any) -> Any:
    family = tool["name"].split("_", 2)[2]
    options = schema.get("anyOf", [schema])
    if enum := next((o["enum"] for o in options if "enum" in o), None):
        return enum[0]
    if name == "job_id":
        return sim.simulator.store.updates[-1]["_id"]["$oid"]
    if name == "id" and "Alert" in family:
        return sim.simulator.store.alerts[0]["_id"]["$oid"]
    if name in ("id", "server_id", "name"):
        kind = next((k for k, v in TARGETS.items() if k[:-1] in family.lower()), None)
        if family.startswith("Create"):
            return f"fuzz-{random.Random(family).randrange(10**6)}" if "Variable" not in family else "FUZZ_VAR"
        if family.startswith(("Server", "Container")) or name == "server_id":
            return "production-api"
        return TARGETS.get(kind or "", "api-v2")
    return {"string": "x", "integer": 1, "number": 1, "boolean": False, "array": [], "object": {}}[type_of(schema)]


def cases(tool: dict[str, Any], sim: Any) -> list[tuple[str, dict[str, Any]]]:
    schema = tool["inputSchema"]
    properties, required = schema.get("properties", {}), schema.get("required", [])
    base = {name: base_value(tool, name, properties[name], sim) for name in required}
    found = [("missing everything", {}), ("unknown field", {**base, "zz_unknown": 1})]
    for name, prop in properties.items():
        values = WRONG[type_of(prop)] + (HOSTILE if type_of(prop) == "string" else [])
        found += [(f"{name}={value!r:.40}", {**base, name: value}) for value in values]
    return found


def fingerprint(sim: Any) -> str:
    store = sim.simulator.store
    # A build's version moves when an earlier fuzzed build finishes: that is not this call's doing.
    state = [(r.kind, r.id, r.name, {k: v for k, v in r.config.items() if k != "version"}, r.description, r.tags)
             for kind in store.resources.values() for r in kind.values()]
    return hashlib.sha256(json.dumps([state, store.variables, store.tags], sort_keys=True, default=str)
                          .encode()).hexdigest()


async def test_every_tool_answers_hostile_arguments_with_a_structured_answer(sim, tmp_path):
    audit = tmp_path / "audit.jsonl"
    settings = settings_for(sim.url, toolsets=("all", "terminal"), confirm=False, audit_log=str(audit))
    rng = random.Random(14)
    async with mcp_client(settings) as client:
        tools = [tool.model_dump(by_alias=True) for tool in (await client.list_tools()).tools]
        for tool in tools:
            chosen = cases(tool, sim)
            for label, arguments in chosen if FULL else rng.sample(chosen, min(3, len(chosen))):
                before = fingerprint(sim)
                record("calls")
                try:
                    result = await client.call_tool(tool["name"], arguments)
                except Exception as error:  # noqa: BLE001 - a protocol error is the finding
                    finding(f"{tool['name']} {label}: raised {type(error).__name__}")
                    continue
                text = result.content[0].text if result.content else ""
                if len(text) > MAX_RESULT_CHARS + 5_000:
                    finding(f"{tool['name']} {label}: {len(text)} characters")
                if "Traceback" in text:
                    finding(f"{tool['name']} {label}: traceback")
                if result.is_error:
                    body = json.loads(text)
                    if body["code"] == "INTERNAL_ERROR" and "komodo_status" in body.get("details", {}):
                        record("komodo_500")  # Komodo's own 500 with its message, mapped: not a crash here
                    elif body["code"] not in CODES:
                        finding(f"{tool['name']} {label}: {body['code']}: {text[:200]}")
                    code = body["code"]
                    if code == "VALIDATION_ERROR" and fingerprint(sim) != before:
                        finding(f"{tool['name']} {label}: refused, yet the state changed")
                elif "data" not in (result.structured_content or {}):
                    finding(f"{tool['name']} {label}: neither a result nor an error")
    long_lines = [line for line in audit.read_text().splitlines() if len(line) > 50_000]
    assert not long_lines, f"{len(long_lines)} audit lines over 50,000 characters"
    from .conftest import FINDINGS

    assert not FINDINGS, FINDINGS[:10]

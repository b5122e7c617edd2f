"""Answers recorded from a real Komodo Core 2.3.2 (tests/fixtures/recorded-core, see its README), and how each
recorded request translates to the simulator's seed.

The recorded installation has other names than the simulator's seed, so every recorded resource has a counterpart
in the seed in the same condition (an unreachable server, a never-deployed deployment, ...). Two recordings: in
`unreachable` no Periphery answered; in `periphery` a real Periphery drove Docker.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures" / "recorded-core"
FILES = {"unreachable": "core-2.3.2.jsonl", "periphery": "core-2.3.2-with-periphery.jsonl"}

# The seed's resource in the same condition as each recorded one, per recording.
_SHARED = {
    "Server": {"srv-off": "legacy-db"},
    "Build": {"api-image": "worker-build", "mcp-build": "web-build"},
    "Repo": {"infra": "docs-site", "mcp-repo": "infra-scripts"},
    "Procedure": {"nightly": "daily-backup", "deploy-web": "release-train", "Backup Core Database": "nightly-cleanup",
                  "Global Auto Update": "nightly-cleanup", "Rotate Server Keys": "nightly-cleanup"},
    "Action": {"hello": "backup-database", "mcp-act": "rotate-logs"},
    "ResourceSync": {"gitops": "infra-sync"},
    "Builder": {"b-server": "local-builder"},
    "Alerter": {"hook": "slack-ops"},
}
COUNTERPART: dict[str, dict[str, dict[str, str]]] = {
    "unreachable": {**_SHARED, "Server": {**_SHARED["Server"], "srv-a": "edge-cache-01"},
                    "Deployment": {"web": "metrics-exporter", "api": "metrics-exporter", "rec-dep": "canary-api"},
                    "Stack": {"shop": "edge-stack"}},
    "periphery": {**_SHARED, "Server": {**_SHARED["Server"], "srv-a": "production-api"},
                  "Deployment": {"web": "api-v2", "api": "api-v1", "never": "canary-api"},
                  "Stack": {"shop": "jobs-stack"}},
}
PARAM_KIND = {"server": "Server", "deployment": "Deployment", "stack": "Stack", "build": "Build", "repo": "Repo",
              "procedure": "Procedure", "action": "Action", "sync": "ResourceSync", "builder": "Builder",
              "alerter": "Alerter"}


def records(recording: str) -> list[dict[str, Any]]:
    with open(FIXTURES / FILES[recording]) as lines:
        return [json.loads(line) for line in lines]


def recorded_ids(recording: str) -> dict[str, tuple[str, str]]:
    """Every recorded resource id → (kind, name), from the recorded list items."""
    ids: dict[str, tuple[str, str]] = {}
    for record in records(recording):
        if record["status"] == 200 and isinstance(record["response"], list):
            for item in record["response"]:
                if isinstance(item, dict) and {"id", "type", "name"} <= set(item):
                    ids[item["id"]] = (item["type"], item["name"])
    return ids


# Params the server sent when these were recorded that Core's request type does not have: serde ignored them, so
# each answer is Core's answer to the request without them (api/read/toml.rs: ExportAllResourcesToToml reads
# `include_user_groups`, not `user_groups`).
IGNORED_BY_CORE = {"ExportAllResourcesToToml": ("user_groups",)}


def _as_core_read(request: Any) -> Any:
    ignored = IGNORED_BY_CORE.get(request["type"], ()) if request else ()
    return {**request, "params": {k: v for k, v in request["params"].items() if k not in ignored}} if ignored else request


def _key(path: str, request: Any) -> str:
    return json.dumps([path, request], sort_keys=True)


def replay_app(recording: str) -> Any:
    """A stand-in Komodo Core that answers every request exactly as the real one did when it was recorded (the first
    answer, where a request was recorded more than once), and 404s any request that was not recorded."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, PlainTextResponse, Response
    from starlette.routing import Route

    answers: dict[str, tuple[int, Any]] = {}
    for record in records(recording):
        answers.setdefault(_key(record["path"], _as_core_read(record["request"])), (record["status"], record["response"]))
    unanswered: list[str] = []

    async def answer(request: Request) -> Response:
        body = await request.json() if request.method == "POST" else None
        found = answers.get(_key(request.url.path, body))
        if found is None:
            unanswered.append(_key(request.url.path, body))
            return JSONResponse({"error": "not recorded", "trace": []}, 404)
        status, response = found
        return PlainTextResponse(response) if isinstance(response, str) else JSONResponse(response, status)

    app = Starlette(routes=[Route("/version", answer, methods=["GET"]),
                            *(Route(f"/{module}", answer, methods=["POST"]) for module in ("read", "write", "execute"))])
    app.state.unanswered = unanswered
    return app

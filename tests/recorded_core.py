"""Answers recorded from a real Komodo Core 2.3.2 (tests/fixtures/recorded-core, see its README), and how each
recorded request translates to the simulator's seed.

The recorded installation has other names than the simulator's seed, so every recorded resource has a counterpart
in the seed in the same condition (an unreachable server, a never-deployed deployment, ...). Two recordings: in
`unreachable` no Periphery answered; in `periphery` a real Periphery drove Docker.
"""

from __future__ import annotations

import json
import re
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


# -- requests Core answers alike ------------------------------------------------------------------------------------
# The server may ask for a recorded answer in another form than when it was recorded. Only the equivalences below,
# each following Core's own code, answer such a request; any other unrecorded request stays "not recorded".

RESOURCE_LISTS = {f"List{kind}s" for kind in PARAM_KIND.values()} | {f"ListFull{kind}s" for kind in PARAM_KIND.values()}
RESOURCE_GETS = {f"Get{kind}": param for param, kind in PARAM_KIND.items()}
# client/core/rs/src/entities/resource.rs split_names: a name that parses as a bson ObjectId is an id.
_OBJECT_ID = re.compile(r"[0-9a-fA-F]{24}")


def _id_of(resource: dict[str, Any]) -> str:
    """A list item's `id`, or a full resource's `_id.$oid`."""
    return resource["id"] if "id" in resource else resource["_id"]["$oid"]


def _unfiltered(query: dict[str, Any]) -> bool:
    """A ResourceQuery that filters nothing: every field absent or empty (its doc: "Passing empty Vec is the same as
    not filtering by that field")."""
    return not any(query.values())


def _holds_every_item(request: dict[str, Any], response: list[Any], complete: dict[str, list[Any]]) -> bool:
    """Whether a recorded list answer holds every resource of its kind the caller may Read."""
    params = request["params"]
    if not (set(params) <= {"limit", "page", "query"} and params.get("page", 0) == 0 and "limit" in params):
        return False  # another sort, or a page past the first
    query = params.get("query", {})
    if _unfiltered(query):
        # Core's default sort (by name), and either `limit: 0` ("returns all results") or fewer items than the
        # limit, where Core's cursor ran out (resource/mod.rs list_items_for_user, permission.rs
        # list_resources_with_permits).
        return params["limit"] == 0 or len(response) < params["limit"]
    # A ListFull{Kind}s whose `names` are every id of a complete List{Kind}s answer: both lists are the resources
    # the caller may Read, sorted by name (permission.rs load_list_permits), and ids in `names` are the filter
    # `_id $in ids` (entities/resource.rs add_filters).
    listed = complete.get(request["type"].replace("ListFull", "List", 1)) if request["type"].startswith(
        "ListFull") else None
    return (listed is not None and params["limit"] == 0 and set(query) == {"names"}
            and sorted(query["names"]) == sorted(_id_of(item) for item in listed))


def _complete_lists(recorded: list[dict[str, Any]], latest: bool) -> dict[str, list[Any]]:
    """Per List{Kind}s / ListFull{Kind}s type, a recorded answer that holds every resource of the kind (the first
    such answer; the last if `latest`)."""
    complete: dict[str, list[Any]] = {}
    for full in (False, True):  # the List{Kind}s answers first: they can show that a ListFull{Kind}s one is complete
        for record in recorded:
            request = record["request"]
            if (record["status"] == 200 and request and request["type"] in RESOURCE_LISTS
                    and request["type"].startswith("ListFull") == full and (latest or request["type"] not in complete)
                    and _holds_every_item(request, record["response"], complete)):
                complete[request["type"]] = record["response"]
    return complete


def _listed(every: list[Any], params: dict[str, Any]) -> list[Any] | None:
    """Core's answer to a resource list request, from the list of every resource; None if the request filters by
    more than `names`. entities/resource.rs add_filters: the names that are ObjectIds become `_id $in ids`, the
    others `name $in names`, and both must hold; resource/mod.rs list_items_for_user and permission.rs
    list_resources_with_permits: sorted by name, skip `page * limit`, then take `limit` (0: all)."""
    query = params.get("query", {})
    if not set(params) <= {"limit", "page", "query"} or "limit" not in params or not _unfiltered(
            {field: value for field, value in query.items() if field != "names"}):
        return None  # without a limit Core uses its configured default_pagination_limit, which was not recorded
    names = query.get("names", [])
    ids = {name for name in names if _OBJECT_ID.fullmatch(name)}
    plain = {name for name in names if not _OBJECT_ID.fullmatch(name)}
    matching = [item for item in every if (not ids or _id_of(item) in ids) and (not plain or item["name"] in plain)]
    limit, skip = params["limit"], params.get("page", 0) * params["limit"]
    return matching[skip:skip + limit] if limit else matching[skip:]


def _resources_got(recorded: list[dict[str, Any]], latest: bool) -> dict[tuple[str, str], Any]:
    """Each recorded Get{Kind} answer under its resource's id and name: helpers/query.rs id_or_name_filter finds a
    resource by `_id` when the parameter is an ObjectId and by `name` otherwise, and names are unique per kind
    (resource/mod.rs create refuses a taken name), so both find the same resource."""
    got: dict[tuple[str, str], Any] = {}
    for record in recorded:
        request = record["request"]
        if record["status"] == 200 and request and request["type"] in RESOURCE_GETS:
            resource = record["response"]
            for id_or_name in (_id_of(resource), resource["name"]):
                if latest or (request["type"], id_or_name) not in got:
                    got[request["type"], id_or_name] = resource
    return got


def replay_app(recording: str, latest: bool = False) -> Any:
    """A stand-in Komodo Core that answers every request exactly as the real one did when it was recorded (the first
    answer, where a request was recorded more than once; the last one if `latest`), or as Core answers a request
    equivalent to a recorded one (above), and 404s any other request."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, PlainTextResponse, Response
    from starlette.routing import Route

    recorded = records(recording)
    answers: dict[str, tuple[int, Any]] = {}
    for record in recorded:
        key = _key(record["path"], _as_core_read(record["request"]))
        if latest or key not in answers:
            answers[key] = (record["status"], record["response"])
    complete, got = _complete_lists(recorded, latest), _resources_got(recorded, latest)

    def equivalent(path: str, body: Any) -> tuple[int, Any] | None:
        if path != "/read" or not body:
            return None
        kind, params = body["type"], body["params"]
        if kind in complete:
            listed = _listed(complete[kind], params)
            return None if listed is None else (200, listed)
        if kind in RESOURCE_GETS and set(params) == {RESOURCE_GETS[kind]} and (kind, params[RESOURCE_GETS[kind]]) in got:
            return 200, got[kind, params[RESOURCE_GETS[kind]]]
        return None

    unanswered: list[str] = []

    async def answer(request: Request) -> Response:
        body = await request.json() if request.method == "POST" else None
        found = answers.get(_key(request.url.path, body)) or equivalent(request.url.path, body)
        if found is None:
            unanswered.append(_key(request.url.path, body))
            return JSONResponse({"error": "not recorded", "trace": []}, 404)
        status, response = found
        return PlainTextResponse(response) if isinstance(response, str) else JSONResponse(response, status)

    app = Starlette(routes=[Route("/version", answer, methods=["GET"]),
                            *(Route(f"/{module}", answer, methods=["POST"]) for module in ("read", "write", "execute"))])
    app.state.unanswered = unanswered
    return app

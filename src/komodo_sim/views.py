"""Komodo's list items, summaries and `ResourceQuery` filtering over the store."""

from __future__ import annotations

from typing import Any, Callable

from .errors import BadParams
from .state import Resource, Store, User, is_object_id


def _name_of(store: Store, kind: str, resource_id: str) -> str:
    """Core's list items name linked resources with `unwrap_or_default()`: "" when there is none."""
    found = store.resources[kind].get(resource_id) if resource_id else None
    return found.name if found else ""


def repo_link(provider: str, repo: str, branch: str, https: bool) -> str:
    """Core's `helpers::repo_link`: built even when `repo` is empty; only github.com links to the branch."""
    link = f"http{'s' if https else ''}://{provider}/{repo}"
    return f"{link}/tree/{branch}" if provider == "github.com" else link


def _git(store: Store, resource: Resource) -> dict[str, Any]:
    config = resource.config
    repo, provider = config.get("repo", ""), config.get("git_provider", "github.com")
    branch = config.get("branch", "main")
    return {
        "linked_repo": config.get("linked_repo", ""),
        "linked_repo_name": _name_of(store, "Repo", config.get("linked_repo", "")),
        "git_provider": provider,
        "repo": repo,
        "branch": branch,
        "repo_link": repo_link(provider, repo, branch, config.get("git_https", True)),
    }


def server_reachable(store: Store, server_id: str) -> bool:
    server = store.resources["Server"].get(server_id) if server_id else None
    return server is not None and state_of(server) == "Ok"


def state_of(r: Resource) -> str:
    """The state a list item shows, without building the whole item (summaries count thousands of these)."""
    rt, action = r.runtime, r.action
    match r.kind:
        case "Server":
            return "Disabled" if not r.config.get("enabled", True) else rt.get("state", "Ok")
        case "Deployment":
            return rt.get("state", "not_deployed")
        case "Stack":
            return rt.get("state", "down")
        case "Build":
            return "Building" if action.get("building") else rt.get("state", "Ok")
        case "Repo":
            return next((state for flag, state in (("cloning", "Cloning"), ("pulling", "Pulling"),
                                                   ("building", "Building")) if action.get(flag)),
                        rt.get("state", "Ok"))
        case "Procedure":  # never run: Ok (`resource/procedure.rs`, get_procedure_state_from_db)
            return "Running" if action.get("running") else rt.get("state", "Ok")
        case "Action":
            return "Running" if action.get("running", 0) > 0 else rt.get("state", "Ok")
        case "ResourceSync":
            return "Syncing" if action.get("syncing") else rt.get("state") or sync_state(r.info)
    return ""


def container_state_of(store: Store, r: Resource) -> str:
    """A deployment's or stack's state: Core's monitor writes `unknown` for every one on a server that is disabled or
    unreachable (`monitor/mod.rs`, `insert_status_unknown`), whatever ran there before."""
    server_id = r.config.get("server_id", "")
    if server_id and not server_reachable(store, server_id):
        return "unknown"
    return state_of(r)


def sync_state(info: dict[str, Any]) -> str:
    """`resource/sync.rs`, get_resource_sync_state: errors first, then anything pending, else Ok."""
    if info.get("pending_error") or info.get("pending_deploy_error") or info.get("remote_errors"):
        return "Failed"
    if any(info.get(key) for key in ("resource_updates", "variable_updates", "user_group_updates",
                                     "pending_deploys")):
        return "Pending"
    return "Ok"


def server_info(store: Store, r: Resource) -> dict[str, Any]:
    """Core's `ServerListItemInfo` (`resource/server.rs`): every field serialised, unknowns as null."""
    c, rt = r.config, r.runtime
    state = state_of(r)
    ok = state == "Ok"
    return {
        "state": state,
        "err": {"error": rt.get("error", "Failed to connect to Periphery"), "trace": rt.get("trace", [])}
        if state == "NotOk" else None,
        "stats": minimal_stats(rt) if ok else None,
        "alerting_thresholds": {
            key: c.get(key, default)
            for key, default in (("cpu_warning", 75.0), ("cpu_critical", 90.0), ("mem_warning", 75.0),
                                 ("mem_critical", 90.0), ("disk_warning", 75.0), ("disk_critical", 90.0))
        },
        "core_count": rt["system"]["core_count"] if ok else None,
        "logical_core_count": rt["system"]["logical_core_count"] if ok else None,
        "region": c.get("region", ""),
        "address": c.get("address") or None,
        "external_address": c.get("external_address") or None,
        "public_ip": rt.get("public_ip") if ok else None,
        "send_unreachable_alerts": c.get("send_unreachable_alerts", True),
        "send_cpu_alerts": c.get("send_cpu_alerts", True),
        "send_mem_alerts": c.get("send_mem_alerts", True),
        "send_disk_alerts": c.get("send_disk_alerts", True),
        "send_version_mismatch_alerts": c.get("send_version_mismatch_alerts", True),
        "version": rt.get("version", store.version) if ok else None,
        "public_key": rt.get("public_key", "MCowBQYDK2VuAyEAsimulatedperipherykeyxxxxxxxxxxxxxxxxxxxxxxx=") if ok else None,
        "attempted_public_key": None,
        # Terminals need a connected Periphery that allows them.
        "terminals_disabled": not ok,
        "container_terminals_disabled": not ok,
    }


def minimal_stats(rt: dict[str, Any]) -> dict[str, Any]:
    stats = rt["stats"]
    return {
        "cpu_perc": stats["cpu_perc"],
        "load_average": stats["load_average"],
        "mem_free_gb": stats["mem_total_gb"] - stats["mem_used_gb"],
        "mem_used_gb": stats["mem_used_gb"],
        "mem_total_gb": stats["mem_total_gb"],
        "mem_buff_cache_gb": 0.8,
        "mem_zfs_arc_gb": 0.0,
        "swap_total_gb": 2.0,
        "swap_used_gb": 0.1,
        "disk_total_gb": sum(d["total_gb"] for d in stats["disks"]),
        "disk_used_gb": sum(d["used_gb"] for d in stats["disks"]),
        "network_ingress_bytes": stats["network_ingress_bytes"],
        "network_egress_bytes": stats["network_egress_bytes"],
        "polling_rate": "5-sec",
        "refresh_ts": stats["refresh_ts"],
        "refresh_list_ts": stats["refresh_ts"],
    }


def deployment_image(store: Store, r: Resource) -> str:
    """`resource/deployment.rs`: a Build image is `build:version`, where version 0.0.0 means the build's own."""
    image = r.config["image"]
    if image["type"] == "Build":
        build = store.resources["Build"].get(image["params"]["build_id"])
        v = image["params"].get("version") or {"major": 0, "minor": 0, "patch": 0}
        if not any(v.values()):
            v = build.config["version"] if build else v
        return f"{build.name if build else 'unknown'}:{v['major']}.{v['minor']}.{v['patch']}"
    return image["params"]["image"]


def deployment_info(store: Store, r: Resource) -> dict[str, Any]:
    """Core's `DeploymentListItemInfo` (`resource/deployment.rs`)."""
    image = r.config["image"]
    state = container_state_of(store, r)
    return {
        "state": state,
        "status": r.runtime.get("status") if state != "unknown" else None,
        "custom_name": r.config.get("custom_name", ""),
        "image": deployment_image(store, r),
        "update_available": r.runtime.get("update_available", False),
        "swarm_id": r.config.get("swarm_id", ""),
        "swarm_name": "",
        "server_id": r.config.get("server_id", ""),
        "server_name": _name_of(store, "Server", r.config.get("server_id", "")),
        "build_id": image["params"]["build_id"] if image["type"] == "Build" else None,
    }


# Docker's status line for a container in each state (`docker ps` STATUS column), as Periphery passes it on.
_DOCKER_STATUS = {"running": "Up 2 hours", "exited": "Exited (0) 2 hours ago", "paused": "Up 2 hours (Paused)",
                  "restarting": "Restarting (1) 4 seconds ago", "created": "Created", "dead": "Dead",
                  "removing": "Removal In Progress"}


def docker_status(state: str) -> str | None:
    return _DOCKER_STATUS.get(state)


def compose_status(services: list[dict[str, Any]]) -> str | None:
    """`docker compose ls`'s STATUS of a project, which Core shows as the stack's status: each container state with
    its count, sorted by state (compose's `combinedStatus`), e.g. `exited(1), running(2)`."""
    states = [s["state"] for s in services if docker_status(s["state"])]
    if not states:
        return None
    return ", ".join(f"{state}({states.count(state)})" for state in sorted(set(states)))


def stack_info(store: Store, r: Resource) -> dict[str, Any]:
    """Core's `StackListItemInfo` (`resource/stack.rs`): services and status come from the server's compose
    projects, so a stack on an unreachable or disabled server has neither."""
    rt = r.runtime
    state = container_state_of(store, r)
    reachable = server_reachable(store, r.config.get("server_id", ""))
    services = rt.get("services", []) if reachable else []
    status = compose_status(services)
    return {
        "swarm_id": r.config.get("swarm_id", ""),
        "swarm_name": "",
        "server_id": r.config.get("server_id", ""),
        "server_name": _name_of(store, "Server", r.config.get("server_id", "")),
        "files_on_host": r.config.get("files_on_host", False),
        "file_contents": bool(r.config.get("file_contents")),
        **_git(store, r),
        "state": state,
        "status": status,
        "services": [{"service": s["service"], "image": s["image"], "update_available": False, "latest_image": None}
                     for s in services],
        "auto_update_all_services": r.config.get("auto_update_all_services", False),
        "project_missing": reachable and status is None,
        "missing_files": [],
        "deployed_hash": rt.get("deployed_hash"),
        "latest_hash": rt.get("deployed_hash"),
    }


def build_info(store: Store, r: Resource) -> dict[str, Any]:
    registry = (r.config.get("image_registry") or [{}])[0]
    return {
        "state": state_of(r),
        "last_built_at": r.info.get("last_built_at", 0),
        "version": r.config.get("version", {"major": 0, "minor": 0, "patch": 0}),
        "builder_id": r.config.get("builder_id", ""),
        "files_on_host": r.config.get("files_on_host", False),
        "dockerfile_contents": bool(r.config.get("dockerfile")),
        **_git(store, r),
        "built_hash": r.info.get("built_hash"),
        "latest_hash": r.info.get("latest_hash"),
        "image_registry_domain": registry.get("domain"),
    }


def repo_info(store: Store, r: Resource) -> dict[str, Any]:
    return {
        "server_id": r.config.get("server_id", ""),
        "server_name": _name_of(store, "Server", r.config.get("server_id", "")),
        "builder_id": r.config.get("builder_id", ""),
        "last_pulled_at": r.info.get("last_pulled_at", 0),
        "last_built_at": r.info.get("last_built_at", 0),
        **{k: v for k, v in _git(store, r).items() if not k.startswith("linked_repo")},
        "state": state_of(r),
        "cloned_hash": r.runtime.get("cloned_hash"),
        "cloned_message": r.runtime.get("cloned_message"),
        "built_hash": r.info.get("built_hash"),
        "latest_hash": r.info.get("latest_hash"),
    }


def _scheduled_info(r: Resource) -> dict[str, Any]:
    return {
        "state": state_of(r),
        "last_run_at": r.runtime.get("last_run_at"),
        "next_scheduled_run": r.runtime.get("next_scheduled_run") if r.config.get("schedule_enabled") else None,
        "schedule_error": r.runtime.get("schedule_error"),
    }


def procedure_info(store: Store, r: Resource) -> dict[str, Any]:
    return {"stages": len(r.config.get("stages", [])), **_scheduled_info(r)}


def action_info(store: Store, r: Resource) -> dict[str, Any]:
    return _scheduled_info(r)


def sync_info(store: Store, r: Resource) -> dict[str, Any]:
    return {
        "last_sync_ts": r.runtime.get("last_sync_ts", 0),
        "files_on_host": r.config.get("files_on_host", False),
        "file_contents": bool(r.config.get("file_contents")),
        "managed": r.config.get("managed", False),
        "resource_path": r.config.get("resource_path", []),
        **_git(store, r),
        "last_sync_hash": r.runtime.get("last_sync_hash"),
        "last_sync_message": r.runtime.get("last_sync_message"),
        "state": state_of(r),
    }


def builder_info(store: Store, r: Resource) -> dict[str, Any]:
    config = r.config
    if config["type"] == "Server":  # `resource/builder.rs`: the server ids, joined
        return {"builder_type": "Server", "instance_type": ", ".join(config["params"].get("server_ids", []))}
    return {"builder_type": config["type"], "instance_type": config["params"].get("instance_type")}


def alerter_info(store: Store, r: Resource) -> dict[str, Any]:
    return {"enabled": r.config.get("enabled", True), "endpoint_type": r.config["endpoint"]["type"]}


LIST_INFO: dict[str, Callable[[Store, Resource], dict[str, Any]]] = {
    "Server": server_info,
    "Deployment": deployment_info,
    "Stack": stack_info,
    "Build": build_info,
    "Repo": repo_info,
    "Procedure": procedure_info,
    "Action": action_info,
    "ResourceSync": sync_info,
    "Builder": builder_info,
    "Alerter": alerter_info,
}


def list_item(store: Store, r: Resource) -> dict[str, Any]:
    return {"id": r.id, "type": r.kind, "name": r.name, "template": r.template, "tags": list(r.tags),
            "info": LIST_INFO[r.kind](store, r)}


def _string_list(value: Any) -> list[str]:
    """Core's `string_list_deserializer`: a list, or a comma/newline separated string."""
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.replace("\n", ",").split(",") if part.strip()]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise BadParams("invalid type: expected a sequence of strings")


def _specific_filter(kind: str, specific: dict[str, Any]) -> Callable[[Resource, dict[str, Any]], bool]:
    """`query.specific`: states (on the list item info) and the stored-id filters (raw `$in` on config)."""
    states = set(_string_list(specific.get("states")))
    id_filters = {
        key: set(_string_list(specific.get(key)))
        for key in ("server_ids", "swarm_ids", "builder_ids", "repos", "linked_repos")
        if specific.get(key) is not None
    }
    config_key = {"server_ids": "server_id", "swarm_ids": "swarm_id", "builder_ids": "builder_id",
                  "repos": "repo", "linked_repos": "linked_repo"}
    build_ids = set(_string_list(specific.get("build_ids")))
    update_available = specific.get("update_available")
    scheduled = specific.get("scheduled")

    def keep(r: Resource, info: dict[str, Any]) -> bool:
        if states and info.get("state") not in states:
            return False
        for key, wanted in id_filters.items():
            if wanted and r.config.get(config_key[key], "") not in wanted:
                return False
        if build_ids and info.get("build_id") not in build_ids:
            return False
        if update_available and not info.get("update_available"):
            return False
        if scheduled is not None and bool(r.config.get("schedule_enabled")) != bool(scheduled):
            return False
        return True

    return keep


SORT_KEYS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "Name": lambda item: item["name"].lower(),
    "State": lambda item: str(item["info"].get("state", "")),
    "Region": lambda item: item["info"].get("region", ""),
    "Image": lambda item: item["info"].get("image", ""),
    "Host": lambda item: item["info"].get("server_name") or "",
    "Source": lambda item: item["info"].get("repo", ""),
    "Branch": lambda item: item["info"].get("branch", ""),
    "NextRun": lambda item: item["info"].get("next_scheduled_run") or 0,
    "Provider": lambda item: item["info"].get("builder_type", ""),
    "Type": lambda item: item["info"].get("endpoint_type", ""),
    "Enabled": lambda item: item["info"].get("enabled", False),
}


def query_items(store: Store, user: User, kind: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Core's `list_items_for_user`: permission filter, ResourceQuery, states, sort, then page/limit."""
    query = params.get("query") or {}
    if not isinstance(query, dict):
        raise BadParams("invalid type: expected struct ResourceQuery")
    names = set(_string_list(query.get("names")))
    terms = [t.lower() for t in _string_list(query.get("terms"))]
    tag_ids = [store.tag_id(t) for t in _string_list(query.get("tags"))]
    any_tag = query.get("tag_behavior", "All") == "Any"
    templates = query.get("templates", "Include")
    keep_specific = _specific_filter(kind, query.get("specific") or {})

    candidates = []
    # `entities/resource.rs` ResourceQuery::add_filters splits `names` into ObjectIds and names and ANDs the two:
    # a query mixing both matches only a resource whose id and name are both listed.
    ids = {n for n in names if is_object_id(n)}
    plain = names - ids
    # Names and ids are indexed, as in Core's database: no need to scan the fleet for them.
    pool = list({r.id: r for r in (store.find(kind, n) for n in (ids or plain))
                 if r and (user.admin or store.can(user, r, "Read")) and (not plain or r.name in plain)
                 }.values()) if names else store.visible(user, kind)
    for r in pool:
        if terms and not all(t in r.name.lower() for t in terms):
            continue
        if tag_ids and not (any if any_tag else all)(t in r.tags for t in tag_ids):
            continue
        if (templates == "Exclude" and r.template) or (templates == "Only" and not r.template):
            continue
        candidates.append(r)

    sort_by = params.get("sort_by") or "Name"
    if not query.get("specific") and sort_by == "Name":
        # Nothing needs the list items before paging: build them for the page only, as a database would.
        candidates.sort(key=lambda r: (r.name.lower(), r.name), reverse=bool(params.get("sort_desc")))
        return [list_item(store, r) for r in page_of(candidates, params, store.pagination_limit)]
    items = [item for r, item in ((r, list_item(store, r)) for r in candidates) if keep_specific(r, item["info"])]
    sort_key = SORT_KEYS.get(sort_by, SORT_KEYS["Name"])
    items.sort(key=lambda item: (sort_key(item), item["name"]), reverse=bool(params.get("sort_desc")))
    return page_of(items, params, store.pagination_limit)


def page_of(items: list[Any], params: dict[str, Any], default_limit: int) -> list[Any]:
    """`limit` missing/null means Core's default (50); `limit: 0` means everything; skip = page × limit."""
    limit, page = params.get("limit"), params.get("page") or 0
    if limit is None:
        limit = default_limit
    if not isinstance(limit, int) or not isinstance(page, int) or limit < 0 or page < 0:
        raise BadParams("invalid value: expected u64")
    if limit == 0:
        return items
    return items[page * limit:(page + 1) * limit]


def summary(store: Store, user: User, kind: str) -> dict[str, int]:
    """Core's `Get<Kind>sSummary` (`api/read/<kind>.rs`): its own buckets, not the list items' states one to one."""
    resources = store.visible(user, kind)
    if kind in ("Deployment", "Stack"):
        states = [container_state_of(store, r) for r in resources]
    else:
        states = [state_of(r) for r in resources]
    count = states.count
    total = len(resources)
    # Templates in an unknown (or disabled) state count in the total only.
    untemplated = [state for r, state in zip(resources, states) if not r.template]
    match kind:
        case "Server":
            # A reachable server is a warning when its Periphery's version differs from Core's.
            ok = [r for r, state in zip(resources, states) if state == "Ok"]
            warning = sum(1 for r in ok if r.runtime.get("version", store.version) != store.version)
            return {"total": total, "healthy": len(ok) - warning, "warning": warning,
                    "unhealthy": count("NotOk"), "disabled": untemplated.count("Disabled")}
        case "Deployment":
            return {"total": total, "running": count("running"), "stopped": count("exited") + count("paused"),
                    "not_deployed": count("not_deployed"), "unknown": untemplated.count("unknown"),
                    "unhealthy": sum(1 for s in states if s not in ("running", "exited", "paused", "not_deployed",
                                                                    "unknown"))}
        case "Stack":
            return {"total": total, "running": count("running"), "stopped": count("stopped") + count("paused"),
                    "down": count("down"), "unknown": untemplated.count("unknown"),
                    "unhealthy": sum(1 for s in states if s not in ("running", "stopped", "paused", "down",
                                                                    "unknown"))}
        case "Build":
            return {"total": total, "ok": count("Ok"), "failed": count("Failed"), "building": count("Building"),
                    "unknown": count("Unknown")}
        case "Repo":
            return {"total": total, "ok": count("Ok"), "cloning": count("Cloning"), "pulling": count("Pulling"),
                    "building": count("Building"), "failed": count("Failed"), "unknown": untemplated.count("Unknown")}
        case "Procedure" | "Action":
            return {"total": total, "ok": count("Ok"), "running": count("Running"), "failed": count("Failed"),
                    "unknown": count("Unknown")}
        case "ResourceSync":
            return {"total": total, "ok": count("Ok"), "syncing": count("Syncing"), "pending": count("Pending"),
                    "failed": count("Failed"), "unknown": count("Unknown")}
        case "Builder" | "Alerter":
            return {"total": total}
    raise AssertionError(kind)

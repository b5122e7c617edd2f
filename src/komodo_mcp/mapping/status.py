"""THE mapping table between Komodo's states and the reference's statuses, decided once (README mirrors it).

Each table maps a reference status to the Komodo states it covers; the reverse maps are derived, so a filter and the
status shown on an item can never disagree.
"""

from __future__ import annotations

from typing import Literal

ServerStatus = Literal["running", "stopped", "pending", "error"]
DeploymentStatus = Literal["running", "stopped", "deploying", "failed"]
StackStatus = Literal["active", "inactive", "deploying"]
BuildStatus = Literal["pending", "building", "success", "failed"]
RepoProvider = Literal["github", "gitlab", "bitbucket", "other"]
ProcedureTrigger = Literal["manual", "scheduled", "webhook"]
ActionType = Literal["script", "api", "notification"]
Severity = Literal["info", "warning", "error", "critical"]
JobStatus = Literal["pending", "starting", "running", "success", "failed", "cancelled"]

# Komodo has no "pending" server: a server is reachable (Ok), unreachable (NotOk) or disabled.
SERVER: dict[str, tuple[str, ...]] = {"running": ("Ok",), "stopped": ("Disabled",), "pending": (), "error": ("NotOk",)}
# Komodo's own summaries (`api/read/deployment.rs` GetDeploymentsSummary, `api/read/stack.rs` GetStacksSummary):
# each bucket and the states it counts; `unhealthy` takes every state the others do not name.
DEPLOYMENT_SUMMARY: dict[str, tuple[str, ...]] = {
    "running": ("running",), "stopped": ("exited", "paused"), "not_deployed": ("not_deployed",),
    "unknown": ("unknown",), "unhealthy": ("created", "restarting", "stopping", "removing", "dead", "unhealthy"),
}
STACK_SUMMARY: dict[str, tuple[str, ...]] = {
    "running": ("running",), "stopped": ("stopped", "paused"), "down": ("down",), "unknown": ("unknown",),
    "unhealthy": ("unhealthy", "restarting", "created", "dead", "removing"),
}
# One classification for lists, filters and the fleet summary: the reference's status of each of Komodo's summary
# buckets, so a deployment counted `unhealthy` by Komodo is `failed` wherever it shows.
DEPLOYMENT_OF_BUCKET = {"running": "running", "stopped": "stopped", "not_deployed": "stopped", "unhealthy": "failed",
                        "unknown": "failed"}
STACK_OF_BUCKET = {"running": "active", "unhealthy": "active", "stopped": "inactive", "down": "inactive",
                   "unknown": "inactive"}


def _by_status(buckets: dict[str, tuple[str, ...]], status_of: dict[str, str]) -> dict[str, tuple[str, ...]]:
    table: dict[str, tuple[str, ...]] = {}
    for bucket, states in buckets.items():
        table[status_of[bucket]] = table.get(status_of[bucket], ()) + states
    return table


# `deploying` is no container state: Komodo shows it while a deploy runs (`helpers/query.rs`).
DEPLOYMENT: dict[str, tuple[str, ...]] = {**_by_status(DEPLOYMENT_SUMMARY, DEPLOYMENT_OF_BUCKET),
                                          "deploying": ("deploying",)}
STACK: dict[str, tuple[str, ...]] = {**_by_status(STACK_SUMMARY, STACK_OF_BUCKET), "deploying": ("deploying",)}


def states_described(table: dict[str, tuple[str, ...]]) -> str:
    """A status filter's description, from the table it filters by: `running (running); stopped (exited, …)`."""
    return "; ".join(f"{status} ({', '.join(states)})" for status, states in table.items())


def summary_by_status(counts: dict[str, int], status_of_bucket: dict[str, str]) -> dict[str, int]:
    """Komodo's summary counts regrouped under the reference's statuses (the same ones list items show)."""
    regrouped = {"total": counts.get("total", 0)} | dict.fromkeys(status_of_bucket.values(), 0)
    for bucket, status in status_of_bucket.items():
        regrouped[status] += counts.get(bucket, 0)
    return regrouped


BUILD: dict[str, tuple[str, ...]] = {"success": ("Ok",), "failed": ("Failed",), "building": ("Building",),
                                     "pending": ("Unknown",)}
REPO_STATUS: dict[str, tuple[str, ...]] = {"connected": ("Ok",), "syncing": ("Cloning", "Pulling", "Building"),
                                           "error": ("Failed",), "unknown": ("Unknown",)}
PROVIDER_HOSTS: dict[str, tuple[str, ...]] = {"github": ("github.com",), "gitlab": ("gitlab.com",),
                                              "bitbucket": ("bitbucket.org",)}
# Alert levels: Komodo has OK/WARNING/CRITICAL; "error" is the failure alerts (a run that failed), whatever level.
FAILURE_ALERT_TYPES = ("BuildFailed", "RepoBuildFailed", "ProcedureFailed", "ActionFailed", "AwsBuilderTerminationFailed")
SEVERITY_LEVEL: dict[str, str] = {"info": "OK", "warning": "WARNING", "critical": "CRITICAL"}
JOB: dict[str, str] = {"Queued": "pending", "InProgress": "running"}


def _reverse(table: dict[str, tuple[str, ...]], default: str) -> dict[str, str]:
    return {state: status for status, states in table.items() for state in states} | {"": default}


_SERVER_OF, _DEPLOYMENT_OF, _STACK_OF = _reverse(SERVER, "error"), _reverse(DEPLOYMENT, "failed"), _reverse(STACK, "inactive")
_BUILD_OF, _REPO_OF = _reverse(BUILD, "pending"), _reverse(REPO_STATUS, "unknown")


def server_status(state: str) -> ServerStatus:
    return _SERVER_OF.get(state, "error")  # type: ignore[return-value]


def deployment_status(state: str) -> DeploymentStatus:
    return _DEPLOYMENT_OF.get(state, "failed")  # type: ignore[return-value]


def stack_status(state: str) -> StackStatus:
    return _STACK_OF.get(state, "inactive")  # type: ignore[return-value]


def build_status(state: str, last_built_at: int | None = None) -> BuildStatus:
    """Komodo reports a build that never ran as Ok (`resource/build.rs`, get_build_state_from_db): a build
    never built is pending whatever its state says."""
    if state == "Ok" and not last_built_at:
        return "pending"
    return _BUILD_OF.get(state, "pending")  # type: ignore[return-value]


def repo_status(state: str, last_pulled_at: int | None = None, cloned_hash: str | None = None) -> str:
    """Komodo reports a repo never cloned or pulled as Ok (`resource/repo.rs`, get_repo_state_from_db): that is
    no connection shown yet, so unknown."""
    if state == "Ok" and not last_pulled_at and not cloned_hash:
        return "unknown"
    return _REPO_OF.get(state, "unknown")


def repo_provider(git_provider: str) -> RepoProvider:
    host = git_provider.lower().removeprefix("https://").removeprefix("http://").split("/")[0]
    return next((name for name, hosts in PROVIDER_HOSTS.items() if host in hosts), "other")  # type: ignore[return-value]


def procedure_trigger(config: dict) -> ProcedureTrigger:
    """Scheduled when a schedule is set and enabled; webhook only when a webhook secret shows it is wired up
    (Komodo enables webhooks by default, so the flag alone says nothing); otherwise manual."""
    if config.get("schedule_enabled") and config.get("schedule"):
        return "scheduled"
    if config.get("webhook_enabled") and config.get("webhook_secret"):
        return "webhook"
    return "manual"


def action_type(script: str) -> ActionType:
    """Komodo Actions are all TypeScript run by Deno; classify by what the script talks to."""
    lowered = script.lower()
    if any(hook in lowered for hook in ("slack", "discord", "ntfy", "pushover", "webhook", "sendalert")):
        return "notification"
    if "komodo." in lowered or "fetch(" in lowered:
        return "api"
    return "script"


def alert_severity(level: str, alert_type: str) -> Severity:
    if alert_type in FAILURE_ALERT_TYPES:
        return "error"
    return {"OK": "info", "WARNING": "warning", "CRITICAL": "critical"}.get(level, "warning")  # type: ignore[return-value]


def severity_query(severity: Severity) -> dict:
    """The Mongo filter Komodo applies for a reference severity."""
    if severity == "error":
        return {"data.type": {"$in": list(FAILURE_ALERT_TYPES)}}
    return {"level": SEVERITY_LEVEL[severity], "data.type": {"$nin": list(FAILURE_ALERT_TYPES)}}


def job_status(update: dict) -> JobStatus:
    """An Update's status as a job status: Complete splits into success, failed and cancelled."""
    status = update.get("status", "InProgress")
    if status != "Complete":
        return JOB.get(status, "running")  # type: ignore[return-value]
    if update.get("success"):
        return "success"
    cancelled = any("cancel" in (log.get("stderr", "") + log.get("stage", "")).lower() for log in update.get("logs", []))
    return "cancelled" if cancelled else "failed"

"""Komodo repos → the reference's repository shapes."""

from __future__ import annotations

from typing import Any

from .common import created_at, iso, tag_names
from .models import RepoCommit, RepoCredentials, RepoDetail, RepoItem, RepoWebhook
from .status import repo_provider, repo_status


def repo_url(git_provider: str, repo: str, https: bool = True) -> str:
    return f"{'https' if https else 'http'}://{git_provider}/{repo}" if repo else ""


def _fields(item: dict[str, Any], full: dict[str, Any] | None, tags: dict[str, str],
            builds: list[str]) -> dict[str, Any]:
    info, config = item["info"], (full or {}).get("config", {})
    return {
        "id": item["id"], "name": item["name"], "tags": tag_names(item["tags"], tags),
        "createdAt": created_at(item["id"]), "updatedAt": iso(full["updated_at"]) if full else None,
        "provider": repo_provider(info.get("git_provider", "")),
        "url": repo_url(info.get("git_provider", ""), info.get("repo", ""), config.get("git_https", True)),
        "branch": info.get("branch", ""), "state": info["state"],
        "status": repo_status(info["state"], info.get("last_pulled_at"), info.get("cloned_hash")),
        "last_sync": iso(info.get("last_pulled_at")), "webhook_configured": bool(config.get("webhook_enabled")),
        "builds": builds,
    }


def repo_item(item: dict[str, Any], full: dict[str, Any] | None, tags: dict[str, str], builds: list[str]) -> RepoItem:
    return RepoItem(**_fields(item, full, tags, builds))


def recent_commits(item_info: dict[str, Any], info: dict[str, Any]) -> list[RepoCommit]:
    """Komodo keeps three commits per repo, not a log: the remote head, what is cloned, what was built."""
    commits, seen = [], set()
    for kind, sha, message in (("latest", info.get("latest_hash"), info.get("latest_message")),
                               ("cloned", item_info.get("cloned_hash"), item_info.get("cloned_message")),
                               ("built", info.get("built_hash"), info.get("built_message"))):
        if sha and (sha, kind) not in seen:
            seen.add((sha, kind))
            commits.append(RepoCommit(sha=sha, message=message, kind=kind))
    return commits


def repo_detail(full: dict[str, Any], item: dict[str, Any], tags: dict[str, str], builds: list[str],
                core_url: str) -> RepoDetail:
    config = full["config"]
    provider = repo_provider(config.get("git_provider", ""))
    listener = "gitlab" if provider == "gitlab" else "github"
    return RepoDetail(
        **_fields(item, full, tags, builds),
        credentials=RepoCredentials(type="account token" if config.get("git_account") else "none (public)",
                                    configured=bool(config.get("git_account")),
                                    account=config.get("git_account") or None),
        webhook=RepoWebhook(enabled=bool(config.get("webhook_enabled")),
                            url=f"{core_url}/listener/{listener}/repo/{item['id']}/pull" if core_url else None,
                            events=["push"] if config.get("webhook_enabled") else []),
        recent_commits=recent_commits(item["info"], full.get("info") or {}),
        server_name=item["info"].get("server_name") or None, path=config.get("path") or None)

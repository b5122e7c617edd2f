"""Komodo builds → the reference's build shapes. In the reference `tags` are image tags; Komodo tags are
`komodo_tags` here."""

from __future__ import annotations

from typing import Any

from .common import created_at, env_mapping, human_duration, iso, tag_names
from .models import BuildDetail, BuildItem, BuildRun
from .status import build_status, job_status


def version_text(version: dict[str, int] | None) -> str | None:
    if not version or not any(version.values()):
        return None
    return f"{version['major']}.{version['minor']}.{version['patch']}"


def image_tags(config: dict[str, Any], version: str | None, commit: str | None) -> list[str]:
    tags = []
    if config.get("include_latest_tag", True):
        tags.append("latest")
    if version and config.get("include_version_tags", True):
        tags.append(version)
    if commit and config.get("include_commit_tag", True):
        tags.append(commit[:8])
    if config.get("image_tag"):
        tags = [f"{t}-{config['image_tag']}" for t in tags]
    return tags


def _fields(item: dict[str, Any], full: dict[str, Any] | None, tags: dict[str, str]) -> dict[str, Any]:
    info, config = item["info"], (full or {}).get("config", {})
    version = version_text(info.get("version"))
    commit = info.get("built_hash")
    return {
        "id": item["id"], "name": item["name"], "komodo_tags": tag_names(item["tags"], tags),
        "createdAt": created_at(item["id"]), "updatedAt": iso(full["updated_at"]) if full else None,
        "repo_id": info.get("linked_repo") or None, "repo_name": info.get("linked_repo_name") or info.get("repo") or None,
        "status": build_status(info["state"], info.get("last_built_at")), "state": info["state"],
        "branch": info.get("branch", ""),
        "commit": commit, "dockerfile": config.get("dockerfile_path", "Dockerfile"),
        "build_context": config.get("build_path", "."), "image_registry": info.get("image_registry_domain"),
        "image_name": config.get("image_name") or item["name"], "version": version or "0.0.0",
        "tags": image_tags(config, version, commit), "last_build_at": iso(info.get("last_built_at")),
    }


def build_item(item: dict[str, Any], full: dict[str, Any] | None, tags: dict[str, str]) -> BuildItem:
    return BuildItem(**_fields(item, full, tags))


def build_run(update: dict[str, Any], branch: str) -> BuildRun:
    end = update.get("end_ts")
    version = update.get("version")
    return BuildRun(
        build_number=version["patch"] if version else None, job_id=update["id"],
        version=version_text(version), commit=update.get("commit_hash") or None, branch=branch,
        status=job_status(update), started_at=iso(update["start_ts"]), completed_at=iso(end),
        duration=human_duration(end - update["start_ts"]) if end else None,
        triggered_by=update.get("username") or update.get("operator", ""))


def build_detail(full: dict[str, Any], item: dict[str, Any], tags: dict[str, str], show_secrets: bool,
                 runs: list[dict[str, Any]], builder: str | None) -> BuildDetail:
    fields = _fields(item, full, tags)
    config = full["config"]
    history = [build_run(run, fields["branch"]) for run in runs]
    last = next((h for h in history if h.status in ("success", "failed")), None)
    fields["last_build_duration"] = last.duration if last else None
    return BuildDetail(**fields, build_args=env_mapping(config.get("build_args"), show_secrets),
                       cache_enabled="--no-cache" not in " ".join(config.get("extra_args") or []),
                       builder=builder, build_history=history)

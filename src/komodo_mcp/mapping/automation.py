"""Komodo procedures and actions → the reference's procedure and action shapes."""

from __future__ import annotations

from typing import Any

from .common import created_at, env_mapping, human_duration, iso, tag_names
from .models import (ActionConfig, ActionDetail, ActionItem, ActionRun, LastExecution, ProcedureDetail, ProcedureItem,
                     ProcedureRun, ProcedureStep)
from .status import action_type, job_status, procedure_trigger

STATE_AS_JOB = {"Ok": "success", "Failed": "failed", "Running": "running"}
OUTPUT_CHARS = 2_000


def last_execution(info: dict[str, Any]) -> LastExecution | None:
    if not info.get("last_run_at"):
        return None
    return LastExecution(status=STATE_AS_JOB.get(info["state"], "success"), started_at=iso(info["last_run_at"]))


def last_run(runs: list[dict[str, Any]], info: dict[str, Any]) -> LastExecution | None:
    if not runs:
        return last_execution(info)
    run = runs[0]
    end = run.get("end_ts")
    return LastExecution(status=job_status(run), started_at=iso(run["start_ts"]), completed_at=iso(end),
                         duration=human_duration(end - run["start_ts"]) if end else None)


def schedule_text(config: dict[str, Any]) -> str | None:
    return config.get("schedule") or None


def _enabled(config: dict[str, Any]) -> bool:
    """Komodo has no on/off switch for these: a scheduled one is enabled when its schedule is."""
    return bool(config.get("schedule_enabled")) if config.get("schedule") else True


def _procedure_fields(item: dict[str, Any], full: dict[str, Any] | None, tags: dict[str, str]) -> dict[str, Any]:
    info, config = item["info"], (full or {}).get("config", {})
    return {
        "id": item["id"], "name": item["name"], "tags": tag_names(item["tags"], tags),
        "createdAt": created_at(item["id"]), "updatedAt": iso(full["updated_at"]) if full else None,
        "description": (full or {}).get("description", ""), "trigger": procedure_trigger(config),
        "schedule": schedule_text(config), "enabled": _enabled(config),
        "steps": sum(len(stage.get("executions", [])) for stage in config.get("stages", [])) if full
        else info.get("stages", 0),
        "state": info["state"], "next_run": iso(info.get("next_scheduled_run")),
        "last_execution": last_execution(info),
    }


def procedure_item(item: dict[str, Any], full: dict[str, Any] | None, tags: dict[str, str]) -> ProcedureItem:
    return ProcedureItem(**_procedure_fields(item, full, tags))


def execution_target(params: dict[str, Any]) -> str | None:
    """The resource an execution acts on: the first target-like parameter."""
    for key in ("deployment", "stack", "build", "repo", "procedure", "action", "server", "sync", "alerter"):
        if params.get(key):
            return str(params[key])
    return None


def procedure_steps(config: dict[str, Any], names: dict[str, str]) -> list[ProcedureStep]:
    steps = []
    for stage in config.get("stages", []):
        for execution in stage.get("executions", []):
            kind, params = execution["execution"]["type"], execution["execution"].get("params") or {}
            target = execution_target(params)
            steps.append(ProcedureStep(
                order=len(steps) + 1, stage=stage["name"], type=kind, target=names.get(target, target) if target else None,
                enabled=stage.get("enabled", True) and execution.get("enabled", True), config=params,
                duration=human_duration(params["duration_ms"]) if kind == "Sleep" and "duration_ms" in params else None))
    return steps


def procedure_run(update: dict[str, Any]) -> ProcedureRun:
    end = update.get("end_ts")
    logs = update.get("logs", [])
    return ProcedureRun(execution_id=update["id"], status=job_status(update), started_at=iso(update["start_ts"]),
                        completed_at=iso(end), duration=human_duration(end - update["start_ts"]) if end else None,
                        steps_completed=sum(1 for log in logs if log["success"]),
                        steps_failed=sum(1 for log in logs if not log["success"]))


def procedure_detail(full: dict[str, Any], item: dict[str, Any], tags: dict[str, str], names: dict[str, str],
                     runs: list[dict[str, Any]]) -> ProcedureDetail:
    fields = _procedure_fields(item, full, tags)
    fields["steps"] = procedure_steps(full["config"], names)
    fields["last_execution"] = last_run(runs, item["info"])
    return ProcedureDetail(**fields, variables={}, execution_history=[procedure_run(run) for run in runs])


def _action_fields(item: dict[str, Any], full: dict[str, Any] | None, tags: dict[str, str]) -> dict[str, Any]:
    info, config = item["info"], (full or {}).get("config", {})
    script = config.get("file_contents", "")
    first_line = next((line.strip() for line in script.splitlines() if line.strip()), "")
    return {
        "id": item["id"], "name": item["name"], "tags": tag_names(item["tags"], tags),
        "createdAt": created_at(item["id"]), "updatedAt": iso(full["updated_at"]) if full else None,
        "type": action_type(script), "enabled": _enabled(config), "script": first_line[:200],
        "state": info["state"], "schedule": schedule_text(config), "last_execution": last_execution(info),
    }


def action_item(item: dict[str, Any], full: dict[str, Any] | None, tags: dict[str, str]) -> ActionItem:
    return ActionItem(**_action_fields(item, full, tags))


def action_run(update: dict[str, Any]) -> ActionRun:
    end = update.get("end_ts")
    output = "\n".join(part for log in update.get("logs", []) for part in (log["stdout"], log["stderr"]) if part)
    if len(output) > OUTPUT_CHARS:
        output = output[:OUTPUT_CHARS] + f"\n[… {len(output) - OUTPUT_CHARS} more characters; see komodo_read_GetJob]"
    complete = update.get("status") == "Complete"
    return ActionRun(execution_id=update["id"], status=job_status(update), started_at=iso(update["start_ts"]),
                     completed_at=iso(end), duration=human_duration(end - update["start_ts"]) if end else None,
                     exit_code=(0 if update.get("success") else 1) if complete else None, output=output)


def action_detail(full: dict[str, Any], item: dict[str, Any], tags: dict[str, str], show_secrets: bool,
                  runs: list[dict[str, Any]]) -> ActionDetail:
    config = full["config"]
    fields = _action_fields(item, full, tags)
    fields["last_execution"] = last_run(runs, item["info"])
    script = config.get("file_contents", "")
    return ActionDetail(
        **fields, description=full.get("description", ""),
        config=ActionConfig(script=script if len(script) <= OUTPUT_CHARS else script[:OUTPUT_CHARS] + "\n// […]",
                            environment=env_mapping(config.get("arguments"), show_secrets),
                            arguments_format=config.get("arguments_format", "key_value")),
        execution_history=[action_run(run) for run in runs])

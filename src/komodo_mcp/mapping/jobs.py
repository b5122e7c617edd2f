"""Komodo Updates → jobs. A job is an execution Core runs asynchronously; its Update is the whole state."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, Field

from .common import human_duration, iso
from .status import JobStatus, job_status

STEP_OUTPUT_CHARS = 4_000
_TAGS = re.compile(r"<[^>]+>")


class JobStep(BaseModel):
    name: str
    command: str
    stdout: str
    stderr: str
    success: bool
    started_at: str | None
    completed_at: str | None
    duration: str | None


class JobError(BaseModel):
    code: Literal["CONFLICT", "FORBIDDEN", "INTERNAL_ERROR"]
    message: str


class Job(BaseModel):
    job_id: str = Field(description="The Komodo Update id; pass it to komodo_read_GetJob or komodo_execute_WaitForJob")
    operation: str
    status: JobStatus
    success: bool | None = Field(description="null while the job runs")
    resource_type: str
    resource_id: str
    resource_name: str | None = None
    started_at: str | None
    completed_at: str | None
    duration: str | None
    steps: list[str] = Field(description="Names of the steps run so far")
    current_step: str | None
    logs: list[JobStep]
    operator: str
    version: str | None = None
    error: JobError | None = Field(None, description="Why Komodo refused or failed the job, when it did")
    log_url: str | None


def plain(text: str) -> str:
    """Core formats task errors with HTML spans for its UI; models want the words."""
    return _TAGS.sub("", text).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def bounded(text: str, limit: int = STEP_OUTPUT_CHARS) -> str:
    if len(text) <= limit:
        return text
    return f"[… {len(text) - limit} earlier characters cut]\n" + text[-limit:]


def job_error(update: dict[str, Any]) -> JobError | None:
    """Core reports busy and forbidden executions only inside the Update, as a failed "Task Error" log."""
    failed = [log for log in update.get("logs", []) if not log.get("success")]
    if not failed or update.get("status") != "Complete":
        return None
    message = plain(failed[-1].get("stderr") or failed[-1].get("stdout") or "failed").strip()
    message = message.removeprefix("ERROR:").strip()
    if failed[-1].get("stage") == "Task Error":
        if "is busy" in message:
            return JobError(code="CONFLICT", message=message)
        if "does not have required permissions" in message or "admin only" in message.lower():
            return JobError(code="FORBIDDEN", message=message)
    return JobError(code="INTERNAL_ERROR", message=message.splitlines()[0] if message else "failed")


def job(update: dict[str, Any], job_id: str, log_url: str | None, resource_name: str | None = None,
        operator_name: str | None = None) -> Job:
    logs = update.get("logs", [])
    end = update.get("end_ts")
    status = job_status(update)
    version = update.get("version")
    return Job(
        job_id=job_id, operation=update["operation"], status=status,
        success=update.get("success") if update.get("status") == "Complete" else None,
        resource_type=update["target"]["type"], resource_id=update["target"]["id"], resource_name=resource_name,
        started_at=iso(update["start_ts"]), completed_at=iso(end),
        duration=human_duration((end or 0) - update["start_ts"]) if end else None,
        steps=[log["stage"] for log in logs],
        current_step=None if status != "running" else (logs[-1]["stage"] if logs else "starting"),
        logs=[JobStep(name=log["stage"], command=log.get("command", ""), stdout=bounded(plain(log.get("stdout", ""))),
                      stderr=bounded(plain(log.get("stderr", ""))), success=log["success"],
                      started_at=iso(log.get("start_ts")), completed_at=iso(log.get("end_ts")),
                      duration=human_duration(log["end_ts"] - log["start_ts"])
                      if log.get("end_ts") and log.get("start_ts") else None) for log in logs],
        operator=operator_name or update.get("operator", ""),
        version=f"{version['major']}.{version['minor']}.{version['patch']}" if version else None,
        error=job_error(update), log_url=log_url)

"""Several Komodo instances behind one server: which one a tool call goes to, and job ids that carry it.

With several instances configured, every tool takes an optional `instance` argument (omitted: the default). The
server takes it out of the arguments before the tool sees them and selects the instance for the call's duration
(`SELECTED`), so tool bodies stay the same and reach their instance's App through `app_of`. Job ids become
`<instance>:<Komodo Update id>`: a job id from one instance can never be looked up on another, and GetJob, WaitForJob,
CancelJob and MCP tasks find the instance from the id alone. With one Komodo configured nothing here is used.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

SELECTED: ContextVar[str | None] = ContextVar("komodo_mcp_instance", default=None)
ARGUMENT = "instance"
SEPARATOR = ":"
JOB_ID_KEYS = ("job_id", "running_job_ids", "followup_job_id", "cancel_job_id")  # where answers carry Update ids


class InstanceChoiceError(ValueError):
    """An `instance` argument or job id naming no configured instance, or two that disagree."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def split_job_id(job_id: str) -> tuple[str | None, str]:
    """`staging:65f…` → ("staging", "65f…"); an id without an instance → (None, id)."""
    instance, separator, bare = job_id.partition(SEPARATOR)
    return (instance, bare) if separator else (None, job_id)


def choose(arguments: dict[str, Any], names: list[str], default: str) -> tuple[str, dict[str, Any]]:
    """The instance a call goes to and the arguments the tool itself takes (no `instance`, a bare `job_id`)."""
    arguments = dict(arguments)
    asked = arguments.pop(ARGUMENT, None)
    if asked is not None and asked not in names:
        raise InstanceChoiceError(f"unknown instance {asked!r}; configured: {', '.join(names)} "
                                  "(komodo_read_ListInstances)", ARGUMENT)
    job_id = arguments.get("job_id")
    if isinstance(job_id, str):
        owner, bare = split_job_id(job_id)
        if owner is not None:
            if owner not in names:
                raise InstanceChoiceError(f"job {job_id!r} names no configured instance ({', '.join(names)})",
                                          "job_id")
            if asked is not None and asked != owner:
                raise InstanceChoiceError(f"job {job_id!r} belongs to instance {owner!r}, not {asked!r}: a job id "
                                          "is only looked up on the instance that ran it", "job_id")
            arguments["job_id"], asked = bare, owner
    return asked or default, arguments


def qualify(value: Any, instance: str) -> Any:
    """An answer with every job id prefixed by its instance, so the id alone says where to look it up."""
    if isinstance(value, list):
        return [qualify(item, instance) for item in value]
    if not isinstance(value, dict):
        return value
    qualified = {}
    for key, inner in value.items():
        if key in JOB_ID_KEYS and inner is not None:
            inner = ([_prefixed(item, instance) for item in inner] if isinstance(inner, list)
                     else _prefixed(inner, instance))
        qualified[key] = qualify(inner, instance)
    return qualified


def as_shown(job_id: str) -> str:
    """A job id as an answer shows it: with the selected instance, when several are configured. For ids inside free
    text (a hint), which `qualify` does not reach."""
    instance = SELECTED.get()
    return job_id if instance is None else _prefixed(job_id, instance)


def _prefixed(job_id: Any, instance: str) -> Any:
    if not isinstance(job_id, str) or split_job_id(job_id)[0] is not None:
        return job_id
    return f"{instance}{SEPARATOR}{job_id}"


def input_property(names: list[str], default: str) -> dict[str, Any]:
    """The `instance` parameter every tool lists when several instances are configured: flat, a plain enum."""
    return {"type": "string", "enum": names,
            "description": f"Komodo instance (default {default})"}

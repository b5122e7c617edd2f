"""Shared parameter types: flat, primitive and described, so input schemas stay portable across clients."""

from __future__ import annotations

import inspect
from typing import Annotated, Literal

from pydantic import Field

from ..mapping.models import LazyModel



def ref(what: str) -> object:
    return Field(min_length=1, max_length=256, description=f"The {what}'s Komodo id or its exact name")


# The `id` parameter of generated Update tools (any kind).
ID = inspect.Parameter("id", inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[str, Field(
    min_length=1, max_length=256, description="The resource's Komodo id or its exact name")])

ServerId = Annotated[str, ref("server")]
DeploymentId = Annotated[str, ref("deployment")]
StackId = Annotated[str, ref("stack")]
BuildId = Annotated[str, ref("build")]
RepoId = Annotated[str, ref("repo")]
ProcedureId = Annotated[str, ref("procedure")]
ActionId = Annotated[str, ref("action")]
# Komodo finds an alert by ObjectId only, and answers anything else with an internal database error.
AlertId = Annotated[str, Field(pattern=r"^[0-9a-fA-F]{24}$", description="The alert's Komodo id (24 hex digits)")]
PageNumber = Annotated[int, Field(ge=1, description="Page number, from 1")]
PageSize = Annotated[int, Field(ge=1, le=100, description="Items per page (max 100)")]
Tail = Annotated[int, Field(ge=1, le=5000, description="How many of the newest lines to read (max 5000)")]
Search = Annotated[str, Field(min_length=1, max_length=200, description="Only lines containing this text "
                              "(case-insensitive), searched by Komodo over the whole log")]
Timestamps = Annotated[bool, Field(description="Prefix each line with Docker's timestamp")]
Regex = Annotated[str, Field(min_length=1, max_length=200, description="Only lines matching this Python regular "
                             "expression, filtered by this server over the lines Komodo returns (the newest `tail`)")]
Since = Annotated[str, Field(min_length=2, max_length=40, description="Only lines from this time on: a duration back "
                             "from now (30s, 15m, 2h, 1d) or an ISO timestamp (2026-05-01T12:00:00Z)")]
LogStream = Annotated[Literal["stdout", "stderr", "both"], Field(description="Which output stream of the container")]
Services = Annotated[list[str], Field(description="Only these compose services; empty means the whole stack")]
StopSignal = Annotated[Literal["SIGTERM", "SIGINT", "SIGQUIT", "SIGHUP"], Field(
    description="Signal sent to stop the container (default: the deployment's termination_signal)")]
StopTime = Annotated[int, Field(ge=0, le=3600, description="Seconds to wait after the signal before killing")]
# TypeScript SDK clients (the inspector, many IDEs) give up on any request after 60 s: a waiting tool returns well
# before that by default, with the job still running and the way to go on waiting.
DEFAULT_WAIT_SECONDS = 45
WaitTimeout = Annotated[int, Field(ge=1, le=3600, description=f"Seconds to wait at most (default "
                                   f"{DEFAULT_WAIT_SECONDS}: many clients give up on a request after 60); the job "
                                   "goes on after, and WaitForJob waits again")]


class RunOptions(LazyModel):
    async_: bool | None = Field(None, alias="async", description="false: wait for the end and return the result "
                                "(default true: return the job_id at once)")
    timeout: int | None = Field(None, ge=1, le=3600, description=f"Seconds to wait at most when async is false "
                                f"(default {DEFAULT_WAIT_SECONDS}); komodo_execute_WaitForJob waits on after")

    model_config = {"populate_by_name": True}

def given(**values: object) -> dict[str, object]:
    """The optional parameters the caller gave: omitted ones (None) are left for Komodo's defaults."""
    return {key: value for key, value in values.items() if value is not None}


# Resource kinds as parameters name them (lowercase), and the Komodo kind each means.
ResourceKind = Literal["server", "deployment", "stack", "build", "repo", "procedure", "action", "resourcesync",
                       "builder", "alerter"]
ResourceKindOrSystem = Literal["server", "deployment", "stack", "build", "repo", "procedure", "action",
                               "resourcesync", "builder", "alerter", "system"]


def kind_of(resource_type: str) -> str:
    """`deployment` → `Deployment`, `resourcesync` → `ResourceSync`."""
    return "ResourceSync" if resource_type == "resourcesync" else resource_type.capitalize()

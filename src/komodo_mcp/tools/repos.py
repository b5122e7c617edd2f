"""Repos: git repositories Komodo clones onto servers and builds from."""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from pydantic import BaseModel, Field

from ..client import gather, list_all
from ..mapping.envelope import Envelope, ok
from ..mapping.executions import RepoResult
from ..mapping.models import LazyModel, Page, RepoDetail, RepoItem
from ..mapping.repos import repo_detail, repo_item
from ..mapping.status import RepoProvider
from ._context import App, app_of
from ._execution import Started, answers, result_fields, start
from ._lists import list_resources
from ._params import ID, PageNumber, PageSize, RepoId
from ._spec import execute, read, write
from ._writes import WriteResult, create_tool, delete, key_values, update_tool


async def _builds_by_repo(app: App) -> dict[str, list[str]]:
    """Build ids per linked repo id: what the reference calls a repo's builds."""
    grouped: dict[str, list[str]] = defaultdict(list)
    for build in await list_all(app.komodo, "ListBuilds"):
        if build["info"].get("linked_repo"):
            grouped[build["info"]["linked_repo"]].append(build["id"])
    return grouped


@read("ListRepos", "List repos")
async def list_repos(
    ctx: Context,
    page: PageNumber = 1,
    page_size: PageSize = 50,
    provider: Annotated[RepoProvider | None, Field(description="Git host: github.com, gitlab.com, bitbucket.org, "
                                                   "or other (self-hosted)")] = None,
) -> Envelope[Page[RepoItem]]:
    """List git repos Komodo manages, with provider, URL, branch, last pull and the builds that use them."""
    app = app_of(ctx)
    builds = await _builds_by_repo(app)
    page_of = await list_resources(
        app, "Repo", page=page, page_size=page_size, query={},
        mapper=lambda item, full, tags: repo_item(item, full, tags, builds.get(item["id"], [])),
        keep=(lambda repo: repo.provider == provider) if provider else None)  # Komodo cannot filter by host
    return ok(page_of)


@read("GetRepo", "Get repo")
async def get_repo(ctx: Context, id: RepoId) -> Envelope[RepoDetail]:
    """One repo in depth: credentials (configured or not, never the token), webhook, the commits Komodo knows
    (remote head, cloned, built) and the builds that use it."""
    app = app_of(ctx)
    full, tags, builds = await gather(app.komodo.read("GetRepo", repo=id), app.tag_names(), _builds_by_repo(app))
    items = await app.komodo.read("ListRepos", query={"names": [full["_id"]["$oid"]]}, limit=0)
    return ok(repo_detail(full, items[0], tags, builds.get(full["_id"]["$oid"], []), app.settings.url))


class PullOptions(LazyModel):
    branch: str | None = Field(None, description="Komodo pulls the repo's configured branch; change it with "
                                                 "komodo_write_UpdateRepo")
    force: bool | None = Field(None, description="Not supported by Komodo's PullRepo")
    submodules: bool | None = Field(None, description="Not supported by Komodo's PullRepo")


class CloneOptions(LazyModel):
    branch: str | None = Field(None, description="Komodo clones the repo's configured branch")
    depth: int | None = Field(None, ge=1, description="Not supported by Komodo's CloneRepo")
    submodules: bool | None = Field(None, description="Not supported by Komodo's CloneRepo")
    overwrite: bool | None = Field(None, description="Komodo always replaces an existing clone")


def _unsupported(options: BaseModel, operation: str) -> list[str]:
    return [f"{name}: Komodo's {operation} takes only the repo; it uses the repo's config"
            for name, value in options.model_dump().items() if value is not None]


@answers("CloneRepo", "PullRepo", "BuildRepo")
def _repo_result(app: App, started: Started, message: str, ignored: list[str] | None = None,
                 target_path: str | None = None, update: dict[str, Any] | None = None,
                 waited: bool = False) -> RepoResult:
    return RepoResult(**result_fields(app, started, message, ignored, update, waited), repo_id=started.id,
                      repo_name=started.name,
                      branch=started.resource["config"].get("branch", ""), target_path=target_path)


@execute("PullRepo", "Pull repo")
async def pull_repo(ctx: Context, id: RepoId, options: PullOptions | None = None) -> Envelope[RepoResult]:
    """Pull the latest commits of a repo onto its server (git pull of the configured branch). Returns a job_id."""
    app = app_of(ctx)
    started = await start(app, "Repo", id, "PullRepo")
    branch = started.resource["config"].get("branch", "")
    return ok(_repo_result(app, started, f"Pulling latest changes from {branch}",
                           _unsupported(options or PullOptions(), "PullRepo")))


@execute("CloneRepo", "Clone repo")
async def clone_repo(ctx: Context, id: RepoId, options: CloneOptions | None = None) -> Envelope[RepoResult]:
    """Clone a repo onto its server, replacing an existing clone. Returns a job_id at once."""
    app = app_of(ctx)
    started = await start(app, "Repo", id, "CloneRepo")
    path = started.resource["config"].get("path") or f"/etc/komodo/repos/{started.name}"
    return ok(_repo_result(app, started, f"Cloning repository to {path}",
                           _unsupported(options or CloneOptions(), "CloneRepo"), path))


@execute("BuildRepo", "Build repo")
async def build_repo(ctx: Context, id: RepoId) -> Envelope[RepoResult]:
    """Clone a repo on its builder and run its on-clone / on-pull commands there. Returns a job_id at once."""
    app = app_of(ctx)
    started = await start(app, "Repo", id, "BuildRepo")
    return ok(_repo_result(app, started, f"Building repo {started.name}"))


class RepoFields(LazyModel):
    server: str = Field(description="Server to clone onto (id or name)")
    builder: str = Field(description="Builder for komodo_execute_BuildRepo (id or name)")
    repo: str = Field(description="Git repo, e.g. myorg/app")
    branch: str = Field(description="Git branch")
    git_provider: str = Field(description="Git host, e.g. github.com")
    git_account: str = Field(description="Git account for private repos")
    path: str = Field(description="Where to clone on the server")
    on_clone: str = Field(description="Command to run after cloning")
    on_pull: str = Field(description="Command to run after pulling")
    environment: dict[str, str] = Field(description="Written to the repo's .env file")


def repo_config(values: dict[str, Any]) -> dict[str, Any]:
    config = {k: v for k, v in values.items() if k not in ("server", "builder", "on_clone", "on_pull", "environment")}
    for key, komodo_key in (("server", "server_id"), ("builder", "builder_id")):
        if key in values:
            config[komodo_key] = values[key]
    for key in ("on_clone", "on_pull"):
        if key in values:
            config[key] = {"path": "", "command": values[key]}
    if "environment" in values:
        config["environment"] = key_values(values["environment"])
    return config


create_repo = write("CreateRepo", "Create repo")(create_tool(
    "Repo", RepoFields, repo_config, __name__,
    "Register a git repo with Komodo, to clone onto a server or build from. Clone it with komodo_execute_CloneRepo."))
update_repo = write("UpdateRepo", "Update repo")(update_tool(
    "Repo", RepoFields, repo_config, __name__,
    "Change a repo's config, e.g. its branch (only the fields given); answers each changed field before and after.",
    ID))


@write("DeleteRepo", "Delete repo", destructive=True)
async def delete_repo(ctx: Context, id: RepoId) -> Envelope[WriteResult]:
    """Delete a repo from Komodo."""
    return ok(await delete(app_of(ctx), "Repo", id))

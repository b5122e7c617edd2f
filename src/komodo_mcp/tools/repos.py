"""Repos: git repositories Komodo clones onto servers and builds from."""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated

from mcp.server.mcpserver import Context
from pydantic import BaseModel, Field

from ..client import gather, list_all
from ..mapping.envelope import Envelope, ok
from ..mapping.executions import RepoResult
from ..mapping.models import Page, RepoDetail, RepoItem
from ..mapping.repos import repo_detail, repo_item
from ..mapping.status import RepoProvider
from ._context import App, app_of
from ._execution import Started, result_fields, start
from ._lists import list_resources
from ._params import PageNumber, PageSize, RepoId
from ._spec import execute, read


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


class PullOptions(BaseModel):
    branch: str | None = Field(None, description="Komodo pulls the repo's configured branch; change it with "
                                                 "komodo_write_UpdateRepo")
    force: bool | None = Field(None, description="Not supported by Komodo's PullRepo")
    submodules: bool | None = Field(None, description="Not supported by Komodo's PullRepo")


class CloneOptions(BaseModel):
    branch: str | None = Field(None, description="Komodo clones the repo's configured branch")
    depth: int | None = Field(None, ge=1, description="Not supported by Komodo's CloneRepo")
    submodules: bool | None = Field(None, description="Not supported by Komodo's CloneRepo")
    overwrite: bool | None = Field(None, description="Komodo always replaces an existing clone")


def _unsupported(options: BaseModel, operation: str) -> list[str]:
    return [f"{name}: Komodo's {operation} takes only the repo; it uses the repo's config"
            for name, value in options.model_dump().items() if value is not None]


def _repo_result(app: App, started: Started, message: str, ignored: list[str] | None = None,
                 target_path: str | None = None) -> RepoResult:
    return RepoResult(**result_fields(app, started, message, ignored), repo_id=started.id, repo_name=started.name,
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

"""Repos: git repositories Komodo clones onto servers and builds from."""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated

from mcp.server.mcpserver import Context
from pydantic import Field

from ..client import gather, list_all
from ..mapping.envelope import Envelope, ok
from ..mapping.models import Page, RepoDetail, RepoItem
from ..mapping.repos import repo_detail, repo_item
from ..mapping.status import RepoProvider
from ._context import App, app_of
from ._lists import list_resources
from ._params import PageNumber, PageSize, RepoId
from ._spec import read


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

"""Builds: Docker images Komodo builds from a repo and pushes to a registry."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context
from pydantic import BaseModel, Field

from ..client import KomodoError, gather
from ..mapping.builds import build_detail, build_item
from ..mapping.envelope import Envelope, ok
from ..mapping.executions import BuildResult, CancelResult
from ..mapping.models import BuildDetail, BuildItem, Page
from ..mapping.status import BUILD, BuildStatus
from ._context import app_of
from ._execution import cancel_running, result_fields, start
from ._history import recent_runs
from ._lists import list_resources
from ._params import BuildId, PageNumber, PageSize
from ._spec import execute, read

HISTORY_RUNS = 10


@read("ListBuilds", "List builds")
async def list_builds(
    ctx: Context,
    page: PageNumber = 1,
    page_size: PageSize = 50,
    repo_id: Annotated[str | None, Field(min_length=1, description="Only builds of this Komodo repo (id or name)")] = None,
    status: Annotated[BuildStatus | None, Field(description="success (Ok), failed, building, pending (Unknown: "
                                                "never built)")] = None,
) -> Envelope[Page[BuildItem]]:
    """List image builds with their last result, version, commit, image name and registry."""
    app = app_of(ctx)
    specific: dict = {}
    if status:
        specific["states"] = list(BUILD[status])
    if repo_id:
        specific["linked_repos"] = [await app.resolve_id("Repo", repo_id)]
    return ok(await list_resources(app, "Build", page=page, page_size=page_size,
                                   query={"specific": specific} if specific else {}, mapper=build_item))


@read("GetBuild", "Get build")
async def get_build(ctx: Context, id: BuildId) -> Envelope[BuildDetail]:
    """One build in depth: config, build args (secrets masked), and its recent runs with duration and result."""
    app = app_of(ctx)
    komodo = app.komodo
    full, tags = await gather(komodo.read("GetBuild", build=id), app.tag_names())
    build_id = full["_id"]["$oid"]
    builder_id = full["config"].get("builder_id")
    items, runs, builder = await gather(
        komodo.read("ListBuilds", query={"names": [build_id]}, limit=0),
        recent_runs(komodo, "Build", build_id, ("RunBuild",), HISTORY_RUNS),
        komodo.read("GetBuilder", builder=builder_id) if builder_id else _none(), tolerate=True)
    for required in (items, runs):
        if isinstance(required, KomodoError):
            raise required
    builder_name = builder["name"] if isinstance(builder, dict) else None
    return ok(build_detail(full, items[0], tags, app.settings.show_secrets, runs, builder_name))


async def _none() -> None:
    return None


class BuildOptions(BaseModel):
    skipCache: bool | None = Field(None, description="Komodo has no per-run cache switch (add --no-cache to the "
                                                     "build's extra args instead)")
    skipPull: bool | None = Field(None, description="Komodo always clones or pulls the source before building")
    forceBuild: bool | None = Field(None, description="Komodo always builds when asked")


@execute("Build", "Build image")
async def build(ctx: Context, id: BuildId, options: BuildOptions | None = None) -> Envelope[BuildResult]:
    """Run a build: clone the repo, build the image, push it to the registry. Returns a job_id at once; the
    version is auto-incremented when the build is set to. CONFLICT when the build is already running."""
    app = app_of(ctx)
    opts = options or BuildOptions()
    ignored = [f"{name}: Komodo's RunBuild takes no such option" for name in ("skipCache", "skipPull", "forceBuild")
               if getattr(opts, name) is not None]
    started = await start(app, "Build", id, "RunBuild")
    version = started.update.get("version")
    info = started.resource.get("info") or {}
    return ok(BuildResult(**result_fields(app, started, f"Building {started.name}", ignored), build_id=started.id,
                          build_name=started.name, build_number=version["patch"] if version else None,
                          commit=info.get("latest_hash") or info.get("built_hash"),
                          branch=started.resource["config"].get("branch", ""),
                          stream_url=_ws_url(app.settings.url)))


def _ws_url(core_url: str) -> str | None:
    if not core_url:
        return None
    return core_url.replace("https://", "wss://", 1).replace("http://", "ws://", 1) + "/ws/update"


@execute("CancelBuild", "Cancel build")
async def cancel_build(ctx: Context, id: BuildId) -> Envelope[CancelResult]:
    """Cancel the build that is running now. CONFLICT when no build of it is running."""
    return ok(await cancel_running(app_of(ctx), "Build", id))

"""Builds: Docker images Komodo builds from a repo and pushes to a registry."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from pydantic import Field

from ..mapping.builds import build_detail, build_item
from ..mapping.envelope import Envelope, ok
from ..mapping.executions import BuildResult, CancelResult
from ..mapping.models import BuildDetail, BuildItem, LazyModel, Page
from ..mapping.status import BUILD, BuildStatus
from ._context import App, app_of
from ._execution import Started, answers, cancel_running, result_fields, start
from ._history import recent_runs, resource_in_one_round
from ._lists import list_resources
from ._params import ID, BuildId, PageNumber, PageSize
from ._spec import execute, read, write
from ._writes import WriteResult, create_tool, delete, key_values, update_tool

HISTORY_RUNS = 10


@read("ListBuilds", "List builds")
async def list_builds(
    ctx: Context,
    page: PageNumber = 1,
    page_size: PageSize = 50,
    repo_id: Annotated[str | None, Field(min_length=1, description="Only builds of this Komodo repo (id or name)")] = None,
    status: Annotated[BuildStatus | None, Field(description="success (Ok), failed, building, pending (never "
                                                "built, which Komodo reports as Ok or Unknown)")] = None,
) -> Envelope[Page[BuildItem]]:
    """List image builds with their last result, version, commit, image name and registry."""
    app = app_of(ctx)
    specific: dict = {}
    keep = None
    if status:
        # Komodo's `Ok` is both built and never built: ask for the states, then tell them apart by last build.
        specific["states"] = list(BUILD[status]) + (["Ok"] if status == "pending" else [])
        keep = (lambda build: build.status == status) if status in ("success", "pending") else None
    if repo_id:
        specific["linked_repos"] = [await app.resolve_id("Repo", repo_id)]
    return ok(await list_resources(app, "Build", page=page, page_size=page_size,
                                   query={"specific": specific} if specific else {}, mapper=build_item, keep=keep))


@read("GetBuild", "Get build")
async def get_build(ctx: Context, id: BuildId) -> Envelope[BuildDetail]:
    """One build in depth: config, build args (secrets masked), and its recent runs with duration and result."""
    app = app_of(ctx)
    full, item, tags, _, (runs,) = await resource_in_one_round(
        app, "Build", id, by_id=lambda build_id: [recent_runs(app, "Build", build_id, ("RunBuild",), HISTORY_RUNS)])
    builder_id = full["config"].get("builder_id")
    builder_name = await app.name_of("Builder", builder_id) if builder_id else None
    return ok(build_detail(full, item, tags, app.settings.show_secrets, runs, builder_name))


class BuildOptions(LazyModel):
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
    return ok(_build_result(app, started, f"Building {started.name}", ignored))


@answers("RunBuild")
def _build_result(app: App, started: Started, message: str, ignored: list[str] | None = None,
                  update: dict[str, Any] | None = None, waited: bool = False) -> BuildResult:
    version = (update or started.update).get("version") or _version_to_build(started.resource["config"])
    info = started.resource.get("info") or {}
    return BuildResult(**result_fields(app, started, message, ignored, update, waited), build_id=started.id,
                       build_name=started.name, build_number=version["patch"] if version else None,
                       commit=info.get("latest_hash") or info.get("built_hash"),
                       branch=started.resource["config"].get("branch", ""), stream_url=_ws_url(app.settings.url))


def _version_to_build(config: dict[str, Any]) -> dict[str, int] | None:
    """Core puts the version on the Update only once the build has begun (api/execute/build.rs); until then it is
    the one RunBuild is about to build."""
    version = config.get("version")
    if version and config.get("auto_increment_version", True):
        return {**version, "patch": version["patch"] + 1}
    return version


def _ws_url(core_url: str) -> str | None:
    if not core_url:
        return None
    return core_url.replace("https://", "wss://", 1).replace("http://", "ws://", 1) + "/ws/update"


@execute("CancelBuild", "Cancel build")
async def cancel_build(ctx: Context, id: BuildId) -> Envelope[CancelResult]:
    """Cancel the build that is running now. CONFLICT when no build of it is running."""
    return ok(await cancel_running(app_of(ctx), "Build", id))


class BuildFields(LazyModel):
    builder: str = Field(description="Builder to build on (id or name)")
    repo: str = Field(description="Git repo to build, e.g. myorg/app")
    branch: str = Field(description="Git branch")
    git_provider: str = Field(description="Git host, e.g. github.com")
    git_account: str = Field(description="Git account for private repos")
    image_name: str = Field(description="Image name (default: the build's name)")
    image_tag: str = Field(description="Extra tag suffix")
    dockerfile_path: str = Field(description="Path of the Dockerfile in the repo")
    build_path: str = Field(description="Build context in the repo")
    dockerfile: str = Field(description="Dockerfile contents kept in Komodo, instead of the repo's")
    build_args: dict[str, str] = Field(description="Docker build args")
    version: str = Field(pattern=r"^\d+\.\d+\.\d+$", description="Version, e.g. 2.1.0")
    auto_increment_version: bool = Field(description="Bump the patch version on every build")
    image_registry_domain: str = Field(description="Registry to push to, e.g. ghcr.io")
    image_registry_account: str = Field(description="Registry account to push with")
    image_registry_organization: str = Field(description="Registry organisation")
    extra_args: list[str] = Field(description="Extra docker build arguments, e.g. --no-cache")


def build_config(values: dict[str, Any]) -> dict[str, Any]:
    registry_keys = ("image_registry_domain", "image_registry_account", "image_registry_organization")
    config = {k: v for k, v in values.items() if k not in ("builder", "build_args", "version", *registry_keys)}
    if "builder" in values:
        config["builder_id"] = values["builder"]
    if "build_args" in values:
        config["build_args"] = key_values(values["build_args"])
    if "version" in values:
        major, minor, patch = (int(p) for p in values["version"].split("."))
        config["version"] = {"major": major, "minor": minor, "patch": patch}
    if any(k in values for k in registry_keys):
        config["image_registry"] = [{"domain": values.get("image_registry_domain", ""),
                                     "account": values.get("image_registry_account", ""),
                                     "organization": values.get("image_registry_organization", "")}]
    return config


create_build = write("CreateBuild", "Create build")(create_tool(
    "Build", BuildFields, build_config, __name__,
    "Create a build: how Komodo builds an image from a repo and where it pushes it. Run it with "
    "komodo_execute_Build. Needs the create-build permission (admins have it)."))
update_build = write("UpdateBuild", "Update build")(update_tool(
    "Build", BuildFields, build_config, __name__,
    "Change a build's config (only the fields given); answers each changed field before and after.", ID))


@write("DeleteBuild", "Delete build", destructive=True)
async def delete_build(ctx: Context, id: BuildId) -> Envelope[WriteResult]:
    """Delete a build from Komodo (images already pushed stay in the registry)."""
    return ok(await delete(app_of(ctx), "Build", id))

"""MCP resources, for what a model benefits from reading rather than calling, and name completions for them."""

from __future__ import annotations

import functools
import json
from contextvars import ContextVar
from typing import Any, Awaitable, Callable

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError
from mcp.types import Completion, PromptReference, ResourceTemplateReference

from .client import KomodoError, NotFound, list_all
from .mapping.envelope import SHOW_SECRETS, ok, shown
from .redact import redact
from .tools._context import App, app_for, app_for_job, app_of, job_answer

COMPLETIONS = 50
# Which Komodo list completes which argument (resource template variables and prompt arguments alike).
COMPLETED_BY = {"name": None, "deployment": "ListDeployments", "stack": "ListStacks"}


# The request being served: static resources and completion get no Context, yet must act with the caller's key.
REQUEST: ContextVar[ServerRequestContext[App, Any] | None] = ContextVar("request", default=None)


class RequestScope:
    """Middleware: every request runs with REQUEST set, and with value masking as the settings say."""

    async def __call__(self, ctx: ServerRequestContext[App, Any], call_next: CallNext) -> HandlerResult:
        request = REQUEST.set(ctx)
        show = SHOW_SECRETS.set(ctx.lifespan_context.settings.show_secrets)
        try:
            return await call_next(ctx)
        finally:
            SHOW_SECRETS.reset(show)
            REQUEST.reset(request)


def _caller_app(running: list[App]) -> App:
    """The App for the request being served: the caller's own Komodo key when it sent one."""
    request = REQUEST.get()
    return app_for(request) if request is not None else running[0]


def _json(model: Any) -> str:
    return json.dumps(ok(model).model_dump(mode="json")["data"], indent=2)


def komodo_errors(read: Callable[..., Awaitable[str]]) -> Callable[..., Awaitable[str]]:
    """Komodo's answer as the SDK's anticipated resource errors: a missing resource is a not-found (-32602), other
    refusals an error; both say Komodo's code first ("NOT_FOUND: …", as tools do) and are logged in one line, not
    as a crash with a traceback."""
    @functools.wraps(read)
    async def reading(*args: Any, **kwargs: Any) -> str:
        try:
            return await read(*args, **kwargs)
        except KomodoError as error:
            refusal = ResourceNotFoundError if isinstance(error, NotFound) else ResourceError
            raise refusal(f"{error.code}: {redact(error.message)}") from None
    return reading


def register_resources(server: MCPServer, running: list[App]) -> None:
    @server.resource("komodo://summary", name="fleet-summary", title="Fleet summary", mime_type="application/json",
                     description="Counts by state for every resource kind, open alerts, running jobs")
    @komodo_errors
    async def summary() -> str:
        from .tools.system import fleet_summary  # the tools' modules load on first use, not to list what exists

        if not running:
            raise RuntimeError("the server is still starting")
        return _json(await fleet_summary(_caller_app(running)))

    @server.resource("komodo://deployments/{name}", name="deployment", title="Deployment",
                     mime_type="application/json",
                     description="One deployment: state, health, image, ports, environment (masked), recent deploys")
    @komodo_errors
    async def deployment(name: str, ctx: Context) -> str:
        from .tools.deployments import get_deployment

        return _json((await get_deployment.fn(ctx, id=name)).data)

    @server.resource("komodo://stacks/{name}/compose", name="stack-compose", title="Stack compose file",
                     mime_type="application/yaml", description="The compose file a stack deploys")
    @komodo_errors
    async def stack_compose(name: str, ctx: Context) -> str:
        from .mapping.stacks import compose_content

        stack = await app_of(ctx).komodo.read("GetStack", stack=name)
        return shown(compose_content(stack)) or f"# {name}: the compose file lives on the server or in a repo Komodo has " \
                                         "not fetched yet\n"

    @server.resource("komodo://updates/{id}", name="update", title="Job (Komodo update)",
                     mime_type="application/json", description="A job: status, steps and their output")
    @komodo_errors
    async def update(id: str, ctx: Context) -> str:
        from .tools.jobs import job_of

        app, job_id = app_for_job(ctx.request_context, id)
        return _json(job_answer(app, (await job_of(app, job_id)).model_dump(mode="json")))

    @server.completion()
    async def complete(ref: Any, argument: Any, context: Any) -> Completion | None:
        if not running:
            return None
        if isinstance(ref, ResourceTemplateReference):
            operation = {"komodo://deployments/{name}": "ListDeployments",
                         "komodo://stacks/{name}/compose": "ListStacks"}.get(ref.uri)
        elif isinstance(ref, PromptReference):
            operation = COMPLETED_BY.get(argument.name)
        else:
            operation = None
        if operation is None:
            return None
        query = {"terms": [argument.value]} if argument.value else {}
        names = sorted(item["name"] for item in await list_all(_caller_app(running).komodo, operation, query))
        return Completion(values=names[:COMPLETIONS], total=len(names), has_more=len(names) > COMPLETIONS)

"""Confirmation of destructive tools, added by the registry (never inside a tool).

A client that can show a form is asked through MCP elicitation (the SDK's Resolve + Elicit, which works in both
protocol generations); declining changes nothing. A client that cannot gets the `confirm: true` argument path, and
the error says so. `--confirm-fallback` chooses what happens without elicitation (argument, allow, deny), and
`--no-confirm` turns confirmation off for automation.
"""

from __future__ import annotations

import functools
import inspect
import typing
from typing import Annotated, Any, Callable

from mcp.server.elicitation import AcceptedElicitation, ElicitationResult
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.resolve import Elicit, Resolve
from pydantic import Field

from ..client.errors import Forbidden, InvalidRequest
from ..config import Settings
from ..mapping.models import LazyModel
from ._spec import ToolSpec

TARGET_PARAMETERS = ("id", "job_id", "name")


class Confirmation(LazyModel):
    confirm: bool = Field(description="Yes, go ahead")


def can_elicit(ctx: Context[Any, Any]) -> bool:
    capabilities = ctx.client_capabilities
    elicitation = capabilities.elicitation if capabilities is not None else None
    return elicitation is not None and (elicitation.form is not None or elicitation.url is None)


def _question(spec: ToolSpec, target: str | None) -> str:
    consequence = spec.description.split("\n")[0]
    return f"{spec.title} {target or ''}?".replace(" ?", "?") + f" {consequence}"


def _resolver(spec: ToolSpec, target_parameter: str | None, fallback: str) -> Callable[..., Any]:
    """Decide, per call, whether to ask the user, accept, or refuse; the SDK runs the elicitation."""

    async def resolve(ctx: Context[Any, Any], confirm: bool = False, **target: Any) -> Any:
        if can_elicit(ctx):
            return Elicit(_question(spec, next(iter(target.values()), None)), Confirmation)
        # No one to ask: the SDK hands this value on as an accepted answer.
        return Confirmation(confirm=fallback == "allow" or (fallback == "argument" and confirm))

    parameters = [inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=Context),
                  inspect.Parameter("confirm", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=bool)]
    annotations: dict[str, Any] = {"ctx": Context, "confirm": bool, "return": Any}
    if target_parameter:
        parameters.append(inspect.Parameter(target_parameter, inspect.Parameter.KEYWORD_ONLY, annotation=str))
        annotations[target_parameter] = str
    resolve.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    resolve.__annotations__ = annotations
    resolve.__name__ = f"confirm_{spec.operation}"
    return resolve


def confirming(spec: ToolSpec, settings: Settings) -> Callable[..., Any]:
    """The tool function, with a `confirm` argument and a confirmation resolved before its body runs."""
    original = spec.fn
    signature = inspect.signature(original)
    hints = typing.get_type_hints(original, include_extras=True)
    target_parameter = next((name for name in TARGET_PARAMETERS if name in signature.parameters), None)
    fallback = settings.confirm_fallback
    context = next(name for name, p in signature.parameters.items() if hints.get(name) is Context)

    @functools.wraps(original)
    async def tool(**arguments: Any) -> Any:
        answer = arguments.pop("confirmation")
        arguments.pop("confirm")
        if isinstance(answer, AcceptedElicitation) and answer.data.confirm:
            return await original(**arguments)
        if can_elicit(arguments[context]):  # the user was asked and said no (or cancelled)
            raise Forbidden(f"Not confirmed: nothing was done ({spec.title.lower()})", {"declined": True})
        if fallback == "deny":
            raise Forbidden(f"{spec.name} needs a confirmation this client cannot show; it is refused here",
                            {"confirmation": "denied without elicitation (--confirm-fallback deny)"})
        raise InvalidRequest(
            f"{spec.name} is destructive and this client cannot show a confirmation: ask the user, then call again "
            "with confirm: true", {"fields": [{"field": "confirm", "message": "must be true once the user agreed"}]})

    confirm = inspect.Parameter("confirm", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=Annotated[
        bool, Field(description="Only for clients that cannot ask the user: true once the user has agreed")])
    confirmation = inspect.Parameter("confirmation", inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[
        ElicitationResult[Confirmation], Resolve(_resolver(spec, target_parameter, fallback))])
    # Evaluated annotations: the originals are strings (postponed evaluation) that mean nothing in this module.
    parameters = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY, annotation=hints.get(name, p.annotation))
                  for name, p in signature.parameters.items()]
    tool.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*parameters, confirm, confirmation], return_annotation=hints["return"])
    tool.__annotations__ = {**hints, "confirm": confirm.annotation, "confirmation": confirmation.annotation}
    del tool.__wrapped__  # the SDK must read the signature above, not the original's
    return tool

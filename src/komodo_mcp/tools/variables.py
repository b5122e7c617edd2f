"""Variables: values Komodo interpolates into configs as [[NAME]]. Secret values never leave this server."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from pydantic import Field

from ..client import InvalidRequest, NotFound

from ..mapping.envelope import Envelope, ok
from ..mapping.models import VariableItem
from ..redact import MASK
from ._context import App, app_of
from ._spec import read, write
from ._writes import FieldChange, WriteResult


@read("ListVariables", "List variables")
async def list_variables(ctx: Context) -> Envelope[list[VariableItem]]:
    """List Komodo variables with descriptions. Secret variables are listed with their value hidden, always."""
    variables = await app_of(ctx).komodo.read("ListVariables")
    return ok([VariableItem(name=v["name"], value=MASK if v.get("is_secret") else v.get("value", ""),
                            description=v.get("description", ""), is_secret=bool(v.get("is_secret")))
               for v in variables])


VariableName = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
                                    description="Variable name, used as [[NAME]] in configs")]


def _view(variable: dict[str, Any]) -> dict[str, Any]:
    secret = bool(variable.get("is_secret"))
    return {"value": MASK if secret else variable.get("value", ""), "description": variable.get("description", ""),
            "is_secret": secret}


async def _current(app: App, name: str) -> dict[str, Any]:
    for variable in await app.komodo.read("ListVariables"):
        if variable["name"] == name:
            return variable
    raise NotFound(f"Did not find any Variable matching {name}", {"operation": "ListVariables"})


@write("CreateVariable", "Create variable")
async def create_variable(
    ctx: Context,
    name: VariableName,
    value: Annotated[str, Field(max_length=65_536, description="The value (never shown again if secret)")],
    description: Annotated[str, Field(max_length=2000)] = "",
    is_secret: Annotated[bool, Field(description="Hide the value from everyone but admins in Komodo, and "
                                     "always here")] = False,
) -> Envelope[WriteResult]:
    """Create a Komodo variable. Admins only."""
    app = app_of(ctx)
    created = await app.komodo.write("CreateVariable", name=name, value=value, description=description,
                                     is_secret=is_secret)
    changed = {k: FieldChange(after=v) for k, v in _view(created).items()}
    return ok(WriteResult(id=name, name=name, resource_type="Variable", operation="created", changed=changed,
                          message=f"Created variable {name}"))


@write("UpdateVariable", "Update variable", idempotent=True)
async def update_variable(
    ctx: Context,
    name: VariableName,
    value: Annotated[str | None, Field(max_length=65_536, description="New value")] = None,
    description: Annotated[str | None, Field(max_length=2000)] = None,
    is_secret: bool | None = None,
) -> Envelope[WriteResult]:
    """Change a variable's value, description or secrecy (only what is given). Admins only."""
    app = app_of(ctx)
    before = await _current(app, name)
    calls = [(op, field, v) for op, field, v in (("UpdateVariableValue", "value", value),
                                                 ("UpdateVariableDescription", "description", description),
                                                 ("UpdateVariableIsSecret", "is_secret", is_secret)) if v is not None]
    if not calls:
        raise InvalidRequest("Nothing to update: give value, description or is_secret",
                             {"fields": [{"field": "(arguments)", "message": "no field given"}]})
    after = before
    for operation, field, new in calls:  # one field per Komodo call, in order
        after = await app.komodo.write(operation, name=name, **{field: new})
    old, new_view = _view(before), _view(after)
    changed = {k: FieldChange(before=old[k], after=new_view[k]) for _, k, _ in calls
               if before.get(k) != after.get(k)}
    return ok(WriteResult(id=name, name=name, resource_type="Variable",
                          operation="updated" if changed else "unchanged", changed=changed,
                          message=f"{'Updated' if changed else 'No change to'} variable {name}"))


@write("DeleteVariable", "Delete variable", destructive=True)
async def delete_variable(ctx: Context, name: VariableName) -> Envelope[WriteResult]:
    """Delete a variable. Configs that interpolate it ([[NAME]]) fail on their next deploy. Admins only."""
    await app_of(ctx).komodo.write("DeleteVariable", name=name)
    return ok(WriteResult(id=name, name=name, resource_type="Variable", operation="deleted", changed={},
                          message=f"Deleted variable {name}"))

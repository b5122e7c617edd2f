"""Create, update (partial merge) and delete, shared by every resource family's write tools.

A family declares the config fields an operator sets once, as a pydantic model; the Create and Update tools get
flat parameters generated from it (a nested model would nest the input schema). Update changes only the fields
given and answers each changed field before and after.
"""

from __future__ import annotations

import inspect
from typing import Annotated, Any, Callable, Literal

from mcp.server.mcpserver import Context
from pydantic import BaseModel, Field

from ..client import InvalidRequest, KomodoError
from ..mapping.envelope import Envelope, ok
from ..mapping.models import LazyModel
from ..redact import MASK, is_secret_key
from ._context import PARAM, App, app_of
from ._params import given

ConfigBuilder = Callable[[dict[str, Any]], dict[str, Any]]
ALWAYS_SECRET_CONFIG = frozenset({"webhook_secret", "passkey", "secret_args"})
MULTILINE_ENV = frozenset({"environment", "build_args", "labels", "arguments"})


ConfigValue = str | int | float | bool | list[str | int | float | bool | dict[str, Any]] | dict[str, Any] | None


class FieldChange(LazyModel):
    before: ConfigValue = None
    after: ConfigValue = None


class WriteResult(LazyModel):
    id: str
    name: str
    resource_type: str
    operation: Literal["created", "updated", "unchanged", "deleted", "closed"]
    changed: dict[str, FieldChange] = Field(description="Config fields that changed; secret values masked")
    message: str


def key_values(mapping: dict[str, str] | None) -> str | None:
    """Komodo keeps environments, build args and labels as `KEY=value` lines."""
    return None if mapping is None else "\n".join(f"{key}={value}" for key, value in mapping.items())


def lines_of(items: list[str] | None) -> str | None:
    return None if items is None else "\n".join(items)


def shown(key: str, value: Any, show_secrets: bool) -> Any:
    """A config value as a write result may show it."""
    if show_secrets:
        return value
    if key in ALWAYS_SECRET_CONFIG:
        return MASK if value else value
    if key in MULTILINE_ENV and isinstance(value, str):
        return "\n".join(f"{line.split('=', 1)[0]}={MASK}" if "=" in line and is_secret_key(line.split("=", 1)[0])
                         else line for line in value.splitlines())
    return value


def diff(before: dict[str, Any], after: dict[str, Any], show_secrets: bool) -> dict[str, FieldChange]:
    return {key: FieldChange(before=shown(key, before.get(key), show_secrets), after=shown(key, after[key], show_secrets))
            for key in after if before.get(key) != after[key]}


async def create(app: App, kind: str, name: str, config: dict[str, Any], description: str | None,
                 tags: list[str] | None) -> WriteResult:
    created = await app.komodo.write(f"Create{kind}", name=name, config=config)
    app.totals.forget(kind)
    resource_id = created["_id"]["$oid"]
    if description or tags:
        try:
            await app.komodo.write("UpdateResourceMeta", target={"type": kind, "id": resource_id},
                                   **({"description": description} if description else {}),
                                   **({"tags": tags} if tags else {}))
        except KomodoError:
            await app.komodo.write(f"Delete{kind}", id=resource_id)  # nothing is left half-written
            raise
    return WriteResult(id=resource_id, name=created["name"], resource_type=kind, operation="created",
                       changed=diff({}, {k: v for k, v in created["config"].items() if k in config},
                                    app.settings.show_secrets),
                       message=f"Created {kind.lower()} {created['name']}")


async def update(app: App, kind: str, key: str, config: dict[str, Any]) -> WriteResult:
    if not config:
        raise InvalidRequest(f"Nothing to update: give at least one field of the {kind.lower()}",
                             {"fields": [{"field": "(arguments)", "message": "no field given"}]})
    current = await app.komodo.read(f"Get{kind}", **{PARAM[kind]: key})
    updated = await app.komodo.write(f"Update{kind}", id=current["_id"]["$oid"], config=config)
    changed = diff(current["config"], {k: v for k, v in updated["config"].items() if k in config},
                   app.settings.show_secrets)
    return WriteResult(id=current["_id"]["$oid"], name=updated["name"], resource_type=kind,
                       operation="updated" if changed else "unchanged", changed=changed,
                       message=f"{'Updated' if changed else 'No change to'} {kind.lower()} {updated['name']}")


async def delete(app: App, kind: str, key: str) -> WriteResult:
    deleted = await app.komodo.write(f"Delete{kind}", id=key)
    app.totals.forget(kind)
    return WriteResult(id=deleted["_id"]["$oid"], name=deleted["name"], resource_type=kind, operation="deleted",
                       changed={}, message=f"Deleted {kind.lower()} {deleted['name']}")


def _parameters(fields: type[BaseModel]) -> list[inspect.Parameter]:
    return [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[(
                info.annotation | None, *info.metadata, Field(description=info.description))])
            for name, info in fields.model_fields.items()]


def _declare(fn: Callable[..., Any], module: str, parameters: list[inspect.Parameter], doc: str) -> Callable[..., Any]:
    context = inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=Context)
    fn.__signature__ = inspect.Signature([context, *parameters],  # type: ignore[attr-defined]
                                         return_annotation=Envelope[WriteResult])
    fn.__annotations__ = {p.name: p.annotation for p in [context, *parameters]} | {"return": Envelope[WriteResult]}
    fn.__module__, fn.__doc__ = module, doc
    return fn


NAME = inspect.Parameter("name", inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[str, Field(
    min_length=1, max_length=128, description="Name of the new resource (Komodo may normalise it)")])
DESCRIPTION = inspect.Parameter("description", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[
    str | None, Field(max_length=2000, description="Description shown in Komodo")])
TAGS = inspect.Parameter("tags", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[
    list[str] | None, Field(description="Tag names; unknown tags are created")])


def create_tool(kind: str, fields: type[BaseModel], to_config: ConfigBuilder, module: str, doc: str) -> Callable:
    async def tool(ctx: Context, name: str, description: str | None = None, tags: list[str] | None = None,
                   **values: Any) -> Envelope[WriteResult]:
        config = to_config(given(**values))
        return ok(await create(app_of(ctx), kind, name, config, description, tags))
    return _declare(tool, module, [NAME, *_parameters(fields), DESCRIPTION, TAGS], doc)


def update_tool(kind: str, fields: type[BaseModel], to_config: ConfigBuilder, module: str, doc: str,
                key: inspect.Parameter) -> Callable:
    async def tool(ctx: Context, id: str, **values: Any) -> Envelope[WriteResult]:
        config = to_config(given(**values))
        return ok(await update(app_of(ctx), kind, id, config))
    return _declare(tool, module, [key, *_parameters(fields)], doc)

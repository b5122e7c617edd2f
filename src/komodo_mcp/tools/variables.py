"""Variables: values Komodo interpolates into configs as [[NAME]]. Secret values never leave this server."""

from __future__ import annotations

from mcp.server.mcpserver import Context

from ..mapping.envelope import Envelope, ok
from ..mapping.models import VariableItem
from ..redact import MASK
from ._context import app_of
from ._spec import read


@read("ListVariables", "List variables")
async def list_variables(ctx: Context) -> Envelope[list[VariableItem]]:
    """List Komodo variables with descriptions. Secret variables are listed with their value hidden, always."""
    variables = await app_of(ctx).komodo.read("ListVariables")
    return ok([VariableItem(name=v["name"], value=MASK if v.get("is_secret") else v.get("value", ""),
                            description=v.get("description", ""), is_secret=bool(v.get("is_secret")))
               for v in variables])

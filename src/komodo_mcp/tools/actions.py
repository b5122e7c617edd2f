"""Actions: TypeScript scripts Komodo runs with Deno, with a Komodo API client in scope."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context
from pydantic import Field

from ..client import gather
from ..mapping.automation import action_detail, action_item
from ..mapping.envelope import Envelope, ok
from ..mapping.models import ActionDetail, ActionItem, Page
from ..mapping.status import ActionType
from ._context import app_of
from ._history import recent_runs
from ._lists import list_resources
from ._params import ActionId, PageNumber, PageSize
from ._spec import read

HISTORY_RUNS = 10


@read("ListActions", "List actions")
async def list_actions(
    ctx: Context,
    page: PageNumber = 1,
    page_size: PageSize = 50,
    type: Annotated[ActionType | None, Field(description="What the script does, judged from its code: notification "
                    "(posts to Slack/Discord/ntfy/webhooks), api (calls Komodo or HTTP APIs), script (anything "
                    "else)")] = None,
    enabled: Annotated[bool | None, Field(description="Scheduled actions whose schedule is on (true) or off "
                                          "(false); unscheduled actions count as enabled")] = None,
) -> Envelope[Page[ActionItem]]:
    """List actions with their kind, schedule, state and last run."""
    keep = None
    if type is not None or enabled is not None:
        keep = lambda a: (type is None or a.type == type) and (enabled is None or a.enabled == enabled)  # noqa: E731
    return ok(await list_resources(app_of(ctx), "Action", page=page, page_size=page_size, query={},
                                   mapper=action_item, keep=keep))


@read("GetAction", "Get action")
async def get_action(ctx: Context, id: ActionId) -> Envelope[ActionDetail]:
    """One action in depth: its script, default arguments (secrets masked) and recent runs with their output."""
    app = app_of(ctx)
    komodo = app.komodo
    full, tags = await gather(komodo.read("GetAction", action=id), app.tag_names())
    action_id = full["_id"]["$oid"]
    items, runs = await gather(komodo.read("ListActions", query={"names": [action_id]}, limit=0),
                               recent_runs(komodo, "Action", action_id, ("RunAction",), HISTORY_RUNS))
    return ok(action_detail(full, items[0], tags, app.settings.show_secrets, runs))

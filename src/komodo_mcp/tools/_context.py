"""What every tool reaches through its Context: the Komodo client, the settings and a short-lived tag cache."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from mcp.server.mcpserver import Context

from ..client import KomodoClient
from ..config import Settings

TAG_CACHE_SECONDS = 30.0
# The parameter that names each kind's target in Komodo's read requests.
PARAM = {"Server": "server", "Deployment": "deployment", "Stack": "stack", "Build": "build", "Repo": "repo",
         "Procedure": "procedure", "Action": "action", "ResourceSync": "sync", "Builder": "builder",
         "Alerter": "alerter"}


@dataclass
class App:
    komodo: KomodoClient
    settings: Settings
    _tags: dict[str, str] = field(default_factory=dict)
    _tags_at: float = 0.0

    async def tag_names(self, fresh: bool = False) -> dict[str, str]:
        """Tag id → name. Tags change rarely, and every list shows them, so they are cached briefly."""
        if fresh or time.monotonic() - self._tags_at > TAG_CACHE_SECONDS:
            tags = await self.komodo.read("ListTags")
            self._tags = {tag["_id"]["$oid"]: tag["name"] for tag in tags}
            self._tags_at = time.monotonic()
        return self._tags

    async def tag_id(self, name: str) -> str | None:
        names = await self.tag_names()
        return next((tag_id for tag_id, tag_name in names.items() if tag_name == name), None)

    async def resolve_id(self, kind: str, key: str) -> str:
        """The id of a resource given by id or name: Komodo's `*_ids` filters and Mongo queries take ids only."""
        found = await self.komodo.read(f"Get{kind}", **{PARAM[kind]: key})
        return found["_id"]["$oid"]

    def ui_link(self, *parts: str) -> str:
        base = self.settings.ui_url or self.settings.url
        return "/".join([base.rstrip("/"), *parts])


def app_of(ctx: Context[Any, Any]) -> App:
    return ctx.request_context.lifespan_context

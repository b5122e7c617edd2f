"""What every tool reaches through its Context: the Komodo client, the settings and a short-lived tag cache."""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from mcp.server.mcpserver import Context

from ..client import KomodoClient
from ..client._callers import CallerGuard
from ..config import Settings

TAG_CACHE_SECONDS = 30.0
CALLER_CLIENTS = 64  # per-caller Apps kept, with their tag caches (least recently used dropped)
CALLER_KEY, CALLER_SECRET = "x-komodo-api-key", "x-komodo-api-secret"
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
    _callers: OrderedDict[str, App] = field(default_factory=OrderedDict)
    _guard: CallerGuard = field(default_factory=CallerGuard)

    def for_caller(self, key: str, secret: str) -> App:
        """The same server, acting with a caller's own Komodo API key: Komodo's permissions for that user apply.
        At most CALLER_CLIENTS are kept (least recently used dropped); they share this App's connections, so
        dropping one closes nothing and any number of distinct keys costs no descriptor."""
        cache_key = hashlib.sha256(f"{key}\0{secret}".encode()).hexdigest()
        if cache_key in self._callers:
            self._callers.move_to_end(cache_key)
            return self._callers[cache_key]
        komodo = self.komodo.with_caller_key(key, secret, self._guard)
        caller = App(komodo=komodo, settings=komodo.settings)
        self._callers[cache_key] = caller
        if len(self._callers) > CALLER_CLIENTS:
            self._callers.popitem(last=False)
        return caller

    async def tag_names(self, fresh: bool = False) -> dict[str, str]:
        """Tag id → name. Tags change rarely, and every list shows them, so they are cached briefly."""
        if fresh or time.monotonic() - self._tags_at > TAG_CACHE_SECONDS:
            tags = await self.komodo.read("ListTags")
            self._tags = {tag["_id"]["$oid"]: tag["name"] for tag in tags}
            self._tags_at = time.monotonic()
        return self._tags

    async def resolve_id(self, kind: str, key: str) -> str:
        """The id of a resource given by id or name: Komodo's `*_ids` filters and Mongo queries take ids only."""
        found = await self.komodo.read(f"Get{kind}", **{PARAM[kind]: key})
        return found["_id"]["$oid"]

    def ui_link(self, *parts: str) -> str:
        base = self.settings.ui_url or self.settings.url
        return "/".join([base.rstrip("/"), *parts])


def app_for(request_context: Any) -> App:
    """The App serving this request: the server's own, or one acting with the caller's Komodo key (HTTP only)."""
    app: App = request_context.lifespan_context
    request = getattr(request_context, "request", None)
    if request is None or not app.settings.caller_credentials:
        return app
    key, secret = request.headers.get(CALLER_KEY), request.headers.get(CALLER_SECRET)
    return app.for_caller(key, secret) if key and secret else app


def app_of(ctx: Context[Any, Any]) -> App:
    return app_for(ctx.request_context)

"""What every tool reaches through its Context: the Komodo client, the settings and small caches of what rarely
changes. Each App has its own caches, so one caller's Komodo view never answers another's."""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from mcp.server.mcpserver import Context

from ..client import KomodoClient, KomodoError, NotFound, gather
from ..client._callers import CallerGuard
from ..config import Settings
from ..instances import SELECTED, qualify, split_job_id

TAG_CACHE_SECONDS = 30.0
ID_CACHE_SECONDS = 60.0  # name → id; a stale id is noticed (the resource answers another id) and refetched
PERMISSION_CACHE_SECONDS = 30.0
# How many resources of a kind there are: counted by Komodo's summary, its costliest read on a large fleet. A list
# page's short last page corrects it at once, a full page that contradicts it has it counted again, and this
# server's own creates and deletes forget it; a resource created elsewhere shows in the total within this time.
TOTAL_CACHE_SECONDS = 30.0
FINISHED_JOBS_KEPT = 512  # a finished Update never changes again
CALLER_CLIENTS = 64  # per-caller Apps kept, with their caches (least recently used dropped)
CALLER_KEY, CALLER_SECRET = "x-komodo-api-key", "x-komodo-api-secret"
# The parameter that names each kind's target in Komodo's read requests.
PARAM = {"Server": "server", "Deployment": "deployment", "Stack": "stack", "Build": "build", "Repo": "repo",
         "Procedure": "procedure", "Action": "action", "ResourceSync": "sync", "Builder": "builder",
         "Alerter": "alerter"}


@dataclass
class App:
    komodo: KomodoClient
    settings: Settings
    name: str = "default"  # the instance's name when several are configured
    # Every instance's App by name, shared by all of them (empty with one Komodo): a call's `instance` picks one.
    instances: dict[str, App] = field(default_factory=dict)
    _tags: dict[str, str] = field(default_factory=dict)
    _tags_at: float = 0.0
    _ids: Expiring = field(default_factory=lambda: Expiring(ID_CACHE_SECONDS, 4096))
    _names: Expiring = field(default_factory=lambda: Expiring(ID_CACHE_SECONDS, 4096))
    _permissions: Expiring = field(default_factory=lambda: Expiring(PERMISSION_CACHE_SECONDS, 1024))
    totals: Expiring = field(default_factory=lambda: Expiring(TOTAL_CACHE_SECONDS, 32))  # kind → count
    _finished_jobs: Expiring = field(default_factory=lambda: Expiring(float("inf"), FINISHED_JOBS_KEPT))
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

    def known_id(self, kind: str, key: str) -> str | None:
        """The id of `key` without asking Komodo, if it is an id or a name seen lately; else None."""
        return key if is_object_id(key) else self._ids.get((kind, key))

    def remember(self, kind: str, resource: dict[str, Any]) -> str:
        """Note a fetched resource's name → id; answers the id."""
        resource_id = resource["_id"]["$oid"]
        self._ids.put((kind, resource["name"]), resource_id)
        return resource_id

    async def name_of(self, kind: str, resource_id: str) -> str | None:
        """A resource's (or, for kind "User", a user's) name by id, cached like the ids; None if Komodo will not
        say."""
        name = self._names.get((kind, resource_id))
        if name is None:
            try:
                if kind == "User":
                    name = (await self.komodo.read("GetUsername", user_id=resource_id))["username"]
                else:
                    name = (await self.komodo.read(f"Get{kind}", **{PARAM[kind]: resource_id}))["name"]
            except KomodoError:
                return None
            self._names.put((kind, resource_id), name)
        return name

    async def permission(self, target: dict[str, str]) -> str:
        """This caller's permission level on a resource (None/Read/Execute/Write), cached briefly."""
        key = (target["type"], target["id"])
        level = self._permissions.get(key)
        if level is None:
            answer = await self.komodo.read("GetPermission", target=target)
            level = answer if isinstance(answer, str) else answer.get("level", "None")
            self._permissions.put(key, level)
        return level

    async def job(self, job_id: str) -> dict[str, Any]:
        """A job's Update; finished ones are kept, since Komodo never changes them again."""
        update = self._finished_jobs.get(job_id)
        if update is None:
            update = await self.komodo.read("GetUpdate", id=job_id)
            if update.get("status") == "Complete":
                self._finished_jobs.put(job_id, update)
        return update

    async def resolve_id(self, kind: str, key: str) -> str:
        """The id of a resource given by id or name: Komodo's `*_ids` filters and Mongo queries take ids only."""
        found = await self.komodo.read(f"Get{kind}", **{PARAM[kind]: key})
        return found["_id"]["$oid"]

    def ui_link(self, *parts: str) -> str:
        base = self.settings.ui_url or self.settings.url
        return "/".join([base.rstrip("/"), *parts])


class Expiring:
    """A small map whose entries expire `lifetime` seconds after they were put; the least recently put go first
    beyond `size`."""

    def __init__(self, lifetime: float, size: int) -> None:
        self.lifetime, self.size = lifetime, size
        self._entries: OrderedDict[Any, tuple[float, Any]] = OrderedDict()

    def get(self, key: Any) -> Any:
        entry = self._entries.get(key)
        if entry is None or time.monotonic() - entry[0] > self.lifetime:
            return None
        return entry[1]

    def forget(self, key: Any) -> None:
        self._entries.pop(key, None)

    def put(self, key: Any, value: Any) -> None:
        self._entries[key] = (time.monotonic(), value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)


def is_object_id(key: str) -> bool:
    """Komodo reads a 24-hex-digit key as an id, anything else as a name."""
    return len(key) == 24 and all(c in "0123456789abcdefABCDEF" for c in key)


def app_for(request_context: Any) -> App:
    """The App serving this request: the selected instance's (the server's own with one Komodo), or one acting with
    the caller's Komodo key (HTTP only)."""
    app: App = request_context.lifespan_context
    app = app.instances.get(SELECTED.get() or app.name, app)
    request = getattr(request_context, "request", None)
    if request is None or not app.settings.caller_credentials:
        return app
    key, secret = request.headers.get(CALLER_KEY), request.headers.get(CALLER_SECRET)
    return app.for_caller(key, secret) if key and secret else app


def app_of(ctx: Context[Any, Any]) -> App:
    return app_for(ctx.request_context)


async def instance_versions(app: App) -> list[tuple[App, Any]]:
    """Every instance's GetVersion answer (a KomodoError when it does not answer), asked concurrently, the default
    instance first; with one Komodo, its answer alone."""
    apps = list(app.instances.values()) or [app]
    return list(zip(apps, await gather(*(each.komodo.read("GetVersion") for each in apps), tolerate=True)))


def app_for_job(request_context: Any, job_id: str) -> tuple[App, str]:
    """The App that ran a job and the job's Komodo id: with several instances the id names its instance
    (`staging:65f…`); an id without one is the default instance's."""
    owner, bare = split_job_id(job_id)
    instances = request_context.lifespan_context.instances
    if not instances or owner is None:
        return app_for(request_context), job_id
    if owner not in instances:
        raise NotFound(f"job {job_id}: no instance {owner!r} (configured: {', '.join(instances)})")
    token = SELECTED.set(owner)
    try:
        return app_for(request_context), bare
    finally:
        SELECTED.reset(token)


def job_answer(app: App, answer: Any) -> Any:
    """An answer about a job, its job ids carrying the instance when several are configured."""
    return qualify(answer, app.name) if app.instances else answer

"""The simulator's in-memory Komodo: resources, users, permissions, tags, variables, updates and alerts.

Documents are kept in Komodo's own JSON shapes, so handlers mostly select and serialise.
"""

from __future__ import annotations

import itertools
import os
import time
from dataclasses import dataclass, field
from typing import Any

from .errors import CoreError, forbidden, not_found

KINDS = ("Server", "Deployment", "Stack", "Build", "Repo", "Procedure", "Action", "ResourceSync", "Builder", "Alerter")
LEVELS = ("None", "Read", "Execute", "Write")
SPECIFIC_PERMISSIONS = ("Terminal", "Attach", "Inspect", "Logs", "Processes")  # `entities/permission.rs` order
SYSTEM_OPERATORS = {
    "000000000000000000000000": "System",
    "000000000000000000000001": "Procedure",
    "000000000000000000000002": "Action",
    "000000000000000000000003": "Git Webhook",
}

_counter = itertools.count(int.from_bytes(os.urandom(3), "big"))


DAY_MS = 86_400_000


def now_ms() -> int:
    return int(time.time() * 1000)


def new_id(ts_ms: int | None = None) -> str:
    """A 24-hex ObjectId whose first 4 bytes are the creation time, as MongoDB makes them."""
    seconds = int((ts_ms if ts_ms is not None else now_ms()) / 1000)
    return f"{seconds:08x}{os.urandom(5).hex()}{next(_counter) % 0xFFFFFF:06x}"


def is_object_id(text: str) -> bool:
    return len(text) == 24 and all(c in "0123456789abcdef" for c in text.lower())


@dataclass
class Resource:
    kind: str
    id: str
    name: str
    config: dict[str, Any]
    info: Any = field(default_factory=dict)
    description: str = ""
    tags: list[str] = field(default_factory=list)
    template: bool = False
    base_permission: str = "None"  # the level; Core serialises a level without specifics as the bare string
    updated_at: int = field(default_factory=now_ms)
    # What Periphery would report: container state, stats, logs. Never serialised as is.
    runtime: dict[str, Any] = field(default_factory=dict)
    # In-flight executions, as Get<X>ActionState reports them.
    action: dict[str, Any] = field(default_factory=dict)

    def full(self) -> dict[str, Any]:
        return {
            "_id": {"$oid": self.id},
            "name": self.name,
            "description": self.description,
            "template": self.template,
            "tags": list(self.tags),
            "info": self.info,
            "config": self.config,
            # `deserializers/permission.rs`: PermissionLevelAndSpecifics without specifics is the bare level.
            "base_permission": self.base_permission,
            "updated_at": self.updated_at,
        }

    def target(self) -> dict[str, str]:
        return {"type": self.kind, "id": self.id}


@dataclass
class User:
    id: str
    username: str
    admin: bool = False
    enabled: bool = True
    password: str = ""


class Store:
    """Everything Core keeps in MongoDB, plus the simulated runtime of the fleet."""

    def __init__(self) -> None:
        self.resources: dict[str, dict[str, Resource]] = {kind: {} for kind in KINDS}
        self._by_name: dict[str, dict[str, Resource]] = {kind: {} for kind in KINDS}
        self.users: dict[str, User] = {}
        self.api_keys: dict[str, tuple[str, str]] = {}  # key -> (secret, user id)
        self.permissions: dict[tuple[str, str, str], tuple[str, list[str]]] = {}
        self.tags: dict[str, dict[str, Any]] = {}
        self.variables: dict[str, dict[str, Any]] = {}
        self.updates: list[dict[str, Any]] = []  # ordered by start_ts ascending
        self.update_index: dict[str, dict[str, Any]] = {}
        self.alerts: list[dict[str, Any]] = []
        self.version = "2.3.2"
        self.pagination_limit = 50

    # -- resources -------------------------------------------------------------------------------------------------

    def add(self, resource: Resource) -> Resource:
        self.resources[resource.kind][resource.id] = resource
        self._by_name[resource.kind][resource.name] = resource
        return resource

    def remove(self, resource: Resource) -> None:
        del self.resources[resource.kind][resource.id]
        del self._by_name[resource.kind][resource.name]

    def rename(self, resource: Resource, name: str) -> None:
        del self._by_name[resource.kind][resource.name]
        resource.name = name
        self._by_name[resource.kind][name] = resource

    def find(self, kind: str, key: str) -> Resource | None:
        if is_object_id(key):
            return self.resources[kind].get(key)
        return self._by_name[kind].get(key)

    def resolve(self, kind: str, key: str) -> Resource:
        """Core's `resource::get`: id if the key parses as an ObjectId, else the exact name."""
        found = self.find(kind, key or "")
        if found is None:
            raise not_found(kind, key or "")
        return found

    # -- permissions -----------------------------------------------------------------------------------------------

    def level(self, user: User, resource: Resource) -> str:
        if user.admin:
            return "Write"
        granted, _ = self.permissions.get((user.id, resource.kind, resource.id), ("None", []))
        base = resource.base_permission if isinstance(resource.base_permission, str) else "None"
        return max(granted, base, key=LEVELS.index)

    def specifics(self, user: User, resource: Resource) -> set[str]:
        if user.admin:
            return set(SPECIFIC_PERMISSIONS)
        return set(self.permissions.get((user.id, resource.kind, resource.id), ("None", []))[1])

    def can(self, user: User, resource: Resource, level: str) -> bool:
        return LEVELS.index(self.level(user, resource)) >= LEVELS.index(level)

    def checked(self, user: User, kind: str, key: str, level: str = "Read", specific: str | None = None) -> Resource:
        """Core's `get_check_permissions`: not found and forbidden both answer 500 with a message."""
        resource = self.resolve(kind, key)
        if not self.can(user, resource, level) or (specific and specific not in self.specifics(user, resource)):
            raise forbidden(kind, level, [specific] if specific else None)
        return resource

    def grant(self, user: User, resource: Resource, level: str, specific: list[str] | None = None) -> None:
        self.permissions[(user.id, resource.kind, resource.id)] = (level, specific or [])

    def visible(self, user: User, kind: str) -> list[Resource]:
        if user.admin:
            return list(self.resources[kind].values())
        return [r for r in self.resources[kind].values() if self.can(user, r, "Read")]

    # -- tags ------------------------------------------------------------------------------------------------------

    def tag_id(self, key: str, create_for: User | None = None) -> str:
        for tag_id, tag in self.tags.items():
            if key in (tag_id, tag["name"]):
                return tag_id
        if create_for is None:
            raise CoreError(500, f"No tag found matching name or id: {key}")
        return self.add_tag(key, owner=create_for.id)

    def add_tag(self, name: str, owner: str, color: str = "Slate") -> str:
        tag_id = new_id()
        self.tags[tag_id] = {"_id": {"$oid": tag_id}, "name": name, "owner": owner, "color": color}
        return tag_id

    # -- updates and alerts ----------------------------------------------------------------------------------------

    def add_update(self, update: dict[str, Any]) -> dict[str, Any]:
        update_id = update["_id"]["$oid"]
        self.update_index[update_id] = update
        if self.updates and self.updates[-1]["start_ts"] > update["start_ts"]:
            self.updates.append(update)
            self.updates.sort(key=lambda u: u["start_ts"])
        else:
            self.updates.append(update)
        return update

    def username(self, operator: str) -> str:
        if operator in SYSTEM_OPERATORS:
            return operator  # Core shows service operators as their raw id
        user = self.users.get(operator)
        return user.username if user else "unknown"

    def update_list_item(self, update: dict[str, Any]) -> dict[str, Any]:
        item = {
            "id": update["_id"]["$oid"],
            "operation": update["operation"],
            "start_ts": update["start_ts"],
            "success": update["success"],
            "username": self.username(update["operator"]),
            "operator": update["operator"],
            "target": update["target"],
            "status": update["status"],
        }
        if "version" in update:
            item["version"] = update["version"]
        if update.get("other_data"):
            item["other_data"] = update["other_data"]
        return item

    def can_see_target(self, user: User, target: dict[str, str]) -> bool:
        if user.admin:
            return True
        if target["type"] == "System":
            return False
        resource = self.resources.get(target["type"], {}).get(target["id"])
        return resource is not None and self.can(user, resource, "Read")

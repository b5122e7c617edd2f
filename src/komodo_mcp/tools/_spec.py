"""ToolSpec: a tool as a value. The decorators build specs and register nothing; the registry decides later.

The kind (read/execute/write) comes from the decorator and the family from the module, so there is no toolset map
to keep in sync. The function's docstring is the model-facing description.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Callable, Literal

from mcp.types import ToolAnnotations

Kind = Literal["read", "execute", "write", "terminal"]


@dataclass(frozen=True)
class ToolSpec:
    fn: Callable[..., Any]
    operation: str
    kind: Kind
    family: str
    title: str
    destructive: bool = False
    idempotent: bool = False
    read_only: bool = False  # an execute-module tool that only watches (WaitForJob)

    @property
    def name(self) -> str:
        return f"komodo_{self.kind}_{self.operation}"

    @property
    def description(self) -> str:
        return inspect.cleandoc(self.fn.__doc__ or "")

    def annotations(self) -> ToolAnnotations:
        """Stated explicitly for every tool: clients treat a tool without annotations as destructive. No `title`:
        the tool's own `title` is the display name, and clients read `annotations.title` only without it."""
        return ToolAnnotations(
            read_only_hint=self.kind == "read" or self.read_only,
            destructive_hint=self.destructive,
            idempotent_hint=self.kind == "read" or self.read_only or self.idempotent,
            open_world_hint=True,  # every tool reaches a live Komodo
        )


def _decorator(kind: Kind, operation: str, title: str, **flags: bool) -> Callable[[Callable[..., Any]], ToolSpec]:
    def build(fn: Callable[..., Any]) -> ToolSpec:
        family = fn.__module__.rsplit(".", 1)[-1]
        return ToolSpec(fn=fn, operation=operation, kind=kind, family=family, title=title, **flags)
    return build


def read(operation: str, title: str) -> Callable[[Callable[..., Any]], ToolSpec]:
    return _decorator("read", operation, title)


def execute(operation: str, title: str, *, destructive: bool = False, idempotent: bool = False,
            read_only: bool = False) -> Callable[[Callable[..., Any]], ToolSpec]:
    return _decorator("execute", operation, title, destructive=destructive, idempotent=idempotent,
                      read_only=read_only)


def write(operation: str, title: str, *, destructive: bool = False,
          idempotent: bool = False) -> Callable[[Callable[..., Any]], ToolSpec]:
    return _decorator("write", operation, title, destructive=destructive, idempotent=idempotent)


def terminal(operation: str, title: str) -> Callable[[Callable[..., Any]], ToolSpec]:
    """A shell on the fleet: destructive (so confirmed) and only in the `terminal` toolset."""
    return _decorator("terminal", operation, title, destructive=True)

"""`POST /terminal/execute`: Komodo 2.3 runs a command in a terminal on a server, container, deployment or stack
service and streams the output, ending with `__KOMODO_EXIT_CODE:N` (missing when the shell exited early).
Commands get canned answers; the permission rule is Core's: Read plus the Terminal specific on the server."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any, AsyncIterator

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from .errors import CoreError, forbidden
from .state import Resource, User

if TYPE_CHECKING:
    from .app import Simulator

EXIT_CODE = "__KOMODO_EXIT_CODE:"


def _server_of(sim: Simulator, target: dict[str, Any]) -> tuple[Resource, str]:
    """The server a terminal target runs on, and a label for the canned answers."""
    kind, params = target.get("type"), target.get("params") or {}
    store = sim.store
    if kind in ("Server", "Container"):
        server = store.resolve("Server", params.get("server") or "")
        return server, params.get("container") or server.name
    if kind == "Deployment":
        deployment = store.resolve("Deployment", params.get("deployment") or "")
        return store.resolve("Server", deployment.config.get("server_id", "")), deployment.name
    if kind == "Stack":
        stack = store.resolve("Stack", params.get("stack") or "")
        service = params.get("service")
        return store.resolve("Server", stack.config.get("server_id", "")), f"{stack.name}-{service}" if service else stack.name
    raise CoreError(422, "Failed to deserialize the JSON body into the target type: unknown terminal target")


def canned(command: str, where: str, sim: Simulator, server: Resource) -> tuple[list[str], int | None]:
    """`a; b; c` runs each in turn, as a shell does: all their output, the last one's exit code."""
    output: list[str] = []
    code: int | None = 0
    for part in command.split(";"):
        lines, code = _canned_one(part, where, sim, server)
        output += lines
        if code is None:
            break
    return output, code


def _canned_one(command: str, where: str, sim: Simulator, server: Resource) -> tuple[list[str], int | None]:
    word = command.strip().split(" ")[0] if command.strip() else ""
    stats = server.runtime.get("stats") or {}
    match word:
        case "echo":
            return [command.strip()[5:]], 0
        case "hostname":
            return [where], 0
        case "uptime":
            load = stats.get("load_average", {"one": 0.1, "five": 0.1, "fifteen": 0.1})
            return [f" 04:21:07 up 15 days,  4:30,  0 users,  load average: {load['one']:.2f}, {load['five']:.2f}, "
                    f"{load['fifteen']:.2f}"], 0
        case "df":
            return ["Filesystem      Size  Used Avail Use% Mounted on"] + [
                f"/dev/nvme0n1p1  {d['total_gb']:.0f}G  {d['used_gb']:.0f}G  {d['total_gb'] - d['used_gb']:.0f}G  "
                f"{100 * d['used_gb'] / d['total_gb']:.0f}% {d['mount']}" for d in stats.get("disks", [])], 0
        case "docker":
            from .handlers import _containers
            return ["NAMES\tIMAGE\tSTATUS"] + [f"{c['name']}\t{c['image']}\t{c.get('status') or c['state']}"
                                              for c in _containers(sim, server)], 0
        case "true":
            return [], 0
        case "false":
            return [], 1
        case "exit":
            return [], None  # the shell went away before reporting a code
    return [f"sh: 1: {word}: not found"], 127


async def execute(sim: Simulator, request: Request) -> Response:
    try:
        user: User = sim.authenticate(request)
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            raise CoreError(415, "Expected request with `Content-Type: application/json`")
        body = json.loads(await request.body())
        if not isinstance(body, dict) or not isinstance(body.get("command"), str) or "target" not in body:
            raise CoreError(422, "Failed to deserialize the JSON body into the target type: missing field `command`")
        server, where = _server_of(sim, body["target"])
        if not sim.store.can(user, server, "Read") or "Terminal" not in sim.store.specifics(user, server):
            raise forbidden("Server", "Read", ["Terminal"])
        if server.runtime.get("state") != "Ok" or not server.config.get("enabled", True):
            raise CoreError(500, "Failed to connect to Periphery: Server is not reachable")
    except CoreError as error:
        return JSONResponse(error.body(), error.status)
    except ValueError as error:
        return JSONResponse({"error": f"Failed to parse the request body as JSON: {error}", "trace": []}, 400)
    lines, code = canned(body["command"], where, sim, server)

    async def stream() -> AsyncIterator[bytes]:
        for line in lines:
            await asyncio.sleep(sim.executor.delay / 20)  # output arrives over time, as from a real shell
            yield (line + "\n").encode()
        if code is not None:
            yield f"{EXIT_CODE}{code}\n".encode()

    return StreamingResponse(stream(), media_type="text/plain")

"""Fixtures: a Komodo simulator served over real loopback HTTP, and clients that talk to it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, AsyncIterator, Iterator

import httpx2
import pytest
from pydantic import SecretStr

from komodo_mcp.client import KomodoClient
from komodo_mcp.config import Settings
from komodo_sim import ADMIN_KEY, ADMIN_SECRET, VIEWER_KEY, VIEWER_SECRET, AsgiThread, Simulator, SimulatorThread

ADMIN_HEADERS = {"x-api-key": ADMIN_KEY, "x-api-secret": ADMIN_SECRET}


@pytest.fixture(scope="session")  # session-wide, so module-scoped async fixtures can use it
def anyio_backend() -> str:
    return "asyncio"


def serve(simulator: Simulator) -> SimulatorThread:
    thread = SimulatorThread(simulator)
    thread.start()
    return thread


@pytest.fixture
def sim() -> Iterator[SimulatorThread]:
    """A fresh simulator per test (executions and writes change its state), with quick executions."""
    thread = serve(Simulator(exec_delay=0.15))
    yield thread
    thread.stop()


@pytest.fixture
def held_sim() -> Iterator[SimulatorThread]:
    """Executions stay InProgress, their resource busy and no step logged, until the test calls
    `held_sim.simulator.gate.open()` (or cancels them): for tests whose meaning needs a job that is still running."""
    thread = serve(Simulator(exec_delay=0.15, hold_executions=True))
    yield thread
    thread.stop()


@pytest.fixture(scope="session")
def shared_sim() -> Iterator[SimulatorThread]:
    """One simulator for tests that only read."""
    thread = serve(Simulator(exec_delay=0.15))
    yield thread
    thread.stop()


def komodo_read(url: str, operation: str, **params: Any) -> Any:
    """A Komodo read straight from the simulator, as an admin, past the server under test."""
    return httpx2.post(f"{url}/read", json={"type": operation, "params": params}, headers=ADMIN_HEADERS).json()


def serve_http(settings: Settings) -> AsgiThread:
    """The MCP server's Streamable HTTP app on a loopback port, in this process."""
    from komodo_mcp.server import build_server
    from komodo_mcp.transports.http import http_app

    thread = AsgiThread(http_app(build_server(settings, check=False), settings))
    thread.start()
    return thread


def settings_for(url: str, key: str = ADMIN_KEY, secret: str = ADMIN_SECRET, **overrides: Any) -> Settings:
    base: dict[str, Any] = {"url": url, "api_key": SecretStr(key), "api_secret": SecretStr(secret),
                            "rate_limit_per_minute": 0, "retries": 2, "toolsets": ("all",)}
    return Settings(**(base | overrides))


@pytest.fixture
async def komodo(sim: SimulatorThread) -> AsyncIterator[KomodoClient]:
    client = KomodoClient(settings_for(sim.url))
    yield client
    await client.aclose()


@pytest.fixture
def viewer_settings(shared_sim: SimulatorThread) -> Settings:
    return settings_for(shared_sim.url, VIEWER_KEY, VIEWER_SECRET)


@pytest.fixture(params=["legacy", "2026-07-28"])
def era(request: pytest.FixtureRequest) -> str:
    """The client pinned to the handshake generation (2025-11-25) or to the stateless 2026-07-28 revision."""
    return request.param


def mcp_client(settings: Settings, era: str = "2026-07-28", **client_options: Any) -> Any:
    from mcp.client import Client

    from komodo_mcp.server import build_server

    return Client(build_server(settings, check=False), mode=era, **client_options)


async def output_schemas(client: Any) -> dict[str, Any]:
    """Each listed tool's outputSchema, by tool name."""
    return {tool.name: tool.output_schema for tool in (await client.list_tools()).tools}


def fields_missing(value: Any, schema: dict[str, Any], path: str = "") -> list[str]:
    """The fields an outputSchema names that `value` lacks. Output schemas carry no `required` (the instructions say
    every named field is always sent); this checks that promise."""
    if value is None:
        return []
    for option in schema.get("anyOf", []):
        if option != {"type": "null"}:
            return fields_missing(value, option, path)
    if isinstance(value, list):
        items = schema.get("items", {})
        return [gap for i, item in enumerate(value) for gap in fields_missing(item, items, f"{path}[{i}]")]
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        return [f"{path}.{name}" for name in properties if name not in value] + [
            gap for name, inner in properties.items() if name in value
            for gap in fields_missing(value[name], inner, f"{path}.{name}")]
    return []


async def call(client: Any, tool: str, arguments: dict[str, Any] | None = None) -> tuple[bool, dict[str, Any]]:
    """Call a tool; answer (is_error, structured content) after checking text and structure agree."""
    import json

    result = await client.call_tool(tool, arguments or {})
    body = json.loads(result.content[0].text)
    # Errors carry their envelope as text only (TypeScript SDK 1.x validates any structuredContent).
    assert result.structured_content == (None if result.is_error else body)
    return bool(result.is_error), body


@dataclass(frozen=True)
class Exchange:
    """One HTTP exchange as it crossed the wire: the request's path and body, the answer's status and body."""

    path: str
    request: bytes
    status: int
    answer: bytes


class Recording:
    """ASGI middleware around a simulator's app: keeps every POST the server sent and what the simulator
    answered, byte for byte, without changing either (the contract test validates them afterwards)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.exchanges: list[Exchange] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        request, answer, status = bytearray(), bytearray(), [0]

        async def receiving() -> Any:
            message = await receive()
            if message["type"] == "http.request":
                request.extend(message.get("body", b""))
            return message

        async def sending(message: Any) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            elif message["type"] == "http.response.body":
                answer.extend(message.get("body", b""))
            await send(message)

        await self.app(scope, receiving, sending)
        self.exchanges.append(Exchange(scope["path"], bytes(request), status[0], bytes(answer)))


def serve_recorded(simulator: Simulator) -> tuple[SimulatorThread, Recording]:
    """Serve `simulator` with every exchange recorded."""
    recording = Recording(simulator.app)
    simulator.app = recording
    return serve(simulator), recording


class ManualClock:
    """A monotonic clock the test moves (`clock.now += 1.5`): rate limits without wall-clock time."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

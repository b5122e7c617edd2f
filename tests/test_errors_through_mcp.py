"""AUTH_ERROR, TIMEOUT_ERROR and RATE_LIMIT_ERROR as an assistant sees them: tool results over an MCP client
session, against a simulator behind wrong credentials, a held answer, or a proxy that answers 429."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any, Iterator

import pytest
from pydantic import SecretStr

from komodo_sim import ADMIN_KEY, Simulator, SimulatorThread

from .conftest import call, mcp_client, serve, settings_for

pytestmark = pytest.mark.anyio
WRONG_SECRET = "S_wrong_secret_that_must_not_leak_S"


class InFront:
    """ASGI middleware in front of the simulator, standing for a reverse proxy: it can answer API requests itself
    (`answer`), or hold them until the test lets them through (`hold`)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.answers: list[tuple[int, dict[str, str], bytes]] = []
        self.released = threading.Event()
        self.released.set()
        self.held = 0

    def answer(self, status: int, body: str, **headers: str) -> None:
        self.answers.append((status, headers, body.encode()))

    def hold(self) -> None:
        self.released.clear()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] in ("/read", "/write", "/execute"):
            if self.answers:
                status, headers, body = self.answers.pop(0)
                await send({"type": "http.response.start", "status": status,
                            "headers": [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]})
                await send({"type": "http.response.body", "body": body})
                return
            if not self.released.is_set():
                self.held += 1
                await asyncio.to_thread(self.released.wait)  # the simulator's loop, not the test's, waits
        await self.app(scope, receive, send)


@pytest.fixture
def fronted() -> Iterator[tuple[SimulatorThread, InFront]]:
    simulator = Simulator(exec_delay=0.05)
    simulator.app = front = InFront(simulator.app)
    thread = serve(simulator)
    yield thread, front
    front.released.set()  # nothing stays held when the simulator stops
    thread.stop()


# Each test that fails a login has a simulator of its own: Core counts failed logins per address (and answers 429
# after five), so a shared one would change what later tests see.
async def test_wrong_credentials_answer_auth_error_without_the_secret(sim, era):
    async with mcp_client(settings_for(sim.url, ADMIN_KEY, WRONG_SECRET), era) as client:
        is_error, body = await call(client, "komodo_read_GetServer", {"id": "production-api"})
    assert is_error and (body["code"], body["status"]) == ("AUTH_ERROR", 401)
    assert body["details"]["komodo_status"] == 401 and body["error"].startswith("Invalid user credentials")
    assert WRONG_SECRET not in json.dumps(body)


async def test_an_expired_or_foreign_jwt_answers_auth_error(sim, era):
    """Core answers a JWT it cannot decode with HTTP 500 and "Invalid user credentials": still AUTH_ERROR."""
    settings = settings_for(sim.url, api_key=None, api_secret=None, jwt=SecretStr(WRONG_SECRET))
    async with mcp_client(settings, era) as client:
        is_error, body = await call(client, "komodo_read_ListServers")
    assert is_error and (body["code"], body["status"]) == ("AUTH_ERROR", 401)
    assert body["details"]["komodo_status"] == 500


async def test_an_answer_later_than_the_timeout_is_timeout_error(fronted, era):
    thread, front = fronted
    front.hold()  # the answer comes only after the test has seen the result
    async with mcp_client(settings_for(thread.url, timeout=0.3, retries=0), era) as client:
        is_error, body = await call(client, "komodo_read_ListTags")
    front.released.set()
    assert is_error and (body["code"], body["status"]) == ("TIMEOUT_ERROR", 504)
    assert body["error"] == "Komodo did not answer ListTags within 0.3s"


@pytest.mark.parametrize(("retries", "attempts"), [(0, 1), (2, 3)])
async def test_a_read_that_times_out_is_tried_once_more_per_retry(fronted, retries, attempts):
    thread, front = fronted
    front.hold()
    async with mcp_client(settings_for(thread.url, timeout=0.3, retries=retries)) as client:
        is_error, body = await call(client, "komodo_read_ListTags")  # one Komodo call per attempt
    front.released.set()
    assert is_error and body["code"] == "TIMEOUT_ERROR"
    assert front.held == attempts


@pytest.mark.parametrize(("headers", "body", "retry_after"), [
    ({"retry_after": "30"}, "Too Many Requests", 30.0),  # a proxy's Retry-After header
    ({}, json.dumps({"error": "Too many attempts | Try again in 42s", "trace": []}), 42.0),  # Core's own text
], ids=["retry-after-header", "core-try-again-text"])
async def test_komodo_429_is_rate_limit_error_with_retry_after(fronted, era, headers, body, retry_after):
    """A wait longer than the client would sleep (10 s) goes back to the assistant, with how long to wait."""
    thread, front = fronted
    front.answer(429, body, **headers)
    async with mcp_client(settings_for(thread.url), era) as client:
        is_error, result = await call(client, "komodo_read_ListTags")
    assert is_error and (result["code"], result["status"]) == ("RATE_LIMIT_ERROR", 429)
    assert result["retry_after"] == retry_after and result["details"]["komodo_status"] == 429


async def test_the_servers_own_budget_is_rate_limit_error_with_retry_after(shared_sim, era):
    """One Komodo request a minute, spent by the first call: the next waits for the bucket to refill (about a
    minute; the slack is the time between the two calls on a loaded machine)."""
    async with mcp_client(settings_for(shared_sim.url, rate_limit_per_minute=1, rate_limit_burst=1), era) as client:
        first_is_error, _ = await call(client, "komodo_read_ListTags")
        is_error, body = await call(client, "komodo_read_ListTags")
    assert not first_is_error
    assert is_error and (body["code"], body["status"]) == ("RATE_LIMIT_ERROR", 429)
    assert 50.0 < body["retry_after"] <= 60.0
    assert body["details"] == {"limit_per_minute": 1, "burst": 1}

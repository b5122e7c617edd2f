"""The Komodo client's decisions against a scripted Komodo (httpx2.MockTransport): what it sends, when it retries and
how long it waits, how it pages, how Core's answers become errors, and the token bucket on an injected clock."""

from __future__ import annotations

import base64
import json
import random
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any, Callable, Iterator

import anyio
import httpx2
import pytest
from pydantic import SecretStr

from komodo_mcp import telemetry
from komodo_mcp.client import (AuthError, Internal, KomodoError, NotFound, RateLimited, TimedOut, Unreachable,
                               gather, list_all, list_page)
from komodo_mcp.client import _client
from komodo_mcp.client._callers import CallerGuard
from komodo_mcp.client._client import KomodoClient
from komodo_mcp.client._ratelimit import TokenBucket, one_tool_call
from komodo_mcp.client._status import error_for

from .conftest import ManualClock, settings_for

pytestmark = pytest.mark.anyio
URL = "http://komodo.test"


class ScriptedKomodo:
    """Answers each request with the next scripted answer (a Response, an exception to raise, or a function of the
    request); the last answer repeats. Records every request's path, body and headers. Like Core, it takes POST only."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.requests: list[tuple[str, dict[str, Any], httpx2.Headers]] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        if request.method != "POST":
            return httpx2.Response(405)
        self.requests.append((request.url.path, json.loads(request.content), request.headers))
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer(request) if callable(answer) else answer

    def client(self, **settings: Any) -> KomodoClient:
        return KomodoClient(settings_for(URL, **settings), transport=httpx2.MockTransport(self))


def failure(status: int, message: str = "Service Unavailable", **headers: str) -> httpx2.Response:
    return httpx2.Response(status, json={"error": message, "trace": []}, headers=headers)


def answer(data: Any) -> httpx2.Response:
    return httpx2.Response(200, json=data)


@pytest.fixture
def waits(monkeypatch) -> list[float]:
    """The client's waits between retries, recorded instead of slept; jitter pinned to its middle (× 1.0)."""
    recorded: list[float] = []

    async def sleep(seconds: float) -> None:
        recorded.append(seconds)

    monkeypatch.setattr(_client.anyio, "sleep", sleep)
    monkeypatch.setattr(random, "random", lambda: 0.5)
    return recorded


async def test_a_call_posts_the_operation_and_its_params_with_the_api_key():
    komodo = ScriptedKomodo(answer({"version": "2.3.2"}))
    client = komodo.client()
    assert await client.read("GetVersion", a=1) == {"version": "2.3.2"}
    await client.write("UpdateTag", id="t")
    await client.execute("Deploy", deployment="api")
    assert [(path, body) for path, body, _ in komodo.requests] == [
        ("/read", {"type": "GetVersion", "params": {"a": 1}}), ("/write", {"type": "UpdateTag", "params": {"id": "t"}}),
        ("/execute", {"type": "Deploy", "params": {"deployment": "api"}})]
    headers = komodo.requests[0][2]
    assert (headers["x-api-key"], headers["x-api-secret"]) == ("K_demo_admin_K", "S_demo_admin_secret_S")
    assert (headers["content-type"], headers["accept"]) == ("application/json", "application/json")
    assert client.calls == 3


class Counter:
    def __init__(self) -> None:
        self.points: list[tuple[int, dict[str, Any]]] = []

    def add(self, value: int, attributes: dict[str, Any]) -> None:
        self.points.append((value, attributes))


async def test_round_trips_and_refusals_are_reported_to_telemetry(monkeypatch):
    round_trips, refusals, spans = Counter(), Counter(), []

    @contextmanager
    def span(module: str, operation: str) -> Iterator[Any]:
        attributes: dict[str, Any] = {}
        spans.append((module, operation, attributes))
        yield SimpleNamespace(set_attribute=attributes.__setitem__)

    monkeypatch.setattr(telemetry, "KOMODO_REQUESTS", round_trips)
    monkeypatch.setattr(telemetry, "RATE_LIMITED", refusals)
    monkeypatch.setattr(telemetry, "komodo_span", span)
    komodo = ScriptedKomodo(answer({}), failure(500, "Did not find any Deployment matching x"))
    client = komodo.client(rate_limit_per_minute=60, rate_limit_burst=2)
    await client.read("GetVersion")
    with pytest.raises(NotFound):
        await client.write("UpdateDeployment")
    with pytest.raises(RateLimited):
        await client.read("GetVersion")
    assert round_trips.points == [(1, {"komodo.operation": "GetVersion", "status": 200}),
                                  (1, {"komodo.operation": "UpdateDeployment", "status": 500})]
    assert refusals.points == [(1, {"komodo.operation": "GetVersion"})]
    assert spans == [("read", "GetVersion", {"http.response.status_code": 200}),
                     ("write", "UpdateDeployment", {"http.response.status_code": 500})]


async def test_without_a_url_nothing_is_sent():
    komodo = ScriptedKomodo(answer({}))
    client = KomodoClient(settings_for(""), transport=httpx2.MockTransport(komodo))
    with pytest.raises(Unreachable) as caught:
        await client.read("GetVersion")
    assert caught.value.message == "No Komodo URL configured (set KOMODO_URL or use --demo)"
    assert caught.value.details == {"operation": "GetVersion"} and komodo.requests == []


async def test_a_read_retries_with_doubling_jittered_backoff_capped_at_four_seconds(waits):
    komodo = ScriptedKomodo(*[failure(503)] * 7, answer({"version": "2.3.2"}))
    assert await komodo.client(retries=7).read("GetVersion") == {"version": "2.3.2"}
    assert waits == [0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 4.0] and len(komodo.requests) == 8


async def test_each_retry_is_logged_with_its_wait_and_cause(waits, caplog):
    komodo = ScriptedKomodo(failure(504, "Gateway Timeout"), answer({}))
    with caplog.at_level("DEBUG", logger="komodo_mcp.client"):  # a retry that recovers is no news: DEBUG
        await komodo.client().read("GetVersion")
    assert [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "komodo_mcp.client"] == [
        ("DEBUG", "retrying read GetVersion in 0.10s after TIMEOUT_ERROR")]


async def test_jitter_scales_the_backoff_between_half_and_one_and_a_half(waits, monkeypatch):
    monkeypatch.setattr(random, "random", lambda: 0.0)
    komodo = ScriptedKomodo(failure(502), answer({}))
    await komodo.client().read("GetVersion")
    assert waits == [0.05]


@pytest.mark.parametrize("outage", [httpx2.ConnectError("refused"), httpx2.ReadTimeout("slow")])
async def test_a_read_retries_after_network_errors_and_timeouts(waits, outage):
    komodo = ScriptedKomodo(outage, answer({"ok": True}))
    assert await komodo.client().read("GetVersion") == {"ok": True}
    assert len(komodo.requests) == 2 and waits == [0.1]


@pytest.mark.parametrize("module", ["write", "execute"])
async def test_writes_and_executes_are_never_retried(waits, module):
    komodo = ScriptedKomodo(failure(503), answer({}))
    client = komodo.client(retries=5)
    with pytest.raises(Unreachable):
        await getattr(client, module)("Op")
    assert len(komodo.requests) == 1 and waits == []


async def test_errors_that_a_retry_cannot_fix_are_not_retried(waits):
    komodo = ScriptedKomodo(failure(500, "Did not find any Deployment matching x"), answer({}))
    with pytest.raises(NotFound) as caught:
        await komodo.client().read("GetDeployment")
    assert len(komodo.requests) == 1 and waits == [] and caught.value.details["operation"] == "GetDeployment"


async def test_komodos_rate_limit_is_waited_out_for_its_retry_after(waits):
    komodo = ScriptedKomodo(failure(429, "slow down", **{"retry-after": "3"}), answer({"ok": True}))
    assert await komodo.client().read("GetVersion") == {"ok": True}
    assert waits == [3.0]


async def test_a_retry_after_of_exactly_ten_seconds_is_still_waited(waits):
    komodo = ScriptedKomodo(failure(429, "slow down", **{"retry-after": "10"}), answer({}))
    await komodo.client().read("GetVersion")
    assert waits == [10.0]


async def test_a_longer_retry_after_goes_back_to_the_caller(waits):
    komodo = ScriptedKomodo(failure(429, "Too many attempts | Try again in 12s"), answer({}))
    with pytest.raises(RateLimited) as caught:
        await komodo.client().read("GetVersion")
    assert caught.value.retry_after == 12 and len(komodo.requests) == 1 and waits == []


async def test_the_own_rate_limit_is_never_waited_out(waits):
    komodo = ScriptedKomodo(answer({}))
    client = komodo.client(rate_limit_per_minute=60, rate_limit_burst=1, retries=3)
    await client.read("GetVersion")
    with pytest.raises(RateLimited) as caught:
        await client.read("GetVersion")
    assert len(komodo.requests) == 1 and waits == [] and "komodo_status" not in caught.value.details


async def test_a_timeout_names_the_operation_and_the_limit_but_not_the_url():
    komodo = ScriptedKomodo(httpx2.ReadTimeout("slow"))
    with pytest.raises(TimedOut) as caught:
        await komodo.client(retries=0, timeout=2.5).read("GetVersion")
    assert caught.value.message == "Komodo did not answer GetVersion within 2.5s"
    assert caught.value.details == {"operation": "GetVersion"}


async def test_an_unreachable_komodo_names_the_error_kind():
    komodo = ScriptedKomodo(httpx2.ConnectError("refused by komodo.test"))
    with pytest.raises(Unreachable) as caught:
        await komodo.client(retries=0).read("GetVersion")
    assert caught.value.message == f"Komodo at {URL} is unreachable (ConnectError)"
    assert caught.value.details == {"operation": "GetVersion"}


async def test_an_unreachable_komodo_is_named_without_credentials_query_or_fragment():
    komodo = ScriptedKomodo(httpx2.ConnectError("refused"))
    client = KomodoClient(settings_for("https://admin:pw@komodo.test:9120/core?token=t#top", retries=0),
                          transport=httpx2.MockTransport(komodo))
    with pytest.raises(Unreachable) as caught:
        await client.read("GetVersion")
    assert caught.value.message == "Komodo at https://komodo.test:9120/core is unreachable (ConnectError)"


async def test_a_non_json_error_body_is_kept_as_text():
    komodo = ScriptedKomodo(httpx2.Response(500, text="<html>boom</html>"))
    with pytest.raises(Internal) as caught:
        await komodo.client(retries=0).read("GetVersion")
    assert caught.value.details["komodo_error"] == "<html>boom</html>"


async def test_without_credentials_nothing_is_sent():
    komodo = ScriptedKomodo(answer({}))
    with pytest.raises(AuthError) as caught:
        await komodo.client(api_key=None, api_secret=None).read("GetVersion")
    assert caught.value.message == ("No Komodo credentials configured: set KOMODO_API_KEY and KOMODO_API_SECRET, "
                                    "KOMODO_JWT, or KOMODO_USERNAME and KOMODO_PASSWORD")
    assert komodo.requests == []


def jwt(**claims: Any) -> str:
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"header.{payload}.signature"


async def test_a_configured_jwt_is_sent_as_bearer():
    token = jwt(exp=4_000_000_000_000)
    komodo = ScriptedKomodo(answer({}))
    await komodo.client(api_key=None, api_secret=None, jwt=SecretStr(token)).read("GetVersion")
    assert komodo.requests[0][2]["authorization"] == f"Bearer {token}"


def login(token: str) -> Callable[[httpx2.Request], httpx2.Response]:
    return lambda request: answer({"type": "Jwt", "data": {"jwt": token}})


async def test_password_login_once_then_the_jwt_until_it_nears_expiry():
    far, near = jwt(exp=4_000_000_000_000), jwt(exp=1_000, iat=0)  # 2096, and 1970
    komodo = ScriptedKomodo(login(near), answer({}), login(far), answer({}), answer({}))
    client = komodo.client(api_key=None, api_secret=None, username="admin", password=SecretStr("pw-123"))
    for _ in range(3):
        await client.read("GetVersion")
    paths = [path for path, _, _ in komodo.requests]
    assert paths == ["/auth/login", "/read", "/auth/login", "/read", "/read"]
    assert komodo.requests[0][1] == {"type": "LoginLocalUser", "params": {"username": "admin", "password": "pw-123"}}
    assert komodo.requests[4][2]["authorization"] == f"Bearer {far}"


async def test_a_second_factor_is_an_auth_error():
    komodo = ScriptedKomodo(answer({"type": "Totp", "data": {}}))
    client = komodo.client(api_key=None, api_secret=None, username="admin", password=SecretStr("pw-123"))
    with pytest.raises(AuthError) as caught:
        await client.read("GetVersion")
    assert caught.value.message == "Komodo asks for a second factor; use an API key for this server"
    assert caught.value.details == {"operation": "LoginLocalUser"}


async def test_a_refused_login_is_the_login_error_and_is_not_repeated():
    komodo = ScriptedKomodo(failure(401, "Invalid user credentials"))
    client = komodo.client(api_key=None, api_secret=None, username="admin", password=SecretStr("wrong"))
    with pytest.raises(AuthError) as caught:
        await client.read("GetVersion")
    assert caught.value.details["operation"] == "LoginLocalUser" and len(komodo.requests) == 1


async def test_a_jwt_is_renewed_from_its_renewal_time_on(monkeypatch):
    token = jwt(exp=1_800_000_000_000, iat=1_700_000_000_000)  # renewed a minute before it expires
    komodo = ScriptedKomodo(lambda request: login(token)(request) if request.url.path == "/auth/login" else answer({}))
    client = komodo.client(api_key=None, api_secret=None, username="admin", password=SecretStr("pw-123"))
    monkeypatch.setattr(_client.time, "time", lambda: 1_799_999_939.999)
    await client.read("GetVersion")
    await client.read("GetVersion")  # a millisecond before the renewal time: the JWT is still used
    monkeypatch.setattr(_client.time, "time", lambda: 1_799_999_940.0)
    await client.read("GetVersion")
    assert [path for path, _, _ in komodo.requests] == ["/auth/login", "/read", "/read", "/auth/login", "/read"]


async def test_a_rejected_jwt_is_renewed_once_per_call_in_password_mode():
    token = jwt(exp=4_000_000_000_000)
    komodo = ScriptedKomodo(login(token), failure(401, "Invalid user credentials"), login(token),
                            failure(401, "Invalid user credentials"))
    client = komodo.client(api_key=None, api_secret=None, username="admin", password=SecretStr("pw-123"))
    with pytest.raises(AuthError) as caught:
        await client.read("GetVersion")
    assert caught.value.details["operation"] == "GetVersion"
    assert [path for path, _, _ in komodo.requests] == ["/auth/login", "/read", "/auth/login", "/read"]
    assert client.calls == 4


async def test_an_api_key_that_is_refused_is_not_retried():
    komodo = ScriptedKomodo(failure(401, "Invalid user credentials"), answer({}))
    with pytest.raises(AuthError):
        await komodo.client().read("GetVersion")
    assert len(komodo.requests) == 1


async def test_while_the_key_is_unproven_a_tool_calls_side_by_side_reads_cost_komodo_one_refusal():
    komodo = ScriptedKomodo(failure(401, "Invalid user credentials"))
    client = komodo.client()
    for tool_call in (1, 2):  # each tool call's fan-out while the key has not worked: one failed login at Komodo
        results = await gather(client.read("ListServers"), client.read("ListStacks"), tolerate=True)
        assert all(isinstance(result, AuthError) for result in results)
        assert len(komodo.requests) == tool_call


# An answer, or Komodo refusing the request itself (not found): either proves the key.
@pytest.mark.parametrize("first", [answer({}), failure(500, "Did not find any Server matching x")])
async def test_once_komodo_took_the_key_reads_go_side_by_side(first):
    in_flight, most = 0, 0

    async def slow(request: httpx2.Request) -> httpx2.Response:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        for _ in range(50):  # let the other read reach Komodo meanwhile, if it may
            await anyio.sleep(0)
        in_flight -= 1
        return answer([])

    komodo = ScriptedKomodo(first, slow)
    client = komodo.client()
    await gather(client.read("GetServer", server="x"), tolerate=True)
    await gather(client.read("ListServers"), client.read("ListStacks"))
    assert most == 2


@pytest.mark.parametrize("first", ["jwt", "password"])
async def test_a_callers_client_sends_the_callers_key_instead_of_the_servers_credentials(first):
    own = {"jwt": {"jwt": SecretStr(jwt(exp=10**13))},
           "password": {"username": "admin", "password": SecretStr("pw")}}[first]
    komodo = ScriptedKomodo(answer({}))
    server = KomodoClient(settings_for(URL, key="", secret="", **own), transport=httpx2.MockTransport(komodo))
    await server.with_caller_key("K-caller", "S-caller", CallerGuard()).read("GetVersion", full=True)
    path, body, headers = komodo.requests[-1]
    assert (path, body) == ("/read", {"type": "GetVersion", "params": {"full": True}})
    assert (headers["x-api-key"], headers["x-api-secret"], headers.get("authorization")) == \
        ("K-caller", "S-caller", None)


async def test_closing_a_callers_client_keeps_the_shared_connections_open():
    komodo = ScriptedKomodo(answer({}))
    server = komodo.client()
    await server.with_caller_key("K-caller", "S-caller", CallerGuard()).aclose()
    assert await server.read("GetVersion") == {}
    await server.aclose()
    with pytest.raises(RuntimeError):
        await server.read("GetVersion")


@pytest.mark.parametrize("via", ["read", "terminal"])
@pytest.mark.parametrize(("status", "afterwards"), [
    (200, "trusted"),    # the key worked: never held back again
    (401, "refused"),    # Komodo refused it: not sent again for a while
    (429, "unproven"),   # Komodo's lockout says nothing about the key: held back like any new key
])
async def test_what_komodos_answer_to_a_callers_key_tells_the_guard(via, status, afterwards):
    first_answer = {200: answer({}), 401: failure(401, "Invalid user credentials"),
                    429: failure(429, "Too many requests")}[status]
    seen: list[str] = []

    def by_key(request: httpx2.Request) -> httpx2.Response:
        key = request.headers["x-api-key"]
        seen.append(key)
        if key.startswith("K-bad"):
            return failure(401, "Invalid user credentials")
        return first_answer if seen.count(key) == 1 else answer({})

    guard, server = CallerGuard(), ScriptedKomodo(by_key).client(retries=0)
    caller = server.with_caller_key("K-caller", "S-caller", guard)
    try:
        if via == "terminal":
            [line async for line in caller.terminal({})]
        else:
            await caller.read("GetVersion")
    except KomodoError:
        pass
    for bad in range(3):  # other callers' wrong keys use up the budget for unproven keys
        with pytest.raises(KomodoError):
            await server.with_caller_key(f"K-bad{bad}", "wrong", guard).read("GetVersion")
    asked_before = seen.count("K-caller")
    if afterwards == "trusted":
        assert await caller.read("GetVersion") == {}
        assert seen.count("K-caller") == asked_before + 1
        return
    with pytest.raises(AuthError if afterwards == "refused" else RateLimited) as caught:
        await caller.read("GetVersion")
    assert caught.value.message.startswith("Komodo refused these caller credentials" if afterwards == "refused"
                                           else "Too many callers with unproven Komodo credentials")
    assert seen.count("K-caller") == asked_before


@pytest.mark.parametrize(("claims", "renew_at_ms"), [
    ({"exp": 10_000_000_000_000, "iat": 9_000_000_000_000}, 10_000_000_000_000 - 60_000),  # a minute before
    ({"exp": 10_000_000_000_000, "iat": 10_000_000_000_000 - 100_005}, 10_000_000_000_000 - 10_000),  # a tenth
    ({"exp": 500}, 500_000 - 50_000),  # seconds, no iat: issued at the epoch
    ({"exp": 10_000_000_000, "iat": 9_999_999_900}, 10_000_000_000_000 - 10_000),  # claims in seconds
    ({"exp": 100_000_000_000}, 100_000_000_000 - 60_000),  # the first millisecond-sized value; no iat
])
def test_when_a_jwt_is_renewed(claims, renew_at_ms):
    assert _client._jwt_renew_at_ms(jwt(**claims)) == renew_at_ms


@pytest.mark.parametrize("token", ["no-dots", "a.%%%.c", jwt(iat=1), jwt(exp="soon")])
def test_a_jwt_without_a_readable_expiry_is_never_renewed_early(token):
    assert _client._jwt_renew_at_ms(token) is None


async def test_terminal_streams_lines_and_maps_failures():
    komodo = ScriptedKomodo(httpx2.Response(200, text="one\ntwo\n"), failure(500, "Did not find any Server matching x"))
    client = komodo.client(timeout=7)
    assert [line async for line in client.terminal({"server": "s", "command": "ls"})] == ["one", "two"]
    path, body, headers = komodo.requests[0]
    assert (path, body, headers["x-api-key"]) == ("/terminal/execute", {"server": "s", "command": "ls"},
                                                   "K_demo_admin_K")
    assert client.calls == 1
    with pytest.raises(NotFound) as caught:
        [line async for line in client.terminal({"server": "x", "command": "ls"})]
    assert caught.value.details["operation"] == "ExecuteTerminal" and client.calls == 2


async def test_a_command_may_run_longer_than_the_timeout_but_connecting_may_not():
    limits: list[dict[str, Any]] = []

    def record(request: httpx2.Request) -> httpx2.Response:
        limits.append(request.extensions["timeout"])
        return httpx2.Response(200, json="done")

    client = ScriptedKomodo(record).client(timeout=7)
    [line async for line in client.terminal({})]
    await client.read("GetVersion")
    assert limits == [{"connect": 7, "read": None, "write": 7, "pool": 7},
                      {"connect": 5.0, "read": 7, "write": 7, "pool": 7}]


@pytest.mark.parametrize(("outage", "error", "message"), [
    (httpx2.ReadTimeout("slow"), TimedOut, "Komodo did not answer the terminal in time"),
    (httpx2.ConnectError("refused"), Unreachable, f"Komodo at {URL} is unreachable (ConnectError)")])
async def test_terminal_outages(outage, error, message):
    with pytest.raises(error) as caught:
        [line async for line in ScriptedKomodo(outage).client().terminal({})]
    assert caught.value.message == message and caught.value.details == {"operation": "ExecuteTerminal"}


async def test_terminal_without_a_url_sends_nothing():
    komodo = ScriptedKomodo(answer({}))
    client = KomodoClient(settings_for(""), transport=httpx2.MockTransport(komodo))
    with pytest.raises(Unreachable) as caught:
        [line async for line in client.terminal({})]
    assert caught.value.message == "No Komodo URL configured (set KOMODO_URL or use --demo)"
    assert caught.value.details == {"operation": "terminal"} and komodo.requests == []


# Paging

def fleet(count: int) -> list[dict[str, Any]]:
    return [{"name": f"d{i:02d}"} for i in range(count)]


async def test_list_all_asks_for_everything():
    komodo = ScriptedKomodo(answer(fleet(3)))
    assert await list_all(komodo.client(), "ListDeployments") == fleet(3)
    assert komodo.requests[0][1] == {"type": "ListDeployments", "params": {"query": {}, "limit": 0}}


async def test_a_filtered_page_beyond_the_first_is_cut_from_every_match():
    komodo = ScriptedKomodo(answer(fleet(25)))
    page, total = await list_page(komodo.client(), "ListDeployments", "GetDeploymentsSummary", 2, 10,
                                  {"tags": ["prod"]})
    assert [d["name"] for d in page] == [f"d{i:02d}" for i in range(10, 20)] and total == 25
    assert komodo.requests[0][1] == {"type": "ListDeployments", "params": {"query": {"tags": ["prod"]}, "limit": 0}}


async def test_an_unfiltered_page_asks_komodo_for_that_page_and_the_count():
    def by_operation(request: httpx2.Request) -> httpx2.Response:
        operation = json.loads(request.content)["type"]
        return answer({"total": 42} if operation == "GetDeploymentsSummary" else fleet(10))

    komodo = ScriptedKomodo(by_operation)
    page, total = await list_page(komodo.client(), "ListDeployments", "GetDeploymentsSummary", 3, 10)
    assert page == fleet(10) and total == 42
    assert sorted(json.dumps(body, sort_keys=True) for _, body, _ in komodo.requests) == [
        json.dumps({"params": {"limit": 10, "page": 2, "query": {}}, "type": "ListDeployments"}, sort_keys=True),
        json.dumps({"params": {}, "type": "GetDeploymentsSummary"}, sort_keys=True)]


@pytest.mark.parametrize("page, answered, known, total, counted", [
    (3, 10, 42, 42, False),  # a full page the known count agrees with: no summary
    (3, 10, 30, 30, False),  # a full page that ends exactly at the known count
    (1, 10, 42, 42, False),  # a full first page says nothing more than the known count
    (3, 4, 42, 24, False),   # a short page is the last one: its count is exact, whatever was known
    (3, 1, 42, 21, False),   # a last page of one item
    (1, 0, 15, 0, False),    # an empty first page: there are none, whatever was known
    (3, 0, 15, 15, False),   # past the end, and the known count agrees
    (3, 0, 20, 20, False),   # past the end, exactly where the known count ends
    (3, 10, 25, 42, True),   # page 3 of 10 is full, so there are more than 25: counted again
    (3, 0, 42, 42, True),    # page 3 is empty, so there are at most 20: counted again
])
async def test_a_known_total_spares_the_summary_unless_the_page_contradicts_it(page, answered, known, total, counted):
    def by_operation(request: httpx2.Request) -> httpx2.Response:
        operation = json.loads(request.content)["type"]
        return answer({"total": 42} if operation == "GetDeploymentsSummary" else fleet(answered))

    komodo = ScriptedKomodo(by_operation)
    items, answered_total = await list_page(komodo.client(), "ListDeployments", "GetDeploymentsSummary", page, 10,
                                            known_total=known)
    assert items == fleet(answered) and answered_total == total
    assert [body["type"] for _, body, _ in komodo.requests] == \
        ["ListDeployments", *(["GetDeploymentsSummary"] if counted else [])]


async def test_a_core_that_ignores_paging_still_gets_the_right_page():
    def by_operation(request: httpx2.Request) -> httpx2.Response:
        operation = json.loads(request.content)["type"]
        return answer({"total": 25} if operation == "GetDeploymentsSummary" else fleet(25))

    page, total = await list_page(ScriptedKomodo(by_operation).client(), "ListDeployments", "GetDeploymentsSummary",
                                  2, 10)
    assert [d["name"] for d in page] == [f"d{i:02d}" for i in range(10, 20)] and total == 25


async def test_a_full_last_page_is_not_cut():
    def by_operation(request: httpx2.Request) -> httpx2.Response:
        operation = json.loads(request.content)["type"]
        return answer({"total": 20} if operation == "GetDeploymentsSummary" else fleet(10))

    page, _ = await list_page(ScriptedKomodo(by_operation).client(), "ListDeployments", "GetDeploymentsSummary", 2, 10)
    assert page == fleet(10)


# Side by side

async def test_gather_keeps_the_order_of_the_calls():
    async def after(seconds: float, value: str) -> str:
        await anyio.sleep(seconds)
        return value

    assert await gather(after(0.02, "slow"), after(0, "fast")) == ["slow", "fast"]


async def test_gather_raises_the_komodo_error_itself_or_tolerates_it():
    async def fails() -> None:
        raise NotFound("gone")

    async def works() -> str:
        return "ok"

    with pytest.raises(NotFound, match="gone"):
        await gather(works(), fails())
    results = await gather(works(), fails(), tolerate=True)
    assert results[0] == "ok" and isinstance(results[1], NotFound)


async def test_gather_finds_a_komodo_error_inside_nested_groups():
    async def fails_in_a_group() -> None:
        async def fails() -> None:
            raise NotFound("deep")

        async with anyio.create_task_group() as group:
            group.start_soon(fails)

    with pytest.raises(NotFound, match="deep"):
        await gather(fails_in_a_group())


async def test_gather_lets_other_errors_through_as_a_group():
    async def breaks() -> None:
        raise ValueError("bug")

    with pytest.raises(BaseExceptionGroup) as caught:
        await gather(breaks(), tolerate=True)
    assert isinstance(caught.value.exceptions[0], ValueError)


# Core's answers → errors

def test_rate_limit_messages_and_retry_after_fallbacks():
    error = error_for(429, {"error": "Too many attempts | Try again in 7s"}, "Op", retry_after_header="soon")
    assert error.message == "Komodo rate limit: Too many attempts | Try again in 7s" and error.retry_after == 7
    assert error_for(429, "slow", "Op", retry_after_header="-5").retry_after == 0.0
    assert error_for(429, "slow", "Op", retry_after_header="2.5").retry_after == 2.5
    assert error_for(429, "slow", "Op").retry_after == 1.0


def test_an_empty_answer_still_says_the_status():
    error = error_for(502, {}, "Op")
    assert error.message == "Komodo answered HTTP 502" and error.details["komodo_error"] == ""
    assert error_for(418, None, "Op").code == "INTERNAL_ERROR"


def test_a_long_text_body_is_cut_and_a_malformed_trace_is_dropped():
    assert error_for(500, "x" * 2000, "Op").details["komodo_error"] == "x" * 500
    assert error_for(500, {"error": "boom", "trace": "not a list"}, "Op").details["komodo_trace"] == []
    assert error_for(500, {"error": "boom", "trace": [1, "b"]}, "Op").details["komodo_trace"] == ["1", "b"]
    assert error_for(500, {"error": 5}, "Op").details["komodo_error"] == ""


def test_message_rules_are_case_sensitive_where_core_is():
    assert isinstance(error_for(500, {"error": "did not find any Deployment"}, "Op"), Internal)
    assert error_for(500, {"error": "THIS CALL IS ADMIN ONLY"}, "Op").code == "FORBIDDEN"


# The token bucket, on a clock the test moves

def test_the_bucket_allows_its_burst_then_refills_at_the_rate():
    clock = ManualClock()
    bucket = TokenBucket(per_minute=30, burst=2, clock=clock)
    bucket.take()
    bucket.take()
    with pytest.raises(RateLimited) as caught:
        bucket.take()
    assert caught.value.retry_after == 2.0 and caught.value.details == {"limit_per_minute": 30, "burst": 2}
    assert caught.value.message == "Rate limit exceeded"
    clock.now += 1.5
    with pytest.raises(RateLimited) as caught:
        bucket.take()
    assert caught.value.retry_after == 0.5
    clock.now += 0.5
    bucket.take()


def test_the_wait_is_given_to_the_hundredth_of_a_second():
    bucket = TokenBucket(per_minute=7, burst=1, clock=ManualClock())
    bucket.take()
    with pytest.raises(RateLimited) as caught:
        bucket.take()
    assert caught.value.retry_after == 8.57  # 60 / 7 seconds
    fast = TokenBucket(per_minute=120, burst=1, clock=ManualClock())
    fast.take()
    with pytest.raises(RateLimited) as caught:
        fast.take()
    assert caught.value.details == {"limit_per_minute": 120, "burst": 1} and caught.value.retry_after == 0.5


def test_the_bucket_never_holds_more_than_its_burst():
    clock = ManualClock()
    bucket = TokenBucket(per_minute=60, burst=2, clock=clock)
    clock.now += 3_600
    bucket.take()
    bucket.take()
    with pytest.raises(RateLimited):
        bucket.take()


def test_a_zero_rate_never_limits_and_a_burst_below_one_still_allows_one():
    unlimited = TokenBucket(per_minute=0, burst=0, clock=ManualClock())
    for _ in range(1_000):
        unlimited.take()
    assert not unlimited.enabled
    bucket = TokenBucket(per_minute=60, burst=0.2, clock=ManualClock())
    bucket.take()
    with pytest.raises(RateLimited) as caught:
        bucket.take()
    assert caught.value.details["burst"] == 1 and isinstance(caught.value, KomodoError)


def test_a_tool_call_spends_one_token_however_many_requests_it_makes():
    bucket = TokenBucket(per_minute=60, burst=2, clock=ManualClock())
    with one_tool_call():
        for _ in range(5):
            bucket.admit()
    with one_tool_call():
        bucket.admit()
        bucket.admit()
    with pytest.raises(RateLimited), one_tool_call():
        bucket.admit()  # the third tool call finds the bucket empty


def test_outside_a_tool_call_each_request_spends_a_token():
    bucket = TokenBucket(per_minute=60, burst=2, clock=ManualClock())
    bucket.admit()
    bucket.admit()
    with pytest.raises(RateLimited):
        bucket.admit()


async def test_a_clients_rate_limit_refills_on_the_clock_it_is_given():
    clock, komodo = ManualClock(), ScriptedKomodo(answer({}))
    client = KomodoClient(settings_for(URL, rate_limit_per_minute=60, rate_limit_burst=1),
                          transport=httpx2.MockTransport(komodo), clock=clock)
    await client.read("GetVersion")
    with pytest.raises(RateLimited):
        await client.read("GetVersion")
    clock.now += 1.0
    assert await client.read("GetVersion") == {} and len(komodo.requests) == 2

"""The Komodo client against the simulator on a loopback port: errors, retries, limits, auth modes, paging."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from komodo_mcp.client import (AuthError, Conflict, Forbidden, KomodoClient, NotFound, RateLimited, TimedOut,
                               Unreachable, list_all, list_page)
from komodo_sim import ADMIN_PASSWORD, VIEWER_KEY, VIEWER_SECRET, Simulator

from .conftest import serve, settings_for
from .processes import free_port

pytestmark = pytest.mark.anyio


async def test_wrong_secret_is_auth_error_with_cores_message(sim):
    client = KomodoClient(settings_for(sim.url, secret="S_wrong_S", retries=0))
    with pytest.raises(AuthError) as caught:
        await client.read("ListServers")
    await client.aclose()
    assert caught.value.code == "AUTH_ERROR" and caught.value.status == 401
    assert caught.value.message == "Invalid user credentials | You have 4 attempts remaining"
    assert "S_wrong_S" not in repr(caught.value.details)


async def test_five_auth_failures_then_cores_429_is_rate_limited(sim):
    client = KomodoClient(settings_for(sim.url, secret="S_wrong_S"))
    for _ in range(5):
        with pytest.raises(AuthError):
            await client.read("GetVersion")
    with pytest.raises(RateLimited) as caught:
        await client.read("GetVersion")
    await client.aclose()
    assert caught.value.details["komodo_status"] == 429
    assert 0 < caught.value.retry_after <= 16


async def test_not_found_from_cores_500(komodo):
    with pytest.raises(NotFound) as caught:
        await komodo.read("GetDeployment", deployment="no-such-thing")
    assert caught.value.status == 404
    assert caught.value.details["komodo_status"] == 500
    assert caught.value.message == "Did not find any Deployment matching no-such-thing"


async def test_forbidden_for_the_non_admin_key(sim):
    viewer = KomodoClient(settings_for(sim.url, VIEWER_KEY, VIEWER_SECRET))
    with pytest.raises(Forbidden) as caught:
        await viewer.read("GetDeployment", deployment="api-v2")
    visible = await list_all(viewer, "ListDeployments")
    await viewer.aclose()
    assert "does not have required permissions" in caught.value.message
    assert sorted(d["name"] for d in visible) == ["nginx-proxy", "web-frontend"]


async def test_list_past_fifty_has_exact_total(sim):
    big = serve(Simulator(resources=120, exec_delay=0.1))
    client = KomodoClient(settings_for(big.url))
    try:
        default_page = await client.read("ListDeployments", query={})
        everything = await list_all(client, "ListDeployments")
        page3, total = await list_page(client, "ListDeployments", "GetDeploymentsSummary", 3, 50)
        filtered, filtered_total = await list_page(client, "ListDeployments", "GetDeploymentsSummary", 1, 10,
                                                   {"specific": {"states": ["running"]}})
    finally:
        await client.aclose()
        big.stop()
    assert len(default_page) == 50  # what a naive client would take for the whole fleet
    assert total == len(everything) == 128
    assert [d["name"] for d in page3] == [d["name"] for d in everything[100:150]]
    assert filtered_total == sum(1 for d in everything if d["info"]["state"] == "running")
    assert len(filtered) == 10


async def test_read_is_retried_after_503(sim, komodo):
    sim.simulator.inject_faults(503, 502)
    before = sim.simulator.requests_served
    version = await komodo.read("GetVersion")
    assert version == {"version": "2.3.2"}
    assert sim.simulator.requests_served - before == 3


async def test_read_gives_up_after_its_retries(sim, komodo):
    sim.simulator.inject_faults(503, 503, 503, 503)
    with pytest.raises(Unreachable) as caught:
        await komodo.read("GetVersion")
    assert caught.value.code == "NETWORK_ERROR"
    assert sim.simulator.faults.count(503) == 1  # 1 try + 2 retries used three faults


async def test_execute_is_never_retried(sim, komodo):
    sim.simulator.inject_faults(503)
    before = sim.simulator.requests_served
    with pytest.raises(Unreachable):
        await komodo.execute("Deploy", deployment="api-v2")
    assert sim.simulator.requests_served - before == 1
    assert not any(u["operation"] == "Deploy" and u["status"] == "InProgress" for u in sim.simulator.store.updates)


async def test_rate_limiter_answers_instead_of_flooding(sim):
    frozen_clock = lambda: 1000.0  # noqa: E731 - no token comes back during the test
    client = KomodoClient(settings_for(sim.url, rate_limit_per_minute=60, rate_limit_burst=3), clock=frozen_clock)
    before = sim.simulator.requests_served
    for _ in range(3):
        await client.read("GetVersion")
    with pytest.raises(RateLimited) as caught:
        await client.read("GetVersion")
    await client.aclose()
    assert sim.simulator.requests_served - before == 3
    assert caught.value.code == "RATE_LIMIT_ERROR" and caught.value.retry_after == 1.0


async def test_unreachable_komodo_is_network_error_naming_the_url_without_credentials():
    url = f"http://127.0.0.1:{free_port()}"
    client = KomodoClient(settings_for(url.replace("//", "//ops:hunter2@"), retries=1))
    with pytest.raises(Unreachable) as caught:
        await client.read("GetVersion")
    await client.aclose()
    assert caught.value.status == 503
    assert f"Komodo at {url} is unreachable" in caught.value.message and "hunter2" not in caught.value.message


async def test_slow_komodo_is_timeout_error(sim):
    sim.simulator.latency_s = 0.5
    client = KomodoClient(settings_for(sim.url, timeout=0.1, retries=0))
    with pytest.raises(TimedOut) as caught:
        await client.read("GetVersion")
    await client.aclose()
    assert caught.value.code == "TIMEOUT_ERROR" and caught.value.status == 504


async def test_busy_update_is_conflict_and_duplicate_create_is_conflict(komodo):
    await komodo.write("CreateDeployment", name="dup-test", config={"server_id": "staging-web"})
    with pytest.raises(Conflict) as caught:
        await komodo.write("CreateDeployment", name="dup-test", config={})
    assert caught.value.details["komodo_status"] == 409


async def test_password_login_gets_a_jwt_and_logs_in_again_when_it_is_rejected(sim):
    client = KomodoClient(settings_for(sim.url, api_key=None, api_secret=None, username="admin",
                                       password=SecretStr(ADMIN_PASSWORD)))
    assert (await client.read("GetVersion"))["version"] == "2.3.2"
    calls_after_first = client.calls
    sim.simulator.rotate_jwt_secret()  # every issued JWT is now invalid, as after a Core restart
    assert (await client.read("GetVersion"))["version"] == "2.3.2"
    await client.aclose()
    assert calls_after_first == 2  # login + call
    assert client.calls - calls_after_first == 3  # rejected call, login, retried call


async def test_jwt_credentials_are_sent_as_bearer(sim):
    token = sim.simulator.issue_jwt(next(u for u in sim.simulator.store.users.values() if u.admin))
    client = KomodoClient(settings_for(sim.url, api_key=None, api_secret=None, jwt=SecretStr(token)))
    assert (await client.read("GetVersion"))["version"] == "2.3.2"
    sim.simulator.rotate_jwt_secret()
    with pytest.raises(AuthError):  # an invalid JWT arrives from Core as 500 "Invalid user credentials"
        await client.read("GetVersion")
    await client.aclose()


async def test_missing_credentials_is_auth_error_without_a_request(sim):
    client = KomodoClient(settings_for(sim.url, api_key=None, api_secret=None))
    before = sim.simulator.requests_served
    with pytest.raises(AuthError):
        await client.read("GetVersion")
    await client.aclose()
    assert sim.simulator.requests_served == before


def test_client_repr_and_settings_hide_secrets(sim):
    settings = settings_for(sim.url)
    client = KomodoClient(settings)
    assert "S_demo_admin_secret_S" not in repr(client) + repr(settings) + str(settings.model_dump())

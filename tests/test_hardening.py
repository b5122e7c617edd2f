"""Issue 14: no caller can exhaust the server, bypass a confirmation, see what its key may not, or read a secret."""

from __future__ import annotations

import gc
import os

import pytest

from komodo_mcp.client import AuthError, KomodoClient, KomodoError, RateLimited
from komodo_mcp.tools._context import CALLER_CLIENTS, App
from komodo_sim import ADMIN_KEY, VIEWER_KEY, VIEWER_SECRET, Simulator

from .conftest import serve, settings_for

pytestmark = pytest.mark.anyio


def open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


def resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def test_thousands_of_caller_keys_keep_memory_and_descriptors_flat(sim):
    store = sim.simulator.store
    _, admin = store.api_keys[ADMIN_KEY]
    keys = [(f"K-churn-{n:05d}", f"S-churn-{n:05d}") for n in range(2000)]
    for key, secret in keys:
        store.api_keys[key] = (secret, admin)
    app = App(komodo=KomodoClient(settings_for(sim.url)), settings=settings_for(sim.url))
    try:
        async def call_as(batch: list[tuple[str, str]]) -> None:
            for key, secret in batch:
                assert (await app.for_caller(key, secret).komodo.read("GetVersion"))["version"]

        await call_as(keys[:200])  # warm: connections, caches and the pool are full
        gc.collect()
        descriptors, memory = open_descriptors(), resident_bytes()
        await call_as(keys[200:])
        gc.collect()
        assert open_descriptors() <= descriptors + 2  # the simulator thread may open a socket or two
        # Before the pool shared its connections, each caller kept a client: about 0.8 MB and 2 descriptors.
        assert resident_bytes() - memory < 20_000_000
        assert len(app._callers) == CALLER_CLIENTS
    finally:
        await app.komodo.aclose()


@pytest.fixture
def strict_sim():
    """Komodo's default login lockout: 5 failures in 15 s per address, then 429 for every request from it."""
    thread = serve(Simulator(exec_delay=0.15, auth_max_attempts=5, auth_window_s=15))
    yield thread
    thread.stop()


async def test_one_callers_bad_secret_does_not_lock_everyone_out(strict_sim):
    app = App(komodo=KomodoClient(settings_for(strict_sim.url)), settings=settings_for(strict_sim.url))
    try:
        viewer = app.for_caller(VIEWER_KEY, VIEWER_SECRET)
        assert len(await viewer.komodo.read("ListDeployments", query={})) == 2  # proven before the bad keys
        codes = []
        for attempt in range(8):  # the same wrong secret, then a stream of distinct wrong keys
            caller = app.for_caller(VIEWER_KEY, "wrong") if attempt < 4 else app.for_caller(f"K-{attempt}", "bad")
            with pytest.raises(KomodoError) as refused:
                await caller.komodo.read("ListDeployments", query={})
            codes.append(refused.value.code)
        assert codes[:4] == ["AUTH_ERROR"] * 4  # the first from Komodo, the next from the server
        assert isinstance(refused.value, RateLimited)  # unproven keys held back: Komodo's budget is kept
        assert len(await app.komodo.read("ListDeployments", query={})) == 8  # the server's own key still works
        assert len(await viewer.komodo.read("ListDeployments", query={})) == 2  # and so do proven callers
        with pytest.raises(AuthError):  # refused credentials stay refused a while, even after others worked
            await app.for_caller(VIEWER_KEY, "wrong").komodo.read("GetVersion")
    finally:
        await app.komodo.aclose()

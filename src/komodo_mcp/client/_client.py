"""KomodoClient: one pooled httpx2.AsyncClient speaking Komodo Core's `POST /{read,write,execute}` RPC."""

from __future__ import annotations

import base64
import copy
import functools
import hashlib
import json
import logging
import random
import ssl
import threading
import time
from concurrent.futures import Future
from typing import Any, AsyncIterator, Awaitable, Callable, Literal
from urllib.parse import urlsplit

import anyio
import httpx2

from pydantic import SecretStr

from .. import telemetry
from ..config import Settings
from . import _status
from ._callers import CallerGuard
from ._ratelimit import TokenBucket
from .errors import AuthError, KomodoError, RateLimited, TimedOut, Unreachable

Module = Literal["read", "write", "execute", "auth/login"]
logger = logging.getLogger("komodo_mcp.client")

MAX_RETRY_AFTER_S = 10.0  # a longer Retry-After is handed to the caller as RATE_LIMIT_ERROR instead of waited out
JWT_RENEW_MARGIN_MS = 60_000


@functools.cache
def tls_context() -> Future[ssl.SSLContext]:
    """httpx2's default TLS context, made once for every client. OpenSSL reads the CA certificates (~15 ms) without
    holding the GIL, so a thread loads them while start-up goes on: the CLI asks for it before it imports the SDK."""
    future: Future[ssl.SSLContext] = Future()

    def load() -> None:
        try:
            future.set_result(httpx2.create_ssl_context())
        except Exception as error:  # e.g. an unreadable SSL_CERT_FILE: raised where a client is made, as before
            future.set_exception(error)

    threading.Thread(target=load, name="komodo-mcp-tls", daemon=True).start()
    return future


class KomodoClient:
    """Reads retry on network errors, 429 and 502/503/504 with jittered backoff; executes and writes never retry."""

    _caller: tuple[CallerGuard, str] | None = None  # set on a client acting with a caller's key (with_caller_key)

    def __init__(self, settings: Settings, *, transport: httpx2.AsyncBaseTransport | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.base_url = settings.url
        self._http = httpx2.AsyncClient(
            base_url=settings.url or "http://komodo.invalid", transport=transport, verify=tls_context().result(),
            timeout=httpx2.Timeout(settings.timeout, connect=min(settings.timeout, 5.0)),
            # httpcore polls every pooled connection for expiry on each request: a pool of 16 serves an assistant's
            # concurrent reads and, under 8 HTTP clients, sustains ~30% more calls/s than a pool of 32.
            limits=httpx2.Limits(max_connections=16, max_keepalive_connections=16),
            headers={"content-type": "application/json", "accept": "application/json"},
        )
        self._bucket = TokenBucket(settings.rate_limit_per_minute, settings.rate_limit_burst, clock)
        self._jwt: str | None = settings.jwt.get_secret_value() if settings.jwt else None
        self._jwt_renew_at_ms = _jwt_renew_at_ms(self._jwt) if self._jwt else None
        self._login_lock = anyio.Lock()
        # Until a request has proven the credentials, requests go one at a time: a wrong key then costs Komodo one
        # failed login per tool call, not one per fanned-out request (Core locks an address out after 5 in 15 s).
        self._credentials_proven = False
        self._credentials_gate = anyio.Lock()
        self._unproven_failures = 0
        self._last_unproven_error: KomodoError | None = None
        self.calls = 0  # Komodo round trips made, for metrics and benchmarks

    def __repr__(self) -> str:
        return f"KomodoClient(url={self.base_url!r}, auth={self.settings.auth_mode!r})"

    async def aclose(self) -> None:
        if self._caller is None:  # a caller's client borrows this one's connections
            await self._http.aclose()

    def with_caller_key(self, key: str, secret: str, guard: CallerGuard) -> KomodoClient:
        """A client acting with a caller's own API key over this client's connections and rate budget: a caller
        costs no socket and nothing to close, and `guard` keeps its bad secrets from locking the server out."""
        caller = copy.copy(self)
        caller.settings = self.settings.model_copy(update={
            "api_key": SecretStr(key), "api_secret": SecretStr(secret), "jwt": None, "username": None,
            "password": None})
        caller._jwt = caller._jwt_renew_at_ms = None
        caller._caller = (guard, hashlib.sha256(f"{key}\0{secret}".encode()).hexdigest())
        return caller

    async def read(self, operation: str, **params: Any) -> Any:
        return await self.call("read", operation, params)

    async def write(self, operation: str, **params: Any) -> Any:
        return await self.call("write", operation, params)

    async def execute(self, operation: str, **params: Any) -> Any:
        return await self.call("execute", operation, params)

    async def call(self, module: Module, operation: str, params: dict[str, Any]) -> Any:
        if not self.base_url:
            raise Unreachable("No Komodo URL configured (set KOMODO_URL or use --demo)", {"operation": operation})
        attempts = 1 + (self.settings.retries if module == "read" else 0)
        for attempt in range(attempts):
            try:
                return await self._call_once(module, operation, params)
            except (Unreachable, TimedOut, RateLimited) as error:
                retry_in = self._retry_delay(error, attempt)
                if attempt + 1 >= attempts or retry_in is None:
                    raise
                # DEBUG: a tool call makes several reads; its one failure line is what an operator needs to see.
                logger.debug("retrying %s %s in %.2fs after %s", module, operation, retry_in, error.code)
                await anyio.sleep(retry_in)
        raise AssertionError("the loop returns or raises")

    def _retry_delay(self, error: KomodoError, attempt: int) -> float | None:
        if isinstance(error, RateLimited):
            if "komodo_status" not in error.details or error.retry_after > MAX_RETRY_AFTER_S:
                return None  # our own bucket, or a long wait: the caller decides
            return error.retry_after
        return min(4.0, 0.1 * 2**attempt) * (0.5 + random.random())

    async def _call_once(self, module: Module, operation: str, params: dict[str, Any]) -> Any:
        try:
            self._bucket.admit()
        except RateLimited:
            telemetry.RATE_LIMITED.add(1, {"komodo.operation": operation})
            raise
        return await self._proving_credentials(lambda: self._send(module, operation, params))

    async def _proving_credentials(self, send: Callable[[], Awaitable[Any]]) -> Any:
        """Send; while the credentials are unproven, one request at a time, and a request that waited behind a
        failure that was not Komodo's verdict on the request itself (authentication, unreachable, timed out,
        refused with 429) fails the same way without asking Komodo."""
        if self._credentials_proven:
            return await self._judged(send)
        failures_before = self._unproven_failures
        async with self._credentials_gate:
            if self._unproven_failures != failures_before and self._last_unproven_error is not None:
                raise self._last_unproven_error
            return await self._judged(send)

    async def _judged(self, send: Callable[[], Awaitable[Any]]) -> Any:
        try:
            result = await send()
        except (AuthError, Unreachable, TimedOut, RateLimited) as error:
            if isinstance(error, AuthError):
                self._credentials_proven = False
            self._unproven_failures += 1
            self._last_unproven_error = error
            raise
        except KomodoError:
            self._credentials_proven = True  # a refusal of the request itself: the credentials were accepted
            raise
        self._credentials_proven = True
        return result

    async def _send(self, module: Module, operation: str, params: dict[str, Any]) -> Any:
        headers = await self._auth_headers()
        self.calls += 1
        with telemetry.komodo_span(module, operation) as span:
            response = await self._post_as_caller(module, operation, params, headers)
            span.set_attribute("http.response.status_code", response.status_code)
        telemetry.KOMODO_REQUESTS.add(1, {"komodo.operation": operation, "status": response.status_code})
        if response.status_code == 200:
            return response.json()
        error = self._error(response, operation)
        if isinstance(error, AuthError) and self.settings.auth_mode == "password" and module != "auth/login":
            # The JWT may have expired early or been revoked: log in once more and retry this call.
            headers = await self._auth_headers(force_login=True)
            self.calls += 1
            response = await self._post(module, operation, params, headers)
            if response.status_code == 200:
                return response.json()
            error = self._error(response, operation)
        raise error

    async def terminal(self, body: dict[str, Any]) -> AsyncIterator[str]:
        """`POST /terminal/execute`: the command's output lines as they arrive. Never retried."""
        if not self.base_url:
            raise Unreachable("No Komodo URL configured (set KOMODO_URL or use --demo)", {"operation": "terminal"})
        self._bucket.admit()
        headers = await self._auth_headers()
        self.calls += 1
        guard, caller = self._caller or (None, "")
        probed, refused = await guard.admit(caller) if guard else False, None
        try:
            async with self._http.stream("POST", "/terminal/execute", content=json.dumps(body), headers=headers,
                                         timeout=httpx2.Timeout(self.settings.timeout, read=None)) as response:
                refused = False
                if response.status_code != 200:
                    await response.aread()
                    refused = self._refused(response, "ExecuteTerminal")
                    raise self._error(response, "ExecuteTerminal")
                async for line in response.aiter_lines():
                    yield line
        except httpx2.TimeoutException:
            raise TimedOut("Komodo did not answer the terminal in time", {"operation": "ExecuteTerminal"}) from None
        except httpx2.TransportError as exc:
            raise self._unreachable(exc, "ExecuteTerminal") from None
        finally:
            if guard:
                guard.done(caller, probed, refused=refused)

    async def _post_as_caller(self, module: str, operation: str, params: dict[str, Any],
                              headers: dict[str, str]) -> httpx2.Response:
        """`_post`, through the caller guard when this client acts with a caller's key."""
        if self._caller is None:
            return await self._post(module, operation, params, headers)
        guard, caller = self._caller
        probed, refused = await guard.admit(caller), None
        try:
            response = await self._post(module, operation, params, headers)
            refused = self._refused(response, operation)
            return response
        finally:
            guard.done(caller, probed, refused=refused)

    def _refused(self, response: httpx2.Response, operation: str) -> bool | None:
        """Whether Komodo refused the credentials; None when its answer does not say (a 429 lockout)."""
        if response.status_code == 200:
            return False
        return None if response.status_code == 429 else isinstance(self._error(response, operation), AuthError)

    async def _post(self, module: str, operation: str, params: dict[str, Any], headers: dict[str, str]) -> httpx2.Response:
        try:
            return await self._http.post(f"/{module}", content=json.dumps({"type": operation, "params": params}),
                                         headers=headers)
        except httpx2.TimeoutException:
            raise TimedOut(f"Komodo did not answer {operation} within {self.settings.timeout:g}s",
                           {"operation": operation}) from None
        except httpx2.TransportError as exc:
            raise self._unreachable(exc, operation) from None

    def _unreachable(self, exc: httpx2.TransportError, operation: str) -> Unreachable:
        """Name the URL tried (without any user:password in it), so a wrong port or host shows in the error."""
        parts = urlsplit(self.base_url)
        where = parts._replace(netloc=parts.netloc.rpartition("@")[2], query="", fragment="").geturl()
        return Unreachable(f"Komodo at {where} is unreachable ({type(exc).__name__})", {"operation": operation})

    def _error(self, response: httpx2.Response, operation: str) -> KomodoError:
        try:
            body: Any = response.json()
        except ValueError:
            body = response.text
        return _status.error_for(response.status_code, body, operation, response.headers.get("retry-after"))

    async def _auth_headers(self, force_login: bool = False) -> dict[str, str]:
        settings = self.settings
        match settings.auth_mode:
            case "api_key":
                assert settings.api_key and settings.api_secret
                return {"x-api-key": settings.api_key.get_secret_value(),
                        "x-api-secret": settings.api_secret.get_secret_value()}
            case "jwt":
                return {"authorization": f"Bearer {self._jwt}"}
            case "password":
                await self._ensure_login(force_login)
                return {"authorization": f"Bearer {self._jwt}"}
        raise AuthError("No Komodo credentials configured: set KOMODO_API_KEY and KOMODO_API_SECRET, KOMODO_JWT, "
                        "or KOMODO_USERNAME and KOMODO_PASSWORD")

    async def _ensure_login(self, force: bool) -> None:
        async with self._login_lock:
            fresh = self._jwt and self._jwt_renew_at_ms and self._jwt_renew_at_ms > time.time() * 1000
            if fresh and not force:
                return
            assert self.settings.password is not None
            body = {"username": self.settings.username, "password": self.settings.password.get_secret_value()}
            self.calls += 1
            response = await self._post("auth/login", "LoginLocalUser", body, {})
            if response.status_code != 200:
                raise self._error(response, "LoginLocalUser")
            answer = response.json()
            if answer.get("type") != "Jwt":
                raise AuthError("Komodo asks for a second factor; use an API key for this server",
                                {"operation": "LoginLocalUser"})
            self._jwt = answer["data"]["jwt"]
            self._jwt_renew_at_ms = _jwt_renew_at_ms(self._jwt)


def _jwt_renew_at_ms(token: str) -> int | None:
    """When to log in again: shortly before the JWT's `exp` (Core's claims are in ms; read without verifying,
    since only Core can verify). The margin is a minute, or a tenth of the lifetime for short-lived tokens."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        exp, iat = int(claims["exp"]), int(claims.get("iat", 0))
    except (IndexError, ValueError, KeyError, TypeError):
        return None
    if exp < 10**11:  # tolerate seconds-based claims
        exp, iat = exp * 1000, iat * 1000
    return exp - min(JWT_RENEW_MARGIN_MS, max(0, exp - iat) // 10)

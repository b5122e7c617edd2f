"""Streamable HTTP: stateless with SSE responses, so progress reaches the client and replicas need no stickiness."""

from __future__ import annotations

import ipaddress
import json
import logging
import socket
from typing import Any, Callable

from mcp.server.transport_security import RequestBodyLimitMiddleware, TransportSecuritySettings
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from ..auth import StaticBearer
from ..config import ConfigError, Settings
from ..logs import RequestIds
from ..server import KomodoMCP

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
WILDCARD_HOSTS = ("0.0.0.0", "::")
logger = logging.getLogger("komodo_mcp.http")


def is_loopback(host: str) -> bool:
    try:
        return host in LOOPBACK_NAMES or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def security_for(settings: Settings) -> TransportSecuritySettings:
    """DNS-rebinding protection, always on: the loopback names, the bound host, and what the operator allows."""
    hosts = [*LOOPBACK_NAMES, *settings.allowed_hosts]
    bound = own_addresses() if settings.host in WILDCARD_HOSTS else [settings.host]
    hosts += [host for host in dict.fromkeys(bound) if host not in hosts]
    allowed_hosts = [h for host in hosts for h in ((host,) if ":" in host.strip("[]") and host.startswith("[")
                                                   else (host, f"{host}:*", f"[{host}]:*"))]
    allowed_origins = [*settings.allowed_origins, *(f"{scheme}://{host}{port}" for host in hosts
                                                    for scheme in ("http", "https") for port in ("", ":*"))]
    return TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=allowed_hosts,
                                     allowed_origins=allowed_origins)


def own_addresses() -> list[str]:
    """This machine's names and addresses, for a server bound to every interface: a client that addresses it by
    them is not a rebinding attack (a browser sends a foreign page's own name as Host)."""
    names = [socket.gethostname(), socket.getfqdn()]
    try:
        addresses = [info[4][0] for info in socket.getaddrinfo(names[0], None)]
    except OSError:  # a host name that does not resolve: its name is all there is
        addresses = []
    return [*names, *addresses]


def host_allowed(host: str | None, allowed: list[str]) -> bool:
    """The SDK's rule: an exact entry, or `name:*` for the name with any port."""
    return bool(host) and any(host == entry or (entry.endswith(":*") and host.startswith(entry[:-1]))
                              for entry in allowed)


def name_of(host: str) -> str:
    """`name:port` → `name`; a bracketed IPv6 address (`[::1]`) keeps its brackets."""
    return host if host.endswith("]") or ":" not in host else host.rsplit(":", 1)[0]


class HostHint:
    """The SDK answers a Host outside the allow-list with a bare `421 Invalid Host header`. Answer it here first,
    saying which setting admits the name, in the reply and in one log line."""

    def __init__(self, app: ASGIApp, allowed: list[str]) -> None:
        self.app, self.allowed = app, allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        host = Headers(scope=scope).get("host") if scope["type"] == "http" else None
        if scope["type"] == "http" and scope["path"].startswith("/mcp") and not host_allowed(host, self.allowed):
            message = (f"Invalid Host header {host!r}: this server only answers the names it knows (DNS-rebinding "
                       f"protection); add {name_of(host or '')!r} to KOMODO_MCP_ALLOWED_HOSTS (comma-separated) to "
                       "accept it")
            logger.warning(message)
            await PlainTextResponse(message + "\n", status_code=421)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def check_exposure(settings: Settings) -> None:
    """Refuse to serve beyond loopback without authentication unless the operator says so explicitly."""
    authenticated = bool(settings.auth_token or settings.oauth_issuer)
    if not is_loopback(settings.host) and not authenticated and not settings.allow_unauthenticated:
        raise ValueError(f"refusing to serve {settings.host} without authentication: set KOMODO_MCP_AUTH_TOKEN or "
                         "the OAuth settings, or pass --allow-unauthenticated")


class SessionsForElicitation:
    """Stateless HTTP, except that a handshake-generation client that sends `initialize` gets a session.

    In that generation the server asks the user (elicitation) with a request of its own, and the client's answer
    can only find its way back through a session; without one no client could confirm, and a model's
    `confirm: true` would be all there is. Requests without a session id are still served statelessly, and the
    2026-07-28 revision needs no session at all (its confirmation state travels sealed in the request). When
    `max_sessions` are open, an `initialize` is served statelessly: that client then gets the confirm fallback.
    """

    def __init__(self, manager: Any) -> None:
        self.manager = manager

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        manager = self.manager
        headers = dict(scope.get("headers") or [])
        if b"mcp-session-id" in headers:
            return await manager._handle_stateful_request(scope, receive, send)
        if scope.get("method") != "POST" or manager._task_group is None:
            return await manager._handle_request(scope, receive, send)
        body, messages = b"", []
        while True:  # the body is bounded by the manager's RequestBodyLimitMiddleware around this
            message = await receive()
            messages.append(message)
            body += message.get("body", b"")
            if message["type"] != "http.request" or not message.get("more_body"):
                break

        async def replay() -> dict[str, Any]:
            return messages.pop(0) if messages else await receive()

        version = headers.get(b"mcp-protocol-version", b"").decode("latin-1")
        opening = (not version or version in HANDSHAKE_PROTOCOL_VERSIONS) and _is_initialize(body)
        if opening and len(manager._server_instances) < (manager.max_sessions or float("inf")):
            return await manager._handle_stateful_request(scope, replay, send)
        return await manager._handle_request(scope, replay, send)


def _is_initialize(body: bytes) -> bool:
    try:
        message = json.loads(body)
    except ValueError:
        return False
    return isinstance(message, dict) and message.get("method") == "initialize"


def http_app(server: KomodoMCP, settings: Settings) -> Any:
    security = security_for(settings)
    app: Any = HostHint(server.streamable_http_app(stateless_http=settings.stateless, json_response=False,
                                                   host=settings.host, transport_security=security,
                                                   max_request_body_size=settings.max_request_bytes,
                                                   max_sessions=settings.max_sessions), security.allowed_hosts)
    manager = server.session_manager
    if settings.stateless and settings.confirm:  # confirmations need a way back to the user
        manager.asgi_app = RequestBodyLimitMiddleware(SessionsForElicitation(manager), settings.max_request_bytes)
    if settings.auth_token:  # probes stay open: /health says nothing, /ready only whether Komodo answers
        app = StaticBearer(app, settings.auth_token.get_secret_value(), exempt=("/health", "/ready"))
    return RequestIds(app)


def listen(settings: Settings) -> socket.socket:
    """Bind before saying anything, so a port in use is one clear error rather than a "serving" line and a trace."""
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    # IPPROTO_TCP said outright: asyncio turns Nagle off (TCP_NODELAY) only on sockets that name it, and with Nagle
    # on, a response's body waits for the client's delayed ACK of its headers: ~40 ms on every call.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((settings.host, settings.port))
    except OSError as error:
        sock.close()
        raise ConfigError(f"cannot listen on {settings.host}:{settings.port} (--host/KOMODO_MCP_HOST, "
                          f"--port/KOMODO_MCP_PORT): {error.strerror}") from None
    return sock


def serve_http(server: KomodoMCP, settings: Settings, on_listening: Callable[[str], None] = lambda url: None) -> None:
    check_exposure(settings)
    import uvicorn

    sock = listen(settings)
    port = sock.getsockname()[1]
    url = f"{'https' if settings.tls_cert else 'http'}://{settings.host}:{port}/mcp"
    logger.info("serving Streamable HTTP at %s", url)
    on_listening(url)
    config = uvicorn.Config(http_app(server, settings), log_level="warning", log_config=None, access_log=False,
                            ssl_certfile=settings.tls_cert or None, ssl_keyfile=settings.tls_key or None)
    uvicorn.Server(config).run(sockets=[sock])

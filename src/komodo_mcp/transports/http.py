"""Streamable HTTP: stateless with SSE responses, so progress reaches the client and replicas need no stickiness."""

from __future__ import annotations

import ipaddress
from typing import Any

from mcp.server.transport_security import TransportSecuritySettings
from ..auth import StaticBearer
from ..config import Settings
from ..logs import RequestIds
from ..server import KomodoMCP

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")


def is_loopback(host: str) -> bool:
    try:
        return host in LOOPBACK_NAMES or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def security_for(settings: Settings) -> TransportSecuritySettings:
    """DNS-rebinding protection, always on: the loopback names, the bound host, and what the operator allows."""
    hosts = [*LOOPBACK_NAMES, *settings.allowed_hosts]
    if settings.host not in ("0.0.0.0", "::") and settings.host not in hosts:
        hosts.append(settings.host)
    allowed_hosts = [h for host in hosts for h in ((host,) if ":" in host.strip("[]") and host.startswith("[")
                                                   else (host, f"{host}:*", f"[{host}]:*"))]
    allowed_origins = [*settings.allowed_origins, *(f"{scheme}://{host}{port}" for host in hosts
                                                    for scheme in ("http", "https") for port in ("", ":*"))]
    return TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=allowed_hosts,
                                     allowed_origins=allowed_origins)


def check_exposure(settings: Settings) -> None:
    """Refuse to serve beyond loopback without authentication unless the operator says so explicitly."""
    authenticated = bool(settings.auth_token or settings.oauth_issuer)
    if not is_loopback(settings.host) and not authenticated and not settings.allow_unauthenticated:
        raise ValueError(f"refusing to serve {settings.host} without authentication: set KOMODO_MCP_AUTH_TOKEN or "
                         "the OAuth settings, or pass --allow-unauthenticated")


def http_app(server: KomodoMCP, settings: Settings) -> Any:
    app: Any = server.streamable_http_app(stateless_http=settings.stateless, json_response=False, host=settings.host,
                                          transport_security=security_for(settings),
                                          max_request_body_size=settings.max_request_bytes,
                                          max_sessions=settings.max_sessions)
    if settings.auth_token:  # probes stay open: /health says nothing, /ready only whether Komodo answers
        app = StaticBearer(app, settings.auth_token.get_secret_value(), exempt=("/health", "/ready"))
    return RequestIds(app)


def serve_http(server: KomodoMCP, settings: Settings) -> None:
    check_exposure(settings)
    import logging

    import uvicorn

    scheme = "https" if settings.tls_cert else "http"
    logging.getLogger("komodo_mcp.http").info("serving Streamable HTTP at %s://%s:%d/mcp", scheme, settings.host,
                                              settings.port)

    uvicorn.run(http_app(server, settings), host=settings.host, port=settings.port, log_level="warning",
                log_config=None, access_log=False, ssl_certfile=settings.tls_cert or None,
                ssl_keyfile=settings.tls_key or None)

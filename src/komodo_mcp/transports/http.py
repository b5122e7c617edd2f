"""Streamable HTTP: stateless with SSE responses, so progress reaches the client and replicas need no stickiness."""

from __future__ import annotations

import ipaddress

from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette

from ..config import Settings
from ..server import KomodoMCP

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")


def is_loopback(host: str) -> bool:
    try:
        return host in LOOPBACK_NAMES or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def security_for(settings: Settings) -> TransportSecuritySettings:
    """DNS-rebinding protection always on: loopback names by default, the bound host otherwise."""
    hosts = list(LOOPBACK_NAMES) if is_loopback(settings.host) or settings.host in ("0.0.0.0", "::") else []
    if settings.host not in hosts and settings.host not in ("0.0.0.0", "::"):
        hosts.append(settings.host)
    allowed_hosts = [h for host in hosts for h in (host, f"{host}:*", f"[{host}]:*")]
    allowed_origins = [f"{scheme}://{host}{port}" for host in hosts for scheme in ("http", "https")
                       for port in ("", ":*")]
    return TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=allowed_hosts,
                                     allowed_origins=allowed_origins)


def http_app(server: KomodoMCP, settings: Settings) -> Starlette:
    return server.streamable_http_app(stateless_http=True, json_response=False, host=settings.host,
                                      transport_security=security_for(settings))


def serve_http(server: KomodoMCP, settings: Settings) -> None:
    import logging

    import uvicorn

    logging.getLogger("komodo_mcp.http").info("serving Streamable HTTP at http://%s:%d/mcp", settings.host, settings.port)

    uvicorn.run(http_app(server, settings), host=settings.host, port=settings.port, log_level="warning",
                log_config=None, access_log=False)

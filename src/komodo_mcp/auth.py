"""Who may call the HTTP endpoint: a static bearer token, or OAuth 2.1 access tokens (JWTs) from an external issuer.

The static token is checked in front of the MCP app, in constant time. OAuth uses the SDK's resource-server hooks
(TokenVerifier + AuthSettings), which also serve the protected-resource metadata (RFC 9728).
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

import anyio
import jwt
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings

from .config import Settings

logger = logging.getLogger("komodo_mcp.auth")
JWT_ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256", "EdDSA"]


class StaticBearer:
    """ASGI wrapper: every HTTP request needs `Authorization: Bearer <token>`."""

    def __init__(self, app: Any, token: str, exempt: tuple[str, ...] = ()) -> None:
        self.app, self._token, self._exempt = app, token.encode(), exempt

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("path") in self._exempt:
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        given = headers.get(b"authorization", b"")
        scheme, _, token = given.partition(b" ")
        if scheme.lower() == b"bearer" and hmac.compare_digest(token.strip(), self._token):
            return await self.app(scope, receive, send)
        error = "invalid_token" if given else "missing_token"
        body = json.dumps({"error": error, "error_description": "a valid bearer token is required"}).encode()
        await send({"type": "http.response.start", "status": 401, "headers": [
            (b"content-type", b"application/json"), (b"www-authenticate", b'Bearer realm="komodo-mcp"')]})
        await send({"type": "http.response.body", "body": body})


class JwtVerifier:
    """Validates JWT access tokens: signature against the issuer's JWKS, issuer, audience, expiry."""

    def __init__(self, issuer: str, audience: str, jwks_url: str) -> None:
        self.issuer, self.audience = issuer, audience
        self._jwks = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=300)

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            key = await anyio.to_thread.run_sync(self._jwks.get_signing_key_from_jwt, token)
            claims = jwt.decode(token, key.key, algorithms=JWT_ALGORITHMS, audience=self.audience,
                                issuer=self.issuer, options={"require": ["exp", "iss", "aud"]})
        except (jwt.PyJWTError, jwt.PyJWKClientError) as error:
            logger.info("rejected an access token: %s", type(error).__name__)
            return None
        scopes = claims.get("scope", "").split() if isinstance(claims.get("scope"), str) else claims.get("scp", [])
        return AccessToken(token=token, client_id=str(claims.get("client_id") or claims.get("azp") or claims["sub"]),
                           scopes=list(scopes), expires_at=int(claims["exp"]), resource=self.audience,
                           subject=claims.get("sub"), claims={"iss": claims["iss"]})


def oauth_server_options(settings: Settings) -> dict[str, Any]:
    """MCPServer keyword arguments for OAuth resource-server mode (empty when OAuth is not configured)."""
    if not settings.oauth_issuer:
        return {}
    resource = settings.public_url or f"http://{settings.host}:{settings.port}/mcp"
    audience = settings.oauth_audience or resource
    jwks = settings.oauth_jwks_url or settings.oauth_issuer.rstrip("/") + "/.well-known/jwks.json"
    return {"token_verifier": JwtVerifier(settings.oauth_issuer, audience, jwks),
            "auth": AuthSettings(issuer_url=settings.oauth_issuer, resource_server_url=resource,
                                 required_scopes=list(settings.oauth_scopes) or None,
                                 validate_token_resource=False)}  # the verifier checks the audience itself

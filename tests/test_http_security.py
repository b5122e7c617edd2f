"""The Streamable HTTP endpoint: bearer token, OAuth resource server, DNS-rebinding checks, exposure, per-caller keys."""

from __future__ import annotations

import json
import time
from typing import Any, Iterator

import httpx2
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from komodo_mcp.config import Settings
from komodo_mcp.transports.http import check_exposure
from komodo_sim import VIEWER_KEY, VIEWER_SECRET, AsgiThread

from .catalogue import ALL_TOOLS
from .conftest import serve_http, settings_for
from .wire import post, rpc

TOKEN = "s3cret-operator-token-of-enough-length"


@pytest.fixture
def bearer_url(shared_sim) -> Iterator[str]:
    server = serve_http(settings_for(shared_sim.url, auth_token=TOKEN))
    yield server.url + "/mcp"
    server.stop()


def test_bearer_token_is_required_and_checked(bearer_url):
    missing = post(bearer_url, "tools/list", {})
    wrong = post(bearer_url, "tools/list", {}, headers={"authorization": "Bearer not-it"})
    good = rpc(bearer_url, "tools/list", {}, "2026-07-28", headers={"authorization": f"Bearer {TOKEN}"})
    assert missing.status_code == 401 and missing.headers["www-authenticate"].startswith("Bearer")
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_token"
    assert {tool["name"] for tool in good["result"]["tools"]} == ALL_TOOLS


def test_foreign_origin_is_refused_even_with_a_token(bearer_url):
    response = post(bearer_url, "tools/list", {}, headers={"authorization": f"Bearer {TOKEN}",
                                                           "origin": "http://evil.example"})
    assert response.status_code == 403


def test_serving_beyond_loopback_needs_authentication_or_an_explicit_flag():
    with pytest.raises(ValueError, match="without authentication"):
        check_exposure(Settings(host="0.0.0.0"))
    check_exposure(Settings(host="0.0.0.0", allow_unauthenticated=True))
    check_exposure(Settings(host="0.0.0.0", auth_token="t"))
    check_exposure(Settings(host="127.0.0.1"))


class Issuer:
    """An OAuth authorization server's signing key and JWKS, served on loopback."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update(kid="test-key", alg="RS256", use="sig")
        self.thread = AsgiThread(Starlette(routes=[Route("/.well-known/jwks.json",
                                                         lambda request: JSONResponse({"keys": [jwk]}))]))
        self.url = self.thread.start()

    def token(self, audience: str, **claims: Any) -> str:
        now = int(time.time())
        payload = {"iss": self.url, "aud": audience, "sub": "alice", "client_id": "claude", "iat": now,
                   "exp": now + 300, "scope": "komodo"} | claims
        return jwt.encode(payload, self.key, algorithm="RS256", headers={"kid": "test-key"})


@pytest.fixture(scope="module")
def issuer() -> Iterator[Issuer]:
    issuer = Issuer()
    yield issuer
    issuer.thread.stop()


def test_oauth_resource_server_validates_jwt_access_tokens(shared_sim, issuer):
    resource = "http://127.0.0.1:8000/mcp"
    server = serve_http(settings_for(shared_sim.url, oauth_issuer=issuer.url, public_url=resource,
                                     oauth_scopes=("komodo",)))
    url = server.url + "/mcp"
    try:
        anonymous = post(url, "tools/list", {})
        good = rpc(url, "tools/list", {}, "2026-07-28",
                   headers={"authorization": f"Bearer {issuer.token(resource)}"})
        statuses = {name: post(url, "tools/list", {}, headers={"authorization": f"Bearer {token}"}).status_code
                    for name, token in {
                        "expired": issuer.token(resource, exp=int(time.time()) - 10),
                        "other audience": issuer.token("https://elsewhere.example/mcp"),
                        "other issuer": issuer.token(resource, iss="https://evil.example"),
                        "missing scope": issuer.token(resource, scope="other")}.items()}
        document = httpx2.get(server.url + "/.well-known/oauth-protected-resource/mcp").json()
    finally:
        server.stop()
    assert anonymous.status_code == 401 and "resource_metadata=" in anonymous.headers["www-authenticate"]
    assert {tool["name"] for tool in good["result"]["tools"]} == ALL_TOOLS
    assert statuses == {"expired": 401, "other audience": 401, "other issuer": 401, "missing scope": 403}
    assert document["resource"] == resource and document["authorization_servers"] == [issuer.url]


def test_a_caller_may_act_with_its_own_komodo_key(shared_sim, tmp_path):
    audit = tmp_path / "audit.jsonl"
    server = serve_http(settings_for(shared_sim.url, audit_log=str(audit)))
    url = server.url + "/mcp"
    caller = {"x-komodo-api-key": VIEWER_KEY, "x-komodo-api-secret": VIEWER_SECRET}
    try:
        own = rpc(url, "tools/call", {"name": "komodo_read_ListDeployments", "arguments": {}}, "2026-07-28")
        theirs = rpc(url, "tools/call", {"name": "komodo_read_ListDeployments", "arguments": {}}, "2026-07-28",
                     headers=caller)
        denied = rpc(url, "tools/call", {"name": "komodo_execute_Deploy", "arguments": {"id": "nginx-proxy"}},
                     "2026-07-28", headers=caller, extensions=False)
    finally:
        server.stop()
    assert own["result"]["structuredContent"]["data"]["total"] == 8
    assert theirs["result"]["structuredContent"]["data"]["total"] == 2
    assert json.loads(denied["result"]["content"][0]["text"])["code"] == "FORBIDDEN"
    entry = json.loads(audit.read_text().splitlines()[-1])
    assert entry["caller"] == f"komodo-key:{VIEWER_KEY}" and VIEWER_SECRET not in audit.read_text()

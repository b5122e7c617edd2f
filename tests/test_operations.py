"""HTTP operations: probes, request ids, body limits, TLS."""

from __future__ import annotations

import datetime
import ipaddress
import json
import ssl
from pathlib import Path

import httpx2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from .conftest import serve_http, settings_for
from .processes import free_port, http_server
from .wire import MODERN, rpc


def test_health_and_ready_say_whether_komodo_answers(shared_sim):
    servers = {"up": serve_http(settings_for(shared_sim.url)),
               "down": serve_http(settings_for(f"http://127.0.0.1:{free_port()}", retries=0)),
               "bad key": serve_http(settings_for(shared_sim.url, secret="S_wrong_S"))}
    try:
        health = httpx2.get(servers["up"].url + "/health")
        ready = {name: httpx2.get(server.url + "/ready") for name, server in servers.items()}
    finally:
        for server in servers.values():
            server.stop()
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert ready["up"].status_code == 200 and ready["up"].json()["komodo_version"] == "2.3.2"
    assert (ready["down"].status_code, ready["down"].json()["code"]) == (503, "NETWORK_ERROR")
    assert (ready["bad key"].status_code, ready["bad key"].json()["code"]) == (503, "AUTH_ERROR")
    assert "S_wrong_S" not in ready["bad key"].text


def test_probes_are_open_when_mcp_needs_a_token_and_requests_carry_ids(shared_sim):
    server = serve_http(settings_for(shared_sim.url, auth_token="a-long-enough-operator-token",
                                     max_request_bytes=2048))
    try:
        probes = [httpx2.get(server.url + path).status_code for path in ("/health", "/ready")]
        mcp = httpx2.post(server.url + "/mcp", json={}, headers={"x-request-id": "trace-123"})
        fresh = httpx2.get(server.url + "/health")
        too_big = httpx2.post(server.url + "/mcp", content=b"x" * 4096, headers={
            "authorization": "Bearer a-long-enough-operator-token", "content-type": "application/json",
            "accept": "application/json, text/event-stream", "mcp-protocol-version": "2025-11-25"})
    finally:
        server.stop()
    assert probes == [200, 200] and mcp.status_code == 401
    assert mcp.headers["x-request-id"] == "trace-123" and len(fresh.headers["x-request-id"]) == 32
    assert too_big.status_code == 413


def _self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now)
                   .not_valid_after(now + datetime.timedelta(days=1))
                   .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                                  critical=False).sign(key, hashes.SHA256()))
    cert, key_file = directory / "cert.pem", directory / "key.pem"
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert, key_file


def test_tls_with_a_self_signed_certificate(tmp_path):
    cert, key = _self_signed(tmp_path)
    with http_server("--demo", "--tls-cert", str(cert), "--tls-key", str(key), scheme="https") as url:
        health = httpx2.get(f"{url}/health", verify=ssl.create_default_context(cafile=cert))
        with pytest.raises(httpx2.TransportError):
            httpx2.get(url.replace("https://", "http://") + "/health")
    assert health.status_code == 200


def test_log_lines_written_while_serving_a_request_carry_its_id(tmp_path):
    log = tmp_path / "stderr.jsonl"
    with http_server("--demo", "--toolsets", "all", stderr=log) as url:
        rpc(f"{url}/mcp", "tools/call", {"name": "komodo_read_GetDeployment", "arguments": {"id": "nope"}},
            MODERN, headers={"x-request-id": "rid-7"})
    entries = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    failed = [e for e in entries if "komodo_read_GetDeployment failed" in e["msg"]]
    assert failed and failed[0]["request_id"] == "rid-7"
    assert all("request_id" not in e for e in entries if "demo mode" in e["msg"])  # outside any request

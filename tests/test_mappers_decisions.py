"""The resource mappers' own decisions by value: a deployment's health and uptime, its history, a server's address,
provider, metrics and hardware, a stack's running services, compose file, networks and ports."""

from __future__ import annotations

import pytest

from komodo_mcp.mapping.deployments import health, history_entry, uptime_of
from komodo_mcp.mapping.servers import hardware, host_and_port, metrics, provider
from komodo_mcp.mapping.stacks import compose_content, compose_file, running_services, service_info, top_level_keys

START = 1_769_425_800_000  # 2026-01-26T11:10:00Z


@pytest.mark.parametrize(("state", "status_line", "expected"), [
    ("running", "Up 2 hours (unhealthy)", "unhealthy"), ("unhealthy", None, "unhealthy"),
    ("running", "Up 5 seconds (health: starting)", "starting"), ("exited", "Up 1 hour (healthy)", "healthy"),
    ("running", "Up 3 hours", "healthy"), ("unknown", None, "unknown"), ("exited", "Exited (0) 2 hours ago",
                                                                         "not running")])
def test_deployment_health(state, status_line, expected):
    assert health(state, status_line).status == expected


def test_uptime_is_read_from_the_status_line():
    assert uptime_of("Up 2 hours (healthy)") == "2 hours"
    assert uptime_of("Up 3 days") == "3 days"
    assert uptime_of("Exited (0) 2 hours ago") is None and uptime_of(None) is None


def test_a_history_entry_by_value():
    entry = history_entry({"id": "u1", "start_ts": START, "end_ts": START + 45_000, "status": "Complete",
                           "success": True, "operator": "op-id", "username": "alice",
                           "version": {"major": 1, "minor": 0, "patch": 7}})
    assert entry.model_dump() == {"job_id": "u1", "version": "1.0.7", "deployed_at": "2026-01-26T11:10:00Z",
                                  "deployed_by": "alice", "status": "success", "duration": "45s"}
    running = history_entry({"id": "u2", "start_ts": START, "status": "InProgress", "operator": "op-id"})
    assert (running.deployed_by, running.version, running.duration, running.status) == ("op-id", None, None,
                                                                                        "running")
    assert history_entry({"id": "u3", "start_ts": START}).deployed_by == ""


@pytest.mark.parametrize(("address", "expected"), [
    ("wss://core.lan", ("core.lan", 443)), ("ws://core.lan", ("core.lan", 80)), ("https://h:9000/x", ("h", 9000))])
def test_server_address_schemes(address, expected):
    assert host_and_port(address) == expected


@pytest.mark.parametrize(("region", "tags", "expected"), [
    ("us-gov-west-1", [], "aws"), ("europe-west4", [], "gcp"), ("westeurope", [], "azure"),
    ("", ["env:prod", "provider:ovh:eu"], "ovh:eu"), ("us-east-1", ["providers:x"], "aws"), ("", [], "self-hosted")])
def test_server_provider(region, tags, expected):
    assert provider(region, tags) == expected


def test_server_metrics_by_value():
    stats = {"cpu_perc": 12.6, "mem_used_gb": 3.5, "mem_total_gb": 16.0, "disks": [
        {"used_gb": 10.0, "total_gb": 50.0}, {"used_gb": 2.5, "total_gb": 50.0}],
        "network_ingress_bytes": 2_500_000.0, "network_egress_bytes": 999.0,
        "load_average": {"one": 0.5, "five": 1.25, "fifteen": 2.0}}
    assert metrics(stats).model_dump() == {
        "uptime": None, "cpu_usage": "13%", "memory_usage": "3.5GB / 16GB", "disk_usage": "12.5GB / 100GB",
        "network_in": "2.5MB/s", "network_out": "999B/s", "load_average": "0.50 1.25 2.00"}
    rates = metrics({"cpu_perc": 0, "mem_used_gb": 0, "mem_total_gb": 1, "network_ingress_bytes": 3e9,
                     "network_egress_bytes": 1_000.0, "disk_used_gb": 1.0, "disk_total_gb": 2.0})
    assert (rates.network_in, rates.network_out, rates.disk_usage, rates.load_average) == (
        "3.0GB/s", "1.0KB/s", "1GB / 2GB", None)
    assert metrics({"cpu_perc": 1, "mem_used_gb": 1, "mem_total_gb": 1}).disk_usage == "0GB / 0GB"


def test_server_hardware_by_value():
    assert hardware({"core_count": 8, "cpu_brand": "EPYC", "os": "Debian"},
                    {"mem_total_gb": 31.4, "disks": [{"total_gb": 100.0}, {"total_gb": 28.0}]}).model_dump() == {
        "memory": "31.4GB", "cpu": "8 cores (EPYC)", "disk": "128GB", "os": "Debian"}
    assert hardware({"core_count": 2}, None).model_dump() == {"memory": None, "cpu": "2 cores", "disk": None,
                                                                "os": None}
    assert hardware(None, None).model_dump() == {"memory": None, "cpu": None, "disk": None, "os": None}
    assert hardware({}, {"mem_total_gb": 4.0}).cpu is None


@pytest.mark.parametrize(("state", "status_line", "count", "expected"), [
    ("running", None, 4, 4), ("unhealthy", "2 running, 1 exited", 3, 2), ("stopped", None, 3, 0),
    ("restarting", "restarting", 2, 0)])
def test_running_services(state, status_line, count, expected):
    assert running_services(state, status_line, count) == expected


@pytest.mark.parametrize(("config", "expected"), [
    ({"file_paths": ["deploy/compose.prod.yaml", "compose.yaml"]}, "deploy/compose.prod.yaml"),
    ({"file_contents": "services: {}"}, "compose.yaml (defined in Komodo)"),
    ({"repo": "org/app"}, "compose.yaml"), ({"files_on_host": True}, "compose.yaml"), ({}, None)])
def test_compose_file(config, expected):
    assert compose_file(config) == expected


def test_top_level_keys_skip_comments_quotes_and_nested_keys():
    compose = ("networks:\n  # a comment\n\n  'front':\n    driver: bridge\n  \"back\": {}\n"
               "services:\n  web:\n    networks: [front]\n")
    assert top_level_keys(compose, "networks") == ["front", "back"]
    assert top_level_keys(compose, "volumes") == []


def test_a_stack_service_by_value():
    service = {"service": "web", "state": "Running", "image": "nginx:1.25", "container": {
        "name": "app-web-1", "ports": [{"PublicPort": 8080, "PrivatePort": 80}, {"PrivatePort": 443}, "9000:9000"]}}
    assert service_info(service).model_dump() == {"name": "web", "status": "running", "image": "nginx:1.25",
                                                  "ports": ["8080:80", "443", "9000:9000"], "replicas": 1,
                                                  "container": "app-web-1"}
    down = service_info({"service": "db", "state": "exited", "image": "postgres", "container": None})
    assert (down.replicas, down.ports, down.container) == (0, [], None)


def test_compose_content_prefers_komodo_then_deployed_then_remote():
    assert compose_content({"config": {"file_contents": "a"}, "info": {"deployed_contents": [{"contents": "b"}]}}) \
        == "a"
    assert compose_content({"config": {}, "info": {"deployed_contents": [{"contents": "b"}],
                                                   "remote_contents": [{"contents": "c"}]}}) == "b"
    assert compose_content({"config": {}, "info": {"deployed_contents": [], "remote_contents": [{"contents": "c"}]}}) \
        == "c"
    assert compose_content({"config": {}, "info": None}) is None and compose_content({}) is None

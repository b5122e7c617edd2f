"""The resource mappers' own decisions by value: a deployment's health and uptime, its history, a server's address,
provider, metrics and hardware, a stack's running services, compose file, networks and ports."""

from __future__ import annotations

import pytest

from komodo_mcp.mapping.common import split_ids_and_names
from komodo_mcp.mapping.deployments import deployment_detail, deployment_item, health, history_entry, uptime_of
from komodo_mcp.mapping.jobs import operations_named, procedure_stages, requested_services
from komodo_mcp.mapping.servers import container_owner, hardware, host_and_port, metrics, provider, server_detail, server_item
from komodo_mcp.mapping.stacks import (compose_content, compose_file, running_services, service_info, stack_detail,
                                       stack_item, top_level_keys)

START = 1_769_425_800_000  # 2026-01-26T11:10:00Z
OBJECT_ID = f"{START // 1000:08x}" + "0" * 16  # created at START


# Whole items and details, by value

DEPLOYMENT = {"id": OBJECT_ID, "name": "api", "tags": ["t1", "t2"], "info": {
    "state": "running", "status": "Up 2 hours (healthy)", "image": "ghcr.io/acme/api:1.4", "server_id": "s1",
    "server_name": "web-1", "update_available": True}}
DEPLOYMENT_CONFIG = {"updated_at": START + 60_000, "config": {
    "ports": "8080:80\n", "volumes": ["/data:/data"], "environment": "A=1\nDB_PASSWORD=x", "network": "bridge",
    "restart": "unless-stopped"}}
DEPLOYMENT_FIELDS = {
    "id": OBJECT_ID, "name": "api", "tags": ["prod", "t2"], "createdAt": "2026-01-26T11:10:00Z",
    "updatedAt": "2026-01-26T11:11:00Z", "server_id": "s1", "server_name": "web-1", "status": "running",
    "state": "running", "container_status": "Up 2 hours (healthy)", "image": "ghcr.io/acme/api:1.4", "tag": "1.4",
    "ports": ["8080:80"], "volumes": ["/data:/data"], "env": {"A": "1", "DB_PASSWORD": "********"},
    "network": "bridge", "restart_policy": "unless-stopped", "health_check": None, "update_available": True,
    "lastDeployedAt": None}


def test_a_deployment_item_by_value():
    assert deployment_item(DEPLOYMENT, DEPLOYMENT_CONFIG, {"t1": "prod"}, False).model_dump() == DEPLOYMENT_FIELDS


def test_a_bare_deployment_item_takes_komodos_defaults():
    bare = deployment_item({"id": "x", "name": "n", "tags": [], "info": {"state": "not_deployed"}}, None, {}, False)
    assert bare.model_dump() == {
        "id": "x", "name": "n", "tags": [], "createdAt": None, "updatedAt": None, "server_id": "",
        "server_name": None, "status": "stopped", "state": "not_deployed", "container_status": None, "image": "",
        "tag": None, "ports": [], "volumes": [], "env": {}, "network": "host", "restart_policy": "no",
        "health_check": None, "update_available": False, "lastDeployedAt": None}


def test_a_deployment_detail_by_value():
    history = [{"id": "u3", "start_ts": START + 9_000, "status": "Complete", "success": False, "operator": "o"},
               {"id": "u2", "start_ts": START + 5_000, "status": "InProgress", "operator": "o"},
               {"id": "u1", "start_ts": START, "end_ts": START + 1_000, "status": "Complete", "success": True,
                "operator": "o"}]
    stats = {"cpu_perc": "1%", "mem_usage": "10MiB / 1GiB", "mem_perc": "1%", "net_io": "1kB / 2kB",
             "block_io": "0B / 0B", "pids": "3"}
    detail = deployment_detail(DEPLOYMENT_CONFIG, DEPLOYMENT, {"t1": "prod"}, True, container={"id": "c1"},
                               stats=stats, history=history, notes=["n"])
    assert detail.model_dump() == DEPLOYMENT_FIELDS | {
        "env": {"A": "1", "DB_PASSWORD": "x"}, "lastDeployedAt": "2026-01-26T11:10:00Z", "container_id": "c1",
        "metrics": {"cpu_usage": "1%", "memory_usage": "10MiB / 1GiB", "memory_percent": "1%",
                    "network_io": "1kB / 2kB", "block_io": "0B / 0B", "pids": "3", "uptime": "2 hours"},
        "health": {"status": "healthy", "last_check": None, "checks_passed": None, "checks_failed": None},
        "deployment_history": [
            {"job_id": "u3", "version": None, "deployed_at": "2026-01-26T11:10:09Z", "deployed_by": "o",
             "status": "failed", "duration": None},
            {"job_id": "u2", "version": None, "deployed_at": "2026-01-26T11:10:05Z", "deployed_by": "o",
             "status": "running", "duration": None},
            {"job_id": "u1", "version": None, "deployed_at": "2026-01-26T11:10:00Z", "deployed_by": "o",
             "status": "success", "duration": "1s"}],
        "notes": ["n"]}
    bare = deployment_detail({"config": {}, "updated_at": 0}, DEPLOYMENT, {}, False, container=None, stats=None, history=[], notes=[])
    assert (bare.container_id, bare.metrics, bare.lastDeployedAt, bare.updatedAt) == (None, None, None, None)


def test_a_stopped_containers_zero_stats_are_no_measurement():
    stopped = DEPLOYMENT | {"info": DEPLOYMENT["info"] | {"state": "exited", "status": "Exited (0) 1 hour ago"}}
    detail = deployment_detail(DEPLOYMENT_CONFIG, stopped, {}, False, container={"id": "c1"},
                               stats={"cpu_perc": "0%"}, history=[], notes=["n"])
    assert detail.metrics is None and detail.notes == ["n", "metrics unavailable: the container is exited"]


@pytest.mark.parametrize(("state", "status_line", "expected"), [
    ("unhealthy", "Up 1 minute", "unhealthy"), ("running", "Up 5 seconds (health: starting)", "starting")])
def test_a_deployment_detail_reads_health_from_both_state_and_status_line(state, status_line, expected):
    item = {**DEPLOYMENT, "info": {**DEPLOYMENT["info"], "state": state, "status": status_line}}
    detail = deployment_detail({"config": {}, "updated_at": 0}, item, {}, False, container=None, stats=None,
                               history=[], notes=[])
    assert detail.health.status == expected


SERVER = {"id": OBJECT_ID, "name": "web-1", "tags": ["t1"], "info": {
    "state": "NotOk", "address": "", "external_address": "https://10.0.0.5:8120", "region": "eu-central-1",
    "err": {"error": "connection refused"}}}
SERVER_FIELDS = {
    "id": OBJECT_ID, "name": "web-1", "tags": ["provider:hetzner"], "createdAt": "2026-01-26T11:10:00Z",
    "updatedAt": "2026-01-26T11:10:00Z", "host": "10.0.0.5", "port": 8120, "status": "error", "state": "NotOk",
    "region": "eu-central-1", "provider": "hetzner", "description": "front"}


def test_a_server_item_and_detail_by_value():
    tags, full = {"t1": "provider:hetzner"}, {"updated_at": START, "description": "front"}
    assert server_item(SERVER, full, tags).model_dump() == SERVER_FIELDS
    detail = server_detail(full, SERVER, tags, stats=None, system=None, deployments=[{"id": "d1", "name": "api"}],
                           alerts=[], notes=["x"])
    assert detail.model_dump() == SERVER_FIELDS | {
        "config": {"memory": None, "cpu": None, "disk": None, "os": None}, "metrics": None, "deployments": ["d1"],
        "deployment_names": ["api"], "alerts": [], "error": "connection refused", "notes": ["x"]}
    reachable = server_detail({"updated_at": START}, {**SERVER, "tags": [], "info": {
        "state": "Ok", "address": "https://h", "region": "us-east-1"}}, {},
        stats={"cpu_perc": 5, "mem_used_gb": 1, "mem_total_gb": 2}, system={"core_count": 4}, deployments=[],
        alerts=[], notes=[])
    assert reachable.error is None and reachable.metrics.cpu_usage == "5%" and reachable.host == "h"
    assert (reachable.provider, reachable.description) == ("aws", "")
    assert reachable.config.model_dump() == {"memory": "2GB", "cpu": "4 cores", "disk": None, "os": None}


def test_a_bare_server_item():
    assert server_item({"id": "s", "name": "n", "tags": [], "info": {"state": "Ok"}}, None, {}).model_dump() == {
        "id": "s", "name": "n", "tags": [], "createdAt": None, "updatedAt": None, "host": None, "port": None,
        "status": "running", "state": "Ok", "region": "", "provider": "self-hosted", "description": ""}


STACK = {"id": OBJECT_ID, "name": "app", "tags": ["t1"], "info": {
    "state": "unhealthy", "status": "restarting(1), running(1)", "server_id": "s1", "server_name": "web-1",
    "services": [{"service": "web"}, {"service": "db"}]}}
STACK_CONFIG = {"updated_at": START, "info": {}, "config": {
    "file_contents": "networks:\n  front: {}\nvolumes:\n  data: {}\n", "repo": "", "branch": "main"}}
STACK_FIELDS = {
    "id": OBJECT_ID, "name": "app", "tags": ["t1"], "createdAt": "2026-01-26T11:10:00Z",
    "updatedAt": "2026-01-26T11:10:00Z", "server_id": "s1", "server_name": "web-1", "status": "active",
    "state": "unhealthy", "services": ["web", "db"], "service_count": 2, "running_services": 1,
    "compose_file": "compose.yaml (defined in Komodo)"}


def test_a_stack_item_and_detail_by_value():
    assert stack_item(STACK, STACK_CONFIG, {}).model_dump() == STACK_FIELDS
    services = [{"service": "web", "state": "running", "image": "nginx", "container": {"name": "c", "ports": []}}]
    detail = stack_detail(STACK_CONFIG, STACK, {}, services, "the compose", ["n"])
    assert detail.model_dump() == STACK_FIELDS | {
        "services": [{"name": "web", "status": "running", "image": "nginx", "ports": [], "replicas": 1,
                      "container": "c"}],
        "networks": ["front"], "volumes": ["data"], "compose_content": "the compose", "repo": None, "branch": "main",
        "notes": ["n"]}
    running = stack_item({**STACK, "info": {**STACK["info"], "state": "running", "status": None}}, None, {})
    assert running.running_services == 2
    from_repo = stack_detail({"config": {"repo": "org/app", "branch": ""}, "updated_at": 0}, STACK, {}, [], None, [])
    assert (from_repo.repo, from_repo.branch, from_repo.networks) == ("org/app", None, [])


def test_a_bare_stack_item():
    assert stack_item({"id": "s", "name": "n", "tags": [], "info": {"state": "down"}}, None, {}).model_dump() == {
        "id": "s", "name": "n", "tags": [], "createdAt": None, "updatedAt": None, "server_id": "", "server_name": None,
        "status": "inactive", "state": "down", "services": [], "service_count": 0, "running_services": 0,
        "compose_file": None}


# Single decisions


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
    bare = metrics({"cpu_perc": 1, "mem_used_gb": 1, "mem_total_gb": 1})
    assert (bare.disk_usage, bare.network_in, bare.network_out) == ("0GB / 0GB", "0B/s", "0B/s")
    exact = metrics({"cpu_perc": 1, "mem_used_gb": 1, "mem_total_gb": 1, "network_ingress_bytes": 1e9,
                     "network_egress_bytes": 1e6})
    assert (exact.network_in, exact.network_out) == ("1.0GB/s", "1.0MB/s")


def test_server_hardware_by_value():
    assert hardware({"core_count": 8, "cpu_brand": "EPYC", "os": "Debian"},
                    {"mem_total_gb": 31.4, "disks": [{"total_gb": 100.0}, {"total_gb": 28.0}]}).model_dump() == {
        "memory": "31.4GB", "cpu": "8 cores (EPYC)", "disk": "128GB", "os": "Debian"}
    assert hardware({"core_count": 2}, None).model_dump() == {"memory": None, "cpu": "2 cores", "disk": None,
                                                                "os": None}
    assert hardware(None, None).model_dump() == {"memory": None, "cpu": None, "disk": None, "os": None}
    assert hardware({}, {"mem_total_gb": 4.0}).model_dump() == {"memory": "4GB", "cpu": None, "disk": None,
                                                                 "os": None}


@pytest.mark.parametrize(("state", "status_line", "count", "expected"), [
    ("running", None, 4, 4), ("unhealthy", "exited(1), running(2)", 3, 2), ("stopped", None, 3, 0),
    ("restarting", "restarting(2)", 2, 0)])  # the status is `docker compose ls` text (Periphery)
def test_running_services(state, status_line, count, expected):
    assert running_services(state, status_line, count) == expected


@pytest.mark.parametrize(("config", "expected"), [
    ({"file_paths": ["deploy/compose.prod.yaml", "compose.yaml"]}, "deploy/compose.prod.yaml"),
    ({"file_contents": "services: {}"}, "compose.yaml (defined in Komodo)"),
    ({"repo": "org/app"}, "compose.yaml"), ({"files_on_host": True}, "compose.yaml"), ({}, None)])
def test_compose_file(config, expected):
    assert compose_file(config) == expected


def test_top_level_keys_skip_comments_quotes_and_nested_keys():
    compose = ("networks:\n  # see: the docs\n\n  'front':\n    driver: bridge\n# a note: between entries\n"
               "  \"back\": {}\n  X-net: {driver: overlay}\nservices:\n  web:\n    networks: [front]\n"
               "volumes: # docs: compose volumes\n  data:\n")
    assert top_level_keys(compose, "networks") == ["front", "back", "X-net"]
    assert top_level_keys(compose, "volumes") == ["data"]
    assert top_level_keys(compose, "configs") == []
    assert top_level_keys("networks:\n front: {}\n back:\n", "networks") == ["front", "back"]  # one-space indent
    four_spaces = "networks:\n    front:\n        driver: bridge\n    back: {}\nvolumes:\n\tdata:\n"
    assert top_level_keys(four_spaces, "networks") == ["front", "back"]  # the keys' indent, not their settings'
    assert top_level_keys(four_spaces, "volumes") == ["data"]


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


# Which resource a container, a job or a key belongs to

def test_a_container_belongs_to_the_deployment_or_stack_komodo_names_it_after():
    deployments = [{"name": "api", "info": {}}, {"name": "worker", "info": {"custom_name": "worker-blue"}}]
    stacks = [{"name": "shop", "info": {"services": [{"service": "db"}, {"service": "web"}]}},
              {"name": "empty", "info": {"services": None}}]
    assert [container_owner(name, deployments, stacks) for name in (
        "api", "worker-blue", "worker", "shop-db-1", "shop_web_2", "shop-web", "shop-cache-1", "shop-db-x", "other")
    ] == ["api", "worker", None, "shop", "shop", "shop", None, None, None]


def test_a_stack_execution_is_also_recorded_under_its_service_form():
    assert operations_named("DeployStack") == ["DeployStack", "DeployStackService"]
    assert operations_named("Deploy") == ["Deploy"] and operations_named("RunBuild") == ["RunBuild"]
    assert operations_named("CreateStack") == ["CreateStack"]  # not an execution on services


def test_the_services_a_stack_job_was_asked_for_come_from_its_first_log():
    asked = {"logs": [{"stage": "Service/s", "stdout": "Execution requested for Stack service/s web, db"},
                      {"stage": "Compose Up", "stdout": "Execution requested for Stack service/s other"}]}
    assert requested_services(asked) == ["web", "db"]
    assert requested_services({"logs": [{"stage": "Compose Up", "stdout": "x"}]}) == []
    assert requested_services({}) == []


def test_a_procedures_steps_are_its_enabled_stages_in_order():
    config = {"stages": [{"name": "build"}, {"name": "skip", "enabled": False}, {"name": "deploy", "enabled": True}]}
    assert procedure_stages(config) == ["build", "deploy"] and procedure_stages({}) == []


def test_ids_and_names_are_asked_for_in_separate_queries():
    assert split_ids_and_names(["api", OBJECT_ID, "web"]) == [[OBJECT_ID], ["api", "web"]]
    assert split_ids_and_names(["api"]) == [["api"]] and split_ids_and_names([OBJECT_ID]) == [[OBJECT_ID]]
    assert split_ids_and_names([]) == []

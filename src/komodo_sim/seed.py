"""A realistic fleet, consistent with the examples of the reference, and a generator for large fleets."""

from __future__ import annotations

import random
from typing import Any

from .state import Resource, Store, User, new_id, now_ms

ADMIN_KEY, ADMIN_SECRET = "K_demo_admin_K", "S_demo_admin_secret_S"
VIEWER_KEY, VIEWER_SECRET = "K_demo_viewer_K", "S_demo_viewer_secret_S"
ADMIN_PASSWORD, VIEWER_PASSWORD = "changeme", "viewer-pass"

MINUTE, HOUR, DAY = 60_000, 3_600_000, 86_400_000
_GIT = {"git_provider": "github.com", "git_https": True, "branch": "main", "webhook_enabled": True,
        "webhook_secret": ""}
_NO_COMMAND = {"path": "", "command": "", "shell_mode": False}  # Core's SystemCommand default


def default_config(kind: str) -> dict[str, Any]:
    """Komodo's defaults for a new resource's config (what Create<X> fills in for omitted fields)."""
    match kind:
        case "Server":
            return {"address": "", "external_address": "", "region": "", "enabled": True, "insecure_tls": False,
                    "auto_rotate_keys": True, "auto_prune": True, "stats_monitoring": True, "passkey": "",
                    "ignore_mounts": [], "links": [], "maintenance_windows": [],
                    **{f"send_{k}_alerts": True for k in ("unreachable", "cpu", "mem", "disk", "version_mismatch")},
                    "cpu_warning": 75.0, "cpu_critical": 90.0, "mem_warning": 75.0, "mem_critical": 90.0,
                    "disk_warning": 75.0, "disk_critical": 90.0}
        case "Deployment":
            return {"swarm_id": "", "server_id": "", "custom_name": "",
                    "image": {"type": "Image", "params": {"image": ""}}, "image_registry_account": "",
                    "skip_secret_interp": False, "redeploy_on_build": False, "poll_for_updates": False,
                    "auto_update": False, "send_alerts": True, "links": [], "network": "host", "restart": "no",
                    "command": "", "replicas": 1, "termination_signal": "SIGTERM", "termination_timeout": 10,
                    "extra_args": [], "term_signal_labels": "", "ports": "", "volumes": "", "environment": "",
                    "labels": ""}
        case "Stack":
            return {"swarm_id": "", "server_id": "", "links": [], "project_name": "", "auto_pull": True,
                    "run_build": False, "poll_for_updates": False, "auto_update": False,
                    "auto_update_all_services": False, "destroy_before_deploy": False, "skip_secret_interp": False,
                    "linked_repo": "", **_GIT, "webhook_enabled": False, "git_account": "", "repo": "", "commit": "",
                    "files_on_host": False, "run_directory": "", "file_paths": [], "env_file_path": ".env",
                    "additional_env_files": [], "config_files": [], "send_alerts": True, "registry_provider": "",
                    "registry_account": "", "extra_args": [], "build_extra_args": [],
                    "compose_cmd_wrapper": "", "compose_cmd_wrapper_include": [], "ignore_services": [],
                    "auto_update_skip_services": [], "clone_path": "", "reclone": False,
                    "webhook_force_deploy": False, "pre_deploy": dict(_NO_COMMAND), "post_deploy": dict(_NO_COMMAND),
                    "file_contents": "", "environment": ""}
        case "Build":
            return {"builder_id": "", "version": {"major": 0, "minor": 0, "patch": 0}, "auto_increment_version": True,
                    "image_name": "", "image_tag": "", "include_latest_tag": True, "include_version_tags": True,
                    "include_commit_tag": True, "links": [], "linked_repo": "", **_GIT, "git_account": "", "repo": "",
                    "commit": "", "webhook_enabled": False, "files_on_host": False, "build_path": ".",
                    "dockerfile_path": "Dockerfile", "image_registry": [], "skip_secret_interp": False,
                    "use_buildx": False, "extra_args": [], "dockerfile": "", "build_args": "", "secret_args": "",
                    "labels": "", "pre_build": dict(_NO_COMMAND)}
        case "Repo":
            return {"server_id": "", "builder_id": "", **_GIT, "webhook_enabled": False, "git_account": "",
                    "repo": "", "commit": "", "path": "", "links": [], "environment": "", "env_file_path": ".env",
                    "skip_secret_interp": False, "on_clone": dict(_NO_COMMAND), "on_pull": dict(_NO_COMMAND)}
        case "Procedure":
            return {"stages": [], "schedule_format": "English", "schedule": "", "schedule_enabled": True,
                    "schedule_timezone": "", "schedule_alert": True, "failure_alert": True, "webhook_enabled": True,
                    "webhook_secret": ""}
        case "Action":
            return {"run_at_startup": False, "schedule_format": "English", "schedule": "", "schedule_enabled": True,
                    "schedule_timezone": "", "schedule_alert": True, "failure_alert": True, "webhook_enabled": True,
                    "webhook_secret": "", "reload_deno_deps": False, "file_contents": "", "arguments_format": "key_value",
                    "arguments": ""}
        case "ResourceSync":
            return {"linked_repo": "", **_GIT, "git_account": "", "repo": "", "commit": "", "webhook_enabled": False,
                    "files_on_host": False, "resource_path": [], "managed": False, "delete": False,
                    "include_resources": True, "match_tags": [], "include_variables": False,
                    "include_user_groups": False, "pending_alert": True, "file_contents": ""}
        case "Builder":
            return {"type": "Server", "params": {"server_ids": []}}  # a list since Core 2.3.0
        case "Alerter":
            return {"enabled": True, "endpoint": {"type": "Custom", "params": {"url": ""}}, "alert_types": [],
                    "resources": [], "except_resources": [], "maintenance_windows": []}
    raise AssertionError(kind)


def default_info(kind: str) -> Any:
    """Komodo's `<Kind>Info` of a new resource (every field is serialised, `None` as null; Procedure, Builder and
    Alerter have none: `info: null`). `client/core/rs/src/entities/<kind>.rs`."""
    match kind:
        case "Server":
            return {"attempted_public_key": "", "public_key": ""}
        case "Deployment":
            return {"latest_image_digest": "", "deployed_name": ""}
        case "Stack":
            return {key: None for key in ("deployed_project_name", "deployed_hash", "deployed_message",
                                          "deployed_contents", "deployed_config", "deployed_services", "latest_hash",
                                          "latest_message", "remote_contents", "remote_errors")} | {
                "missing_files": [], "latest_services": []}
        case "Build":
            return {"last_built_at": 0} | dict.fromkeys(("built_hash", "built_message", "built_contents",
                                                          "latest_hash", "latest_message", "remote_path",
                                                          "remote_contents", "remote_error"))
        case "Repo":
            return {"last_pulled_at": 0, "last_built_at": 0} | dict.fromkeys(
                ("built_hash", "built_message", "latest_hash", "latest_message"))
        case "ResourceSync":
            return {"last_sync_ts": 0, "pending_deploys": [], "remote_contents": [], "remote_errors": [],
                    "resource_updates": [], "variable_updates": [], "user_group_updates": []} | dict.fromkeys(
                ("last_sync_hash", "last_sync_message", "pending_hash", "pending_message", "pending_error",
                 "pending_deploy_error"))
        case "Action":
            return {}
    return None


class _Fleet:
    """Small helpers that keep the seed below readable."""

    def __init__(self, store: Store, now: int, rng: random.Random) -> None:
        self.store, self.now, self.rng = store, now, rng

    def tags(self, *names: str) -> list[str]:
        return [self.store.tag_id(name) for name in names]

    def add(self, kind: str, name: str, *, age_days: float, tags: tuple[str, ...] = (), description: str = "",
            config: dict[str, Any] | None = None, runtime: dict[str, Any] | None = None,
            info: dict[str, Any] | None = None, updated_ago: int = HOUR) -> Resource:
        base_info = default_info(kind)
        resource = Resource(
            kind=kind, id=new_id(self.now - int(age_days * DAY)), name=name,
            config={**default_config(kind), **(config or {})},
            info={**base_info, **(info or {})} if isinstance(base_info, dict) else base_info,
            description=description, tags=self.tags(*tags), updated_at=self.now - updated_ago,
            runtime=runtime or {},
        )
        return self.store.add(resource)

    def history(self, resource: Resource, operation: str, runs: list[tuple[int, int, bool]],
                stages: list[str], operator: str, version: tuple[int, int, int] | None = None,
                stdout: str = "") -> None:
        """Past completed Updates: (started minutes ago, duration seconds, success)."""
        for i, (ago_min, seconds, ok) in enumerate(runs):
            start = self.now - ago_min * MINUTE
            step = seconds * 1000 // max(1, len(stages))
            logs = [{"stage": s, "command": "", "stdout": stdout if j == len(stages) - 1 else "",
                     "stderr": "" if ok or j < len(stages) - 1 else f"{s} failed: exit code 1",
                     "success": ok or j < len(stages) - 1, "start_ts": start + j * step,
                     "end_ts": start + (j + 1) * step} for j, s in enumerate(stages)]
            update = {"_id": {"$oid": new_id(start)}, "operation": operation, "start_ts": start, "success": ok,
                      "operator": operator, "target": resource.target(), "logs": logs,
                      "end_ts": start + seconds * 1000, "status": "Complete"}
            if version:
                update["version"] = {"major": version[0], "minor": version[1], "patch": version[2] - i}
            self.store.add_update(update)

    def stats(self, cpu: float, mem_used: float, mem_total: float, disk_used: float, disk_total: float) -> dict:
        return {
            "state": "Ok",
            "stats": {"cpu_perc": cpu, "load_average": {"one": cpu / 25, "five": cpu / 28, "fifteen": cpu / 30},
                      "mem_used_gb": mem_used, "mem_total_gb": mem_total,
                      "disks": [{"mount": "/", "file_system": "ext4", "used_gb": disk_used, "total_gb": disk_total}],
                      "network_ingress_bytes": 1_258_291.0, "network_egress_bytes": 838_860.0,
                      "refresh_ts": self.now},
            "system": {"name": "Ubuntu", "os": "Ubuntu 22.04.4 LTS", "kernel": "6.5.0-35-generic", "core_count": 4,
                       "logical_core_count": 8, "host_name": "", "cpu_brand": "Intel(R) Xeon(R) Platinum 8259CL",
                       "cpu_arch": "x86_64"},
            "uptime_s": 15 * 86400 + 4 * 3600 + 30 * 60,
        }


def _log_lines(name: str, now: int, lines: int = 120) -> list[str]:
    """Plausible container output, newest last, with an error burst for the search tools to find."""
    out = []
    for i in range(lines):
        ts = now - (lines - i) * 15_000
        stamp = f"{ts // 1000}"
        if i % 37 == 17:
            out.append(f"[{stamp}] ERROR {name}: upstream request failed: connection reset by peer (db.internal:5432)")
        elif i % 11 == 5:
            out.append(f"[{stamp}] WARN {name}: slow query took 1843ms")
        else:
            out.append(f"[{stamp}] INFO {name}: GET /api/v2/orders 200 {12 + i % 40}ms")
    return out


def seed_demo(store: Store, now: int | None = None) -> None:
    """Users, keys, tags, variables and the demo fleet."""
    now = now or now_ms()
    f = _Fleet(store, now, random.Random(7))
    admin = User(id=new_id(now - 90 * DAY), username="admin", admin=True, password=ADMIN_PASSWORD)
    viewer = User(id=new_id(now - 30 * DAY), username="viewer", password=VIEWER_PASSWORD)
    for user in (admin, viewer):
        store.users[user.id] = user
    store.api_keys[ADMIN_KEY] = (ADMIN_SECRET, admin.id)
    store.api_keys[VIEWER_KEY] = (VIEWER_SECRET, viewer.id)
    for name, color in (("production", "Red"), ("staging", "Amber"), ("api", "Blue"), ("critical", "DarkRed"),
                        ("web", "Green"), ("monitoring", "Purple"), ("backup", "Slate"), ("provider:aws", "Orange")):
        store.add_tag(name, owner=admin.id, color=color)
    for name, value, secret, description in (
            ("DB_HOST", "db.internal", False, "Primary Postgres host"),
            ("DB_PASSWORD", "pg-Sup3rS3cret!", True, "Postgres password for the app user"),
            ("SLACK_WEBHOOK", "https://hooks.slack.com/services/T000/B000/XXXXXXXX", True, "Ops channel webhook"),
            ("DEFAULT_REGION", "us-east-1", False, "")):
        store.variables[name] = {"name": name, "value": value, "is_secret": secret, "description": description}

    # Servers: Ok, Ok (hot CPU), Ok, NotOk, Disabled.
    prod = f.add("Server", "production-api", age_days=313, tags=("production", "api", "critical", "provider:aws"),
                 config={"address": "https://192.168.1.100:8080", "region": "us-east-1"},
                 runtime={**f.stats(95.2, 2.1, 4.0, 45.0, 100.0), "public_ip": "54.210.11.7"},
                 description="Primary API host")
    staging = f.add("Server", "staging-web", age_days=308, tags=("staging", "web", "provider:aws"),
                    config={"address": "https://192.168.1.101:3000", "region": "us-west-2"},
                    runtime=f.stats(22.5, 1.4, 8.0, 31.0, 120.0))
    builder_host = f.add("Server", "build-runner", age_days=200, tags=("api",),
                         config={"address": "https://10.0.2.15:8120", "region": "eu-west-1"},
                         runtime=f.stats(8.0, 3.2, 16.0, 210.0, 500.0))
    edge = f.add("Server", "edge-cache-01", age_days=120, config={"address": "https://10.0.3.21:8120",
                 "region": "eu-central-1"}, runtime={"state": "NotOk", "error": "Failed to connect to Periphery at "
                 "https://10.0.3.21:8120", "trace": ["error sending request", "tcp connect error: Connection refused"]})
    f.add("Server", "legacy-db", age_days=700, config={"address": "https://10.0.9.4:8120", "region": "on-prem",
          "enabled": False}, runtime={"state": "Ok"}, description="Decommissioned; kept for its volumes")

    # Repos and builds, with history.
    backend = f.add("Repo", "myapp-backend", age_days=320, tags=("api",), config={
        "repo": "myorg/myapp-backend", "server_id": builder_host.id, "webhook_enabled": True, "path": "/etc/komodo/repos/myapp-backend"},
        runtime={"state": "Ok", "cloned_hash": "abc123d", "cloned_message": "feat: add new API endpoint"},
        info={"last_pulled_at": now - 2 * HOUR, "latest_hash": "abc123d", "latest_message": "feat: add new API endpoint"})
    f.add("Repo", "myapp-frontend", age_days=300, tags=("web",), config={
        "repo": "myorg/myapp-frontend", "git_provider": "gitlab.com", "server_id": staging.id},
        runtime={"state": "Ok", "cloned_hash": "9f8e7d6"}, info={"last_pulled_at": now - 26 * HOUR})
    f.add("Repo", "infra-scripts", age_days=150, config={"repo": "ops/infra-scripts",
          "git_provider": "git.example.com", "server_id": prod.id}, runtime={"state": "Failed"},
          info={"last_pulled_at": now - 3 * DAY})
    f.add("Repo", "docs-site", age_days=2, config={"repo": "myorg/docs-site", "server_id": staging.id})  # never cloned
    local_builder = f.add("Builder", "local-builder", age_days=320, config={"type": "Server",
                          "params": {"server_ids": [builder_host.id]}})
    f.add("Builder", "aws-builder", age_days=100, config={"type": "Aws", "params": {
        "region": "us-east-1", "instance_type": "c5.2xlarge", "volume_gb": 50, "ami_id": "ami-0abcdef1234567890",
        "subnet_id": "subnet-01", "key_pair_name": "builder", "assign_public_ip": True, "use_public_ip": False,
        "security_group_ids": ["sg-01"], "user_data": "", "port": 8120, "use_https": True, "insecure_tls": False,
        "periphery_public_key": "", "git_providers": [],
        "image_registries": [], "secrets": []}})
    api_build = f.add("Build", "api-build", age_days=313, tags=("api", "production"), config={
        "builder_id": local_builder.id, "version": {"major": 2, "minor": 1, "patch": 0}, "image_name": "myapp",
        "linked_repo": backend.id, "repo": "myorg/myapp-backend", "webhook_enabled": True,
        "image_registry": [{"domain": "myregistry.io", "account": "ci-bot", "organization": "myorg"}],
        "build_args": "NODE_VERSION=20\nAPP_ENV=production\nNPM_TOKEN=npm_9bX7secret"},
        runtime={"state": "Ok"}, info={"last_built_at": now - 5 * HOUR, "built_hash": "abc123d",
                                       "latest_hash": "abc123d", "built_message": "feat: add new API endpoint"})
    f.history(api_build, "RunBuild", [(300 + i * 1440, 204 + (i * 17) % 40, i != 3) for i in range(8)],
              ["Clone Repo", "Docker Build", "Docker Push"], admin.id, version=(2, 1, 0))
    web_build = f.add("Build", "web-build", age_days=290, tags=("web",), config={
        "builder_id": local_builder.id, "version": {"major": 1, "minor": 4, "patch": 2}, "image_name": "web-frontend",
        "repo": "myorg/myapp-frontend", "git_provider": "gitlab.com"},
        runtime={"state": "Failed", "failing_stage": "Docker Build",
                 "failure": "npm ERR! code ELIFECYCLE\nnpm ERR! errno 1\nnpm ERR! web-frontend@1.4.2 build: `vite build`"},
        info={"last_built_at": now - 2 * DAY})
    f.history(web_build, "RunBuild", [(70, 95, False), (2 * 1440, 88, True), (4 * 1440, 91, True)],
              ["Clone Repo", "Docker Build", "Docker Push"], admin.id, version=(1, 4, 2))
    f.add("Build", "worker-build", age_days=200, config={"builder_id": local_builder.id, "image_name": "worker",
          "version": {"major": 0, "minor": 9, "patch": 12}, "repo": "myorg/myapp-backend"})  # never built

    # Deployments in many states.
    def deployment(name: str, server: Resource, image: dict, state: str, status: str | None, *, age: float,
                   tags: tuple[str, ...] = (), env: str = "", ports: str = "", volumes: str = "",
                   restart: str = "unless-stopped", network: str = "bridge", **runtime: Any) -> Resource:
        return f.add("Deployment", name, age_days=age, tags=tags, config={
            "server_id": server.id, "image": image, "environment": env, "ports": ports, "volumes": volumes,
            "restart": restart, "network": network}, runtime={
            "state": state, "status": status, "log": _log_lines(name, now), "container_id": new_id()[:12],
            **runtime})

    api_v2 = deployment("api-v2", prod, {"type": "Image", "params": {"image": "myregistry.io/myapp:v2.1.0"}},
                        "running", "Up 6 days", age=308, tags=("production", "api"),
                        env="NODE_ENV=production\nDB_HOST=db.internal\nDB_PASSWORD=[[DB_PASSWORD]]\n"
                            "REDIS_URL=redis://cache.internal:6379\nAPI_TOKEN=tok_live_51Hx9secret",
                        ports="8080:80\n8443:443", volumes="/data:/app/data", network="production-net")
    f.history(api_v2, "Deploy", [(3 * 60 + i * 2880, 154 + i * 11, True) for i in range(5)],
              ["Docker Pull", "Docker Stop", "Docker Run"], admin.id)
    deployment("api-v1", prod, {"type": "Image", "params": {"image": "myregistry.io/myapp:v1.9.3"}}, "exited",
               "Exited (137) 2 days ago", age=400, tags=("production", "api"), ports="8081:80")
    deployment("worker-queue", prod, {"type": "Build", "params": {"build_id": api_build.id,
               "version": {"major": 0, "minor": 0, "patch": 0}}}, "unhealthy", "Up 2 hours (unhealthy)", age=200,
               tags=("production",), env="QUEUE=default\nCONCURRENCY=8")
    deployment("redis-cache", prod, {"type": "Image", "params": {"image": "redis:7.2-alpine"}}, "running",
               "Up 12 days", age=250, ports="6379:6379", volumes="redis-data:/data")
    web = deployment("web-frontend", staging, {"type": "Image", "params": {"image": "myregistry.io/web-frontend:1.4.1"}},
                     "running", "Up 3 hours", age=290, tags=("staging", "web"), ports="3000:3000",
                     env="PUBLIC_API_URL=https://staging.example.com/api")
    f.history(web, "Deploy", [(180, 41, True), (1440 + 30, 39, True), (3 * 1440, 44, False)],
              ["Docker Pull", "Docker Stop", "Docker Run"], admin.id)
    nginx = deployment("nginx-proxy", staging, {"type": "Image", "params": {"image": "nginx:1.27"}}, "restarting",
                       "Restarting (1) 4 seconds ago", age=280, tags=("staging", "web"), ports="80:80\n443:443")
    deployment("canary-api", staging, {"type": "Image", "params": {"image": "myregistry.io/myapp:v2.2.0-rc1"}},
               "not_deployed", None, age=3, tags=("staging", "api"))
    deployment("metrics-exporter", edge, {"type": "Image", "params": {"image": "prom/node-exporter:v1.8.1"}},
               "unknown", None, age=110, tags=("monitoring",))

    # Stacks.
    monitoring = f.add("Stack", "monitoring-stack", age_days=319, tags=("monitoring", "production"), config={
        "server_id": prod.id, "file_contents": _MONITORING_COMPOSE, "file_paths": ["docker-compose.monitoring.yml"]},
        runtime={"state": "running", "deployed_hash": "5e4d3c2",
                 "services": [{"service": s, "image": i, "state": "running", "ports": p} for s, i, p in (
                     ("prometheus", "prom/prometheus:latest", ["9090:9090"]),
                     ("grafana", "grafana/grafana:latest", ["3000:3000"]),
                     ("alertmanager", "prom/alertmanager:latest", ["9093:9093"]))],
                 "log": _log_lines("monitoring-stack", now, 60)})
    f.history(monitoring, "DeployStack", [(1440 * 2, 63, True), (1440 * 9, 71, True)], ["Compose Pull", "Compose Up"],
              admin.id)
    logging_stack = f.add("Stack", "logging-stack", age_days=200, tags=("staging",), config={
        "server_id": staging.id, "repo": "myorg/logging", "file_paths": ["compose.yaml"]},
        runtime={"state": "stopped", "services": [{"service": s, "image": i, "state": "exited", "ports": []} for s, i in (
            ("loki", "grafana/loki:3.0.0"), ("promtail", "grafana/promtail:3.0.0"))], "log": []})
    f.add("Stack", "db-stack", age_days=250, tags=("production", "critical"), config={
        "server_id": prod.id, "file_contents": "services:\n  postgres:\n    image: postgres:16\n  pgbouncer:\n    image: bitnami/pgbouncer:1.22\n",
        "environment": "POSTGRES_PASSWORD=[[DB_PASSWORD]]\nPOSTGRES_DB=app"},
        runtime={"state": "unhealthy", "services": [
            {"service": "postgres", "image": "postgres:16", "state": "running", "ports": ["5432:5432"]},
            {"service": "pgbouncer", "image": "bitnami/pgbouncer:1.22", "state": "restarting", "ports": ["6432:6432"]}],
            "log": _log_lines("db-stack", now, 40)})
    # One service up, one that ran to completion: compose reports `exited(1), running(1)`, Core `unhealthy`.
    f.add("Stack", "jobs-stack", age_days=20, config={
        "server_id": prod.id, "file_contents": "services:\n  api:\n    image: myregistry.io/jobs:1.2\n"
                                               "  worker:\n    image: myregistry.io/jobs:1.2\n"},
        runtime={"state": "unhealthy", "services": [
            {"service": "api", "image": "myregistry.io/jobs:1.2", "state": "running", "ports": ["7000:7000"]},
            {"service": "worker", "image": "myregistry.io/jobs:1.2", "state": "exited", "ports": []}],
            "log": _log_lines("jobs-stack", now, 30)})
    # On the unreachable server: Core knows neither its services nor its status.
    f.add("Stack", "edge-stack", age_days=110, tags=("monitoring",), config={
        "server_id": edge.id, "file_contents": "services:\n  varnish:\n    image: varnish:7.5\n"},
        runtime={"state": "running", "services": [
            {"service": "varnish", "image": "varnish:7.5", "state": "running", "ports": ["80:80"]}]})

    # Procedures and actions.
    backup_action = f.add("Action", "backup-database", age_days=330, tags=("backup",),
                          description="Backup PostgreSQL database to local disk", config={
                              "file_contents": "await komodo.execute('RunStackService', {stack: 'db-stack', service: 'postgres', command: ['pg_dump']});",
                              "arguments": "DB_HOST=localhost\nDB_NAME=production\nBACKUP_DIR=/data/backups",
                              "schedule_enabled": False},
                          runtime={"state": "Ok", "last_run_at": now - 13 * HOUR,
                                   "output": "Backup completed successfully\nFile: backup.sql.gz\nSize: 2.3GB"})
    f.history(backup_action, "RunAction", [(13 * 60 + i * 1440, 45 + i * 3, True) for i in range(4)],
              ["Execute Action"], "000000000000000000000001",
              stdout="Backup completed successfully\nFile: backup.sql.gz\nSize: 2.3GB")
    f.add("Action", "notify-slack", age_days=100, description="Post a message to the ops channel", config={
          "file_contents": "await fetch(Deno.env.get('SLACK_WEBHOOK'), {method: 'POST'});", "schedule_enabled": False},
          runtime={"state": "Ok", "output": "message posted"})
    f.add("Action", "rotate-logs", age_days=60, config={"file_contents": "// rotate container logs",
          "schedule_format": "Cron", "schedule": "0 0 4 * * *", "schedule_enabled": True},
          runtime={"state": "Failed", "last_run_at": now - 20 * HOUR, "next_scheduled_run": now + 4 * HOUR})
    daily = f.add("Procedure", "daily-backup", age_days=327, tags=("backup",),
                  description="Daily database backup procedure", config={
                      "schedule_format": "Cron", "schedule": "0 0 2 * * *", "schedule_enabled": True,
                      "stages": [
                          {"name": "backup", "enabled": True, "executions": [{"enabled": True, "execution": {
                              "type": "RunAction", "params": {"action": backup_action.id, "args": None}}}]},
                          {"name": "settle", "enabled": True, "executions": [{"enabled": True, "execution": {
                              "type": "Sleep", "params": {"duration_ms": 30000}}}]},
                          {"name": "notify", "enabled": True, "executions": [{"enabled": True, "execution": {
                              "type": "RunAction", "params": {"action": "notify-slack", "args": None}}}]}]},
                  runtime={"state": "Ok", "last_run_at": now - 13 * HOUR, "next_scheduled_run": now + 11 * HOUR})
    f.history(daily, "RunProcedure", [(13 * 60 + i * 1440, 330 + i * 15, True) for i in range(5)],
              ["Stage 1: backup", "Stage 2: settle", "Stage 3: notify"], "000000000000000000000000")
    f.add("Procedure", "release-train", age_days=90, description="Build the API, then roll it out", config={
        "schedule_enabled": False, "stages": [
            {"name": "build", "enabled": True, "executions": [{"enabled": True, "execution": {
                "type": "RunBuild", "params": {"build": api_build.id}}}]},
            {"name": "deploy", "enabled": True, "executions": [{"enabled": True, "execution": {
                "type": "Deploy", "params": {"deployment": name, "stop_signal": None, "stop_time": None}}}
                for name in ("api-v2", "worker-queue")]}]},
        runtime={"state": "Ok", "last_run_at": now - 6 * DAY})
    f.add("Procedure", "nightly-cleanup", age_days=40, config={"schedule": "Every day at 03:00",
          "schedule_enabled": True, "webhook_enabled": False, "stages": [{"name": "prune", "enabled": True,
          "executions": [{"enabled": True, "execution": {"type": "PruneImages", "params": {"server": prod.id}}}]}]},
          runtime={"state": "Ok", "last_run_at": now - 23 * HOUR, "next_scheduled_run": now + HOUR})

    # Syncs and alerters.
    f.add("ResourceSync", "infra-sync", age_days=150, config={"repo": "ops/komodo-infra", "resource_path": ["stacks.toml"],
          "managed": True}, runtime={"state": "Pending", "last_sync_ts": now - DAY, "last_sync_hash": "77aa11b",
          "last_sync_message": "chore: bump grafana"}, info={
              "last_sync_ts": now - DAY, "last_sync_hash": "77aa11b", "last_sync_message": "chore: bump grafana",
              "pending_hash": "88bb22c", "pending_message": "feat: add log shipper",
              "resource_updates": [
                  {"target": monitoring.target(), "data": {"type": "Update", "data": {
                      "current": '[[stack]]\nname = "monitoring-stack"\n',
                      "proposed": '[[stack]]\nname = "monitoring-stack"\n[stack.config]\nauto_update = true\n'}}},
                  {"target": {"type": "Deployment", "id": ""}, "data": {"type": "Create", "data": {
                      "name": "log-shipper", "proposed": '[[deployment]]\nname = "log-shipper"\n'}}}],
              "variable_updates": [{"type": "Update", "data": {"current": "DEFAULT_REGION = us-east-1",
                                                               "proposed": "DEFAULT_REGION = us-east-2"}}]})
    f.add("Alerter", "slack-ops", age_days=300, config={"endpoint": {"type": "Slack", "params": {
          "url": "https://hooks.slack.com/services/T000/B000/XXXXXXXX"}}})
    f.add("Alerter", "discord-dev", age_days=90, config={"enabled": False, "endpoint": {"type": "Discord", "params": {
          "url": "https://discord.com/api/webhooks/1/abc"}}})

    # Alerts: open and resolved.
    def alert(target: Resource, level: str, variant: str, data: dict, ago_min: int, resolved_ago: int | None = None):
        ts = now - ago_min * MINUTE
        doc = {"_id": {"$oid": new_id(ts)}, "ts": ts, "resolved": resolved_ago is not None, "level": level,
               "target": target.target(), "data": {"type": variant, "data": data},
               "resolved_ts": None if resolved_ago is None else now - resolved_ago * MINUTE}
        store.alerts.append(doc)

    alert(prod, "CRITICAL", "ServerCpu", {"id": prod.id, "name": prod.name, "region": "us-east-1",
                                          "percentage": 95.2}, 15)
    alert(edge, "CRITICAL", "ServerUnreachable", {"id": edge.id, "name": edge.name, "region": "eu-central-1",
          "err": {"error": "Failed to connect to Periphery", "trace": ["tcp connect error: Connection refused"]}}, 95)
    alert(staging, "WARNING", "ServerMem", {"id": staging.id, "name": staging.name, "region": "us-west-2",
                                            "used_gb": 6.3, "total_gb": 8.0}, 240, resolved_ago=200)
    alert(nginx, "WARNING", "ContainerStateChange", {"id": nginx.id, "name": nginx.name, "server_id": staging.id,
          "server_name": staging.name, "swarm_id": None, "swarm_name": None, "from": "running",
          "to": "restarting"}, 30)
    alert(web_build, "WARNING", "BuildFailed", {"id": web_build.id, "name": web_build.name,
                                                "version": {"major": 1, "minor": 4, "patch": 3}}, 70)
    alert(api_v2, "OK", "ContainerStateChange", {"id": api_v2.id, "name": api_v2.name, "server_id": prod.id,
          "server_name": prod.name, "swarm_id": None, "swarm_name": None, "from": "exited", "to": "running"}, 6 * 24 * 60, resolved_ago=6 * 24 * 60)
    store.alerts.sort(key=lambda a: a["ts"])

    # The viewer sees the staging corner of the fleet and may operate web-frontend.
    store.grant(viewer, staging, "Read")
    store.grant(viewer, web, "Execute", ["Logs"])
    store.grant(viewer, nginx, "Read")
    store.grant(viewer, logging_stack, "Read")


def seed_generated(store: Store, count: int, now: int | None = None) -> None:
    """`count` more deployments (and a server per 50), for fleet-scale benchmarks and tests."""
    now = now or now_ms()
    f = _Fleet(store, now, random.Random(count))
    states = ("running",) * 6 + ("exited", "restarting", "not_deployed", "unhealthy")
    servers = []
    for n in range(max(1, count // 50)):
        servers.append(f.add("Server", f"fleet-node-{n:04d}", age_days=30 + n % 300,
                             config={"address": f"https://10.{n // 250}.{n % 250}.10:8120", "region": "us-east-1"},
                             runtime=f.stats(10 + n % 80, 2.0, 8.0, 40.0, 200.0)))
    for n in range(count):
        state = states[n % len(states)]
        f.add("Deployment", f"svc-{n:05d}", age_days=1 + n % 365, tags=("production",) if n % 3 == 0 else (),
              config={"server_id": servers[n % len(servers)].id, "image": {"type": "Image", "params": {
                  "image": f"registry.example.com/svc-{n % 97}:1.{n % 13}.{n % 7}"}}, "ports": f"{8000 + n % 1000}:80"},
              runtime={"state": state, "status": "Up 2 days" if state == "running" else None,
                       "log": [f"svc-{n:05d} started"], "container_id": f"{n:012x}"})


_MONITORING_COMPOSE = """services:
  prometheus:
    image: prom/prometheus:latest
    ports: ["9090:9090"]
    volumes: ["prometheus-data:/prometheus"]
    networks: [monitoring-net]
  grafana:
    image: grafana/grafana:latest
    ports: ["3000:3000"]
    environment:
      GF_SECURITY_ADMIN_PASSWORD: ${GRAFANA_PASSWORD}
    volumes: ["grafana-data:/var/lib/grafana"]
    networks: [monitoring-net]
  alertmanager:
    image: prom/alertmanager:latest
    ports: ["9093:9093"]
    networks: [monitoring-net]
networks:
  monitoring-net: {}
volumes:
  prometheus-data: {}
  grafana-data: {}
"""

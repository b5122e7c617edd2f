"""The mapping table between Komodo's concepts and the reference's (README "Mapping Komodo to the reference")."""

from __future__ import annotations

import pytest

from komodo_mcp.mapping import status
from komodo_mcp.mapping.common import created_at, duration_range, env_mapping, human_duration, iso, lines
from komodo_mcp.mapping.jobs import job_error, plain
from komodo_mcp.mapping.logs import log_output
from komodo_mcp.mapping.servers import host_and_port, provider
from komodo_mcp.mapping.stacks import running_services, top_level_keys
from komodo_mcp.tools.system import mask_toml


@pytest.mark.parametrize(("state", "expected"), [("Ok", "running"), ("NotOk", "error"), ("Disabled", "stopped")])
def test_server_status(state, expected):
    assert status.server_status(state) == expected


def test_no_komodo_state_is_a_pending_server():
    assert status.SERVER["pending"] == ()


# Komodo's own summary (api/read/deployment.rs) counts exited and paused as stopped, everything else unhealthy.
@pytest.mark.parametrize(("state", "expected"), [
    ("running", "running"), ("deploying", "deploying"), ("exited", "stopped"), ("created", "failed"),
    ("paused", "stopped"), ("stopping", "failed"), ("removing", "failed"), ("not_deployed", "stopped"),
    ("unhealthy", "failed"), ("restarting", "failed"), ("dead", "failed"), ("unknown", "failed")])
def test_deployment_status(state, expected):
    assert status.deployment_status(state) == expected


# Komodo's stack summary (api/read/stack.rs): stopped and paused are stopped, anything but running/down/unknown is
# unhealthy, i.e. still has containers up or half up.
@pytest.mark.parametrize(("state", "expected"), [
    ("running", "active"), ("unhealthy", "active"), ("restarting", "active"), ("paused", "inactive"),
    ("deploying", "deploying"), ("stopped", "inactive"), ("down", "inactive"), ("created", "active"),
    ("dead", "active"), ("removing", "active"), ("unknown", "inactive")])
def test_stack_status(state, expected):
    assert status.stack_status(state) == expected


@pytest.mark.parametrize(("state", "expected"), [("Ok", "success"), ("Failed", "failed"), ("Building", "building"),
                                                 ("Unknown", "pending")])
def test_build_status(state, expected):
    assert status.build_status(state, last_built_at=1_796_068_838_679) == expected


def test_a_build_never_built_is_pending_though_komodo_says_ok():
    assert status.build_status("Ok", last_built_at=0) == "pending"


def test_a_repo_never_cloned_is_unknown_though_komodo_says_ok():
    assert status.repo_status("Ok", last_pulled_at=0, cloned_hash=None) == "unknown"
    assert status.repo_status("Ok", last_pulled_at=1_796_068_838_679, cloned_hash="abc123d") == "connected"


def test_every_komodo_state_has_exactly_one_status():
    for table in (status.DEPLOYMENT, status.STACK, status.BUILD, status.SERVER):
        states = [state for states in table.values() for state in states]
        assert len(states) == len(set(states))


@pytest.mark.parametrize(("git_provider", "expected"), [
    ("github.com", "github"), ("gitlab.com", "gitlab"), ("bitbucket.org", "bitbucket"), ("git.example.com", "other"),
    ("https://github.com", "github")])
def test_repo_provider(git_provider, expected):
    assert status.repo_provider(git_provider) == expected


@pytest.mark.parametrize(("config", "expected"), [
    ({"schedule": "0 0 2 * * *", "schedule_enabled": True}, "scheduled"),
    ({"schedule": "0 0 2 * * *", "schedule_enabled": False, "webhook_enabled": True}, "manual"),
    ({"webhook_enabled": True, "webhook_secret": "s"}, "webhook"),
    ({"webhook_enabled": True, "webhook_secret": ""}, "manual"),  # Komodo's default: enabled, never wired
    ({}, "manual")])
def test_procedure_trigger(config, expected):
    assert status.procedure_trigger(config) == expected


@pytest.mark.parametrize(("script", "expected"), [
    ("await fetch(SLACK_WEBHOOK, {method: 'POST'})", "notification"),
    ("await komodo.execute('Deploy', {deployment: 'x'})", "api"), ("console.log('tidy')", "script")])
def test_action_type(script, expected):
    assert status.action_type(script) == expected


@pytest.mark.parametrize(("level", "alert_type", "expected"), [
    ("CRITICAL", "ServerCpu", "critical"), ("WARNING", "ServerMem", "warning"), ("OK", "ContainerStateChange", "info"),
    ("WARNING", "BuildFailed", "error"), ("CRITICAL", "ProcedureFailed", "error")])
def test_alert_severity(level, alert_type, expected):
    assert status.alert_severity(level, alert_type) == expected


def test_severity_queries_partition_the_alerts():
    assert status.severity_query("error") == {"data.type": {"$in": list(status.FAILURE_ALERT_TYPES)}}
    assert status.severity_query("critical")["level"] == "CRITICAL"


@pytest.mark.parametrize(("update", "expected"), [
    ({"status": "InProgress"}, "running"), ({"status": "Queued"}, "pending"),
    ({"status": "Complete", "success": True}, "success"),
    ({"status": "Complete", "success": False, "logs": [{"stage": "Docker Build", "stderr": "exit 1"}]}, "failed"),
    ({"status": "Complete", "success": False, "logs": [{"stage": "Docker Build", "stderr": "Build cancelled by user"}]},
     "cancelled")])
def test_job_status(update, expected):
    assert status.job_status(update) == expected


@pytest.mark.parametrize(("address", "expected"), [
    ("https://192.168.1.100:8080", ("192.168.1.100", 8080)), ("https://periphery.lan", ("periphery.lan", 443)),
    ("http://10.0.0.5", ("10.0.0.5", 80)), ("10.0.0.5:8120", ("10.0.0.5", 8120)), ("", (None, None))])
def test_server_host_and_port(address, expected):
    assert host_and_port(address) == expected


@pytest.mark.parametrize(("region", "tags", "expected"), [
    ("us-east-1", [], "aws"), ("eu-central-1", [], "aws"), ("us-central1", [], "gcp"), ("eastus", [], "azure"),
    ("on-prem", [], "self-hosted"), ("us-east-1", ["provider:hetzner"], "hetzner")])
def test_server_provider(region, tags, expected):
    assert provider(region, tags) == expected


def test_times_durations_and_ids():
    assert iso(1_769_425_800_000) == "2026-01-26T11:10:00Z" and iso(0) is None
    assert created_at(f"{1_769_425_800:08x}" + "0" * 16) == "2026-01-26T11:10:00Z"
    assert [human_duration(ms) for ms in (45_000, 204_000, 530_100_000)] == ["45s", "3m 24s", "6d 3h 15m"]
    assert duration_range([]) == "unknown"
    assert duration_range([41_000, 44_000]) == "41-44 seconds"
    assert duration_range([154_000, 298_000]) == "2-5 minutes"


def test_env_lines_and_masking():
    env = "NODE_ENV=production\n# comment\nDB_PASSWORD=hunter2\nAPI_TOKEN=t\nAWS_SECRET_ACCESS_KEY=k\nSSH_KEY=x"
    assert env_mapping(env, show_secrets=False) == {"NODE_ENV": "production", "DB_PASSWORD": "********",
                                                    "API_TOKEN": "********", "AWS_SECRET_ACCESS_KEY": "********",
                                                    "SSH_KEY": "********"}
    assert env_mapping(env, show_secrets=True)["DB_PASSWORD"] == "hunter2"
    assert lines(["8080:80", " "]) == ["8080:80"]


def test_toml_masking():
    toml = '[[deployment]]\nenvironment = """\nDB_PASSWORD=hunter2\nNODE_ENV=prod\n"""\npassword = "x"\nv = "s3cr3t!"\n'
    masked = mask_toml(toml, ["s3cr3t!"])
    assert "hunter2" not in masked and "s3cr3t!" not in masked and "NODE_ENV=prod" in masked
    assert 'password = "********"' in masked  # still a TOML string


def test_log_budget_keeps_the_newest_lines_and_says_what_was_cut():
    log = {"stdout": "\n".join(f"line {i:04d}" for i in range(1000))}
    out = log_output(log, "deployment x", "last 1000 lines", budget_chars=1_000)
    assert out.truncated and out.log.endswith("line 0999") and len(out.log) <= 1_000
    assert out.note.startswith(f"{1000 - out.lines} earlier lines")


def test_stack_helpers():
    compose = "services:\n  a:\n    image: x\nnetworks:\n  front: {}\n  back:\nvolumes:\n  data: {}\n"
    assert top_level_keys(compose, "networks") == ["front", "back"] and top_level_keys(compose, "volumes") == ["data"]
    # Core's status is `docker compose ls` text (Periphery's compose projects)
    assert running_services("unhealthy", "exited(1), running(1)", 2) == 1
    assert running_services("unhealthy", "restarting(1), running(12)", 13) == 12
    assert running_services("stopped", "exited(2)", 2) == 0
    assert running_services("running", None, 3) == 3


def test_task_errors_become_conflict_or_forbidden():
    busy = {"status": "Complete", "logs": [{"stage": "Task Error", "success": False, "stderr":
            '<span style="color: red">ERROR</span>: Resource is busy'}]}
    denied = {"status": "Complete", "logs": [{"stage": "Task Error", "success": False, "stderr":
              "ERROR: User does not have required permissions on this Deployment"}]}
    assert job_error(busy).code == "CONFLICT" and job_error(busy).message == "Resource is busy"
    assert job_error(denied).code == "FORBIDDEN"
    assert plain("<b>a</b> &lt;b&gt;") == "a <b>"

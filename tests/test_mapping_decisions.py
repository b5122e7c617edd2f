"""The mapping's decisions by value: status tables and their defaults, envelopes, times and durations, jobs and their
errors, log budgets and execute results (what an assistant reads for a job that has not reported a step yet)."""

from __future__ import annotations

import json
import re
import time
from datetime import datetime, timezone

import pytest
from pydantic import BaseModel, Field

from komodo_mcp.client.errors import NotFound, RateLimited
from komodo_mcp.instances import SELECTED
from komodo_mcp.mapping import status
from komodo_mcp.mapping.common import (created_at, duration_range, env_mapping, human_duration, image_tag, iso, lines,
                                       tag_names)
from komodo_mcp.mapping import envelope
from komodo_mcp.mapping.envelope import (MAX_RESULT_CHARS, MAX_STRING_CHARS, SHOW_SECRETS, envelope_result, error_body,
                                         error_result, komodo_error_body, ok, shown, utc_now_iso)
from komodo_mcp.mapping.executions import job_fields
from komodo_mcp.mapping.jobs import (SERVICE_USERS, base_operation, bounded, job, job_error, job_progress, operator_of,
                                     plain, schema_lists_own_fields)
from komodo_mcp.mapping.logs import log_lines, log_output
from komodo_mcp.redact import MASK

ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
START = 1_769_425_800_000  # 2026-01-26T11:10:00Z


# Status tables: what an unknown or missing Komodo state becomes

def test_states_komodo_may_add_later_fall_back_to_the_cautious_status():
    assert status.server_status("Rebooting") == "error" and status.server_status("") == "error"
    assert status.deployment_status("migrating") == "failed" and status.deployment_status("") == "failed"
    assert status.stack_status("migrating") == "inactive" and status.stack_status("") == "inactive"
    assert status.build_status("Queued") == "pending" and status.build_status("") == "pending"
    assert status.repo_status("Exploded") == "unknown" and status.repo_status("") == "unknown"


@pytest.mark.parametrize(("state", "expected"), [("Ok", "connected"), ("Cloning", "syncing"), ("Pulling", "syncing"),
                                                 ("Building", "syncing"), ("Failed", "error"), ("Unknown", "unknown")])
def test_repo_status(state, expected):
    assert status.repo_status(state, last_pulled_at=1, cloned_hash="abc") == expected


def test_a_repo_komodo_calls_ok_but_never_cloned_or_pulled_is_unknown():
    assert status.repo_status("Ok") == "unknown"
    assert status.repo_status("Ok", last_pulled_at=1) == status.repo_status("Ok", cloned_hash="abc") == "connected"


@pytest.mark.parametrize(("git_provider", "expected"), [
    ("http://gitlab.com", "gitlab"), ("GitHub.com", "github"), ("https://bitbucket.org/team", "bitbucket"),
    ("https://github.com.evil.example", "other"), ("", "other")])
def test_repo_provider_reads_the_host_only(git_provider, expected):
    assert status.repo_provider(git_provider) == expected


def test_a_schedule_needs_both_the_flag_and_an_expression():
    assert status.procedure_trigger({"schedule_enabled": True, "schedule": ""}) == "manual"
    assert status.procedure_trigger({"schedule_enabled": True, "schedule": "",
                                     "webhook_enabled": True, "webhook_secret": "s"}) == "webhook"
    assert status.procedure_trigger({"webhook_enabled": False, "webhook_secret": "s"}) == "manual"


@pytest.mark.parametrize("script", ["post(DISCORD_URL)", "ntfy.send('x')", "pushover()", "call(WEBHOOK)",
                                    "komodo.sendAlert({})", "SLACK"])
def test_scripts_that_notify_are_notifications(script):
    assert status.action_type(script) == "notification"


def test_scripts_that_call_an_api_without_notifying():
    assert status.action_type("await FETCH('https://example.com')") == "api"
    assert status.action_type("await Komodo.read('ListServers', {})") == "api"
    assert status.action_type("komodo_x = 1") == "script"


@pytest.mark.parametrize("alert_type", status.FAILURE_ALERT_TYPES)
def test_every_failure_alert_is_an_error_whatever_its_level(alert_type):
    assert status.alert_severity("OK", alert_type) == "error"


def test_an_unknown_alert_level_is_a_warning():
    assert status.alert_severity("SEVERE", "ServerCpu") == "warning"


@pytest.mark.parametrize(("severity", "level"), [("info", "OK"), ("warning", "WARNING"), ("critical", "CRITICAL")])
def test_severity_queries_leave_failures_to_error(severity, level):
    assert status.severity_query(severity) == {"level": level,
                                               "data.type": {"$nin": list(status.FAILURE_ALERT_TYPES)}}


@pytest.mark.parametrize(("update", "expected"), [
    ({}, "running"), ({"status": "Paused"}, "running"),
    ({"status": "Complete", "success": False, "logs": [{"stage": "Cancel Build"}]}, "cancelled"),
    ({"status": "Complete", "success": False, "logs": [{"stderr": "CANCELLED"}]}, "cancelled"),
    ({"status": "Complete", "success": False}, "failed"),
    ({"status": "Complete", "success": True, "logs": [{"stage": "cancel"}]}, "success")])
def test_job_status_edges(update, expected):
    assert status.job_status(update) == expected


# Envelopes

def test_a_success_envelope_carries_data_status_and_utc_time():
    body = ok({"a": 1}).model_dump(mode="json")
    assert body["data"] == {"a": 1} and body["status"] == 200 and ISO.fullmatch(body["timestamp"])


def test_an_error_body_is_scrubbed_and_has_only_what_was_given():
    body = error_body("NOT_FOUND", 404, "x-api-secret: abc", {"why": "authorization=tok"})
    assert body.pop("timestamp") and body == {"error": f"x-api-secret: {MASK}", "code": "NOT_FOUND", "status": 404,
                                              "details": {"why": f"authorization={MASK}"}}
    assert set(error_body("INTERNAL_ERROR", 500, "m")) == {"error", "code", "status", "timestamp"}
    assert error_body("RATE_LIMIT_ERROR", 429, "m", retry_after=0.0)["retry_after"] == 0.0


def test_a_rate_limit_error_says_when_to_try_again_and_others_do_not():
    limited = komodo_error_body(RateLimited("Rate limit exceeded", 2.5, {"burst": 3}))
    assert (limited["code"], limited["status"], limited["retry_after"], limited["details"]) == (
        "RATE_LIMIT_ERROR", 429, 2.5, {"burst": 3})
    missing = komodo_error_body(NotFound("gone", {"operation": "GetDeployment"}))
    assert "retry_after" not in missing and missing["error"] == "gone" and missing["status"] == 404


def test_an_error_result_is_text_only():
    result = error_result({"error": "gone: café", "code": "NOT_FOUND"})
    assert result.is_error is True and result.structured_content is None
    assert result.content[0].text == '{"error":"gone: café","code":"NOT_FOUND"}'  # compact: every character costs


@pytest.fixture
def instance():
    """Several Komodo instances configured, and this request's call going to `prod`."""
    token = SELECTED.set("prod")
    yield "prod"
    SELECTED.reset(token)


def test_an_error_names_its_job_ids_with_the_instance_only_when_several_are_configured(instance):
    busy = {"error": "busy", "code": "CONFLICT", "details": {"running_job_ids": ["u1"]}}
    assert '"running_job_ids":["prod:u1"]' in error_result(busy).content[0].text
    SELECTED.set(None)
    assert '"running_job_ids":["u1"]' in error_result(busy).content[0].text


def test_a_success_result_is_the_envelopes_json_as_structure_and_as_compact_text(instance):
    class Started(BaseModel):
        job_id: str
        started_at: datetime
        from_: str = Field(alias="from")

    result = envelope_result(ok(Started(job_id="u1", started_at=datetime(2026, 1, 26, tzinfo=timezone.utc), **{
        "from": "café"})))
    structured = dict(result.structured_content)
    assert structured.pop("timestamp") and structured == {
        "data": {"job_id": "prod:u1", "started_at": "2026-01-26T00:00:00Z", "from": "café"}, "status": 200}
    assert result.content[0].type == "text" and json.loads(result.content[0].text) == result.structured_content
    assert result.content[0].text.startswith('{"data":{"job_id":"prod:u1","started_at":"2026-01-26T00:00:00Z",'
                                             '"from":"café"}')


def test_answers_are_masked_unless_the_server_shows_secrets():
    token = "ghp_" + "a" * 36
    assert shown({"note": token}) == {"note": MASK}
    showing = SHOW_SECRETS.set(True)
    try:
        assert shown({"note": token}) == {"note": token}
    finally:
        SHOW_SECRETS.reset(showing)


def test_an_answer_that_fits_keeps_every_string_whole():
    exactly_the_limit = "x" * MAX_STRING_CHARS
    assert envelope.bounded({"compose": exactly_the_limit}) == {"compose": exactly_the_limit}
    # three strings just under the string limit whose JSON is exactly the result limit: still whole
    filling = ["y" * ((MAX_RESULT_CHARS - 6) // 3 - 2)] * 3
    assert len(json.dumps(filling)) == MAX_RESULT_CHARS and envelope.bounded(filling) == filling


def test_an_answer_too_large_cuts_its_long_strings_a_quarter_at_a_time_until_it_fits():
    long = "z" * 19_000
    cut = envelope.bounded({"lines": [long] * 4, "name": "api"})  # 76 kB: a quarter of the string limit fits
    assert cut["name"] == "api" and len(json.dumps(cut)) <= MAX_RESULT_CHARS
    assert cut["lines"] == [f"{'z' * 5_000}\n… [cut: the first 5,000 of 19,000 characters are shown]"] * 4


# Times, durations, config strings

@pytest.fixture
def far_from_utc(monkeypatch):
    """A local zone fourteen hours ahead of UTC, so a time written in local time cannot pass for UTC."""
    monkeypatch.setenv("TZ", "Etc/GMT-14")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_times_are_utc_whatever_the_local_zone(far_from_utc):
    assert iso(START) == "2026-01-26T11:10:00Z"
    before = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    now = utc_now_iso()
    assert before <= now <= datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_times():
    assert iso(None) is None and iso(START + 999.0) == "2026-01-26T11:10:00Z"
    assert created_at("not-an-id") is None and created_at(None) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(("ms", "expected"), [
    (None, None), (-1, None), (0, "0s"), (59_400, "59s"), (59_600, "1m"), (3_600_000, "1h"), (86_400_000, "1d"),
    (90_061_000, "1d 1h 1m"), (3_661_000, "1h 1m 1s")])
def test_human_duration(ms, expected):
    assert human_duration(ms) == expected


@pytest.mark.parametrize(("durations", "expected"), [
    ([41_000], "41-42 seconds"), ([89_400, 1_000], "1-89 seconds"), ([30_000, 90_000], "1-2 minutes"),
    ([600_000], "10-11 minutes"), ([125_000, 241_000], "2-5 minutes")])
def test_duration_range(durations, expected):
    assert duration_range(durations) == expected


def test_tags_lines_and_environment():
    assert tag_names(["t1", "t9"], {"t1": "prod"}) == ["prod", "t9"]
    assert lines(None) == [] and lines("") == [] and lines(8080) == ["8080"]
    assert lines("a\n  # note\n\n b ") == ["a", "b"] and lines([" x ", 5]) == ["x", "5"]
    assert env_mapping(" A = 1 \nFLAG\nB=x=y", show_secrets=False) == {"A": "1", "FLAG": "", "B": "x=y"}


@pytest.mark.parametrize(("image", "expected"), [
    ("nginx", "latest"), ("nginx:1.25", "1.25"), ("registry:5000/app", "latest"), ("registry:5000/app:v2", "v2"),
    ("", None)])
def test_image_tag(image, expected):
    assert image_tag(image) == expected


# Jobs

def update(**fields):
    return {"id": "u1", "operation": "Deploy", "status": "InProgress", "start_ts": START,
            "target": {"type": "Deployment", "id": "d1"}, "operator": "op-id", **fields}


def log(stage: str, success: bool = True, **fields):
    return {"stage": stage, "success": success, "start_ts": START, "end_ts": START + 2_000, **fields}


def test_plain_and_bounded_text():
    assert plain('<span style="x">a</span> &amp;lt; &gt;') == "a &lt; >"
    assert bounded("abcd", 4) == "abcd"
    assert bounded("abcdef", 4) == "[… 2 earlier characters cut]\ncdef"


def test_no_error_while_running_or_when_every_step_succeeded():
    assert job_error(update(logs=[log("Docker Run", success=False, stderr="boom")])) is None
    assert job_error(update(status="Complete", logs=[log("Docker Run")])) is None


def test_a_failed_step_is_an_internal_error_with_its_first_line():
    failed = job_error(update(status="Complete", logs=[log("Docker Run", success=False, stderr="ERROR: one\ntwo")]))
    assert (failed.code, failed.message) == ("INTERNAL_ERROR", "one")
    from_stdout = job_error(update(status="Complete", logs=[log("Run", success=False, stdout="out only")]))
    assert from_stdout.message == "out only"
    silent = job_error(update(status="Complete", logs=[log("Run", success=False)]))
    assert silent.message == "failed"
    blank = job_error(update(status="Complete", logs=[log("Run", success=False, stderr="<b></b>")]))
    assert blank.message == "failed"


def test_only_a_task_error_is_busy_or_forbidden():
    busy_step = job_error(update(status="Complete", logs=[log("Docker Run", success=False, stderr="Deployment is busy")]))
    assert busy_step.code == "INTERNAL_ERROR"
    admin = job_error(update(status="Complete", logs=[log("Task Error", success=False, stderr="Admin only")]))
    assert admin.code == "FORBIDDEN" and admin.message == "Admin only"
    other = job_error(update(status="Complete", logs=[log("Task Error", success=False, stderr="disk full")]))
    assert other.code == "INTERNAL_ERROR"


def test_a_running_jobs_current_step_is_the_first_stage_not_yet_logged():
    assert job(update(), "u1", None).current_step == "Docker Run"  # a Deploy's one Periphery stage
    assert job(update(logs=[log("Docker Run")]), "u1", None).current_step is None  # logged: nothing left to name
    assert job(update(status="Complete", logs=[]), "u1", None).current_step is None


def test_a_finished_job_by_value():
    finished = job(update(status="Complete", success=True, end_ts=START + 204_000, version={"major": 1, "minor": 2,
                                                                                            "patch": 3},
                          logs=[log("Docker Run", stdout="<b>up</b>", command="docker run")]),
                   "u1", "https://komodo/updates/u1", resource_name="api", operator_name="alice")
    assert finished.model_dump() == {
        "job_id": "u1", "operation": "Deploy", "status": "success", "success": True, "resource_type": "Deployment",
        "resource_id": "d1", "resource_name": "api", "started_at": "2026-01-26T11:10:00Z",
        "completed_at": "2026-01-26T11:13:24Z", "duration": "3m 24s", "steps": ["Docker Run"], "current_step": None,
        "logs": [{"name": "Docker Run", "command": "docker run", "stdout": "up", "stderr": "", "success": True,
                  "started_at": "2026-01-26T11:10:00Z", "completed_at": "2026-01-26T11:10:02Z", "duration": "2s",
                  "content_origin": "command"}],
        "operator": "alice", "version": "1.2.3", "error": None, "log_url": "https://komodo/updates/u1"}


def test_a_running_job_has_no_outcome_yet():
    running = job(update(success=False, logs=[{"stage": "Docker Pull", "success": True},
                                              {"stage": "Docker Run", "success": True, "start_ts": START,
                                               "stderr": "pulling <b>layer</b>"}]), "u1", None)
    assert running.success is None and running.completed_at is None and running.duration is None
    assert running.operator == "op-id" and running.version is None
    first, second = running.logs
    assert (first.command, first.stdout, first.stderr, first.duration, first.started_at) == ("", "", "", None, None)
    assert (second.stderr, second.duration, second.started_at) == ("pulling layer", None, "2026-01-26T11:10:00Z")
    anonymous = {key: value for key, value in update().items() if key != "operator"}
    assert job(anonymous, "u1", None).operator == ""


# Log budgets

def test_a_log_that_fits_is_whole_with_its_stderr():
    out = log_output({"stdout": "a\nb", "stderr": "c"}, "deployment x", "last 3 lines", budget_chars=6)
    assert (out.log, out.lines, out.truncated, out.note) == ("a\nb\nc", 3, False, None)
    assert (out.resource, out.source) == ("deployment x", "last 3 lines")


def test_each_kept_line_costs_its_length_and_a_newline():
    out = log_output({"stdout": "a\nbb\ncc"}, "r", "s", budget_chars=7)
    assert (out.log, out.lines) == ("bb\ncc", 2)


def test_a_log_over_budget_keeps_the_newest_lines_and_says_what_was_cut():
    out = log_output({"stdout": "aaaa\nbb\ncc"}, "stack s", "all", budget_chars=6)
    assert (out.log, out.lines, out.truncated) == ("bb\ncc", 2, True)
    assert out.note == ("1 earlier lines (5 characters) cut to stay within 6 characters; ask for a smaller tail or "
                        "search for what you need")
    assert log_output({}, "r", "s", budget_chars=5).log == ""


def test_a_quiet_service_keeps_its_lines_and_leaves_the_rest_of_the_budget_to_the_busy_ones():
    busy = [f"{service}-1  | line {n}" for service in "am" for n in range(6)]  # 13 characters each
    log = {"stdout": "\n".join([*busy, "z-1  | ok"]), "success": True}
    out = log_output(log, "stack s", "all", 100, by_service=True)
    # z-1 needs 10 of its 33; a-1 then has 90 // 2 = 45 (3 lines), and m-1 the 48 left (3 lines).
    assert out.log.splitlines() == [*busy[3:6], *busy[9:12], "z-1  | ok"]
    assert out.note == ("100 characters shared fairly between 3 services; cut: a-1 3 earlier lines (42 characters), "
                        "m-1 3 earlier lines (42 characters); narrow with `services`, `since`, `regex` or a smaller "
                        "`tail`")


def test_docker_timestamps_put_both_streams_back_in_time_order():
    log = {"stdout": "web-1  | 2026-05-01T00:00:02Z second\nweb-1  | 2026-05-01T00:00:00.5Z first\n",
           "stderr": "db-1  | 2026-05-01T00:00:01+00:00 between\n"}
    lines = log_lines(log, "both", stamped=True, by_service=True)
    assert [(line.service, line.at.isoformat(), line.bare) for line in lines] == [
        ("web-1", "2026-05-01T00:00:00.500000+00:00", "web-1  | first"),
        ("db-1", "2026-05-01T00:00:01+00:00", "db-1  | between"),
        ("web-1", "2026-05-01T00:00:02+00:00", "web-1  | second")]
    assert lines[0].stamped == "web-1  | 2026-05-01T00:00:00.5Z first"
    assert [line.bare for line in log_lines(log, "stderr", stamped=True, by_service=True)] == ["db-1  | between"]
    unstamped = {"stdout": "2026-05-01T00:00:02Z later\nno time here\n2026-05-01T00:00:01Z sooner\n"}
    # A line without a time leaves the order as Komodo sent it.
    assert [line.stamped for line in log_lines(unstamped, "both", stamped=True, by_service=False)] == \
        unstamped["stdout"].splitlines()


def test_a_deployment_log_shows_docker_timestamps_unless_asked_not_to():
    log = {"stdout": "2026-05-01T00:00:02Z later\n2026-05-01T00:00:01Z sooner\n\n"}
    assert log_output(log, "d", "all", 1_000, stamped=True).log == \
        "2026-05-01T00:00:01Z sooner\n2026-05-01T00:00:02Z later"
    assert log_output(log, "d", "all", 1_000, stamped=True, show_stamps=False).log == "sooner\nlater"
    # Not asked for, Docker's timestamps are not there: a leading date is the container's own text, in its order.
    assert log_output(log, "d", "all", 1_000, show_stamps=False).log == \
        "2026-05-01T00:00:02Z later\n2026-05-01T00:00:01Z sooner"


def test_a_deployment_log_is_one_budget_of_the_kept_lines_as_written():
    log = {"stdout": "GET  | 200 /health\nlimit: MAX\nPOST | 500 /orders\nGET  | 200 /ready  \n"}
    out = log_output(log, "d", "s", 40, keep=lambda line: "|" in line.bare)
    # Outside compose logs `GET  | ` is no service prefix: one budget, the newest lines, trailing spaces kept.
    assert out.log.splitlines() == ["POST | 500 /orders", "GET  | 200 /ready  "]
    assert out.note == ("1 earlier lines (19 characters) cut to stay within 40 characters; ask for a smaller tail or "
                        "search for what you need")
    assert log_output({"stdout": "limit: MAX\n"}, "d", "s", 100).log == "limit: MAX"


def test_a_log_komodo_could_not_read_says_why():
    assert log_output({"stdout": "", "stderr": " no such container \n", "success": False}, "d", "s", 100).note == \
        "Komodo could not read the log: no such container"
    assert log_output({"stdout": "", "stderr": "", "success": False}, "d", "s", 100).note == \
        "Komodo could not read the log: the command failed"


# Execute results

def fields(upd, waited: bool = False):
    return job_fields(upd, "u1", None, "unknown", "started", [], waited)


def test_an_execution_that_has_not_reported_a_step_is_starting():
    started = fields(update())
    assert started["status"] == "starting" and started["steps"] == ["Docker Run"]
    assert started["success"] is None and started["logs"] == [] and started["timed_out"] is False
    assert fields(update(logs=[log("Docker Run")]))["status"] == "running"
    assert fields(update(status="Queued"))["status"] == "pending"


def test_a_started_execution_by_value():
    assert fields(update(success=False)) == {
        "job_id": "u1", "status": "starting", "operation": "Deploy", "started_at": "2026-01-26T11:10:00Z",
        "steps": ["Docker Run"], "log_url": None, "estimated_duration": "unknown",
        "message": "started", "ignored_options": [], "completed_at": None, "duration": None, "success": None,
        "error": None, "logs": [], "timed_out": False}
    assert job_fields(update(), "u1", "https://komodo/u1", "2-5 minutes", "m", ["force"], False)["log_url"] == \
        "https://komodo/u1"


def test_a_finished_execution_without_logs_has_no_steps():
    assert fields(update(status="Complete", success=True, end_ts=START))["steps"] == []


def test_a_finished_execution_reports_its_own_steps_and_outcome():
    done = fields(update(status="Complete", success=False, end_ts=START + 45_000,
                         logs=[log("Docker Pull"), log("Docker Run", success=False, stderr="exit 1")]), waited=True)
    assert done["status"] == "failed" and done["steps"] == ["Docker Pull", "Docker Run"]
    assert done["completed_at"] == "2026-01-26T11:10:45Z" and done["duration"] == "45s" and done["success"] is False
    assert done["error"].message == "exit 1" and [s.name for s in done["logs"]] == ["Docker Pull", "Docker Run"]
    assert done["timed_out"] is False
    unwaited = fields(update(status="Complete", success=True, end_ts=START + 1_000, logs=[log("Docker Run")]))
    assert unwaited["logs"] == [] and unwaited["error"] is None and unwaited["success"] is True


def test_a_wait_that_ends_before_the_job_timed_out():
    waited = fields(update(logs=[log("Docker Pull")]), waited=True)
    assert waited["timed_out"] is True and [s.name for s in waited["logs"]] == ["Docker Pull"]
    assert fields(update(operation="Unheard"))["steps"] == []


def test_steps_are_the_logged_stages_then_the_expected_ones():
    build = update(operation="RunBuild", logs=[log("Clone Repo")])
    assert job_progress(build) == type(job_progress(build))(
        steps=["Clone Repo", "Latest Commit", "Docker Build"], finished=1, current="Latest Commit")
    assert job_progress(update(operation="Unheard")).steps == [] and job_progress(update(operation="Unheard")).current is None
    unexpected = job_progress(update(operation="Unheard", logs=[log("Step A")]))
    assert (unexpected.steps, unexpected.finished, unexpected.current) == (["Step A"], 1, None)
    done = job_progress(update(operation="RunBuild", status="Complete", logs=[log("Clone Repo")]))
    assert (done.steps, done.current) == (["Clone Repo"], None)  # a finished job's steps are what it logged
    planned = job_progress(update(operation="RunBuild"), ["own", "stages"])
    assert (planned.steps, planned.current) == (["own", "stages"], "own")


def test_a_wait_that_ends_before_the_job_says_how_to_go_on_waiting_for_that_job(instance):
    assert fields(update(), waited=True)["message"] == (
        "started; the job is still running: call komodo_execute_WaitForJob with job_id prod:u1 to go on waiting")
    assert fields(update(status="Complete", success=True, end_ts=START + 1_000), waited=True)["message"] == "started"


def test_a_procedures_steps_are_its_own_stages_as_its_log_reports_them():
    stdout = ("INFO: Executing stage: 'build'\nINFO: Finished stage 'build'\n"
              "INFO: Executing stage: 'deploy'\nINFO: Executing stage: 'extra'\n")
    running = update(operation="RunProcedure", logs=[log("Execute procedure", stdout=stdout)])
    planned = ["build", "deploy", "notify"]
    progress = job_progress(running, planned)
    assert (progress.steps, progress.finished, progress.current) == ([*planned, "extra"], 1, "deploy")
    assert job(running, "u1", None, planned=planned).steps == [*planned, "extra"]
    assert job_fields(running, "u1", None, "unknown", "m", [], False, planned)["steps"] == [*planned, "extra"]
    for not_yet in ([], [log("Execute procedure")]):  # no log yet, or one without output
        waiting = job_progress(update(operation="RunProcedure", logs=not_yet), ["build"])
        assert (waiting.steps, waiting.finished, waiting.current) == (["build"], 0, "build")


def test_a_stack_execution_naming_services_is_its_stacks_execution():
    assert base_operation("DeployStackService") == "DeployStack"
    assert base_operation("DeployStack") == "DeployStack" and base_operation("RunService") == "RunService"
    assert job_progress(update(operation="DeployStackService")).steps == ["Compose Config", "Compose Pull",
                                                                          "Compose Up"]


def test_a_failure_with_a_trace_reads_as_one_line_with_its_causes():
    failed = update(status="Complete", success=False, logs=[log("Deploy", success=False, stderr=(
        "ERROR: Failed at Deploy\n\nTRACE:\n\t1: server unreachable\n\tdetail\n\t2: connection refused"))])
    assert job_error(failed).message == "Failed at Deploy: server unreachable: connection refused"


def test_komodos_own_users_are_named_by_their_role():
    system = next(user for user, name in SERVICE_USERS.items() if name == "Procedure")
    assert operator_of(system, "whatever Komodo gave") == "Procedure"
    assert operator_of("u-1", "alice") == "alice" and operator_of("u-1") == "u-1"


def test_a_model_answering_a_job_described_elsewhere_lists_only_its_own_fields():
    class Described(BaseModel):
        job_id: str
        status: str
        started_at: str
        steps: list[str] = []

    class Cancelled(BaseModel):
        model_config = schema_lists_own_fields(lambda: Described)
        job_id: str
        status: str
        started_at: str
        steps: list[str] = []
        cancelled: bool

    class AllOptional(BaseModel):
        model_config = schema_lists_own_fields(lambda: Described)
        job_id: str = ""
        steps: list[str] = []

    schema = Cancelled.model_json_schema()
    assert list(schema["properties"]) == ["job_id", "status", "cancelled"]
    assert schema["required"] == ["job_id", "status", "cancelled"]
    assert list(AllOptional.model_json_schema()["properties"]) == ["job_id"]
    assert AllOptional.model_json_schema().get("required", []) == []
    assert Cancelled(job_id="u1", status="running", started_at="t", cancelled=True).model_dump() == {
        "job_id": "u1", "status": "running", "started_at": "t", "steps": [], "cancelled": True}


def test_summary_counts_are_regrouped_under_the_statuses_list_items_show():
    counts = {"total": 9, "running": 3, "stopped": 2, "not_deployed": 1, "unhealthy": 2, "unknown": 1}
    assert status.summary_by_status(counts, status.DEPLOYMENT_OF_BUCKET) == {
        "total": 9, "running": 3, "stopped": 3, "failed": 3}
    assert status.summary_by_status({}, status.STACK_OF_BUCKET) == {"total": 0, "active": 0, "inactive": 0}


def test_a_status_filter_describes_the_states_each_status_stands_for():
    assert status.states_described({"running": ("running",), "stopped": ("exited", "dead")}) == \
        "running (running); stopped (exited, dead)"

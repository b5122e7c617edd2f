"""Secret scrubbing and the audit trail, by value: what leaves the process once a secret is configured."""

from __future__ import annotations

import json
import re
import time

import pytest

from komodo_mcp import redact as redact_module
from komodo_mcp.audit import MAX_ARGUMENT_CHARS, AuditLog, mask_arguments
from komodo_mcp.redact import MASK, is_secret_key, redact, register_secret


@pytest.fixture(autouse=True)
def no_secrets_registered(monkeypatch):
    """Each test starts with no configured secret, so one test's secrets cannot make another pass."""
    monkeypatch.setattr(redact_module, "_SECRET_VALUES", set())


def test_a_configured_secret_is_scrubbed_wherever_it_appears():
    register_secret("S_scrub_me_S")
    message = "login failed for S_scrub_me_S (again: S_scrub_me_S)"
    assert redact(message) == f"login failed for {MASK} (again: {MASK})"
    assert redact({"error": message, "trace": ["S_scrub_me_S", 7], "code": 500}) == {
        "error": f"login failed for {MASK} (again: {MASK})", "trace": [MASK, 7], "code": 500}


def test_several_secrets_are_all_scrubbed():
    register_secret("first-secret-1")
    register_secret("second-secret-2")
    assert redact("a first-secret-1 b second-secret-2 c") == f"a {MASK} b {MASK} c"


def test_a_four_character_secret_counts_and_shorter_values_are_ignored():
    # A value of one to three characters would mask ordinary words everywhere.
    register_secret("q7z!")
    register_secret("xyz")
    register_secret(None)
    register_secret("")
    assert redact("q7z! xyz") == f"{MASK} xyz"


def test_credential_headers_are_masked_in_any_text():
    assert redact("headers {'x-api-secret': 'abc123', 'x-api-key': 'K_1'}") == \
        f"headers {{'x-api-secret': '{MASK}', 'x-api-key': '{MASK}'}}"
    assert redact("Authorization=tok3n rest") == f"Authorization={MASK} rest"
    assert redact('{"authorization": "Bearer eyJ.a.b"}') == f'{{"authorization": "Bearer {MASK}"}}'
    assert redact("authorization: bearer eyJ.a.b") == f"authorization: bearer {MASK}"


def test_text_without_secrets_and_other_values_pass_unchanged():
    assert redact("nothing to hide here") == "nothing to hide here"
    assert redact(42) == 42 and redact(None) is None and redact(1.5) == 1.5


def test_assignments_mask_the_value_and_keep_its_quotes_and_a_flag_stays():
    assert redact("api_secret=Xk9abc") == f"api_secret={MASK}"  # an unquoted value, whatever its first letter
    assert redact("password: 'hunter2'") == f"password: '{MASK}'"
    assert redact("password = true; secret: false") == "password = true; secret: false"  # a flag says nothing


def test_a_quoted_value_is_looked_into_for_assignments():
    assert redact('environment = "DB_PASSWORD=x"') == f'environment = "DB_PASSWORD={MASK}"'
    assert redact("command: 'API_TOKEN=abc123 run'") == f"command: 'API_TOKEN={MASK} run'"


def test_a_password_in_a_url_is_masked_and_the_rest_stays_readable():
    assert redact("postgres://app:hunter2@db:5432/app") == f"postgres://app:{MASK}@db:5432/app"


@pytest.mark.parametrize("text, expected", [
    ("java --db-password=hunter2 -Ddb.password=hunter2 -jar app.jar",
     f"java --db-password={MASK} -Ddb.password={MASK} -jar app.jar"),
    ("cmd --password hunter2 --port 80", f"cmd --password {MASK} --port 80"),
    ("https://x/y?password=hunter2&page=1", f"https://x/y?password={MASK}&page=1"),
    ("url=http://h/?token=abcdef123456", f"url=http://h/?token={MASK}"),
    ("ARGS=--db-password=hunter2", f"ARGS=--db-password={MASK}"),
    ("opts=x:password=hunter2", f"opts=x:password={MASK}"),
    ("url=redis://h:6379?password=hunter2", f"url=redis://h:6379?password={MASK}"),
    ("run --name web -p 80:80 --restart=always nginx", "run --name web -p 80:80 --restart=always nginx"),
    ("ls -la --- a-b-c?x=1&y=2", "ls -la --- a-b-c?x=1&y=2"),
])
def test_secrets_in_command_line_flags_and_url_queries_are_masked(text, expected):
    """Komodo shows commands (a container's, a step's) and URLs: a flag or a query parameter named like a credential
    keeps its name and loses its value; other flags and parameters stay readable."""
    assert redact(text) == expected


def test_which_environment_keys_are_credentials():
    for key in ("DB_PASSWORD", "PASSWD", "pass", "CLIENT_SECRET", "GITHUB_TOKEN", "SSH_KEY", "KEY", "APIKEY",
                "api_key", "PRIVATE_PEM", "AWS_CREDENTIALS", "NPM_AUTH"):
        assert is_secret_key(key), key
    for key in ("NODE_ENV", "PORT", "MONKEY", "KEY_ID", "HOSTNAME"):
        assert not is_secret_key(key), key


def test_audit_arguments_mask_secret_names_at_any_depth_and_scrub_values():
    register_secret("S_audit_value_S")
    masked = mask_arguments({"id": "api-v2", "password": "p", "api_secret": "s", "items": [
        {"DB_TOKEN": "t", "note": "uses S_audit_value_S"}, "plain"], 3: "three"})
    assert masked == {"id": "api-v2", "password": MASK, "api_secret": MASK, 3: "three",
                      "items": [{"DB_TOKEN": MASK, "note": f"uses {MASK}"}, "plain"]}


def test_audit_log_appends_one_json_line_per_call(tmp_path):
    path = tmp_path / "audit.jsonl"
    log = AuditLog(str(path))
    log.record(tool="komodo_execute_Deploy", arguments={"id": "api-v2"}, caller="stdio", code="OK", job_id="j1")
    log.record(tool="komodo_write_UpdateVariable", arguments={"value": "v"}, caller="http", code="CONFLICT",
               job_id=None)
    first, second = [json.loads(line) for line in path.read_text().splitlines()]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", first.pop("ts"))
    assert first == {"audit": True, "tool": "komodo_execute_Deploy", "arguments": {"id": "api-v2"}, "caller": "stdio",
                     "result": "OK", "job_id": "j1"}
    assert second["arguments"] == {"value": MASK} and second["result"] == "CONFLICT" and second["job_id"] is None


def test_audit_log_goes_to_stderr_by_default_and_nowhere_when_off(capsys, tmp_path):
    AuditLog("stderr").record(tool="t", arguments={}, caller="stdio", code="OK", job_id=None)
    AuditLog("off").record(tool="t", arguments={}, caller="stdio", code="OK", job_id=None)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.splitlines()) == 1 and json.loads(captured.err)["tool"] == "t"
    assert AuditLog("stderr").enabled and not AuditLog("off").enabled


def test_audit_times_are_utc_whatever_the_local_zone(monkeypatch, tmp_path):
    monkeypatch.setenv("TZ", "Etc/GMT-14")  # fourteen hours ahead of UTC
    time.tzset()
    try:
        path = tmp_path / "audit.jsonl"
        before = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        AuditLog(str(path)).record(tool="t", arguments={}, caller="stdio", code="OK", job_id=None)
        after = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    finally:
        monkeypatch.undo()
        time.tzset()
    assert before <= json.loads(path.read_text())["ts"] <= after


def test_a_long_audit_argument_is_masked_whole_then_cut():
    exactly = "x" * MAX_ARGUMENT_CHARS
    assert mask_arguments({"note": exactly}) == {"note": exactly}
    long = "password=hunter2 " + "x" * MAX_ARGUMENT_CHARS
    assert mask_arguments({"note": long}) == {
        "note": f"{f'password={MASK} ' + 'x' * MAX_ARGUMENT_CHARS}"[:MAX_ARGUMENT_CHARS] + "… [517 characters]"}

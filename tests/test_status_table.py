"""Every row of komodo-core-api.md §1.5 maps to the reference's error code (client/_status.py)."""

from __future__ import annotations

import pytest

from komodo_mcp.client._status import error_for

ROWS = [
    (401, "Invalid client credentials", "AUTH_ERROR", 401),
    (401, "Invalid user credentials | You have 4 attempts remaining", "AUTH_ERROR", 401),
    (429, "Too many attempts | Try again in 12s", "RATE_LIMIT_ERROR", 429),
    (500, "Invalid user credentials", "AUTH_ERROR", 401),  # invalid JWT escapes as 500
    (500, "Request headers have X-API-KEY but missing X-API-SECRET", "AUTH_ERROR", 401),
    (422, "Failed to deserialize the JSON body into the target type: missing field `deployment`", "VALIDATION_ERROR", 400),
    (400, "Failed to parse the request body as JSON: EOF", "VALIDATION_ERROR", 400),
    (415, "Expected request with `Content-Type: application/json`", "VALIDATION_ERROR", 400),
    (500, "Did not find any Deployment matching foo", "NOT_FOUND", 404),
    (500, "Cannot find Deployment with empty name / id", "NOT_FOUND", 404),
    (500, "User does not have required permissions on this Deployment. Must have at least Write permissions",
     "FORBIDDEN", 403),
    (400, "User does not have required permissions on this Server. Must have at least Read permissions",
     "FORBIDDEN", 403),  # GetSystemInformation maps it to 400
    (403, "Only Admins can create Variables", "FORBIDDEN", 403),
    (403, "This call is admin only", "FORBIDDEN", 403),
    (403, "User does not have permissions to create Server.", "FORBIDDEN", 403),
    (400, "Must provide non-empty name for resource", "VALIDATION_ERROR", 400),
    (400, "Valid ObjectIds cannot be used as names", "VALIDATION_ERROR", 400),
    (409, "Resource with name 'x' already exists", "CONFLICT", 409),
    (500, "Deployment busy", "CONFLICT", 409),
    (500, "No tag found matching name or id: x", "NOT_FOUND", 404),
    (500, "no variable found with given name: NOPE", "NOT_FOUND", 404),  # helpers/query.rs get_variable
    (500, "no update exists with given id", "NOT_FOUND", 404),
    (500, "no alert found with given id", "NOT_FOUND", 404),
    (500, "Server status missing system stats. The Server may be disconnected.", "INTERNAL_ERROR", 500),
    (500, "unknown variant `Foo`, expected one of ...", "INTERNAL_ERROR", 500),
    (502, "Bad Gateway", "NETWORK_ERROR", 503),
    (503, "Service Unavailable", "NETWORK_ERROR", 503),
    (504, "Gateway Timeout", "TIMEOUT_ERROR", 504),
]


@pytest.mark.parametrize(("status", "message", "code", "reference_status"), ROWS)
def test_core_answer_maps_to_reference_code(status, message, code, reference_status):
    error = error_for(status, {"error": message, "trace": ["cause"]}, "Op")
    assert (error.code, error.status) == (code, reference_status)
    assert error.details == {"operation": "Op", "komodo_status": status, "komodo_error": message,
                             "komodo_trace": ["cause"]}


def test_retry_after_comes_from_the_header_or_cores_message():
    assert error_for(429, {"error": "Too many attempts | Try again in 12s", "trace": []}, "Op").retry_after == 12
    assert error_for(429, "slow down", "Op", retry_after_header="3").retry_after == 3


def test_a_non_json_body_still_maps_by_status():
    error = error_for(503, "<html>upstream down</html>", "Op")
    assert error.code == "NETWORK_ERROR" and error.details["komodo_error"] == "<html>upstream down</html>"

"""Secret masking shared by logs, errors and tool output."""

from __future__ import annotations

import re
from typing import Any

MASK = "********"
# Environment keys whose values are credentials (DB_PASSWORD, API_TOKEN, AWS_SECRET_ACCESS_KEY, NPM_AUTH, …).
SECRET_KEY = re.compile(r"PASS(WORD|WD)?|SECRET|TOKEN|(^|_)KEY$|API_?KEY|PRIVATE|CREDENTIAL|AUTH", re.IGNORECASE)
_SECRET_VALUES: set[str] = set()
# The value after an optional auth scheme: "authorization: Bearer <token>" masks the token, not the word Bearer.
_HEADER = re.compile(r"(x-api-secret|x-api-key|authorization)(['\"]?\s*[:=]\s*['\"]?(?:Bearer\s+)?)([^'\",\s}]+)",
                     re.IGNORECASE)


def register_secret(value: str | None) -> None:
    """Remember a configured secret so it is scrubbed from anything that leaves the process."""
    if value and len(value) >= 4:
        _SECRET_VALUES.add(value)


def is_secret_key(key: str) -> bool:
    return bool(SECRET_KEY.search(key))


def redact(value: Any) -> Any:
    """Scrub known secrets and credential headers from strings, recursively through lists and dicts."""
    if isinstance(value, str):
        for secret in _SECRET_VALUES:
            if secret in value:
                value = value.replace(secret, MASK)
        return _HEADER.sub(lambda m: m[1] + m[2] + MASK, value)
    if isinstance(value, dict):
        return {k: redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value

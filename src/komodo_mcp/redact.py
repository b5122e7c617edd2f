"""Secret masking shared by logs, errors and tool output.

Two kinds of rule: a value is a secret because of its key (`DB_PASSWORD=…`, `api_token: …`), or because of its
shape, whatever it is called (a URL with a password, a GitHub or Slack token, an AWS key id, a JWT).
"""

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
# `KEY=value`, `KEY: value`, `"KEY": "value"`, `KEY = "va\"lue"` anywhere in a text (env lines, compose
# `environment:` blocks in either form, TOML, JSON in a trace). The value is a quoted string (escapes included)
# or a run up to a separator. Keys (and URL schemes) start only at a word's start: linear time on long words.
_ASSIGNMENT = re.compile(r"""(?<![A-Za-z0-9_.-])(?P<key>[A-Za-z_][A-Za-z0-9_.-]*)(?P<sep>["']?[ \t]*[:=][ \t]*)"""
                         r"""(?P<value>"(?:[^"\\\n]|\\.)*"|'[^'\n]*'|(?:(?i:bearer|basic|token)[ \t]+)?(?:\\.|[^\s,;&"'}\]\\])+)""")
_AUTH_SCHEME = re.compile(r"(?i)(?:bearer|basic|token)[ \t]+")  # kept readable: `Bearer ********`
# Credentials recognisable by their form alone.
_SHAPES = re.compile("|".join((
    r"gh[pousr]_[A-Za-z0-9]{20,}",                          # GitHub tokens
    r"github_pat_[A-Za-z0-9_]{20,}",                        # GitHub fine-grained tokens
    r"glpat-[A-Za-z0-9_-]{20,}",                            # GitLab personal access tokens
    r"xox[abposr]-[A-Za-z0-9-]{10,}",                       # Slack tokens
    r"(?:AKIA|ASIA)[0-9A-Z]{16}",                           # AWS access key ids
    r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*",  # JWTs
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)",
)))
# A secret-keyed value where `_ASSIGNMENT` does not look: a command-line flag (`--db-password=…`, `-Ddb.password=…`,
# `--password …`), a URL query (`?token=…&…`) or inside another value (`ARGS=--db-password=…`,
# `opts=x:password=…`). Keys start only at the text's start or after a separator and are at most 64 characters:
# linear on long words.
_SECRET_KEY_START = re.compile(r"(?:^|(?<=[\s?&;=:]))(?:--?|-D)?(?P<key>[A-Za-z][A-Za-z0-9_.-]{0,63})=")
_VALUE_RUN = re.compile(r"""[^\s&;,"'}\]?#]+""")
_FLAG_THEN_VALUE = re.compile(r"(?:^|(?<=\s))--?(?P<key>[A-Za-z][A-Za-z0-9_.-]{0,63})[ \t]+(?P<value>[^\s-]\S*)")
# scheme://user:password@host: the password goes, the rest stays readable.
_URL_PASSWORD = re.compile(r"(?P<head>(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@\"'<>]*:)(?P<password>[^\s@/\"'<>]+)(?=@)")


def register_secret(value: str | None) -> None:
    """Remember a configured secret so it is scrubbed from anything that leaves the process."""
    if value and len(value) >= 4:
        _SECRET_VALUES.add(value)


def is_secret_key(key: str) -> bool:
    return bool(SECRET_KEY.search(key))


def _mask_assignments(text: str) -> str:
    def mask(match: re.Match[str]) -> str:
        key, separator, value = match["key"], match["sep"], match["value"]
        if is_secret_key(key) and value not in ("true", "false"):  # `is_secret = true` says nothing secret
            quote = value[0] if value[0] in "\"'" else ""
            scheme = _AUTH_SCHEME.match(value[1:] if quote else value)
            return f"{key}{separator}{quote}{scheme[0] if scheme else ''}{MASK}{quote}"
        if value[0] in "\"'" and len(value) > 2:  # `environment = "DB_PASSWORD=…"`: look inside the string
            return f"{key}{separator}{value[0]}{_mask_assignments(value[1:-1])}{value[-1]}"
        return match[0]

    return _ASSIGNMENT.sub(mask, text)


def mask_text(text: str) -> str:
    """Scrub known secrets, credential headers, secret-keyed assignments (also as command-line flags, in URL queries
    and inside other values) and credential-shaped values."""
    for secret in _SECRET_VALUES:
        if secret in text:
            text = text.replace(secret, MASK)
    if ":" not in text and "=" not in text:  # most strings (names, ids, states): no header, URL or assignment
        text = _SHAPES.sub(MASK, text)
        return _FLAG_THEN_VALUE.sub(_masked_value, text) if "-" in text else text
    text = _HEADER.sub(lambda m: m[1] + m[2] + MASK, text)
    text = _URL_PASSWORD.sub(lambda m: m["head"] + MASK, text)
    text = _SHAPES.sub(MASK, text)
    text = _mask_assignments(text)
    if "-" in text:
        text = _FLAG_THEN_VALUE.sub(_masked_value, text)
    return _mask_embedded(text) if "=" in text else text


def _mask_embedded(text: str) -> str:
    """`_SECRET_KEY_START`'s secret keys with their values masked. The keys are found without taking their values,
    so a key inside another value is seen too; a value is read only once (keys inside a masked value are skipped)."""
    pieces, done = [], 0
    for match in _SECRET_KEY_START.finditer(text):
        if match.start() < done or not is_secret_key(match["key"]):
            continue
        value = _VALUE_RUN.match(text, match.end())
        if value:
            pieces += [text[done:match.end()], MASK]
            done = value.end()
    return "".join(pieces) + text[done:] if pieces else text


def _masked_value(match: re.Match[str]) -> str:
    """The match with its value masked when its key names a secret."""
    if not is_secret_key(match["key"]):
        return match[0]
    return match[0][:match.start("value") - match.start()] + MASK


def redact(value: Any) -> Any:
    """`mask_text` on every string, recursively through lists and dicts."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {k: redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value

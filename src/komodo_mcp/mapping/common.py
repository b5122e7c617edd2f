"""Pure helpers shared by the mappers: times, durations, tags, Komodo's multiline config strings."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from ..redact import MASK, is_secret_key


def iso(ms: int | float | None) -> str | None:
    """Komodo's epoch milliseconds as ISO 8601 UTC; 0 and None (never) stay None."""
    if not ms:
        return None
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


_OBJECT_ID = re.compile(r"[0-9a-fA-F]{24}")


def is_object_id(key: str) -> bool:
    """Komodo takes a key that parses as an ObjectId for an id, anything else for a name."""
    return bool(_OBJECT_ID.fullmatch(key))


def split_ids_and_names(keys: list[str]) -> list[list[str]]:
    """`names` queries that each hold only ids or only names: Komodo ANDs the ids and the names of one query
    (`entities/resource.rs`, ResourceQuery::add_filters), so a query mixing both finds nothing."""
    ids = [key for key in keys if is_object_id(key)]
    return [group for group in (ids, [key for key in keys if not is_object_id(key)]) if group]


def created_at(object_id: str) -> str | None:
    """A resource's creation time, which MongoDB embeds in the first 4 bytes of its ObjectId."""
    try:
        return iso(int(object_id[:8], 16) * 1000)
    except (ValueError, TypeError):
        return None


def human_duration(ms: int | float | None) -> str | None:
    """'45s', '3m 24s', '6d 2h 15m': at most three units, largest first."""
    if ms is None or ms < 0:
        return None
    seconds = int(round(ms / 1000))
    if seconds < 60:
        return f"{seconds}s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return " ".join(parts[:3])


def duration_range(durations_ms: list[int]) -> str:
    """An estimate from past runs ('2-5 minutes', '40-55 seconds'), or 'unknown' without history."""
    if not durations_ms:
        return "unknown"
    low, high = min(durations_ms) / 1000, max(durations_ms) / 1000
    if high < 90:
        low_s, high_s = int(low), max(int(low) + 1, int(round(high)))
        return f"{low_s}-{high_s} seconds"
    low_m, high_m = max(1, int(low // 60)), max(int(low // 60) + 1, int(-(-high // 60)))
    return f"{low_m}-{high_m} minutes"


def tag_names(tag_ids: list[str], tags: dict[str, str]) -> list[str]:
    return [tags.get(tag_id, tag_id) for tag_id in tag_ids]


def lines(value: Any) -> list[str]:
    """Komodo stores ports, volumes, environment and labels as `line`-per-entry strings (lists also accepted)."""
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    if not value:
        return []
    return [line.strip() for line in str(value).splitlines() if line.strip() and not line.strip().startswith("#")]


def env_mapping(value: Any, show_secrets: bool) -> dict[str, str]:
    """`KEY=value` lines as a mapping, credential-looking keys masked unless the operator asked to show them."""
    result = {}
    for line in lines(value):
        key, _, val = line.partition("=")
        key = key.strip()
        result[key] = val.strip() if show_secrets or not is_secret_key(key) else MASK
    return result


def image_tag(image: str) -> str | None:
    name = image.rsplit("/", 1)[-1]
    return name.split(":", 1)[1] if ":" in name else "latest" if image else None

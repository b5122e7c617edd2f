"""The subset of MongoDB filters that Core's ListUpdates/ListAlerts callers use (komodo-core-api.md §8.6).

Equality on dotted paths (and on sub-documents), `$in`, `$nin`, `$ne`, `$gt/$gte/$lt/$lte`, `$exists`, `$or`, `$and`.
"""

from __future__ import annotations

from typing import Any

_MISSING = object()


def _lookup(doc: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(doc, dict) and part in doc:
            doc = doc[part]
        else:
            return _MISSING
    return doc


def _compare(value: Any, condition: Any) -> bool:
    if isinstance(condition, dict) and condition and all(k.startswith("$") for k in condition):
        return all(_operator(value, op, arg) for op, arg in condition.items())
    return value is not _MISSING and value == condition


def _operator(value: Any, op: str, arg: Any) -> bool:
    present = value is not _MISSING
    match op:
        case "$eq":
            return present and value == arg
        case "$ne":
            return not present or value != arg
        case "$in":
            return present and value in arg
        case "$nin":
            return not present or value not in arg
        case "$gt":
            return present and value is not None and value > arg
        case "$gte":
            return present and value is not None and value >= arg
        case "$lt":
            return present and value is not None and value < arg
        case "$lte":
            return present and value is not None and value <= arg
        case "$exists":
            return present == bool(arg)
    raise ValueError(f"unsupported query operator {op}")


def matches(doc: dict, query: dict | None) -> bool:
    """Whether `doc` satisfies the Mongo filter `query` (None or {} matches everything)."""
    for key, condition in (query or {}).items():
        if key == "$or":
            if not any(matches(doc, sub) for sub in condition):
                return False
        elif key == "$and":
            if not all(matches(doc, sub) for sub in condition):
                return False
        elif not _compare(_lookup(doc, key), condition):
            return False
    return True

"""Make pydantic's JSON Schemas portable: no `$ref`/`$defs` (Gemini, Copilot CLI) and no nullable `anyOf`s for
optional parameters (an omitted argument already means "not given")."""

from __future__ import annotations

import copy
from typing import Any


def portable(schema: dict[str, Any]) -> dict[str, Any]:
    schema = copy.deepcopy(schema)
    definitions = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(item) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            target = definitions[node["$ref"].rsplit("/", 1)[-1]]
            merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
            return walk(merged)
        options = node.get("anyOf")
        if isinstance(options, list):
            non_null = [option for option in options if option != {"type": "null"}]
            if len(non_null) == 1 and len(non_null) < len(options):
                merged = {**non_null[0], **{k: v for k, v in node.items() if k != "anyOf"}}
                if merged.get("default", ...) is None:
                    del merged["default"]
                return walk(merged)
        return {key: walk(value) for key, value in node.items()}

    result = walk(schema)
    result["type"] = "object"
    return result


def lean(schema: dict[str, Any]) -> dict[str, Any]:
    """An output schema without what only costs bytes: pydantic's automatic titles and defaults (the server always
    sends every field). Nullable fields keep `anyOf [T, null]`: a `type` array is less portable (the inspector's
    strict lint warns, and single-`type` dialects such as Gemini's reject it). Definitions are inlined, flat
    like the input schemas: most are used once, so this is smaller too, and clients validate a `$ref`-free schema
    faster. Shapes and descriptions stay."""
    definitions = schema.get("$defs", {})

    def walk(node: Any, in_properties: bool = False) -> Any:
        if isinstance(node, list):
            return [walk(item) for item in node]
        if not isinstance(node, dict):
            return node
        if in_properties:  # keys are property names here, not schema keywords
            return {name: walk(value) for name, value in node.items()}
        if "$ref" in node:
            target = definitions[node["$ref"].rsplit("/", 1)[-1]]
            return walk({**target, **{key: value for key, value in node.items() if key != "$ref"}})
        node = {key: value for key, value in node.items() if key not in ("title", "default", "$defs")}
        return {key: walk(value, in_properties=key == "properties") for key, value in node.items()}

    return walk(schema)

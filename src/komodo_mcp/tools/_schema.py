"""Make pydantic's JSON Schemas portable: no `$ref`/`$defs` (Gemini, Copilot CLI) and no nullable `anyOf`s for
optional parameters (an omitted argument already means "not given")."""

from __future__ import annotations

import copy
from typing import Any


def portable(schema: dict[str, Any]) -> dict[str, Any]:
    """An input schema, flat, without pydantic's automatic titles ("Page Size" for page_size, "deployArguments"):
    they repeat the name and say nothing a parameter's description does not."""
    schema = copy.deepcopy(schema)
    definitions = schema.pop("$defs", {})

    def walk(node: Any, in_properties: bool = False) -> Any:
        if isinstance(node, list):
            return [walk(item) for item in node]
        if not isinstance(node, dict):
            return node
        if in_properties:  # keys are parameter names here, not schema keywords
            return {name: walk(value) for name, value in node.items()}
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
        return {key: walk(value, in_properties=key == "properties") for key, value in node.items() if key != "title"}

    result = walk(schema)
    result["type"] = "object"
    return result


_ONLY_BYTES = frozenset({"title", "default", "$defs", "description", "required"})


def lean(schema: dict[str, Any]) -> dict[str, Any]:
    """An output schema that says the shape and nothing else: names, types, nullability, enums and nesting.

    Dropped, as they only cost bytes: pydantic's automatic titles; defaults and `required` (the server sends every
    field of every answer, null when Komodo has no value: the server instructions say so once); field descriptions
    (the same few dozen, repeated in up to 39 tools; what they mean is said once, in the server instructions and the
    tools' descriptions, the text clients show the model: the Anthropic and OpenAI tool formats have no place for an
    output schema at all); a `type` beside `enum` or `const`, whose values already fix it. The models
    keep their descriptions as documentation of the code.
    Nullable fields keep `anyOf [T, null]`: a `type` array is less portable (the inspector's strict lint warns, and
    single-`type` dialects such as Gemini's reject it). Definitions are inlined, flat like the input schemas: most
    are used once, so this is smaller too, and clients validate a `$ref`-free schema faster."""
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
        only_bytes = _ONLY_BYTES | ({"type"} if "enum" in node or "const" in node else set())
        return {key: walk(value, in_properties=key == "properties") for key, value in node.items()
                if key not in only_bytes}

    return walk(schema)

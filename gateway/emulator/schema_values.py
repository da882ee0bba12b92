"""Deterministic sample values for a schema, used for function-call args and JSON-mode answers.

Accepts both Gemini's OpenAPI subset (`"type": "OBJECT"`) and JSON Schema (`"type": ["string",
"null"]`, `$ref` into `$defs`, `anyOf`). Only `required` properties are filled."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

MAX_DEPTH: Final = 8
_SCALARS: Final[dict[str, Any]] = {
    "integer": 1,
    "number": 1,
    "boolean": True,
    "array": [],
    "null": None,
}


def sample_value(
    schema: object, word: str, root: Mapping[str, Any] | None = None, depth: int = 0
) -> Any:
    """Type-appropriate: `word` for strings, 1 for numbers, true, [], objects with required keys."""
    if not isinstance(schema, Mapping) or depth > MAX_DEPTH:
        return word
    root = root if root is not None else schema
    ref = schema.get("$ref")
    if isinstance(ref, str):
        return sample_value(_resolve(ref, root), word, root, depth + 1)
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return enum[0]
    if "const" in schema:
        return schema["const"]
    for key in ("anyOf", "oneOf", "allOf"):
        options = schema.get(key)
        if isinstance(options, list) and options:
            chosen = next((o for o in options if _type_of(o) != "null"), options[0])
            return sample_value(chosen, word, root, depth + 1)
    kind = _type_of(schema)
    if kind == "object" or (kind is None and "properties" in schema):
        properties = schema.get("properties")
        props = properties if isinstance(properties, Mapping) else {}
        required = schema.get("required")
        names = [n for n in required if isinstance(n, str)] if isinstance(required, list) else []
        return {name: sample_value(props.get(name), word, root, depth + 1) for name in names}
    if kind is None or kind == "string":
        return word
    return _SCALARS.get(kind, word)


def _type_of(schema: object) -> str | None:
    if not isinstance(schema, Mapping):
        return None
    kind = schema.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if isinstance(k, str) and k.lower() != "null"]
        kind = kinds[0] if kinds else "null"
    return kind.lower() if isinstance(kind, str) else None


def _resolve(ref: str, root: Mapping[str, Any]) -> object:
    """Local refs only (`#/$defs/X`, `#/definitions/X`); anything else resolves to nothing."""
    if not ref.startswith("#/"):
        return None
    node: object = root
    for step in ref[2:].split("/"):
        if not isinstance(node, Mapping):
            return None
        node = node.get(step.replace("~1", "/").replace("~0", "~"))
    return node

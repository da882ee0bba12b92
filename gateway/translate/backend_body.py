"""A Gemini request body fitted to the backend it goes to (pure): the two APIs share a schema
but each rejects things the other accepts (reference: vertex.md §3).

Vertex AI:
- every content needs a `role` ("Please use a valid role: user, model"): a missing one is `user`,
  what AI Studio assumes;
- `functionCall.id` / `functionResponse.id` are unknown fields there (400 "Unknown name \"id\""):
  they are dropped, and tool results are matched to calls by order and name, as Vertex does.
AI Studio:
- `labels` (billing labels) and the Vertex-only `imageConfig` fields are dropped.

Copy-on-write: only the dicts on the path to a change are copied; every other object (image
payloads above all, which the body writer finds again by identity) is shared.
"""

from __future__ import annotations

from typing import Any, Final

Json = dict[str, Any]

VERTEX_ONLY_TOP: Final = ("labels",)
VERTEX_ONLY_IMAGE_CONFIG: Final = (
    "personGeneration",
    "prominentPeople",
    "outputMimeType",
    "outputCompressionQuality",
    "imageOutputOptions",
)
_FUNCTION_KEYS: Final = ("functionCall", "functionResponse", "function_call", "function_response")


def for_backend(body: Json, vertex: bool) -> tuple[Json, tuple[str, ...]]:
    """The body to send, and notes (`body_adapted:<what>`) for each kind of change made."""
    return _for_vertex(body) if vertex else _for_ai_studio(body)


def _for_vertex(body: Json) -> tuple[Json, tuple[str, ...]]:
    contents = body.get("contents")
    if not isinstance(contents, list):
        return body, ()
    notes: set[str] = set()
    out: list[Any] = []
    for content in contents:
        fitted = _vertex_content(content, notes) if isinstance(content, dict) else content
        out.append(fitted)
    if not notes:
        return body, ()
    return {**body, "contents": out}, tuple(sorted(f"body_adapted:{n}" for n in notes))


def _vertex_content(content: Json, notes: set[str]) -> Json:
    fitted = content
    if not content.get("role"):
        fitted = {**content, "role": "user"}
        notes.add("role")
    parts = content.get("parts")
    if not isinstance(parts, list):
        return fitted
    new_parts: list[Any] | None = None
    for j, part in enumerate(parts):
        stripped = _without_function_id(part) if isinstance(part, dict) else part
        if stripped is not part:
            if new_parts is None:
                new_parts = list(parts)
            new_parts[j] = stripped
    if new_parts is None:
        return fitted
    notes.add("function_id")
    return {**fitted, "parts": new_parts}


def _without_function_id(part: Json) -> Json:
    for key in _FUNCTION_KEYS:
        call = part.get(key)
        if isinstance(call, dict) and "id" in call:
            return {**part, key: {k: v for k, v in call.items() if k != "id"}}
    return part


def _for_ai_studio(body: Json) -> tuple[Json, tuple[str, ...]]:
    notes: list[str] = []
    fitted = body
    if any(key in body for key in VERTEX_ONLY_TOP):
        fitted = {k: v for k, v in body.items() if k not in VERTEX_ONLY_TOP}
        notes.append("body_adapted:labels")
    config = body.get("generationConfig")
    image = config.get("imageConfig") if isinstance(config, dict) else None
    vertex_only = isinstance(image, dict) and any(k in image for k in VERTEX_ONLY_IMAGE_CONFIG)
    if isinstance(config, dict) and isinstance(image, dict) and vertex_only:
        kept = {k: v for k, v in image.items() if k not in VERTEX_ONLY_IMAGE_CONFIG}
        fitted = {**fitted, "generationConfig": {**config, "imageConfig": kept}}
        notes.append("body_adapted:image_config")
    return fitted, tuple(notes)

"""Token estimates: ceil(chars / 4) per text, 258 per inline or file media part (Gemini's flat
per-image rate), ceil(JSON chars / 4) for structured parts. Stable numbers are all tests need."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, Final

import orjson

from gateway.emulator.errors import invalid_argument
from gateway.emulator.fields import field, obj, objects, part_text, spellings
from gateway.emulator.validate import check_body, check_content, check_known

MEDIA_TOKENS: Final = 258
COUNT_TOKENS_KEYS: Final = spellings(["contents", "generateContentRequest"])
# Vertex AI's CountTokensRequest: a request's own fields at the top level, no wrapper.
VERTEX_COUNT_TOKENS_KEYS: Final = spellings(
    ["contents", "systemInstruction", "tools", "generationConfig", "model", "instances"]
)
_SIGNATURE_KEYS: Final = ("thoughtSignature", "thought_signature")


def text_tokens(text: str) -> int:
    return math.ceil(len(text) / 4)


def _media_modality(mime: str) -> str:
    kind = mime.partition("/")[0].upper()
    return kind if kind in ("IMAGE", "VIDEO", "AUDIO") else "DOCUMENT"


def part_tokens(part: Mapping[str, Any]) -> tuple[str, int]:
    """(modality, tokens) of one part."""
    text = part_text(part)
    if text is not None:
        return "TEXT", text_tokens(text)
    for name in ("inlineData", "fileData"):
        media = field(part, name)
        if isinstance(media, dict):
            return _media_modality(str(field(media, "mimeType") or "")), MEDIA_TOKENS
    rest = {k: v for k, v in part.items() if k not in _SIGNATURE_KEYS}
    return "TEXT", text_tokens(orjson.dumps(rest).decode())


def count_parts(contents: Iterable[Mapping[str, Any]]) -> tuple[int, list[dict[str, Any]]]:
    """Total and per-modality details, in the order modalities first appear."""
    by_modality: dict[str, int] = {}
    for content in contents:
        for part in objects(content, "parts"):
            modality, tokens = part_tokens(part)
            by_modality[modality] = by_modality.get(modality, 0) + tokens
    details = [{"modality": m, "tokenCount": n} for m, n in by_modality.items()]
    return sum(by_modality.values()), details


def prompt_tokens(body: Mapping[str, Any]) -> tuple[int, list[dict[str, Any]]]:
    contents = objects(body, "contents")
    system = field(body, "systemInstruction")
    if isinstance(system, dict):
        contents = [system, *contents]
    return count_parts(contents)


def count_tokens_response(body: object) -> dict[str, Any]:
    """`models/{m}:countTokens`: either `contents` or a whole `generateContentRequest`."""
    if not isinstance(body, dict):
        raise invalid_argument("Invalid JSON payload received. Expected an object.")
    check_known(body, COUNT_TOKENS_KEYS, None)
    request = field(body, "generateContentRequest")
    contents = field(body, "contents")
    if request is not None and contents is not None:
        raise invalid_argument("contents and generate_content_request cannot both be set.")
    if request is not None:
        inner = {k: v for k, v in obj(body, "generateContentRequest").items() if k != "model"}
        total, details = prompt_tokens(check_body(inner))
    else:
        if not isinstance(contents, list) or not contents:
            raise invalid_argument("* CountTokensRequest.contents: contents is not specified")
        for i, content in enumerate(contents):
            check_content(content, f"contents[{i}]")
        total, details = count_parts(contents)
    return {"totalTokens": total, "promptTokensDetails": details}


def vertex_count_tokens_response(body: object) -> dict[str, Any]:
    """Vertex AI's `:countTokens`: contents with the system instruction, tools and generation
    config beside them (AI Studio's `generateContentRequest` wrapper is unknown there)."""
    if not isinstance(body, dict):
        raise invalid_argument("Invalid JSON payload received. Expected an object.")
    check_known(body, VERTEX_COUNT_TOKENS_KEYS, None)
    request = {k: v for k, v in body.items() if k not in ("model", "instances")}
    total, details = prompt_tokens(check_body(request))
    return {"totalTokens": total, "promptTokensDetails": details}

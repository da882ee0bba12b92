"""A finished TurnView → the OpenAI assistant message (unary) or the final delta (stream)."""

from __future__ import annotations

from typing import Any

from gateway.translate.response.finish import explain_finish
from gateway.translate.turn_view import TurnView

Json = dict[str, Any]


def add_finish_note(view: TurnView, reason: str | None, finish_message: str | None) -> str:
    """Blocked or image-less endings get a sentence in `content`, never an empty success."""
    note = explain_finish(reason, finish_message)
    if note is None:
        return ""
    if view.content and not (reason or "").startswith(("IMAGE", "NO_IMAGE")):
        return ""
    text = ("\n\n" if view.content else "") + note
    view.content.append(text)
    view.carrier.append({"note": text})
    view.last_visible = "text"
    return text


def grounding_annotations(candidate: Json) -> list[Json]:
    meta = candidate.get("groundingMetadata")
    if not isinstance(meta, dict):
        return []
    out: list[Json] = []
    for chunk in meta.get("groundingChunks") or []:
        web = chunk.get("web") if isinstance(chunk, dict) else None
        if isinstance(web, dict) and web.get("uri"):
            out.append(
                {
                    "type": "url_citation",
                    "url_citation": {
                        "url": web["uri"],
                        "title": web.get("title", ""),
                        "start_index": 0,
                        "end_index": 0,
                    },
                }
            )
    return out


def candidate_extras(candidate: Json) -> Json:
    """Candidate-level Gemini metadata the client may want, under extra_content.google."""
    extras: Json = {}
    for key, name in (
        ("groundingMetadata", "grounding_metadata"),
        ("urlContextMetadata", "url_context_metadata"),
        ("citationMetadata", "citation_metadata"),
        ("safetyRatings", "safety_ratings"),
        ("finishMessage", "finish_message"),
    ):
        if candidate.get(key) is not None:
            extras[name] = candidate[key]
    return extras


def to_openai_message(view: TurnView, candidate: Json) -> Json:
    message: Json = {
        "role": "assistant",
        "content": view.content_text or None,
        "refusal": None,
    }
    if view.reasoning:
        message["reasoning_content"] = "".join(view.reasoning)
    if view.tool_calls:
        message["tool_calls"] = view.tool_calls
    if view.images:
        message["images"] = view.images
    annotations = grounding_annotations(candidate)
    if annotations:
        message["annotations"] = annotations
    extra = view.extra_content()
    extra["google"].update(candidate_extras(candidate))
    message["extra_content"] = extra
    return message

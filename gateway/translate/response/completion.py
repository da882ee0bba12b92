"""Gemini GenerateContentResponse → OpenAI chat.completion (unary)."""

from __future__ import annotations

from typing import Any

from gateway.translate.response.context import Memo, ResponseContext, memo_from_views, new_view
from gateway.translate.response.finish import explain_block, to_openai_finish_reason
from gateway.translate.response.message import add_finish_note, to_openai_message
from gateway.translate.response.usage import to_openai_usage
from gateway.translate.turn_view import TurnView

Json = dict[str, Any]


def candidate_parts(candidate: Json) -> list[Json]:
    content = candidate.get("content")
    if not isinstance(content, dict):
        return []  # NO_IMAGE and blocked candidates arrive with `content: {}` or none at all
    parts = content.get("parts")
    return [p for p in parts if isinstance(p, dict)] if isinstance(parts, list) else []


def blocked_choice(response: Json) -> Json | None:
    feedback = response.get("promptFeedback") or {}
    reason = feedback.get("blockReason")
    if response.get("candidates") or not reason:
        return None
    text = explain_block(str(reason), feedback.get("blockReasonMessage"))
    # The carrier marks the text as ours, so a client sending it back replays no model turn.
    carrier = {"google": {"parts": [{"note": text}]}}
    return {
        "index": 0,
        "message": {
            "role": "assistant",
            "content": text,
            "refusal": None,
            "extra_content": carrier,
        },
        "finish_reason": "content_filter",
        "logprobs": None,
    }


def to_openai_completion(response: Json, ctx: ResponseContext) -> tuple[Json, Memo]:
    choices: list[Json] = []
    views: dict[int, TurnView] = {}
    blocked = blocked_choice(response)
    if blocked is not None:
        choices.append(blocked)
    for position, candidate in enumerate(response.get("candidates") or []):
        index = int(candidate.get("index", position) or 0)
        view = new_view(ctx, index)
        for part in candidate_parts(candidate):
            view.add(part)
        reason = candidate.get("finishReason")
        add_finish_note(view, reason, candidate.get("finishMessage"))
        choices.append(
            {
                "index": index,
                "message": to_openai_message(view, candidate),
                "finish_reason": to_openai_finish_reason(reason, bool(view.tool_calls)),
                "logprobs": None,
            }
        )
        views[index] = view
    completion: Json = {
        "id": ctx.completion_id,
        "object": "chat.completion",
        "created": ctx.created,
        "model": ctx.model,
        "choices": choices,
        "usage": to_openai_usage(response.get("usageMetadata")),
    }
    return completion, memo_from_views(views)

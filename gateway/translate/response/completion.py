"""Gemini GenerateContentResponse → OpenAI chat.completion (unary)."""

from __future__ import annotations

from typing import Any

from gateway.errors import UpstreamError
from gateway.translate.response.checked import (
    candidate_index,
    candidates_of,
    checked_parts,
    prompt_feedback,
)
from gateway.translate.response.context import Memo, ResponseContext, memo_from_views, new_view
from gateway.translate.response.finish import explain_block, to_openai_finish_reason
from gateway.translate.response.message import add_finish_note, to_openai_message
from gateway.translate.response.usage import to_openai_usage
from gateway.translate.turn_view import TurnView

Json = dict[str, Any]


def candidate_parts(candidate: Json) -> list[Json]:
    """The candidate's parts, checked at the boundary (checked.py): garbage is a 502."""
    return checked_parts(candidate)


def no_candidates() -> UpstreamError:
    """An answer (unary, or a whole stream) with no candidate and no block reason: the same
    error for both, as the client could not tell them apart otherwise."""
    return UpstreamError(
        "Gemini's answer holds no candidates and no promptFeedback.blockReason: nothing to return"
    )


def blocked_choice(response: Json) -> Json | None:
    feedback = prompt_feedback(response)
    reason = feedback.get("blockReason")
    if candidates_of(response) or not reason:
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
    candidates = candidates_of(response)
    if blocked is None and not candidates:
        raise no_candidates()
    for position, candidate in enumerate(candidates):
        index = candidate_index(candidate, position)
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

"""Gemini finishReason / promptFeedback → OpenAI finish_reason, plus the words a user sees."""

from __future__ import annotations

from typing import Final

GEMINI_FINISH_TO_OPENAI: Final[dict[str, str]] = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "LANGUAGE": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
    "IMAGE_PROHIBITED_CONTENT": "content_filter",
    "IMAGE_RECITATION": "content_filter",
    "IMAGE_OTHER": "content_filter",
    "MODEL_ARMOR": "content_filter",
    "ESCALATION": "content_filter",
    "PUP_LIMITED_DISABLED": "content_filter",
    "CONTINUATION": "length",  # the per-request token limit: the answer is cut, as MAX_TOKENS
    "NO_IMAGE": "stop",
    "MALFORMED_FUNCTION_CALL": "stop",
    "UNEXPECTED_TOOL_CALL": "stop",
    "TOO_MANY_TOOL_CALLS": "stop",
    "MISSING_THOUGHT_SIGNATURE": "stop",
    "MALFORMED_RESPONSE": "stop",
    "OTHER": "stop",
    "FINISH_REASON_UNSPECIFIED": "stop",
}

# Reasons that end a turn without its content: the client gets a sentence instead of nothing.
GEMINI_FINISH_EXPLANATION: Final[dict[str, str]] = {
    "SAFETY": "The response was blocked by Gemini's safety filters (finishReason SAFETY).",
    "RECITATION": "The response was stopped because it recited protected content (RECITATION).",
    "LANGUAGE": "The response was blocked: it used a language Gemini does not support (LANGUAGE).",
    "BLOCKLIST": "The response contained blocklisted terms (finishReason BLOCKLIST).",
    "PROHIBITED_CONTENT": "The response was blocked as prohibited content (PROHIBITED_CONTENT).",
    "SPII": "The response was blocked because it contained sensitive personal data (SPII).",
    "IMAGE_SAFETY": "The image was blocked by Gemini's image safety filters (IMAGE_SAFETY).",
    "IMAGE_PROHIBITED_CONTENT": (
        "The image was blocked as prohibited content (IMAGE_PROHIBITED_CONTENT)."
    ),
    "IMAGE_RECITATION": (
        "The image was blocked because it recited protected content (IMAGE_RECITATION)."
    ),
    "IMAGE_OTHER": "Gemini did not return the image (IMAGE_OTHER).",
    "MODEL_ARMOR": "The response was blocked by Model Armor (MODEL_ARMOR).",
    "ESCALATION": "The request was filtered by an escalation rule (ESCALATION).",
    "PUP_LIMITED_DISABLED": (
        "Gemini stopped: the account is limited for Prohibited Use Policy violations "
        "(PUP_LIMITED_DISABLED)."
    ),
    "NO_IMAGE": (
        "Gemini returned no image for this request (finishReason NO_IMAGE). "
        "Try rephrasing the prompt or asking explicitly for an image."
    ),
    "MALFORMED_FUNCTION_CALL": "Gemini produced a malformed function call.",
    "MISSING_THOUGHT_SIGNATURE": "Gemini rejected the turn: a thought signature was missing.",
}


def to_openai_finish_reason(gemini_reason: str | None, has_tool_calls: bool) -> str:
    if has_tool_calls and gemini_reason in (None, "STOP"):
        return "tool_calls"
    if gemini_reason is None:
        return "stop"
    return GEMINI_FINISH_TO_OPENAI.get(gemini_reason, "stop")


def explain_finish(gemini_reason: str | None, finish_message: str | None) -> str | None:
    text = GEMINI_FINISH_EXPLANATION.get(gemini_reason or "")
    if text and finish_message:
        return f"{text} {finish_message}"
    return text


def explain_block(block_reason: str, message: str | None) -> str:
    text = f"The prompt was blocked by Gemini (blockReason {block_reason})."
    return f"{text} {message}" if message else text

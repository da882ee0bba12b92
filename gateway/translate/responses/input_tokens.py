"""`POST /v1/responses/input_tokens`: the body Gemini's `countTokens` takes for the request a
Responses call would send, and OpenAI's answer from Gemini's count.

The Gemini body is built by the same path as a real call (serving/input_tokens.py), so what is
counted is what would be sent: the stored chain, instructions, tools and images included.
AI Studio counts a whole request only inside `generateContentRequest` (with `model`; a bare
`contents` would leave the system instruction and tools out); Vertex AI takes the request's
fields at the top level and refuses the ones countTokens does not know.
"""

from __future__ import annotations

from typing import Any

from gateway.errors import UpstreamError

Json = dict[str, Any]

# Vertex AI's CountTokensRequest fields (the rest of a generate body would be a 400 there).
VERTEX_COUNT_FIELDS = ("contents", "systemInstruction", "tools", "generationConfig")


def count_tokens_body(generate_body: Json, model: str, *, vertex: bool) -> Json:
    """Gemini's countTokens body for `generate_body` (a generateContent body for `model`)."""
    if vertex:
        return {k: generate_body[k] for k in VERTEX_COUNT_FIELDS if k in generate_body}
    return {"generateContentRequest": {"model": f"models/{model}", **generate_body}}


def input_tokens_reply(count: object) -> Json:
    """OpenAI's `response.input_tokens` object from Gemini's countTokens answer."""
    total = count.get("totalTokens", 0) if isinstance(count, dict) else None
    if not isinstance(total, int) or isinstance(total, bool) or total < 0:
        raise UpstreamError("Gemini's countTokens answer has no usable 'totalTokens'")
    return {"object": "response.input_tokens", "input_tokens": total}

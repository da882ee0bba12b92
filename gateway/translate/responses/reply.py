"""Gemini GenerateContentResponse (whole, or a stream's events) → the Responses `response`
object: output items (output.py), status and incomplete_details from finishReason, usage in
the Responses shape. The fields a client set are echoed as OpenAI echoes them (`echo`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from gateway.translate.response.checked import candidate_index, candidates_of
from gateway.translate.response.completion import blocked_choice, candidate_parts, no_candidates
from gateway.translate.response.finish import GEMINI_FINISH_TO_OPENAI
from gateway.translate.responses.output import OutputBuilder, OutputContext

Json = dict[str, Any]

INCOMPLETE_REASONS: Final[dict[str, str]] = {
    "length": "max_output_tokens",
    "content_filter": "content_filter",
}


def to_responses_usage(meta: Mapping[str, Any] | None) -> Json:
    """input = prompt + tool-use prompt; output = candidates + thoughts (OpenAI counts
    reasoning in output_tokens and breaks it out, as chat's completion_tokens do)."""
    meta = meta or {}
    prompt = int(meta.get("promptTokenCount") or 0) + int(meta.get("toolUsePromptTokenCount") or 0)
    thoughts = int(meta.get("thoughtsTokenCount") or 0)
    output = int(meta.get("candidatesTokenCount") or 0) + thoughts
    return {
        "input_tokens": prompt,
        "input_tokens_details": {
            "cached_tokens": int(meta.get("cachedContentTokenCount") or 0),
            "cache_write_tokens": 0,
        },
        "output_tokens": output,
        "output_tokens_details": {"reasoning_tokens": thoughts},
        "total_tokens": int(meta.get("totalTokenCount") or prompt + output),
    }


def status_of(reason: str | None, blocked: bool) -> tuple[str, Json | None]:
    if blocked:
        return "incomplete", {"reason": "content_filter"}
    incomplete = INCOMPLETE_REASONS.get(GEMINI_FINISH_TO_OPENAI.get(reason or "", "stop"))
    if incomplete is None:
        return "completed", None
    return "incomplete", {"reason": incomplete}


def response_object(
    ctx: OutputContext,
    echo: Mapping[str, Any],
    created_at: int,
    *,
    status: str,
    output: list[Json],
    usage: Json | None = None,
    incomplete: Json | None = None,
    error: Json | None = None,
    completed_at: int | None = None,
) -> Json:
    return {
        "id": ctx.response_id,
        "object": "response",
        "created_at": created_at,
        "status": status,
        "background": False,
        "completed_at": completed_at,
        "error": error,
        "incomplete_details": incomplete,
        "model": ctx.model,
        "output": output,
        "usage": usage,
        **echo,
    }


class ReplyReader:
    """Reads candidate 0 of one reply, or of a stream's events one by one, into an
    OutputBuilder; `result` gives the status and usage once the reply is over."""

    def __init__(self, ctx: OutputContext, *, streaming: bool) -> None:
        self.builder = OutputBuilder(ctx, streaming=streaming)
        self.usage_meta: Json | None = None
        self.candidate: Json = {}
        self.blocked_note: str | None = None
        self.finished = False
        self.answered = False  # candidate 0 seen

    def feed(self, event: Json) -> None:
        if isinstance(event.get("usageMetadata"), dict):
            self.usage_meta = event["usageMetadata"]
        blocked = blocked_choice(event)
        if blocked is not None:
            self.blocked_note = str(blocked["message"]["content"])
            self.finished = True
            return
        candidates = candidates_of(event)
        first = next(
            (c for position, c in enumerate(candidates) if candidate_index(c, position) == 0),
            None,
        )
        if first is None:
            return
        self.answered = True
        self.candidate = {**self.candidate, **first}
        for part in candidate_parts(first):
            self.builder.feed(part, streamed=self.builder.streaming)
        if first.get("finishReason"):
            self.finished = True

    def finish(self) -> tuple[str, Json | None, Json]:
        """Close the items; (status, incomplete_details, usage)."""
        self.builder.finish(self.candidate, self.blocked_note)
        status, incomplete = status_of(
            self.candidate.get("finishReason"), self.blocked_note is not None
        )
        return status, incomplete, to_responses_usage(self.usage_meta)


def to_responses_response(
    reply: Json, ctx: OutputContext, echo: Mapping[str, Any], created_at: int, now: int
) -> tuple[Json, OutputBuilder]:
    """A unary Gemini reply → the response object, and the builder (its view is the turn
    to remember)."""
    reader = ReplyReader(ctx, streaming=False)
    reader.feed(reply)
    if not reader.answered and reader.blocked_note is None:
        raise no_candidates()  # as chat answers it: nothing to return is Gemini's fault (502)
    status, incomplete, usage = reader.finish()
    response = response_object(
        ctx,
        echo,
        created_at,
        status=status,
        output=reader.builder.items,
        usage=usage,
        incomplete=incomplete,
        completed_at=now,
    )
    return response, reader.builder

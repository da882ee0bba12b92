"""Gemini stream events → OpenAI chat.completion.chunk objects, one chunk per upstream event.

Extra fields go out exactly once per choice (the OpenAI SDK concatenates repeated strings):
tool-call signatures on the tool call's only delta, and `images` + `extra_content` together in
the choice's final delta, the one that carries `finish_reason`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gateway.errors import UpstreamError
from gateway.translate.response.checked import candidate_index, candidates_of
from gateway.translate.response.completion import blocked_choice, candidate_parts, no_candidates
from gateway.translate.response.context import Memo, ResponseContext, memo_from_views, new_view
from gateway.translate.response.finish import to_openai_finish_reason
from gateway.translate.response.message import (
    add_finish_note,
    candidate_extras,
    grounding_annotations,
)
from gateway.translate.response.usage import to_openai_usage
from gateway.translate.turn_view import TurnView

Json = dict[str, Any]


@dataclass
class _ChoiceState:
    view: TurnView
    started: bool = False
    finished: bool = False
    last_candidate: Json = field(default_factory=dict)


class ChunkTranslator:
    def __init__(self, ctx: ResponseContext, content_piece: int = 256 * 1024) -> None:
        self.ctx = ctx
        self.content_piece = content_piece
        self.choices: dict[int, _ChoiceState] = {}
        self.usage_meta: Json | None = None
        self.events = 0
        self.blocked = False

    def _chunk(self, choices: list[Json]) -> Json:
        return {
            "id": self.ctx.completion_id,
            "object": "chat.completion.chunk",
            "created": self.ctx.created,
            "model": self.ctx.model,
            "choices": choices,
        }

    def _state(self, index: int) -> _ChoiceState:
        state = self.choices.get(index)
        if state is None:
            state = self.choices[index] = _ChoiceState(new_view(self.ctx, index))
        return state

    def feed(self, event: Json) -> list[Json]:
        """One upstream event → the chunks to send now (usually exactly one)."""
        self.events += 1
        if isinstance(event.get("usageMetadata"), dict):
            self.usage_meta = event["usageMetadata"]
        blocked = blocked_choice(event)
        if blocked is not None:
            self.blocked = True
            message = blocked["message"]
            delta = {
                "role": "assistant",
                "content": message["content"],
                "extra_content": message["extra_content"],
            }
            choice = {"index": 0, "delta": delta, "finish_reason": "content_filter"}
            return [self._chunk([{**choice, "logprobs": None}])]
        chunks: list[Json] = []
        deltas: list[Json] = []
        for position, candidate in enumerate(candidates_of(event)):
            index = candidate_index(candidate, position)
            deltas.extend(self._candidate(index, candidate, chunks))
        chunks.append(self._chunk(deltas))
        return chunks

    def _candidate(self, index: int, candidate: Json, early: list[Json]) -> list[Json]:
        state = self._state(index)
        state.last_candidate = {**state.last_candidate, **candidate}
        delta: Json = {}
        content, reasoning, tool_calls = self._parts(state, candidate)
        reason = candidate.get("finishReason")
        if reason:
            note = add_finish_note(state.view, reason, candidate.get("finishMessage"))
            if note:
                content.append(note)
        if not state.started:
            delta["role"] = "assistant"
            state.started = True
        text = "".join(content)
        if len(text) > self.content_piece:
            delta, text = self._split(index, text, delta, early)
        if text:
            delta["content"] = text
        if reasoning:
            delta["reasoning_content"] = "".join(reasoning)
        if tool_calls:
            delta["tool_calls"] = tool_calls
        finish_reason = None
        if reason:
            state.finished = True
            finish_reason = to_openai_finish_reason(reason, bool(state.view.tool_calls))
            delta.update(self._final_extras(state))
        return [{"index": index, "delta": delta, "finish_reason": finish_reason, "logprobs": None}]

    @staticmethod
    def _parts(state: _ChoiceState, candidate: Json) -> tuple[list[str], list[str], list[Json]]:
        content: list[str] = []
        reasoning: list[str] = []
        tool_calls: list[Json] = []
        for part in candidate_parts(candidate):
            emitted = state.view.add(part, streamed=True)
            if emitted.content:
                content.append(emitted.content)
            if emitted.reasoning:
                reasoning.append(emitted.reasoning)
            if emitted.tool_call is not None:
                tool_calls.append(emitted.tool_call)
        return content, reasoning, tool_calls

    def _split(self, index: int, text: str, delta: Json, early: list[Json]) -> tuple[Json, str]:
        """A multi-MB markdown image goes out in several content deltas, not one huge event."""
        step = self.content_piece
        pieces = [text[start : start + step] for start in range(0, len(text), step)]
        for piece in pieces[:-1]:
            delta["content"] = piece
            early.append(self._chunk([{"index": index, "delta": delta, "finish_reason": None}]))
            delta = {}
        return delta, pieces[-1]

    def _final_extras(self, state: _ChoiceState) -> Json:
        extras: Json = {}
        if state.view.images:
            extras["images"] = state.view.images
        annotations = grounding_annotations(state.last_candidate)
        if annotations:
            extras["annotations"] = annotations
        extra = state.view.extra_content()
        extra["google"].update(candidate_extras(state.last_candidate))
        extras["extra_content"] = extra
        return extras

    def finish(self) -> list[Json]:
        """Chunks after the last upstream event; raises if Gemini never finished a choice."""
        unfinished = [i for i, s in self.choices.items() if not s.finished]
        if not self.blocked and not self.choices:
            raise no_candidates()
        if not self.blocked and unfinished:
            raise UpstreamError(
                "Gemini's stream ended before the response was complete (no finishReason)",
                code="upstream_incomplete",
            )
        if not self.ctx.include_usage:
            return []
        usage_chunk = self._chunk([])
        usage_chunk["usage"] = to_openai_usage(self.usage_meta)
        return [usage_chunk]

    def memo(self) -> Memo:
        return memo_from_views({i: s.view for i, s in self.choices.items()})

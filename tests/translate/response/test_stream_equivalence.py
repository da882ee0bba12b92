"""A stream, accumulated the way the OpenAI SDK accumulates it, says what the unary response
says: same content, reasoning, tool calls, images, signatures and finish reason. And how
Gemini happens to cut its events (or how we cut a huge delta) changes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from openai.lib.streaming.chat import ChatCompletionStreamState
from openai.types.chat import ChatCompletionChunk
from response_cases import CASES, context_for, read_source, source_path, translate_stream

from gateway.translate.response.completion import to_openai_completion
from gateway.translate.response.context import ResponseContext
from gateway.translate.response.stream import ChunkTranslator
from gateway.translate.signatures import SIG

Json = dict[str, Any]
STREAMS = [c for c in CASES if isinstance(read_source(source_path(c)), list)]


def events_of(case: Path) -> list[Json]:
    events = read_source(source_path(case))
    assert isinstance(events, list)
    return events


# Fields a message carries; `refusal`/`parsed` are SDK bookkeeping, `index` is a delta detail.
MESSAGE_FIELDS = ("content", "reasoning_content", "tool_calls", "images", "extra_content")


def sdk_accumulate(chunks: list[Json]) -> list[Json]:
    """Choices as the SDK's own stream helper builds them (strings concatenated, lists by index).
    A final error event is compared as it is: the SDK would raise it."""
    state = ChatCompletionStreamState()
    errors = [chunk for chunk in chunks if "error" in chunk]
    for chunk in chunks:
        if "error" not in chunk:
            state.handle_chunk(ChatCompletionChunk.model_validate(chunk))
    final = state.current_completion_snapshot.model_dump(mode="json")
    return [
        *errors,
        *[
            {
                "index": choice["index"],
                "finish_reason": choice["finish_reason"],
                **_message_fields(choice["message"]),
            }
            for choice in final["choices"]
        ],
    ]


def _message_fields(message: Json) -> Json:
    out = {k: message[k] for k in MESSAGE_FIELDS if message.get(k) is not None}
    if message.get("annotations"):
        out["annotations"] = message["annotations"]
    calls = [
        {k: v for k, v in call.items() if k not in {"index"} and v is not None}
        for call in out.get("tool_calls", [])
    ]
    for call in calls:
        call["function"] = {k: call["function"][k] for k in ("name", "arguments")}
    if calls:
        out["tool_calls"] = calls
    return out


def unary_choices(response: Json, ctx: ResponseContext) -> list[Json]:
    completion, _ = to_openai_completion(response, ctx)
    return [
        {
            "index": choice["index"],
            "finish_reason": choice["finish_reason"],
            **_message_fields(choice["message"]),
        }
        for choice in completion["choices"]
    ]


def _mergeable(last: Json, part: Json) -> bool:
    """Gemini's unary answer has one text part where a stream sent several deltas."""
    texts = "text" in last and "text" in part
    plain = not last.get("thought") and not part.get("thought")
    return texts and plain and not (SIG in last and SIG in part)


def merged_response(events: list[Json]) -> Json:
    """The unary response equivalent to a stream: parts concatenated, the last values kept."""
    merged: Json = {}
    candidates: dict[int, Json] = {}
    for event in events:
        merged.update({k: v for k, v in event.items() if k != "candidates"})
        for position, candidate in enumerate(event.get("candidates") or []):
            slot = candidates.setdefault(
                candidate.get("index", position), {"content": {"role": "model", "parts": []}}
            )
            slot.update({k: v for k, v in candidate.items() if k != "content"})
            parts = slot["content"]["parts"]
            for part in (candidate.get("content") or {}).get("parts") or []:
                if parts and _mergeable(parts[-1], part):
                    parts[-1] = {**parts[-1], **part, "text": parts[-1]["text"] + part["text"]}
                else:
                    parts.append(dict(part))
    if candidates:
        merged["candidates"] = [candidates[i] for i in sorted(candidates)]
    return merged


def rechunked(events: list[Json], pieces: int, signature_on: str) -> list[Json]:
    """The same stream with every text part cut into `pieces` events (signature on the first
    or the last piece), as Gemini may cut it on another day."""
    out: list[Json] = []
    for event in events:
        candidates = event.get("candidates") or []
        parts = ((candidates[0].get("content") or {}).get("parts") or []) if candidates else []
        if len(candidates) != 1 or not any(len(p.get("text", "")) >= pieces for p in parts):
            out.append(event)
            continue
        cut = [piece for part in parts for piece in _cut(part, pieces, signature_on)]
        for i, piece in enumerate(cut):
            last = i == len(cut) - 1
            candidate = dict(candidates[0]) if last else {"index": candidates[0].get("index", 0)}
            candidate["content"] = {"role": "model", "parts": [piece]}
            head = dict(event) if last else {"responseId": event.get("responseId")}
            out.append({**head, "candidates": [candidate]})
    return out


def _cut(part: Json, pieces: int, signature_on: str) -> list[Json]:
    text = part.get("text")
    if not isinstance(text, str) or len(text) < pieces:
        return [part]
    step = -(-len(text) // pieces)
    out = [{**part, "text": text[i : i + step]} for i in range(0, len(text), step)]
    if SIG in part:
        keep = 0 if signature_on == "first" else len(out) - 1
        out = [
            p if i == keep else {k: v for k, v in p.items() if k != SIG} for i, p in enumerate(out)
        ]
    return out


def finished(chunks: list[Json]) -> bool:
    return not any("error" in chunk for chunk in chunks)


# A stream that never finishes (sample 10) ends in an error event, not a response.
FINISHED = [c for c in STREAMS if finished(translate_stream(events_of(c), context_for(c)))]


@pytest.mark.parametrize("case", FINISHED, ids=[c.name for c in FINISHED])
def test_accumulated_stream_equals_unary_of_merged_response(
    case: Path, request: pytest.FixtureRequest
) -> None:
    events = events_of(case)
    ctx = context_for(case)
    chunks = translate_stream(events, ctx)
    assert sdk_accumulate(chunks) == unary_choices(merged_response(events), ctx)


@pytest.mark.parametrize("case", STREAMS, ids=[c.name for c in STREAMS])
def test_stream_remembers_what_unary_remembers(case: Path) -> None:
    """The turn the cache keeps for the next request is the same either way."""
    events = events_of(case)
    ctx = context_for(case)
    translator = ChunkTranslator(ctx)
    for event in events:
        translator.feed(event)
    _, unary_memo = to_openai_completion(merged_response(events), ctx)
    assert translator.memo() == unary_memo


CUTTABLE = [c for c in STREAMS if len(rechunked(events_of(c), 2, "first")) > len(events_of(c))]


@pytest.mark.parametrize("signature_on", ["first", "last"])
@pytest.mark.parametrize("pieces", [2, 3])
@pytest.mark.parametrize("case", CUTTABLE, ids=[c.name for c in CUTTABLE])
def test_rechunked_stream_accumulates_the_same(
    case: Path, pieces: int, signature_on: str, request: pytest.FixtureRequest
) -> None:
    events = events_of(case)
    ctx = context_for(case)
    again = rechunked(events, pieces, signature_on)
    assert len(again) > len(events)
    assert sdk_accumulate(translate_stream(again, ctx)) == sdk_accumulate(
        translate_stream(events, ctx)
    )


@pytest.mark.parametrize("piece", [7, 64])
@pytest.mark.parametrize("case", STREAMS, ids=[c.name for c in STREAMS])
def test_huge_deltas_cut_into_pieces_accumulate_the_same(case: Path, piece: int) -> None:
    events = events_of(case)
    ctx = context_for(case)
    small = translate_stream(events, ctx, content_piece=piece)
    assert sdk_accumulate(small) == sdk_accumulate(translate_stream(events, ctx))

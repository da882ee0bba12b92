"""usageMetadata found in the tail of an answer relayed unparsed: the real key, not text that
mentions it, across chunk boundaries; anything unreadable is None, never an error."""

from __future__ import annotations

import orjson

from gateway.translate.native.usage import tail_of, usage_in_tail

USAGE = {
    "promptTokenCount": 9,
    "candidatesTokenCount": 4,
    "thoughtsTokenCount": 12,
    "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 9}],
}


def answer(text: str, **extra: object) -> bytes:
    candidate = {"content": {"role": "model", "parts": [{"text": text}]}}
    return orjson.dumps({"candidates": [candidate], **extra})


def test_the_answers_own_usage_is_found_after_a_text_that_mimics_it() -> None:
    mimic = 'fake "usageMetadata": {"promptTokenCount": 999} {{ }'
    body = answer(mimic, usageMetadata=USAGE, modelVersion="gemini-2.5-flash")
    assert usage_in_tail(body) == USAGE


def test_a_text_mimicking_usage_is_not_read_when_gemini_sent_none() -> None:
    assert usage_in_tail(answer('"usageMetadata": {"promptTokenCount": 999}')) is None


def test_the_tail_spans_chunks_and_keeps_only_the_end() -> None:
    body = answer("x" * 20_000, usageMetadata=USAGE)
    chunks = [body[i : i + 1000] for i in range(0, len(body), 1000)]
    tail = tail_of(chunks)
    assert len(tail) == 8 * 1024 and body.endswith(tail)
    assert usage_in_tail(tail) == USAGE
    assert tail_of([b"ab", b"cd"]) == b"abcd"


def test_a_sse_event_frame_and_unreadable_usage() -> None:
    frame = b"data: " + answer("hi", usageMetadata=USAGE) + b"\r\n\r\n"
    assert usage_in_tail(frame) == USAGE
    assert usage_in_tail(b'{"usageMetadata": {"promptTokenCount": 3') is None  # cut
    assert usage_in_tail(b'{"usageMetadata": [1, 2]}') is None
    assert usage_in_tail(b'{"usageMetadata" 5}') is None
    assert usage_in_tail(b'{"usageMetadata": {"a": tru}}') is None

"""What the native relay copies of a large body, measured with tracemalloc (memory, not time):
reading its structure and repairing it allocate a small fraction of the body, never a copy of
its base64; a body needing nothing is forwarded as the very bytes object read; a unary answer is
sent on as the chunk objects it arrived in."""

from __future__ import annotations

import asyncio
import base64
import os
import tracemalloc
from typing import Any

import orjson

from gateway.routes.native import ChunksResponse, parse_native
from gateway.serving.native import Answer
from gateway.translate.native import skeleton

IMAGE = base64.b64encode(os.urandom(3_600_000)).decode()  # ~4.8 MB of base64
SIGNATURE = base64.b64encode(os.urandom(200_000)).decode()
BODY_MB = (len(IMAGE) + len(SIGNATURE)) / 1e6


def body(image_part: list[dict[str, Any]]) -> bytes:
    return orjson.dumps(
        {
            "contents": [
                {"role": "user", "parts": [{"text": "A dog"}]},
                {"role": "model", "parts": image_part},
                {"role": "user", "parts": [{"text": "At sunset"}]},
            ]
        }
    )


def peak_of(work: Any) -> tuple[Any, int]:
    tracemalloc.start()
    try:
        result = work()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak


def test_a_body_needing_no_repair_is_forwarded_as_read() -> None:
    raw = body(
        [{"inlineData": {"mimeType": "image/png", "data": IMAGE}, "thoughtSignature": SIGNATURE}]
    )
    (_, repairs, forwarded), peak = peak_of(lambda: parse_native(raw, "generateContent"))
    assert not repairs
    assert forwarded is raw
    assert BODY_MB > 4.9
    assert peak < 64 * 1024  # the structure only: no part of the base64 was copied


def test_a_repaired_body_keeps_the_request_bytes_for_its_payloads() -> None:
    raw = body(
        [
            {"inline_data": {"mime_type": "image/png", "data": IMAGE}},
            {"thought_signature": SIGNATURE},
        ]
    )

    def work() -> skeleton.Encoded:
        parsed, repairs, _ = parse_native(raw, "generateContent")
        assert repairs.header() == "snake_case=3;lone_signature=1"
        return skeleton.encode(parsed)

    encoded, peak = peak_of(work)
    assert isinstance(encoded, tuple)
    assert peak < 64 * 1024
    assert sum(len(p) for p in encoded if isinstance(p, memoryview) and p.obj is raw) == len(
        IMAGE
    ) + len(SIGNATURE)


def test_a_unary_answer_is_sent_as_the_chunks_it_arrived_in() -> None:
    chunks = [os.urandom(256 * 1024) for _ in range(20)]
    response = ChunksResponse(Answer(chunks, "application/json; charset=UTF-8"), {})
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request"}

    asyncio.run(response({"type": "http"}, receive, send))
    bodies = [m["body"] for m in sent if m["type"] == "http.response.body" and m["body"]]
    assert all(a is b for a, b in zip(bodies, chunks, strict=True))
    assert dict(sent[0]["headers"])[b"content-length"] == str(20 * 256 * 1024).encode()

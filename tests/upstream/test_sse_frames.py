"""Gemini's SSE body cut into frames without parsing: any split of the bytes over network reads
gives the same frames, comments are dropped, multi-line data joins, a last event without its
blank line still counts, and an oversized event is an upstream error."""

from __future__ import annotations

import random

import pytest

from gateway.errors import UpstreamError
from gateway.upstream.sse_frames import EventFrames, payload_of

STREAM = (
    b'data: {"a":1}\r\n\r\n'
    b'data: {"b":2}\n\n'
    b": keep-alive\n\n"
    b'data:{"c":3}\r\n\r\n'
    b'event: x\ndata: {"d":\ndata: 4}\r\n\r\n'
    b'data: {"e":5}'
)
FRAMES = [
    b'data: {"a":1}\r\n\r\n',
    b'data: {"b":2}\r\n\r\n',
    b'data: {"c":3}\r\n\r\n',
    b'data: {"d":\n4}\r\n\r\n',
    b'data: {"e":5}\r\n\r\n',
]


def frames_of(pieces: list[bytes]) -> list[bytes]:
    framer = EventFrames()
    out = [frame for piece in pieces for frame in framer.feed(piece)]
    return out + list(framer.close())


@pytest.mark.parametrize("seed", range(50))
def test_any_split_gives_the_same_frames(seed: int) -> None:
    rng = random.Random(seed)
    cuts = sorted(rng.sample(range(1, len(STREAM)), rng.randint(1, 15)))
    pieces = [STREAM[a:b] for a, b in zip([0, *cuts], [*cuts, len(STREAM)], strict=True)]
    assert frames_of(pieces) == FRAMES


def test_byte_by_byte() -> None:
    assert frames_of([STREAM[i : i + 1] for i in range(len(STREAM))]) == FRAMES


def test_payload_is_the_event_json() -> None:
    assert bytes(payload_of(FRAMES[0])) == b'{"a":1}'


def test_an_event_over_the_limit_is_an_upstream_error() -> None:
    framer = EventFrames(max_event_bytes=64)
    with pytest.raises(UpstreamError):
        list(framer.feed(b"data: " + b"x" * 100))

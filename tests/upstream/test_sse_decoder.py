"""The incremental SSE decoder: framing, split reads, limits, and the events before a bad one."""

from __future__ import annotations

import pytest

from gateway.errors import UpstreamError
from gateway.upstream.decode import SSEDecoder


def decode_all(chunks: list[bytes], decoder: SSEDecoder | None = None) -> list[object]:
    decoder = decoder or SSEDecoder()
    events: list[object] = []
    for chunk in chunks:
        events.extend(decoder.feed(chunk))
    events.extend(decoder.close())
    return events


@pytest.mark.parametrize("sep", [b"\n\n", b"\r\n\r\n", b"\n\r\n"])
def test_framings(sep):
    body = b'data: {"a": 1}' + sep + b'data: {"a": 2}' + sep
    assert decode_all([body]) == [{"a": 1}, {"a": 2}]


def test_events_split_at_every_byte():
    body = b'data: {"text": "h\\u00e9llo"}\r\n\r\n: comment\r\n\r\ndata: [1, 2]\r\n\r\n'
    assert decode_all([body[i : i + 1] for i in range(len(body))]) == [{"text": "héllo"}, [1, 2]]


def test_last_event_without_its_blank_line_still_counts():
    assert decode_all([b'data: {"a": 1}\n\ndata: {"b": 2}']) == [{"a": 1}, {"b": 2}]


def test_multi_line_data_is_joined():
    assert decode_all([b'data: {"a":\ndata: 1}\n\n']) == [{"a": 1}]


def test_comments_ids_and_retry_lines_carry_nothing():
    assert decode_all([b": ping\n\nevent: x\nid: 3\nretry: 10\n\n"]) == []


def test_events_before_a_malformed_one_in_the_same_read_are_delivered():
    decoder = SSEDecoder()
    got: list[object] = []
    with pytest.raises(UpstreamError, match="not valid JSON"):
        for event in decoder.feed(b'data: {"ok": 1}\r\n\r\ndata: {"broken\r\n\r\n'):
            got.append(event)
    assert got == [{"ok": 1}]


def test_an_event_over_the_size_limit_is_refused_while_it_arrives():
    decoder = SSEDecoder(max_event_bytes=64)
    with pytest.raises(UpstreamError, match="size limit"):
        for _ in range(10):  # bounded: the limit trips on the second read
            list(decoder.feed(b"data: " + b"x" * 40))


def test_many_data_lines_over_the_size_limit_are_refused():
    decoder = SSEDecoder(max_event_bytes=64)
    with pytest.raises(UpstreamError, match="size limit"):
        list(decoder.feed(b"data: " + b"x" * 40 + b"\n" + b"data: " + b"y" * 40 + b"\n"))

"""Base64 payloads go to Gemini as the very bytes the client sent, not encoded again.

An image request is mostly base64. Encoding the Gemini body with orjson scans and copies every
payload once more (~0.1 ms per MB, a tenth of the request's CPU). The JSON reader already
knows where each long string sits in the request bytes (lifted_json spans). Here each data
URL's payload is cut once for translation (Resolved.payloads); when the Gemini body is written,
any `inlineData.data` that is that same object is sent as its bytes from the request, and only
the rest of the body is encoded.

Spliced pieces keep the request buffer alive until Gemini answers, so they are used only when
they are at least half of it. The result equals `orjson.dumps(body)` byte for byte, save one
case: a payload holding a raw
control character, which JSON forbids. orjson would escape it; here it goes out as sent and
Gemini refuses the request as invalid JSON (400), as a strict reader here would have.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any, Final

import orjson

from gateway.translate.lifted_json import Spans
from gateway.upstream.body import Body, Pieces

MIN_SPLICE: Final = 16 * 1024  # shorter payloads are cheaper to encode than to splice
MAX_HEADER: Final = 512  # where parse_data_url looks for the comma


@dataclass(slots=True)
class Splices:
    """Per request: what translation may reuse, and where each reusable payload's bytes are."""

    payloads: dict[int, tuple[str, str]] = field(default_factory=dict)  # id(url) -> (url, payload)
    sources: dict[int, tuple[str, memoryview]] = field(default_factory=dict)  # id(payload) ->


def from_spans(spans: Spans) -> Splices:
    """Each long string the reader cut: a data URL gives its payload (cut here, once, instead
    of in translation); any other string (raw base64 of audio or a file) is its own payload."""
    splices = Splices()
    for text, raw in spans.values():
        payload, where = text, raw
        if text.startswith("data:"):
            comma = text.find(",", 5, MAX_HEADER)
            if comma < 0:
                continue
            # The text is ASCII (the reader only cuts ASCII), so characters are bytes.
            payload, where = text[comma + 1 :], raw[comma + 1 :]
            splices.payloads[id(text)] = (text, payload)
        if len(payload) >= MIN_SPLICE:
            splices.sources[id(payload)] = (payload, where)
    return splices


def encode(body: dict[str, Any], sources: dict[int, tuple[str, memoryview]]) -> Body:
    """`orjson.dumps(body)`, as pieces when some payloads can be sent from the request."""
    if not sources:
        return orjson.dumps(body)
    marker = secrets.token_hex(12)
    swapped: list[tuple[dict[str, Any], str]] = []
    for blob in _inline_blobs(body):
        data = blob.get("data")
        known = sources.get(id(data))
        if known is not None and known[0] is data and isinstance(data, str):
            blob["data"] = f"{marker}{len(swapped)}."
            swapped.append((blob, data))
    if not swapped or not _worth_keeping(swapped, sources):
        _put_back(swapped)
        return orjson.dumps(body)
    try:
        skeleton = orjson.dumps(body)
    finally:
        _put_back(swapped)
    frame = memoryview(skeleton)
    parts: list[bytes | memoryview] = []
    pos = 0
    for i, (_, data) in enumerate(swapped):
        tag = b'"%s%d."' % (marker.encode(), i)
        at = skeleton.find(tag, pos)
        if at < 0 or skeleton.find(tag, at + len(tag)) >= 0:
            return orjson.dumps(body)  # never expected: the marker is random per request
        parts += (frame[pos : at + 1], sources[id(data)][1])
        pos = at + len(tag) - 1
    parts.append(frame[pos:])
    return Pieces(tuple(parts), sum(len(part) for part in parts))


def _put_back(swapped: list[tuple[dict[str, Any], str]]) -> None:
    for blob, data in swapped:
        blob["data"] = data  # the body stays as translation made it (retries, budget)


def _worth_keeping(
    swapped: list[tuple[dict[str, Any], str]], sources: dict[int, tuple[str, memoryview]]
) -> bool:
    """Spliced pieces keep the whole request buffer alive until Gemini has answered: worth it
    only when they are most of it (not when the history budget dropped most images)."""
    views = [sources[key][1] for key in {id(data) for _, data in swapped}]
    buffer = views[0].obj
    held = len(buffer) if isinstance(buffer, bytes | bytearray) else 0
    return sum(len(view) for view in views) * 2 >= held


def _inline_blobs(body: dict[str, Any]) -> list[dict[str, Any]]:
    blobs: list[dict[str, Any]] = []
    for content in body.get("contents") or ():
        parts = content.get("parts") if isinstance(content, dict) else None
        for part in parts or ():
            blob = part.get("inlineData") if isinstance(part, dict) else None
            if isinstance(blob, dict):
                blobs.append(blob)
    return blobs

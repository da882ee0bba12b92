"""Base64 payloads go to Gemini as the very bytes the client sent, not encoded again.

An image request is mostly base64. Encoding the Gemini body with orjson scans and copies every
payload once more (~0.1 ms per MB, a tenth of the request's CPU), and cutting each payload out
of its data URL for translation copies it once more. The JSON reader already knows where each
long string sits in the request bytes (lifted_json spans), so:

- each data URL's payload is handed to translation ready-made (Resolved.payloads): when nothing
  reads payloads before the body is written (no history budget), a `StandIn` (not a string:
  the whole path is told in protocol/stand_in.py); otherwise the payload text, cut once here;
- when the Gemini body is written, any `inlineData.data` that is one of those objects goes out
  as its bytes from the request, and only the rest of the body is encoded.

Spliced pieces keep the request buffer alive until Gemini answers, so they are used only when
they are at least half of it (stand-ins are then written out as text). The result equals
`orjson.dumps` of the body with the real payloads, byte for byte, save one case: a payload
holding a raw control character, which JSON forbids. orjson would escape it; here it goes out
as sent and Gemini refuses the request as invalid JSON (400), as a strict reader would have.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any, Final, NamedTuple

import orjson

from gateway.lifted_json import Spans
from gateway.protocol.stand_in import Payload, StandIn
from gateway.translate.data_urls import HEADER_LIMIT
from gateway.upstream.body import Body, Pieces

MIN_SPLICE: Final = 16 * 1024  # shorter payloads are cheaper to encode than to splice


class Source(NamedTuple):
    value: Payload  # what translation was given: the payload text, or a stand-in for it
    where: memoryview  # the payload's bytes in the request


@dataclass(slots=True)
class Splices:
    """Per request: what translation may reuse, and where each reusable payload's bytes are."""

    payloads: dict[int, tuple[str, Payload]] = field(default_factory=dict)  # id(url) -> (url, …)
    sources: dict[int, Source] = field(default_factory=dict)  # id(value) -> Source


def from_spans(spans: Spans, stand_ins: bool = False) -> Splices:
    """Each long string the reader cut: a data URL gives its payload (a stand-in when
    `stand_ins`, else cut here, once, instead of in translation); any other string (raw
    base64 of audio or a file) is its own payload."""
    splices = Splices()
    for text, raw in spans.values():
        payload: Payload = text
        where = raw
        if text.startswith("data:"):
            comma = text.find(",", 5, HEADER_LIMIT)
            if comma < 0:
                continue
            # The text is ASCII (the reader only cuts ASCII), so characters are bytes.
            where = raw[comma + 1 :]
            # A stand-in is a new object per payload: identity is what finds it again.
            if stand_ins and len(where) >= MIN_SPLICE:
                payload = StandIn(len(splices.payloads))
            else:
                payload = text[comma + 1 :]
            splices.payloads[id(text)] = (text, payload)
        if len(where) >= MIN_SPLICE:
            splices.sources[id(payload)] = Source(payload, where)
    return splices


def encode(body: dict[str, Any], sources: dict[int, Source]) -> Body:
    """The Gemini body as bytes, or as pieces when payloads can be sent from the request."""
    if not sources:
        return orjson.dumps(body)
    marker = secrets.token_hex(12)
    swapped: list[tuple[dict[str, Any], Source]] = []
    for blob in _inline_blobs(body):
        data = blob.get("data")
        known = sources.get(id(data))
        if known is not None and known.value is data:
            blob["data"] = f"{marker}{len(swapped)}."
            swapped.append((blob, known))
    if not swapped:
        return orjson.dumps(body)
    if not _worth_keeping([source for _, source in swapped]):
        return _written_out(body, swapped)
    try:
        skeleton = orjson.dumps(body)
    finally:
        for blob, source in swapped:
            blob["data"] = source.value  # the body stays as translation made it
    found: list[tuple[int, int, Source]] = []
    for i, (_, source) in enumerate(swapped):
        tag = b'"%s%d."' % (marker.encode(), i)
        at = skeleton.find(tag)
        if at < 0 or skeleton.find(tag, at + len(tag)) >= 0:
            return _written_out(body, swapped)  # never expected: the marker is random
        found.append((at, len(tag), source))
    frame = memoryview(skeleton)
    parts: list[bytes | memoryview] = []
    pos = 0
    for at, size, source in sorted(found, key=lambda item: item[0]):
        parts += (frame[pos : at + 1], source.where)  # the quotes stay, the marker goes
        pos = at + size - 1
    parts.append(frame[pos:])
    return Pieces(tuple(parts), sum(len(part) for part in parts))


def _written_out(body: dict[str, Any], swapped: list[tuple[dict[str, Any], Source]]) -> bytes:
    """The body encoded in full, each stand-in replaced by the text it stands for."""
    for blob, source in swapped:
        value = source.value
        blob["data"] = str(source.where, "ascii") if isinstance(value, StandIn) else value
    return orjson.dumps(body)


def _worth_keeping(used: list[Source]) -> bool:
    """Spliced pieces keep the whole request buffer alive until Gemini has answered: worth it
    only when they are most of it (not when the history budget dropped most images)."""
    unique = {id(source.value): source.where for source in used}
    buffer = used[0].where.obj
    held = len(buffer) if isinstance(buffer, bytes | bytearray) else 0
    return sum(len(view) for view in unique.values()) * 2 >= held


def _inline_blobs(node: Any) -> list[dict[str, Any]]:
    """Every `inlineData` object in the body, wherever translation put it."""
    blobs: list[dict[str, Any]] = []
    stack = [node]
    while stack:
        item = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        if isinstance(item, dict) and isinstance(item.get("inlineData"), dict):
            blobs.append(item["inlineData"])
        stack.extend(child for child in children if isinstance(child, dict | list))
    return blobs

"""Fault injection: the upstream failures a gateway must survive, on demand.

Kinds (`kind[:arg]`, or `kind` plus params): `status:<code>` (param `retry_delay` for 429),
`429perday`, `html502`, `array_error`, `delay:<ms>`, `slow_first:<ms>`, `truncate`, `malformed`,
`no_finish`, `wrong_content_type`, `hang[:<ms>]`; well-formed JSON with garbage inside:
`no_candidates` (every event without candidates), `bad_text` (`{"text": 5}`), `bad_mime` (an
image typed `image/pñg`), `bad_data` (an image whose `data` is a number). Every wait is bounded
by `MAX_WAIT_MS`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import orjson
from starlette.responses import Response

from gateway.emulator.errors import GeminiError, quota_exceeded
from gateway.emulator.render import Chunk, strip_finish

MAX_WAIT_MS: Final = 60_000
ERROR_KINDS: Final = frozenset({"status", "429perday", "html502", "array_error"})
WAIT_KINDS: Final = frozenset({"delay", "slow_first", "hang"})
SHAPE_KINDS: Final = frozenset({"truncate", "malformed", "no_finish", "wrong_content_type"})
GARBAGE_KINDS: Final = frozenset({"no_candidates", "bad_text", "bad_mime", "bad_data"})
FAULT_KINDS: Final = ERROR_KINDS | WAIT_KINDS | SHAPE_KINDS | GARBAGE_KINDS
DEFAULT_WAIT_MS: Final[dict[str, int]] = {"delay": 100, "slow_first": 100, "hang": MAX_WAIT_MS}
JSON_MEDIA_TYPE: Final = "application/json; charset=UTF-8"
MALFORMED_BODY: Final = b'{"candidates": [{"content": {"parts": [{"text": <<not json>>'
HTML_502: Final = (
    "<!DOCTYPE html>\n<html lang=en>\n  <meta charset=utf-8>\n"
    "  <title>Error 502 (Server Error)!!1</title>\n"
    "  <p><b>502.</b> <ins>That's an error.</ins>\n"
    "  <p>The server encountered a temporary error and could not complete your request."
    "<p>Please try again in 30 seconds.  <ins>That's all we know.</ins>\n"
)


@dataclass(frozen=True)
class Fault:
    kind: str
    code: int = 0
    ms: int = 0
    retry_delay: str = "0.05s"

    @property
    def seconds(self) -> float:
        return self.ms / 1000

    @property
    def is_error(self) -> bool:
        return self.kind in ERROR_KINDS

    @property
    def delivers_turn(self) -> bool:
        """Whether the client still receives the whole model turn (it counts as issued)."""
        return self.kind not in {"truncate", "malformed", "hang"} | GARBAGE_KINDS


def parse_fault(spec: str, params: Mapping[str, Any] | None = None) -> Fault:
    """`status:503`, `delay:250`, `hang`, ... or the bare kind with `code=`/`ms=` params."""
    params = params or {}
    name, _, arg = spec.strip().partition(":")
    kind = name.lower()
    if kind not in FAULT_KINDS:
        raise ValueError(f"unknown fault kind {spec!r}; known: {', '.join(sorted(FAULT_KINDS))}")
    try:
        if kind == "status":
            code = int(arg or params.get("code") or 500)
            if not 400 <= code <= 599:
                raise ValueError(f"status fault needs a 4xx/5xx code, got {code}")
            return Fault(kind, code=code, retry_delay=str(params.get("retry_delay", "0.05s")))
        if kind == "429perday":
            return Fault(kind, code=429, retry_delay=str(params.get("retry_delay", "0.05s")))
        if kind in WAIT_KINDS:
            ms = int(arg or params.get("ms") or DEFAULT_WAIT_MS[kind])
            return Fault(kind, ms=max(0, min(ms, MAX_WAIT_MS)))
    except (TypeError, ValueError) as error:
        raise ValueError(f"bad fault {spec!r}: {error}") from error
    return Fault(kind)


class FaultQueue:
    """FIFO of faults; each applies to the next `count` generation requests."""

    def __init__(self) -> None:
        self._items: deque[tuple[Fault, int]] = deque()

    def push(self, fault: Fault, count: int = 1) -> None:
        if count > 0:
            self._items.append((fault, count))

    def pop(self) -> Fault | None:
        if not self._items:
            return None
        fault, count = self._items.popleft()
        if count > 1:
            self._items.appendleft((fault, count - 1))
        return fault

    def clear(self) -> None:
        self._items.clear()

    def __len__(self) -> int:
        return sum(count for _, count in self._items)


def json_response(
    payload: object, status: int = 200, media_type: str = JSON_MEDIA_TYPE
) -> Response:
    return Response(orjson.dumps(payload), status_code=status, media_type=media_type)


def error_response(error: GeminiError) -> Response:
    return json_response(error.body(), error.code)


def fault_error_response(fault: Fault, model_id: str) -> Response:
    """The faults that replace the whole answer with an error."""
    if fault.kind == "html502":
        return Response(HTML_502, status_code=502, media_type="text/html; charset=UTF-8")
    if fault.kind == "array_error":
        return json_response([GeminiError(400).body()], 400)
    if fault.code == 429:
        return error_response(
            quota_exceeded(model_id, fault.retry_delay, per_day=fault.kind == "429perday")
        )
    return error_response(GeminiError(fault.code))


_GARBAGE_PARTS: Final[dict[str, Chunk]] = {
    "bad_text": {"text": 5},
    "bad_mime": {"inlineData": {"mimeType": "image/p\u00f1g", "data": "iVBORw0KGgo="}},
    "bad_data": {"inlineData": {"mimeType": "image/png", "data": 5}},
}


def garble(chunk: Chunk, kind: str) -> Chunk:
    """A copy of `chunk` with the garbage of a GARBAGE_KINDS fault in it."""
    copy: Chunk = orjson.loads(orjson.dumps(chunk))
    if kind == "no_candidates":
        copy.pop("candidates", None)
    for candidate in copy.get("candidates", []):
        content = candidate.setdefault("content", {"role": "model"})
        content["parts"] = [_GARBAGE_PARTS[kind], *content.get("parts", [])]
    return copy


def shape_unary(payload: Chunk, fault: Fault | None) -> tuple[bytes, str]:
    """Body bytes and media type of a unary answer under a shaping fault."""
    if fault is not None and fault.kind == "no_finish":
        payload = strip_finish(payload)
    if fault is not None and fault.kind in GARBAGE_KINDS:
        payload = garble(payload, fault.kind)
    data = orjson.dumps(payload)
    if fault is None:
        return data, JSON_MEDIA_TYPE
    if fault.kind == "truncate":
        return data[: len(data) // 2], JSON_MEDIA_TYPE
    if fault.kind == "malformed":
        return MALFORMED_BODY, JSON_MEDIA_TYPE
    if fault.kind == "wrong_content_type":
        return data, "text/plain; charset=UTF-8"
    return data, JSON_MEDIA_TYPE


@dataclass(frozen=True)
class StreamPlan:
    """What a streaming answer sends, and the pauses it makes, under a fault."""

    chunks: list[Chunk]
    media_type: str
    start_delay: float = 0.0
    first_delay: float = 0.0
    stall_after_first: float = 0.0
    malformed_second: bool = False
    cut: bool = False


def shape_stream(chunks: list[Chunk], fault: Fault | None, media_type: str) -> StreamPlan:
    kind = fault.kind if fault is not None else ""
    seconds = fault.seconds if fault is not None else 0.0
    if kind == "no_finish":
        return StreamPlan([strip_finish(c) for c in chunks], media_type)
    if kind == "no_candidates":
        return StreamPlan([garble(c, kind) for c in chunks], media_type)
    if kind in GARBAGE_KINDS:  # garbage in the first event, after which the stream is fine
        return StreamPlan([garble(chunks[0], kind), *chunks[1:]], media_type)
    if kind == "truncate":
        return StreamPlan([strip_finish(chunks[0])], media_type, cut=True)
    if kind == "hang":
        return StreamPlan(
            [strip_finish(chunks[0])], media_type, stall_after_first=seconds, cut=True
        )
    if kind == "malformed":
        return StreamPlan([strip_finish(chunks[0])], media_type, malformed_second=True, cut=True)
    if kind == "delay":
        return StreamPlan(chunks, media_type, start_delay=seconds)
    if kind == "slow_first":
        return StreamPlan(chunks, media_type, first_delay=seconds)
    if kind == "wrong_content_type":
        return StreamPlan(chunks, "text/plain; charset=UTF-8")
    return StreamPlan(chunks, media_type)

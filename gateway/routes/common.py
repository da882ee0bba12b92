"""HTTP edge helpers: read a JSON body under limits, write JSON and error envelopes, stop work
whose client left."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol, TypeVar

import anyio
import anyio.to_thread
import orjson
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from gateway import lifted_json
from gateway.errors import (
    ClientClosedError,
    GatewayError,
    InvalidRequestError,
    RequestTooLargeError,
    UnsupportedMediaTypeError,
    to_envelope,
)
from gateway.serving.body_gate import LargeBodyGate
from gateway.serving.context import OwnedBody

UTF8_BOM = b"\xef\xbb\xbf"
# orjson reads 1024 levels but writes only ~254, and the Gemini body adds a few: a deeper body
# would fail while being forwarded (a 500), so it is refused here as a client error.
MAX_JSON_DEPTH = 128
T = TypeVar("T")


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data), status, headers=headers, media_type="application/json")


def error_response(err: GatewayError) -> Response:
    return json_response(to_envelope(err), err.status, err.headers())


def _too_large(limit: int) -> RequestTooLargeError:
    return RequestTooLargeError(f"request body exceeds the {limit // (1024 * 1024)} MiB limit")


async def read_body(
    request: Request, limit: int, may_read: Callable[[], Awaitable[None]] | None = None
) -> bytes:
    """`may_read` is awaited before each read after the first (the large-body gate parks a slow
    upload there)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            chunks.append(chunk)
            if may_read is not None:
                await may_read()
    except ClientDisconnect as exc:
        raise ClientClosedError("the client closed the connection") from exc
    return b"".join(chunks)


LARGE_BODY_BYTES = 1024 * 1024


async def read_json(
    request: Request,
    limit: int,
    gate: LargeBodyGate | None = None,
    spans: lifted_json.Spans | None = None,
) -> Any:
    """The parsed body (`read_parsed`); `spans` is filled as `lifted_json.loads` does."""
    return await read_parsed(request, limit, gate, lambda body: _parse_json(body, spans))


async def read_parsed(
    request: Request, limit: int, gate: LargeBodyGate | None, parse: Callable[[bytes], T]
) -> T:
    """`parse` of the JSON body's bytes, a large body read and parsed with a place under
    `gate` (serving/body_gate.py); until it has one it waits unread in the socket."""
    declared = request.headers.get("content-length", "")
    if gate is None or not declared.isdigit() or int(declared) < LARGE_BODY_BYTES:
        return parse(await _read_json_body(request, limit))
    async with gate.place() as place:
        body = await _read_json_body(request, limit, place.may_read)
        await place.back()
        # Parsing and checking megabytes is CPU work: on a worker thread the loop keeps
        # serving (a 3 MB body of 100,000 messages held /healthz for seconds on the loop).
        return await anyio.to_thread.run_sync(parse, body)


def media_type(request: Request, default: str = "") -> str:
    """The content type's media type alone: lower case, parameters (`; charset=`) dropped."""
    return request.headers.get("content-type", default).split(";", 1)[0].strip().lower()


def is_json_media_type(media: str) -> bool:
    """`application/json` or a structured `application/<name>+json`, matched whole: a substring
    test let `text/html; x=json` through. `text/plain` is refused too: browsers send it across
    origins without a preflight, so it would let any web page post to a local gateway."""
    kind, _, subtype = media.partition("/")
    return kind == "application" and (subtype == "json" or subtype.endswith("+json"))


async def _read_json_body(
    request: Request, limit: int, may_read: Callable[[], Awaitable[None]] | None = None
) -> bytes:
    media = media_type(request, "application/json")  # no content type: many non-browser clients
    if not is_json_media_type(media):
        raise UnsupportedMediaTypeError(f"expected an application/json body, got {media[:100]!r}")
    return await read_body(request, limit, may_read)


def parse_json_body(body: bytes) -> Any:
    """A JSON request body, with the checks every route's body gets (BOM, empty, depth)."""
    return _parse_json(body, None)


def _parse_json(body: bytes, spans: lifted_json.Spans | None) -> Any:
    if body.startswith(UTF8_BOM):  # RFC 8259 lets a parser ignore it; some clients send one
        body = body[len(UTF8_BOM) :]
    if not body or body.isspace():  # strip() would copy a multi-MB body
        raise InvalidRequestError("the request body is empty; send a JSON object", param="body")
    try:
        data = lifted_json.loads(body, spans)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequestError(
            f"the request body is not valid JSON ({exc.msg} at position {exc.pos})",
            param="body",
            code="invalid_json",
        ) from exc
    if nesting_exceeds(data, MAX_JSON_DEPTH):
        raise InvalidRequestError(
            f"the request body nests objects/arrays deeper than {MAX_JSON_DEPTH} levels",
            param="body",
            code="invalid_json",
        )
    return data


def nesting_exceeds(data: Any, limit: int) -> bool:
    """Iterative, so a deep body cannot exhaust the stack here; strings are never walked.
    Level by level, with no tuple per node: 100,000 messages took 0.62 s walked node by node
    with their depths, 0.26 s so."""
    level = [data] if isinstance(data, dict | list) else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return True
        below: list[Any] = []
        for node in level:
            for child in node.values() if isinstance(node, dict) else node:
                if isinstance(child, dict | list):
                    below.append(child)
        level = below
    return False


async def unless_disconnected(receive: Receive, work: Callable[[], Awaitable[T]]) -> T | None:
    """`work()`'s result, or None when the client left first (the work is then cancelled).

    Starlette cancels nothing while a handler runs when the client leaves: a watcher task
    does it, so a slow (and paid) image generation stops when nobody waits for it. The
    cancellation goes through an anyio cancel scope (~4 µs; a task group was ~14% of a small
    chat's CPU) so that anyio's shields hold: a call on a worker thread (the SQLite store,
    image shrinking) finishes before the cancellation lands, keeping locks and the thread
    limiter honest."""
    scope = anyio.CancelScope()

    async def watch() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        scope.cancel()

    watcher = asyncio.create_task(watch())
    try:
        with scope:
            return await work()
    finally:
        watcher.cancel()
    return None  # the scope caught its own cancellation: the client left


class Startable(Protocol):
    """A stream that waits for its first upstream event in `start` and gives the upstream
    call back in `aclose` when nobody will read it."""

    async def start(self, owned: OwnedBody) -> None: ...

    async def aclose(self) -> None: ...


async def started_unless_disconnected(
    receive: Receive, stream: Startable, owned: OwnedBody
) -> bool:
    """Up to the first event (or the first keep-alive) the client may leave unnoticed by
    Starlette too, so the same watcher covers that wait; the response then takes over. False
    when the client left first (the stream is closed then)."""

    async def start() -> bool:
        await stream.start(owned)
        return True

    started = False
    try:
        started = bool(await unless_disconnected(receive, start))
    finally:
        if not started:
            await stream.aclose()
    return started


class EventStreamResponse(Response):
    """An SSE body sent frame by frame; when the client leaves, the frames' producer is
    cancelled (and closed), which closes the upstream stream. Starlette's StreamingResponse
    does the same through an anyio task group per response, a visible cost per stream."""

    media_type = "text/event-stream"

    def __init__(self, frames: AsyncIterator[bytes], headers: dict[str, str]) -> None:
        self.frames = frames
        self.status_code = 200
        self.background = None
        self.init_headers(headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})

        async def pump() -> bool:
            async for frame in self.frames:
                await send({"type": "http.response.body", "body": frame, "more_body": True})
            return True

        try:
            finished = await unless_disconnected(receive, pump)
        finally:
            aclose = getattr(self.frames, "aclose", None)
            if aclose is not None:
                await aclose()
        if finished:
            await send({"type": "http.response.body", "body": b"", "more_body": False})

"""`:streamGenerateContent` relayed event by event: each upstream event goes to the client as its
own write, as Gemini sent it (no parsing, no coalescing, no base64 re-encoding), in SSE
(`?alt=sse`, google-genai's form) or as the JSON array Gemini streams without it.

Like the chat stream, HTTP 200 is held back until the first event (or the keep-alive interval),
so a failure before it is an HTTP error with its real status, in Google's shape. After that a
failure, or an end without any `finishReason`, is one last Google error object in the stream
(the form Gemini itself uses; google-genai raises it as an APIError), then the end.

Keep-alives are blank lines (SSE) or a newline (JSON whitespace, array form): google-genai 3.x
reads an SSE comment line (`: keep-alive`) as a JSON chunk and fails on it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Any, Final

import anyio
import orjson

from gateway import lifted_json
from gateway.errors import GatewayError, ShuttingDownError, UpstreamError
from gateway.serving.context import CallContext, Services
from gateway.translate.native.errors import google_envelope
from gateway.translate.native.usage import TAIL_BYTES, usage_in_tail
from gateway.upstream.body import Body
from gateway.upstream.client import MAX_JSON_BODY
from gateway.upstream.sse_frames import DATA, END, EventFrames, payload_of

log = logging.getLogger("gateway.serving")

_END: Final = object()
SSE_KEEPALIVE: Final = b"\r\n"
ARRAY_KEEPALIVE: Final = b"\n"
FINISH: Final = b'"finishReason"'
READER_CLOSE_TIMEOUT: Final = 5.0


def sse_frame(data: Any) -> bytes:
    return DATA + orjson.dumps(data) + END


class NativeStream:
    def __init__(
        self, call: CallContext, services: Services, path: str, body: Body, *, array: bool
    ) -> None:
        self.call = call
        self.services = services
        self.path = path
        self.body_out: Body | None = body
        self.array = array
        self.queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=4)
        self.reader: asyncio.Task[None] | None = None
        self.first: Any = None
        self.started = 0.0
        self.sent = 0  # events sent to the client
        self.finished = False  # an event with a finishReason (or Gemini's own error) was sent

    @property
    def media_type(self) -> str:
        return "application/json; charset=UTF-8" if self.array else "text/event-stream"

    async def start(self) -> None:
        """Opens the upstream stream and waits for its first event; raises GatewayError for an
        HTTP error reply."""
        self.started = time.perf_counter()
        self.reader = asyncio.create_task(self._read())
        try:
            async with asyncio.timeout(self.services.settings.keepalive_interval):
                self.first = await self.queue.get()
        except TimeoutError:
            self.first = None  # still thinking: commit to 200 and keep the connection alive
        if self.first is _END:
            self.first = UpstreamError("Gemini's stream ended without any event")
        if isinstance(self.first, GatewayError):
            await self.aclose()
            raise self.first

    async def _read(self) -> None:
        body, self.body_out = self.body_out, None
        assert body is not None
        upstream = self.services.upstream
        try:
            async with upstream.relay_stream(
                self.path, body, self.call.upstream_key, self.call.stats
            ) as response:
                del body
                usage = self.call.stats.usage
                usage.append({})  # the latest event's running totals, for the token metrics
                async for frame in _frames(response.chunks()):
                    usage[-1] = usage_in_tail(frame[-TAIL_BYTES:]) or usage[-1]
                    await self.queue.put(frame)
            await self.queue.put(_END)
        except GatewayError as err:
            await self.queue.put(err)
        except Exception as exc:  # the writer must always learn that reading stopped
            log.error("native stream reader failed", exc_info=exc)
            await self.queue.put(UpstreamError("reading Gemini's stream failed"))

    async def aclose(self) -> None:
        """Cancel the reader once and let it close the upstream connection (chat_stream.py
        says why the task itself is not awaited)."""
        reader = self.reader
        if reader is None or reader.done():
            return
        reader.cancel()
        with anyio.CancelScope(shield=True):
            await asyncio.wait({reader}, timeout=READER_CLOSE_TIMEOUT)

    async def _next(self, interval: float) -> Any:
        if self.first is not None:
            item, self.first = self.first, None
            return item
        try:
            return self.queue.get_nowait()
        except asyncio.QueueEmpty:
            pass
        left = self.services.drain.remaining()
        if left is not None and left <= 0:
            raise ShuttingDownError("the gateway is shutting down; send the request again")
        try:
            async with asyncio.timeout(interval if left is None else min(interval, left)):
                return await self.queue.get()
        except TimeoutError:
            return None

    async def body(self) -> AsyncIterator[bytes]:
        interval = self.services.settings.keepalive_interval
        keepalive = ARRAY_KEEPALIVE if self.array else SSE_KEEPALIVE
        try:
            while True:
                item = await self._next(interval)
                if item is None:
                    yield keepalive
                    continue
                if item is _END:
                    break
                if isinstance(item, GatewayError):
                    raise item
                if not self.sent:
                    waited = time.perf_counter() - self.started
                    self.call.stats.upstream_ms = waited * 1000
                    self.services.metrics.upstream_latency.observe(waited)
                if FINISH in item or item.startswith(b'data: {"error"'):
                    self.finished = True
                yield self._out(item)
            if not self.finished:
                raise UpstreamError("Gemini's stream ended without a finishReason")
            if self.array:
                yield b"]" if self.sent else b"[]"
        except GatewayError as err:
            yield self._failed(err)
        except Exception as exc:  # after the 200, a bug must still end the stream in-band
            log.error("native stream failed", exc_info=exc)
            yield self._failed(GatewayError("internal error in the gateway"), upstream=False)
        finally:
            await self.aclose()

    def _out(self, frame: bytes) -> bytes:
        first = not self.sent
        self.sent += 1
        if not self.array:
            return frame
        return (b"[" if first else b",\r\n") + bytes(payload_of(frame))

    def _failed(self, err: GatewayError, *, upstream: bool = True) -> bytes:
        log.warning(
            "native stream ended with an error",
            extra={
                "request_id": self.call.request_id,
                "code": err.code,
                "status": err.status,
                "model": self.call.model,
            },
        )
        self.services.metrics.error(err.code, upstream=upstream)
        envelope = google_envelope(err)
        if not self.array:
            return sse_frame(envelope)
        return (b"[" if not self.sent else b",\r\n") + orjson.dumps(envelope) + b"]"


async def _frames(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """Frames of an SSE body; a proxy that answered one JSON array (or object) instead has its
    items framed one by one; an HTML page is an upstream error."""
    head = b""
    async for chunk in chunks:
        head += chunk
        if head.strip() or len(head) > MAX_JSON_BODY:
            break
    lead = head.lstrip()[:1]
    if lead == b"<":
        raise UpstreamError("Gemini answered a stream with an HTML page")
    if lead in (b"[", b"{"):
        for item in await _json_items(head, chunks):
            yield sse_frame(item)
        return
    frames = EventFrames()
    for frame in frames.feed(head):
        yield frame
    async for chunk in chunks:
        for frame in frames.feed(chunk):
            yield frame
    for frame in frames.close():
        yield frame


async def _json_items(head: bytes, chunks: AsyncIterator[bytes]) -> list[Any]:
    raw = bytearray(head)
    async for chunk in chunks:
        raw += chunk
        if len(raw) > MAX_JSON_BODY:
            raise UpstreamError("Gemini's stream body exceeds the size limit")
    try:
        data = lifted_json.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise UpstreamError("Gemini answered a stream with a body that is not JSON") from exc
    return data if isinstance(data, list) else [data]

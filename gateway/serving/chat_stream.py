"""The streaming twin of chat.py. HTTP 200 is held back until Gemini's first event (or until
the keep-alive interval passes), so early failures keep their real status; after that every
failure is a final `data: {"error": ...}` event, and every stream ends with `data: [DONE]`.

A reader task pulls upstream events into a queue so the writer can send `: keep-alive`
comments while Gemini thinks; cancelling the writer (client gone) cancels the reader, which
closes the upstream connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import anyio
import orjson

from gateway.errors import GatewayError, ShuttingDownError, UpstreamError, to_envelope
from gateway.logs import log_body
from gateway.serving.chat import Prepared, prepare, response_context
from gateway.serving.context import CallContext, OwnedBody, Services
from gateway.serving.drain import SHUTTING_DOWN
from gateway.serving.resolve import remember
from gateway.translate.response.stream import ChunkTranslator

log = logging.getLogger("gateway.serving")
body_log = logging.getLogger("gateway.bodies")

DONE = b"data: [DONE]\n\n"
KEEPALIVE = b": keep-alive\n\n"
_END = object()
_DRAINED = object()  # put in the queue at the drain deadline, to wake a waiting writer
READER_CLOSE_TIMEOUT = 5.0  # closing a socket takes microseconds; this only bounds a bug


def sse(data: Any) -> bytes:
    return b"data: " + orjson.dumps(data) + b"\n\n"


def error_event(err: GatewayError) -> bytes:
    return sse(to_envelope(err)) + DONE


class ChatStream:
    def __init__(self, call: CallContext, services: Services) -> None:
        self.call = call
        self.services = services
        self.queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=4)
        self.reader: asyncio.Task[None] | None = None
        self.first: Any = None
        self.prepared: Prepared | None = None
        self.started = 0.0
        self._forget_drain = services.drain.on_expiry(self._drained)

    def _drained(self) -> None:
        """The drain deadline passed: wake the writer wherever it waits (a full queue means
        it is not waiting, and it checks `drain.expired` before it waits again)."""
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait(_DRAINED)

    async def start(self, owned: OwnedBody) -> None:
        """Prepare and wait for the first event; raises GatewayError for an HTTP error reply."""
        await self.begin(await prepare(owned, self.call, self.services))

    async def begin(self, prepared: Prepared) -> None:
        """Start reading Gemini's stream for a prepared call (chat's or the Responses API's)."""
        self.prepared = prepared
        self.started = time.perf_counter()
        self.reader = asyncio.create_task(self._read(prepared))
        try:  # asyncio.timeout, not wait_for: no extra task on the way to the first event
            async with asyncio.timeout(self.services.settings.keepalive_interval):
                self.first = await self.queue.get()
        except TimeoutError:
            self.first = None  # still thinking: commit to 200 and keep the connection alive
        if self.first is _END:
            self.first = UpstreamError("Gemini's stream ended without any event")
        elif self.first is _DRAINED:
            self.first = ShuttingDownError(SHUTTING_DOWN)
        if isinstance(self.first, GatewayError):
            await self.aclose()
            raise self.first

    async def _read(self, prepared: Prepared) -> None:
        try:
            async with self.services.upstream.stream(
                prepared.model, prepared.body, self.call.upstream_key, self.call.stats
            ) as events:
                async for event in events:
                    await self.queue.put(event)
            await self.queue.put(_END)
        except GatewayError as err:
            await self.queue.put(err)
        except Exception as exc:  # the writer must always learn that reading stopped
            log.error("stream reader failed", exc_info=exc)
            await self.queue.put(UpstreamError("reading Gemini's stream failed"))

    async def aclose(self) -> None:
        """Cancel the reader once and let it close the upstream connection undisturbed.

        Awaiting the task itself would forward every cancellation our caller receives (Starlette
        cancels level-triggered, over and over) into the reader's cleanup, which then never
        closes the socket: the connection would stay open and leak from the pool."""
        self._forget_drain()
        reader = self.reader
        if reader is None or reader.done():
            return
        reader.cancel()
        with anyio.CancelScope(shield=True):
            await asyncio.wait({reader}, timeout=READER_CLOSE_TIMEOUT)

    async def _next(self, interval: float) -> Any:
        """The next upstream item, or KEEPALIVE after `interval` seconds of silence. An item
        already queued is taken without timer machinery (most events, under load)."""
        if self.first is not None:
            item, self.first = self.first, None
            return item
        try:
            return self.queue.get_nowait()
        except asyncio.QueueEmpty:
            pass
        drain = self.services.drain
        left = drain.remaining()
        if drain.expired or (left is not None and left <= 0):
            raise ShuttingDownError(SHUTTING_DOWN)
        try:
            async with asyncio.timeout(interval if left is None else min(interval, left)):
                return await self.queue.get()
        except TimeoutError:
            return KEEPALIVE

    def _queued_frames(self, translator: ChunkTranslator, most: int = 32) -> list[bytes]:
        """Events that are already waiting go out in the same write (still one chunk per
        event): one ASGI send per event was the largest per-event cost under load."""
        frames: list[bytes] = []
        for _ in range(most):
            try:
                item = self.queue.get_nowait()
            except asyncio.QueueEmpty:
                break
            if item is _END or item is _DRAINED or isinstance(item, GatewayError):
                self.first = item  # handled by the main loop, in order
                break
            frames.extend(self._sse(chunk) for chunk in translator.feed(item))
        return frames

    async def body(self) -> AsyncIterator[bytes]:
        assert self.prepared is not None
        prepared = self.prepared
        translator: ChunkTranslator | None = None
        interval = self.services.settings.keepalive_interval
        try:
            while True:
                item = await self._next(interval)
                if item is KEEPALIVE:
                    yield KEEPALIVE
                    continue
                if item is _END:
                    break
                if item is _DRAINED:
                    raise ShuttingDownError(SHUTTING_DOWN)
                if isinstance(item, GatewayError):
                    raise item
                if translator is None:
                    waited = time.perf_counter() - self.started
                    self.call.stats.upstream_ms = waited * 1000
                    self.services.metrics.upstream_latency.observe(waited)
                    ctx = response_context(prepared, item.get("responseId"), self.call)
                    translator = ChunkTranslator(ctx, self.services.settings.stream_content_piece)
                    yield b"".join(self._sse(chunk) for chunk in translator.feed(item))
                    continue  # the first event goes out alone: nothing may delay it
                frames = [self._sse(chunk) for chunk in translator.feed(item)]
                frames.extend(self._queued_frames(translator))
                yield b"".join(frames)
            if translator is None:
                raise UpstreamError("Gemini's stream ended without any event")
            for chunk in translator.finish():
                yield self._sse(chunk)
            await remember(
                translator.memo(), prepared.prefix, prepared.model, self.services, self.call.scope
            )
            yield DONE
        except GatewayError as err:
            yield self._failed(err)
        except Exception as exc:  # after the 200, a bug must still end the stream in-band
            log.error("stream failed", exc_info=exc, extra={"request_id": self.call.request_id})
            yield self._failed(GatewayError("internal error in the gateway"), upstream=False)
        finally:
            await self.aclose()

    def _sse(self, chunk: Any) -> bytes:
        if self.services.settings.log_bodies:
            log_body(body_log, "response_chunk", chunk)
        return sse(chunk)

    def _failed(self, err: GatewayError, *, upstream: bool = True) -> bytes:
        log.warning(
            "stream ended with an error",
            extra={
                "request_id": self.call.request_id,
                "code": err.code,
                "status": err.status,
                "model": self.call.model,
            },
        )
        self.services.metrics.error(err.code, upstream=upstream)
        return error_event(err)

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

import orjson

from gateway.errors import GatewayError, UpstreamError, to_envelope
from gateway.serving.chat import Prepared, prepare, response_context
from gateway.serving.context import CallContext, Services
from gateway.serving.resolve import remember
from gateway.translate.response.stream import ChunkTranslator

log = logging.getLogger("gateway.serving")

DONE = b"data: [DONE]\n\n"
KEEPALIVE = b": keep-alive\n\n"
_END = object()


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

    async def start(self, raw: Any) -> None:
        """Prepare and wait for the first event; raises GatewayError for an HTTP error reply."""
        self.prepared = await prepare(raw, self.call, self.services)
        self.started = time.perf_counter()
        self.reader = asyncio.create_task(self._read(self.prepared))
        try:
            self.first = await asyncio.wait_for(
                self.queue.get(), self.services.settings.keepalive_interval
            )
        except TimeoutError:
            self.first = None  # still thinking: commit to 200 and keep the connection alive
        if isinstance(self.first, GatewayError):
            await self.aclose()
            raise self.first

    async def _read(self, prepared: Prepared) -> None:
        try:
            async with self.services.upstream.stream(
                prepared.chat.model, prepared.body, self.call.upstream_key, self.call.stats
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
        if self.reader is not None and not self.reader.done():
            self.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.reader

    async def _next(self) -> Any:
        if self.first is not None:
            item, self.first = self.first, None
            return item
        return await self.queue.get()

    async def body(self) -> AsyncIterator[bytes]:
        assert self.prepared is not None
        prepared = self.prepared
        translator: ChunkTranslator | None = None
        interval = self.services.settings.keepalive_interval
        try:
            while True:
                try:
                    item = await asyncio.wait_for(self._next(), interval)
                except TimeoutError:
                    yield KEEPALIVE
                    continue
                if item is _END:
                    break
                if isinstance(item, GatewayError):
                    raise item
                if translator is None:
                    self.services.metrics.upstream_latency.observe(
                        time.perf_counter() - self.started
                    )
                    ctx = response_context(prepared, item.get("responseId"), self.call)
                    translator = ChunkTranslator(ctx, self.services.settings.stream_content_piece)
                for chunk in translator.feed(item):
                    yield sse(chunk)
            if translator is None:
                raise UpstreamError("Gemini's stream ended without any event")
            for chunk in translator.finish():
                yield sse(chunk)
            await remember(translator.memo(), prepared.prefix, prepared.chat.model, self.services)
            yield DONE
        except GatewayError as err:
            log.warning(
                "stream ended with an error",
                extra={"request_id": self.call.request_id, "code": err.code},
            )
            self.services.metrics.upstream_errors.labels(err.code or "error").inc()
            yield error_event(err)
        finally:
            await self.aclose()

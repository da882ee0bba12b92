"""The streaming response: SSE (`data: {...}\\r\\n\\r\\n`, no `[DONE]`) or an incrementally sent
JSON array, with bounded pauses that end early when the client leaves, and a count of every stream
that did not reach its end (`state.cancelled`)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Final

import orjson
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from gateway.emulator.faults import MALFORMED_BODY, StreamPlan

SSE_MEDIA_TYPE: Final = "text/event-stream"


def encode_events(plan: StreamPlan, *, sse: bool) -> list[bytes]:
    """One byte string per event; a cut array stream never gets its closing bracket."""
    events = []
    for k, chunk in enumerate(plan.chunks):
        data = orjson.dumps(chunk)
        if sse:
            events.append(b"data: " + data + b"\r\n\r\n")
        else:
            events.append((b"[" if k == 0 else b",\r\n") + data)
    if plan.malformed_second:
        events.append(
            b"data: " + MALFORMED_BODY + b"\r\n\r\n" if sse else b",\r\n" + MALFORMED_BODY
        )
    elif not sse and not plan.cut:
        events.append(b"]")
    return events


async def pause(seconds: float, gone: asyncio.Event) -> None:
    """Sleep up to `seconds`, waking early if the client disconnects; cancellable as usual."""
    if seconds <= 0:
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(gone.wait(), timeout=seconds)


class EventStream(Response):
    """Sends pre-encoded events; calls `on_cancel` if the stream is cut short by the client."""

    def __init__(
        self,
        events: list[bytes],
        *,
        media_type: str,
        start_delay: float = 0.0,
        first_delay: float = 0.0,
        stall_after_first: float = 0.0,
        on_cancel: Callable[[], None],
    ) -> None:
        self.status_code = 200
        self.media_type = media_type
        self.background = None
        self.init_headers({"content-type": media_type, "cache-control": "no-cache"})
        self._events = events
        self._start_delay = start_delay
        self._first_delay = first_delay
        self._stall = stall_after_first
        self._on_cancel = on_cancel

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        gone = asyncio.Event()
        watcher = asyncio.create_task(self._watch(receive, gone))
        finished = False
        try:
            await pause(
                self._start_delay, gone
            )  # `delay`: nothing, not even the status, until then
            if gone.is_set():
                return
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            await pause(self._first_delay, gone)  # `slow_first`: status sent, first event late
            for k, event in enumerate(self._events):
                if gone.is_set():
                    break
                await send({"type": "http.response.body", "body": event, "more_body": True})
                if k == 0:
                    await pause(self._stall, gone)
                await asyncio.sleep(0)
            if not gone.is_set():
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                finished = True
        except OSError:
            pass  # the server reports a vanished client this way (ASGI spec 2.4)
        finally:
            watcher.cancel()
            if not finished:
                self._on_cancel()

    @staticmethod
    async def _watch(receive: Receive, gone: asyncio.Event) -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                gone.set()
                return

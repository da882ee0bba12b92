"""The graceful-shutdown deadline, and what happens to requests still running when it passes.

uvicorn stops accepting on SIGTERM, waits `timeout_graceful_shutdown`, then cancels what is
left: a stream is cut mid-body and a request not yet answered gets uvicorn's plain-text 500.
The CLI begins the drain a second before that cut (cli.DrainingServer); at the deadline every
request still running ends in its own shape instead: a stream with a `server_shutting_down`
error event and [DONE] (serving/chat_stream.py), a request with no answer yet with a 503
envelope (`DrainGuard`). Waiters are woken by the deadline itself, not by their own timers
(a stream waiting out a 15 s keep-alive interval would otherwise sleep through it)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import orjson
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.errors import ShuttingDownError, to_envelope

SHUTTING_DOWN = "the gateway is shutting down; send the request again"


class Drain:
    __slots__ = ("_callbacks", "_loop", "deadline", "expired")

    def __init__(self) -> None:
        self.deadline: float | None = None
        self.expired = False
        self._callbacks: set[Callable[[], None]] = set()
        try:
            self._loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            self._loop = None

    def begin(self, seconds: float) -> None:
        """Safe from a signal handler: the timer is set on the loop's own thread."""
        if self.deadline is not None:
            return
        seconds = max(seconds, 0.0)
        self.deadline = time.monotonic() + seconds
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(loop.call_later, seconds, self._expire)

    def remaining(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.monotonic()

    def on_expiry(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Calls `callback` on the loop at the deadline; returns the way to cancel that."""
        if self.expired:
            callback()
            return _nothing
        self._callbacks.add(callback)
        return lambda: self._callbacks.discard(callback)

    def _expire(self) -> None:
        self.expired = True
        callbacks, self._callbacks = self._callbacks, set()
        for callback in callbacks:
            callback()


def _nothing() -> None:
    return None


class DrainGuard:
    """At the drain deadline, a request whose answer has not begun is cancelled and answered
    with a 503 `server_shutting_down` envelope (clients retry it) before uvicorn's cut."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        services = getattr(scope["app"].state, "services", None) if "app" in scope else None
        drain: Drain | None = getattr(services, "drain", None)
        task = asyncio.current_task()
        if scope["type"] != "http" or drain is None or task is None:
            await self.app(scope, receive, send)
            return
        started = False
        cut = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        def expire() -> None:
            nonlocal cut
            if not started:
                cut = True
                task.cancel()

        forget = drain.on_expiry(expire)
        try:
            await self.app(scope, receive, tracking_send)
        except asyncio.CancelledError:
            if not cut or started or task.uncancel() > 0:
                raise  # someone else's cancellation (uvicorn's cut, a client gone)
            err = ShuttingDownError(SHUTTING_DOWN)
            answer = Response(
                orjson.dumps(to_envelope(err)), err.status, media_type="application/json"
            )
            await answer(scope, receive, send)
        finally:
            forget()

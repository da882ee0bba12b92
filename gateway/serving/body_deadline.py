"""A deadline on request bodies: uvicorn waits for the rest of a body as long as the client
likes, so an upload that stops (or a chunked body announcing 2^64 bytes) held its request, its
memory and its connection for good. Here each read of the body must bring something within
`seconds`, or the request ends with a 408 and the connection is closed (http_protocol.py).

Only the body is timed: once it is complete, `receive` is the app's wait for a disconnect,
which may rightly last as long as a stream does."""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.errors import RequestTimeoutError


class BodyDeadline:
    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        seconds = self.seconds
        body_done = False

        async def timed_receive() -> Message:
            nonlocal body_done
            if body_done:
                return await receive()
            try:
                async with asyncio.timeout(seconds):
                    message = await receive()
            except TimeoutError:
                raise RequestTimeoutError(
                    f"the request body stalled: nothing arrived for {seconds:g} s"
                ) from None
            body_done = message["type"] != "http.request" or not message.get("more_body")
            return message

        await self.app(scope, timed_receive, send)

"""uvicorn's httptools protocol, minus two copies of every request body, plus the limits
uvicorn lacks for slow clients.

Copies: uvicorn appends each piece of a body to a bytearray and hands the app
`bytes(bytearray)`: two copies of every byte before the app sees it. For a 5.6 MB image request
that was ~0.9 ms of ~8 ms of CPU. Here a piece that arrives while nothing is pending is kept as
the `bytes` object httptools made, and `bytes()` of a `bytes` object is the object itself: no
copy. A piece that arrives while another is still pending (the app is slow to read) is joined as
before; uvicorn stops reading from the socket beyond 64 KiB pending, so that join stays small.

Limits: uvicorn's keep-alive timer runs only between requests and is cancelled by any byte, so
a connection that never sends a request, or trickles its headers a byte at a time, stayed open
for good. Here a request's headers must be complete within `header_timeout` of the connection
opening or the request's first byte (then a 408 and the connection closes). And a response that
leaves its request's body unread closes the connection: the rest of that body (a chunked one
can announce 2^64 bytes) would otherwise be read and thrown away for as long as it trickles.

Both lean on uvicorn's internals (`cycle.body`, `flow`, `message_event`), so this is used only
with the uvicorn it was checked against: `mismatch()` says why not otherwise, and the CLI then
serves with uvicorn's stock protocol (without the header deadline).
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Final, cast

import uvicorn
from uvicorn._types import ASGI3Application
from uvicorn.protocols.http.flow_control import HIGH_WATER_LIMIT, service_unavailable
from uvicorn.protocols.http.httptools_impl import (  # needs httptools
    HttpToolsProtocol,
    RequestResponseCycle,
)

from gateway.routes.over_capacity import exempt, over_capacity

DEFAULT_HEADER_TIMEOUT = 10.0
_TIMEOUT_BODY = (
    b'{"error":{"message":"the request headers did not arrive in time",'
    b'"type":"invalid_request_error","param":null,"code":"request_timeout"}}'
)
REQUEST_TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\nconnection: close\r\n"
    b"content-length: %d\r\n\r\n%s" % (len(_TIMEOUT_BODY), _TIMEOUT_BODY)
)

TESTED_UVICORN: Final = "0.55"  # the minor version checked; pyproject.toml pins it
# What this class assumes of uvicorn, as it reads in uvicorn's source.
_ASSUMED: Final = (
    (HttpToolsProtocol, "on_body", "self.cycle.body += body"),
    (HttpToolsProtocol, "on_body", "self.flow.pause_reading()"),
    (HttpToolsProtocol, "on_body", "self.cycle.message_event.set()"),
    (RequestResponseCycle, "receive", "bytes(self.body)"),
    (HttpToolsProtocol, "on_headers_complete", "app = service_unavailable"),
    (HttpToolsProtocol, "on_headers_complete", "self._start_asgi_task(self.cycle, app)"),
    (HttpToolsProtocol, "on_response_complete", "self._start_asgi_task(cycle, app)"),
)


def mismatch() -> str | None:
    """Why this protocol must not serve with the installed uvicorn; None when it fits."""
    version = uvicorn.__version__
    if version.split(".")[:2] != TESTED_UVICORN.split("."):
        return f"uvicorn {version} is not the tested {TESTED_UVICORN}.x"
    for owner, name, expression in _ASSUMED:
        try:
            source = inspect.getsource(getattr(owner, name))
        except (AttributeError, OSError, TypeError):
            return f"uvicorn's {owner.__name__}.{name} is gone or has no source to check"
        if expression not in source:
            return f"uvicorn's {owner.__name__}.{name} no longer does `{expression}`"
    return None


class LeanBodyHttpToolsProtocol(HttpToolsProtocol):
    header_timeout: float = DEFAULT_HEADER_TIMEOUT
    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_timer()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._header_timer is None:
            self._arm_header_timer()

    def on_headers_complete(self) -> None:
        self._disarm_header_timer()
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        cycle = self.cycle
        if cycle.body or cycle.response_complete or self.parser.should_upgrade():
            super().on_body(body)  # the general path, with uvicorn's own checks
            return
        # Read back by RequestResponseCycle.receive as bytes(cycle.body): the same object.
        cycle.body = body  # type: ignore[assignment]
        if len(body) > HIGH_WATER_LIMIT:
            self.flow.pause_reading()
        cycle.message_event.set()

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: ASGI3Application) -> None:
        """Every request starts here (pipelined ones too): uvicorn's plain-text refusal over
        the concurrency cap is swapped for the surface's own error (routes/over_capacity.py),
        or for the app itself on the operator's probes (liveness, metrics)."""
        if app is service_unavailable:
            if exempt(cycle.scope):  # type: ignore[arg-type]  # uvicorn's HTTPScope
                app = self.app
            else:
                app = cast(ASGI3Application, over_capacity)  # starlette's looser ASGI types
        super()._start_asgi_task(cycle, app)

    def on_response_complete(self) -> None:
        cycle: RequestResponseCycle | None = self.cycle  # None before the first request
        if cycle is not None and cycle.more_body and not self.transport.is_closing():
            self.transport.close()  # its request's body is unfinished: never drain it
        super().on_response_complete()

    def _arm_header_timer(self) -> None:
        self._header_timer = self.loop.call_later(self.header_timeout, self._headers_late)

    def _disarm_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_late(self) -> None:
        self._header_timer = None
        if self.transport.is_closing():
            return
        cycle: RequestResponseCycle | None = self.cycle
        if cycle is not None and not cycle.response_complete:
            self._arm_header_timer()  # a pipelined request behind one still answering
            return
        self.transport.write(REQUEST_TIMEOUT_RESPONSE)
        self.transport.close()


def with_header_timeout(seconds: float) -> type[LeanBodyHttpToolsProtocol]:
    """The protocol class uvicorn instantiates per connection, with this server's timeout."""
    return type(
        "LeanBodyHttpToolsProtocol", (LeanBodyHttpToolsProtocol,), {"header_timeout": seconds}
    )

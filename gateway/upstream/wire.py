"""The byte pipe under `GeminiClient`: one small interface, two implementations.

`GeminiClient` speaks only this interface, so retries, deadlines and decoding are written once.
Each implementation maps its own library's exceptions to `UpstreamError`s, here and nowhere
else: callers never see an aiohttp or httpx exception."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import httpx

    from gateway.config import Settings
    from gateway.upstream.body import Body


class WireResponse(Protocol):
    """A response whose status and headers have arrived and whose body has not (yet)."""

    status: int

    def header(self, name: str) -> str | None: ...

    def chunks(self) -> AsyncIterator[bytes]:
        """The body as it arrives; raises `UpstreamError`s on transport faults."""
        ...

    async def close(self) -> None:
        """Give the connection back (or drop it when the body was not read to the end)."""
        ...


class Wire(Protocol):
    async def send(
        self, method: str, url: str, headers: Mapping[str, str], body: Body | None
    ) -> WireResponse: ...

    @property
    def is_closed(self) -> bool: ...

    async def aclose(self) -> None: ...


def open_wire(settings: Settings, transport: httpx.AsyncBaseTransport | None) -> Wire:
    """aiohttp for real sockets (measured on loopback: ~0.15 ms of CPU per small call against
    ~0.9 ms through httpx's pool, the largest single cost of a text chat); httpx when a
    transport is handed in, which is how tests and the in-process emulator plug in."""
    if transport is None:
        from gateway.upstream.wire_aiohttp import AiohttpWire

        return AiohttpWire(settings)
    from gateway.upstream.wire_httpx import HttpxWire

    return HttpxWire(settings, transport)

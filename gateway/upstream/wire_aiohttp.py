"""The production wire: aiohttp's keep-alive pool and C-accelerated HTTP/1.1 parser.

No cookie jar (one tenant's Set-Cookie must never ride along on another's call), no proxy
settings from the environment, and certifi's CA bundle (as httpx had): a Python without system
certificates (python.org builds on macOS) still verifies Google's certificate."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Mapping

import aiohttp
import certifi
from aiohttp.abc import AbstractStreamWriter
from aiohttp.payload import Payload
from yarl import URL

from gateway.config import Settings
from gateway.errors import UpstreamConnectError, UpstreamError, UpstreamTimeoutError
from gateway.upstream.body import Body, as_bytes, parts_of, size_of
from gateway.upstream.failure import failure_kind, upstream_host

READ_BUFFER = 256 * 1024  # an image answer is megabytes; fewer, larger reads cost less CPU
MAX_HEADER_LINE = 64 * 1024  # aiohttp allows 8190 bytes; h11 (under httpx) allowed 64 KiB
MAX_CACHED_URLS = 1024
PIECE_BYTES = 256 * 1024


class RequestBody(Payload):
    """The request body, written in pieces with backpressure. Given one 5 MB piece, aiohttp
    joins it with the headers (on Python < 3.12.9 by copying) and the event loop then copies
    what the socket did not take at once: two transient copies of every image request. With
    a small first piece and a wait for the socket between pieces, neither happens. A body of
    `Pieces` is written the same way, piece after piece, never joined."""

    def __init__(self, body: Body, write_timeout: float) -> None:
        super().__init__(body, content_type="application/json")
        self._length = size_of(body)
        self._size = self._length
        self._write_timeout = write_timeout

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        return as_bytes(self._value).decode(encoding, errors)

    async def write(self, writer: AbstractStreamWriter) -> None:
        await self.write_with_length(writer, None)

    async def write_with_length(
        self, writer: AbstractStreamWriter, content_length: int | None
    ) -> None:
        left = self._length if content_length is None else min(content_length, self._length)
        first = True
        for part in parts_of(self._value):
            view = memoryview(part)[:left]
            left -= len(view)
            start = 0
            if first and len(view) > 1024:
                await self._write(writer, view[:1024])
                start = 1024
            first = False
            for offset in range(start, len(view), PIECE_BYTES):
                await self._write(writer, view[offset : offset + PIECE_BYTES])
            if left <= 0:
                return

    async def _write(self, writer: AbstractStreamWriter, piece: memoryview) -> None:
        """aiohttp has no write timeout: an upstream that stops reading would hold the call
        until the total deadline. Each piece gets the read timeout, as httpx's write did."""
        async with asyncio.timeout(self._write_timeout):
            await writer.write(piece)


def upstream_error(exc: BaseException, url: str) -> UpstreamError:
    """Names the host and what failed (gateway/upstream/failure.py), never the path or key."""
    where = upstream_host(url)
    if isinstance(exc, aiohttp.ClientConnectorError | aiohttp.InvalidURL):
        kind = failure_kind(exc)
        return UpstreamConnectError(f"could not connect to the Gemini upstream {where}: {kind}")
    if isinstance(exc, TimeoutError):  # aiohttp's connect and read timeouts subclass it
        return UpstreamTimeoutError(f"Gemini did not answer in time ({where})")
    return UpstreamError(f"the connection to Gemini failed ({where}: {failure_kind(exc)})")


class AiohttpResponse:
    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response
        self.status = response.status

    def header(self, name: str) -> str | None:
        return self._response.headers.get(name)

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_any():
                yield chunk
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise upstream_error(exc, str(self._response.url)) from exc

    async def close(self) -> None:
        if self._response.content.is_eof():
            self._response.release()
        else:  # a half-read body leaves the connection unusable
            self._response.close()


class AiohttpWire:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._session: aiohttp.ClientSession | None = None
        self._closed = False
        self._urls: dict[str, URL] = {}
        self.tls = ssl.create_default_context(cafile=certifi.where())

    def _open_session(self) -> aiohttp.ClientSession:
        """Made on first use, inside the running event loop, as aiohttp wants."""
        settings = self._settings
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(
                limit=settings.max_connections, limit_per_host=0, ssl=self.tls
            ),
            timeout=aiohttp.ClientTimeout(
                total=None,
                connect=settings.connect_timeout,
                sock_connect=settings.connect_timeout,
                sock_read=settings.read_timeout,
            ),
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=False,
            read_bufsize=READ_BUFFER,
            max_line_size=MAX_HEADER_LINE,
            max_field_size=MAX_HEADER_LINE,
        )
        return self._session

    def _url(self, url: str) -> URL:
        """Parsed once per URL (one per model and method): our URLs are already encoded."""
        parsed = self._urls.get(url)
        if parsed is None:
            if len(self._urls) >= MAX_CACHED_URLS:
                self._urls.clear()
            parsed = self._urls[url] = URL(url, encoded=True)
        return parsed

    async def send(
        self, method: str, url: str, headers: Mapping[str, str], body: Body | None
    ) -> AiohttpResponse:
        if self._closed:
            raise UpstreamError("the upstream client is closed")
        session = self._session or self._open_session()
        try:
            response = await session.request(
                method,
                self._url(url),
                data=None if body is None else RequestBody(body, self._settings.read_timeout),
                headers=headers,
                allow_redirects=False,
            )
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise upstream_error(exc, url) from exc
        return AiohttpResponse(response)

    @property
    def is_closed(self) -> bool:
        return self._closed

    async def aclose(self) -> None:
        self._closed = True
        if self._session is not None:
            await self._session.close()

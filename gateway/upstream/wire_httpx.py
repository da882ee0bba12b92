"""The wire for an injected httpx transport: tests' mock transports and the in-process
emulator (`httpx.ASGITransport`) plug in here. Like the aiohttp wire, it keeps no cookies:
one tenant's Set-Cookie must never ride along on another's call."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from http.cookiejar import CookieJar, DefaultCookiePolicy

import httpx

from gateway.config import Settings
from gateway.errors import UpstreamConnectError, UpstreamError, UpstreamTimeoutError
from gateway.upstream.body import Body, as_bytes
from gateway.upstream.failure import failure_kind, upstream_host


def upstream_error(exc: httpx.HTTPError, url: str) -> UpstreamError:
    """Names the host and what failed (gateway/upstream/failure.py), never the path or key."""
    where = upstream_host(url)
    if isinstance(exc, httpx.TimeoutException):
        return UpstreamTimeoutError(f"Gemini did not answer in time ({where})")
    if isinstance(exc, httpx.ConnectError):
        kind = failure_kind(exc)
        return UpstreamConnectError(f"could not connect to the Gemini upstream {where}: {kind}")
    return UpstreamError(f"the connection to Gemini failed ({where}: {failure_kind(exc)})")


class HttpxResponse:
    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self.status = response.status_code

    def header(self, name: str) -> str | None:
        value: str | None = self._response.headers.get(name)
        return value

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.aiter_bytes():
                yield chunk
        except httpx.HTTPError as exc:
            raise upstream_error(exc, str(self._response.url)) from exc

    async def close(self) -> None:
        """Also breaks httpx's response ↔ stream reference cycle: otherwise the request body
        (megabytes of images) waits for a full GC pass instead of going with the last use."""
        await self._response.aclose()
        self._response.stream = httpx.ByteStream(b"")


class HttpxWire:
    def __init__(self, settings: Settings, transport: httpx.AsyncBaseTransport) -> None:
        timeout = httpx.Timeout(
            connect=settings.connect_timeout,
            read=settings.read_timeout,
            write=settings.read_timeout,
            pool=settings.connect_timeout,
        )
        limits = httpx.Limits(
            max_connections=settings.max_connections,
            max_keepalive_connections=settings.max_connections,
        )
        self._client = httpx.AsyncClient(
            timeout=timeout,
            limits=limits,
            transport=transport,
            trust_env=False,
            cookies=CookieJar(DefaultCookiePolicy(allowed_domains=[])),  # keeps none
        )

    async def send(
        self, method: str, url: str, headers: Mapping[str, str], body: Body | None
    ) -> HttpxResponse:
        content = None if body is None else as_bytes(body)
        request = self._client.build_request(method, url, content=content, headers=headers)
        try:
            response = await self._client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise upstream_error(exc, url) from exc
        return HttpxResponse(response)

    @property
    def is_closed(self) -> bool:
        return self._client.is_closed

    async def aclose(self) -> None:
        await self._client.aclose()

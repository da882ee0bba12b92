"""An httpx transport that connects only to addresses the host policy has just checked.

httpcore asks its network backend to "connect to host:port". Our backend resolves the name once,
refuses the connection if ANY answer is forbidden (mixed A/AAAA records), and dials the checked
numeric IP itself, so DNS cannot change its answer between the check and the connect (rebinding).
TLS is unaffected: httpcore hands the URL's host name to `start_tls`, so SNI and certificate
verification still use the name, not our IP.

Why not httpx-secure: it learns the address by opening (and closing) a probe TCP connection,
which can touch a denied address, it checks only the one answer it picked, its resolver cannot be
stubbed, and it patches private httpx/httpcore attributes. This module uses only httpcore's
public `AsyncConnectionPool(network_backend=...)` and `AsyncNetworkBackend` APIs.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Sequence,
)
from contextlib import contextmanager
from ipaddress import ip_address
from typing import Final

import anyio
import httpcore
import httpx

from gateway.media.address_guard import HostPolicy, IPAddress, literal_ip

Resolver = Callable[[str, int], Awaitable[Sequence[IPAddress]]]
"""`(host, port) -> addresses`. Injectable so tests decide what a name resolves to."""


class AddressRefusedError(Exception):
    """The destination broke the host policy; `reason` is safe to show a client."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class HostResolutionError(Exception):
    """The host name has no usable address."""


async def system_resolver(host: str, port: int) -> list[IPAddress]:
    """Every address the OS resolver gives for `host`, in its order, without duplicates."""
    try:
        infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise HostResolutionError("host could not be resolved") from exc
    found: dict[IPAddress, None] = {}
    for info in infos:
        try:
            found.setdefault(ip_address(info[4][0]), None)
        except ValueError:
            continue
    return list(found)


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """Resolve, check every answer, then dial the checked IP (never the name)."""

    def __init__(
        self,
        policy: HostPolicy,
        resolver: Resolver = system_resolver,
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self._policy = policy
        self._resolver = resolver
        self._inner = inner if inner is not None else httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            with anyio.fail_after(timeout):
                addresses = await self._admit(host, port)
                return await self._dial(addresses, port, local_address, socket_options)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout("connection timed out") from exc

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)

    async def _admit(self, host: str, port: int) -> Sequence[IPAddress]:
        reason = self._policy.refusal_before_resolve(host, port)
        if reason is not None:
            raise AddressRefusedError(reason)
        literal = literal_ip(host)
        addresses = [literal] if literal is not None else await self._resolver(host, port)
        if not addresses:
            raise HostResolutionError("host has no addresses")
        reason = self._policy.refusal_for_addresses(host, port, addresses)
        if reason is not None:
            raise AddressRefusedError(reason)
        return addresses

    async def _dial(
        self,
        addresses: Sequence[IPAddress],
        port: int,
        local_address: str | None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None,
    ) -> httpcore.AsyncNetworkStream:
        """Try the checked addresses in resolver order; the enclosing deadline bounds it."""
        last_error: Exception | None = None
        for ip in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(ip), port, local_address=local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
        assert last_error is not None  # `_admit` never returns an empty list
        raise last_error


# httpcore exception -> httpx exception, most specific first (what httpx's own transport does).
_EXCEPTIONS: Final[tuple[tuple[type[Exception], type[httpx.TransportError]], ...]] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
)


@contextmanager
def _httpx_errors() -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        for core_type, httpx_type in _EXCEPTIONS:
            if isinstance(exc, core_type):
                raise httpx_type(str(exc)) from exc
        raise


class _ResponseStream(httpx.AsyncByteStream):
    def __init__(self, stream: AsyncIterable[bytes]) -> None:
        self._stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _httpx_errors():
            async for part in self._stream:
                yield part

    async def aclose(self) -> None:
        aclose = getattr(self._stream, "aclose", None)
        if aclose is not None:
            await aclose()


class PinnedTransport(httpx.AsyncBaseTransport):
    """httpx's default transport, with the pinned backend underneath (HTTP/1.1, no proxy)."""

    def __init__(
        self,
        policy: HostPolicy,
        resolver: Resolver = system_resolver,
        *,
        ssl_context: ssl.SSLContext | None = None,
        limits: httpx.Limits | None = None,
    ) -> None:
        limits = limits if limits is not None else httpx.Limits(max_connections=32)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context if ssl_context is not None else httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=PinnedBackend(policy, resolver),
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.AsyncByteStream)
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _httpx_errors():
            response = await self._pool.handle_async_request(core_request)
        assert isinstance(response.stream, AsyncIterable)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_ResponseStream(response.stream),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self._pool.aclose()

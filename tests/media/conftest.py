"""Loopback-only fixtures for the image fetcher tests.

- `server`: a tiny asyncio HTTP/1.1 server on 127.0.0.1 whose routes a test scripts byte by byte
  (lying headers, chunked bodies, slow drips), counting hits and recording request headers.
- `canary`: plain TCP listeners on 127.0.0.1 / ::1 that count connections and bytes; SSRF tests
  aim at them and assert they heard nothing.
- `dial_guard` (autouse): every TCP dial httpcore makes is recorded, and any dial to a
  non-loopback address fails the test instead of leaving the machine.
- `stub_resolver`: DNS answers chosen by the test; unknown names only get numeric parsing
  (AI_NUMERICHOST), so no test ever performs a real DNS lookup.
"""

from __future__ import annotations

import asyncio
import io
import ipaddress
import socket
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpcore
import pytest
from PIL import Image

from gateway.media.pinned_transport import HostResolutionError, Resolver


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# --------------------------------------------------------------------------- images


def _image_bytes(fmt: str, size: tuple[int, int] = (8, 8)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 30, 60)).save(buf, format=fmt)
    return buf.getvalue()


@pytest.fixture(scope="session")
def png_bytes() -> bytes:
    return _image_bytes("PNG")


@pytest.fixture(scope="session")
def gif_bytes() -> bytes:
    return _image_bytes("GIF")


@pytest.fixture(scope="session")
def jpeg_bytes() -> bytes:
    return _image_bytes("JPEG")


@pytest.fixture(scope="session")
def webp_bytes() -> bytes:
    return _image_bytes("WEBP")


# --------------------------------------------------------------------------- HTTP server


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]


Handler = Callable[[Request, asyncio.StreamWriter], Awaitable[None]]


def head(status: int, headers: dict[str, str] | None = None, reason: str = "X") -> bytes:
    lines = [f"HTTP/1.1 {status} {reason}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    lines.append("connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def respond(status: int = 200, body: bytes = b"", headers: dict[str, str] | None = None) -> Handler:
    """A handler sending one complete response with Content-Length."""

    async def handler(_request: Request, writer: asyncio.StreamWriter) -> None:
        writer.write(head(status, {"content-length": str(len(body)), **(headers or {})}) + body)
        await writer.drain()

    return handler


def redirect(status: int, location: str) -> Handler:
    return respond(status, b"", {"location": location})


@dataclass
class LoopbackServer:
    routes: dict[str, Handler] = field(default_factory=dict)
    hits: Counter[str] = field(default_factory=Counter)
    requests: list[Request] = field(default_factory=list)
    port: int = 0
    _server: asyncio.base_events.Server | None = None
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    # Scripting helpers, so tests need not import from conftest.
    head = staticmethod(head)

    def respond(
        self, path: str, status: int = 200, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> None:
        self.routes[path] = respond(status, body, headers)

    def redirect(self, path: str, status: int, location: str) -> None:
        self.routes[path] = redirect(status, location)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, path: str, scheme: str = "http") -> str:
        return f"{scheme}://{self.host}{path}"

    async def start(self, ssl_context: Any = None) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=ssl_context)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            raw = await reader.readuntil(b"\r\n\r\n")
            request_line, *header_lines = raw.decode("latin-1").split("\r\n")
            method, target, _ = request_line.split(" ", 2)
            headers = {}
            for line in header_lines:
                if ":" in line:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
            request = Request(method, target, headers)
            self.requests.append(request)
            self.hits[target] += 1
            await self.routes.get(target, respond(404, b"not found"))(request, writer)
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        finally:
            writer.close()
            self._tasks.discard(task)


@pytest.fixture
async def server_factory(
    anyio_backend: str,
) -> AsyncIterator[Callable[..., Awaitable[LoopbackServer]]]:
    started: list[LoopbackServer] = []

    async def start(ssl_context: Any = None) -> LoopbackServer:
        srv = LoopbackServer()
        await srv.start(ssl_context)
        started.append(srv)
        return srv

    yield start
    for srv in started:
        await srv.stop()


@pytest.fixture
async def server(server_factory: Callable[..., Awaitable[LoopbackServer]]) -> LoopbackServer:
    return await server_factory()


# --------------------------------------------------------------------------- canaries


@dataclass
class Canary:
    """Listeners on one port of 127.0.0.1 (and ::1 when available) that record everything."""

    port: int = 0
    connections: int = 0
    received: bytearray = field(default_factory=bytearray)
    _servers: list[asyncio.base_events.Server] = field(default_factory=list)
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    async def start(self) -> None:
        v4 = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self._servers.append(v4)
        self.port = v4.sockets[0].getsockname()[1]
        try:
            self._servers.append(await asyncio.start_server(self._serve, "::1", self.port))
        except OSError:
            pass  # no IPv6 loopback here; v6 spellings then hit a closed port (still 0 bytes)

    async def stop(self) -> None:
        for srv in self._servers:
            srv.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        try:
            self.received += await reader.read(65536)
        finally:
            writer.close()
            self._tasks.discard(task)


@pytest.fixture
async def canary(anyio_backend: str) -> AsyncIterator[Canary]:
    c = Canary()
    await c.start()
    yield c
    await c.stop()


# --------------------------------------------------------------------------- safety nets


@pytest.fixture(autouse=True)
def dial_guard(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Record every address httpcore dials; a non-loopback dial fails the test loudly."""
    dialled: list[str] = []
    original = httpcore.AnyIOBackend.connect_tcp

    async def guarded(
        self: httpcore.AnyIOBackend, host: str, port: int, *args: Any, **kwargs: Any
    ) -> Any:
        dialled.append(host)
        if not ipaddress.ip_address(host).is_loopback:  # ValueError for names: also a failure
            raise AssertionError(f"test tried to dial a non-loopback address {host}:{port}")
        return await original(self, host, port, *args, **kwargs)

    monkeypatch.setattr(httpcore.AnyIOBackend, "connect_tcp", guarded)
    yield dialled


def make_resolver(table: dict[str, Sequence[str]], calls: list[str] | None = None) -> Resolver:
    """A resolver answering from `table`; other names get numeric parsing only (no DNS)."""

    async def resolve(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
        if calls is not None:
            calls.append(host)
        key = host.lower().rstrip(".")
        if key in table:
            return [ipaddress.ip_address(a) for a in table[key]]
        try:
            infos = await anyio.getaddrinfo(
                host, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST
            )
        except (OSError, UnicodeError) as exc:
            raise HostResolutionError("host could not be resolved") from exc
        return [ipaddress.ip_address(info[4][0]) for info in infos]

    return resolve


@pytest.fixture
def stub_resolver() -> Callable[..., Resolver]:
    return make_resolver

"""Both wires against one scripted HTTP/1.1 server on 127.0.0.1: the same bytes in, the same
behaviour out. aiohttp carries production traffic; httpx carries injected transports."""

from __future__ import annotations

import asyncio
import os
import ssl
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx
import pytest

from gateway.errors import UpstreamConnectError, UpstreamError, UpstreamTimeoutError
from gateway.upstream.body import Body, Pieces
from gateway.upstream.wire import Wire, open_wire
from gateway.upstream.wire_aiohttp import AiohttpWire
from gateway.upstream.wire_httpx import HttpxWire
from tests.conftest import make_settings
from tests.hardening.loopback import closed_port

pytestmark = pytest.mark.anyio


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    body: bytes
    connection: int


@dataclass
class ScriptedServer:
    """Answers each request with `script(path)`: a list of byte pieces, with float pauses."""

    script: Callable[[str], list[bytes | float]]
    seen: list[Seen] = field(default_factory=list)
    connections: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        number = self.connections
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                self.seen.append(Seen(path, headers, body, number))
                for piece in self.script(path):
                    if isinstance(piece, float):
                        await asyncio.sleep(piece)
                    else:
                        writer.write(piece)
                        await writer.drain()
                if path.endswith("/close"):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def response(body: bytes, *headers: str, length: int | None = None) -> bytes:
    extra = "".join(f"{h}\r\n" for h in headers)
    size = len(body) if length is None else length
    return f"HTTP/1.1 200 OK\r\ncontent-length: {size}\r\n{extra}\r\n".encode() + body


def chunked(*pieces: bytes | float) -> list[bytes | float]:
    out: list[bytes | float] = [b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"]
    for piece in pieces:
        out.append(piece if isinstance(piece, float) else b"%x\r\n%s\r\n" % (len(piece), piece))
    return [*out, b"0\r\n\r\n"]


@asynccontextmanager
async def scripted(
    script: Callable[[str], list[bytes | float]],
) -> AsyncIterator[tuple[ScriptedServer, str]]:
    server = ScriptedServer(script)
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    try:
        yield server, f"http://127.0.0.1:{port}"
    finally:
        listener.close()


def make_wire(kind: str, **settings: object) -> Wire:
    config = make_settings(**settings)
    if kind == "aiohttp":
        return open_wire(config, None)
    return open_wire(config, httpx.AsyncHTTPTransport())


WIRES = pytest.mark.parametrize("kind", ["aiohttp", "httpx"])


async def read_all(wire: Wire, url: str, body: Body | None = b"{}") -> tuple[int, bytes]:
    answer = await wire.send("POST", url, {"x-goog-api-key": "k-123"}, body)
    try:
        return answer.status, b"".join([chunk async for chunk in answer.chunks()])
    finally:
        await answer.close()


def test_no_transport_means_aiohttp_and_a_transport_means_httpx():
    assert isinstance(open_wire(make_settings(), None), AiohttpWire)
    assert isinstance(open_wire(make_settings(), httpx.MockTransport(lambda r: None)), HttpxWire)


@WIRES
async def test_the_body_and_headers_arrive_and_connections_are_reused(kind):
    async with scripted(lambda path: [response(b'{"ok": 1}', "x-extra: yes")]) as (server, base):
        wire = make_wire(kind)
        for _ in range(3):
            status, body = await read_all(wire, base + "/v1beta/models/m:generateContent")
            assert (status, body) == (200, b'{"ok": 1}')
        await wire.aclose()
    assert [seen.body for seen in server.seen] == [b"{}"] * 3
    assert server.seen[0].headers["x-goog-api-key"] == "k-123"
    assert server.seen[0].path == "/v1beta/models/m:generateContent"
    assert server.connections == 1


@WIRES
async def test_a_header_of_the_response_is_readable(kind):
    async with scripted(lambda path: [response(b"{}", "Retry-After: 7")]) as (_, base):
        wire = make_wire(kind)
        answer = await wire.send("GET", base + "/x", {}, None)
        assert answer.header("retry-after") == "7" and answer.header("absent") is None
        await answer.close()
        await wire.aclose()


@WIRES
async def test_a_long_response_header_is_read(kind):
    long = "a" * 20_000  # beyond aiohttp's default 8190-byte field limit
    async with scripted(lambda path: [response(b"{}", f"X-Long: {long}")]) as (_, base):
        wire = make_wire(kind)
        answer = await wire.send("GET", base + "/x", {}, None)
        assert answer.header("x-long") == long
        await answer.close()
        await wire.aclose()


@WIRES
async def test_chunks_arrive_before_the_body_ends(kind):
    def script(path: str) -> list[bytes | float]:
        return chunked(b"data: 1\r\n\r\n", 0.3, b"data: 2\r\n\r\n")

    async with scripted(script) as (_, base):
        wire = make_wire(kind)
        answer = await wire.send("POST", base + "/s", {}, b"{}")
        chunks = answer.chunks()
        loop = asyncio.get_running_loop()
        started = loop.time()
        first = await anext(chunks)
        waited = loop.time() - started
        rest = b"".join([chunk async for chunk in chunks])
        await answer.close()
        await wire.aclose()
    assert first == b"data: 1\r\n\r\n" and rest == b"data: 2\r\n\r\n"
    assert waited < 0.25  # the first chunk did not wait for the pause before the second


@WIRES
async def test_a_body_cut_short_is_an_upstream_error(kind):
    async with scripted(lambda path: [response(b'{"cut', length=100)]) as (_, base):
        wire = make_wire(kind)
        with pytest.raises(UpstreamError) as caught:
            await read_all(wire, base + "/close")
        await wire.aclose()
    assert type(caught.value) is UpstreamError
    assert "connection to Gemini failed" in caught.value.message


@WIRES
async def test_an_upstream_that_stops_reading_the_body_is_a_timeout(kind):
    async def never_reads(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # accepts, then takes nothing: the socket buffers fill up. Long enough that only the
        # wire's read timeout can end the call (a close would be a different error), so no
        # wall-clock assertion is needed (they fail on a loaded machine).
        await asyncio.sleep(30)
        writer.close()

    listener = await asyncio.start_server(never_reads, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    wire = make_wire(kind, read_timeout=0.3)
    try:
        with pytest.raises(UpstreamTimeoutError):
            await read_all(wire, f"http://127.0.0.1:{port}/x", os.urandom(64 * 1024 * 1024))
    finally:
        await wire.aclose()
        listener.close()


@WIRES
async def test_a_refused_connection_is_upstream_unreachable(kind):
    wire = make_wire(kind)
    port = closed_port()
    with pytest.raises(UpstreamConnectError) as caught:
        await wire.send("POST", f"http://127.0.0.1:{port}/x?key=secret-in-query", {}, b"{}")
    await wire.aclose()
    message = caught.value.message
    assert f"127.0.0.1:{port}: connection refused" in message  # which host, what failed
    assert "secret-in-query" not in message and "/x" not in message


@WIRES
async def test_silence_beyond_the_read_timeout_is_an_upstream_timeout(kind):
    async with scripted(lambda path: [2.0, response(b"{}")]) as (_, base):
        wire = make_wire(kind, read_timeout=0.2)
        with pytest.raises(UpstreamTimeoutError):
            await read_all(wire, base + "/slow")
        await wire.aclose()


@WIRES
async def test_a_half_read_body_does_not_poison_the_next_call(kind):
    def script(path: str) -> list[bytes | float]:
        if path == "/big":
            return chunked(b"a" * 1000, 0.1, b"b" * 1000)
        return [response(b"small")]

    async with scripted(script) as (_, base):
        wire = make_wire(kind)
        answer = await wire.send("GET", base + "/big", {}, None)
        await anext(answer.chunks())
        await answer.close()
        assert await read_all(wire, base + "/next", None) == (200, b"small")
        await wire.aclose()


@WIRES
async def test_cookies_from_gemini_are_never_sent_back(kind):
    async with scripted(lambda path: [response(b"{}", "set-cookie: tenant=a; Path=/")]) as (
        server,
        base,
    ):
        wire = make_wire(kind)
        await read_all(wire, base + "/one")
        await read_all(wire, base + "/two")
        await wire.aclose()
    assert all("cookie" not in seen.headers for seen in server.seen)


@WIRES
async def test_proxy_settings_in_the_environment_are_ignored(kind, monkeypatch):
    dead_proxy = f"http://127.0.0.1:{closed_port()}"
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, dead_proxy)
    async with scripted(lambda path: [response(b"{}")]) as (_, base):
        wire = make_wire(kind)
        assert await read_all(wire, base + "/x") == (200, b"{}")
        await wire.aclose()


async def test_a_closed_aiohttp_wire_refuses_new_calls():
    wire = make_wire("aiohttp")
    assert not wire.is_closed
    await wire.aclose()
    assert wire.is_closed
    with pytest.raises(UpstreamError):
        await wire.send("GET", "http://127.0.0.1:1/x", {}, None)


@WIRES
async def test_a_large_body_arrives_whole_with_its_length(kind):
    body = os.urandom(3 * 1024 * 1024 + 7)
    async with scripted(lambda path: [response(b"{}")]) as (server, base):
        wire = make_wire(kind)
        assert await read_all(wire, base + "/big", body) == (200, b"{}")
        assert await read_all(wire, base + "/small", b"{}") == (200, b"{}")
        await wire.aclose()
    assert server.seen[0].body == body and server.seen[0].headers["content-length"] == str(
        len(body)
    )
    assert server.seen[1].body == b"{}"


@WIRES
async def test_a_body_in_pieces_arrives_joined_with_its_length(kind):
    source = os.urandom(2 * 1024 * 1024)
    parts = (b'{"a": "', memoryview(source)[5 : 1024 * 1024 + 300], b"", b'"}', source[:10])
    body = Pieces(parts, sum(len(p) for p in parts))
    async with scripted(lambda path: [response(b"{}")]) as (server, base):
        wire = make_wire(kind)
        assert await read_all(wire, base + "/pieces", body) == (200, b"{}")
        await wire.aclose()
    assert server.seen[0].body == body.joined()
    assert server.seen[0].headers["content-length"] == str(body.size)


def test_the_aiohttp_wire_verifies_tls_against_a_ca_bundle():
    wire = make_wire("aiohttp")
    assert isinstance(wire, AiohttpWire)
    assert wire.tls.verify_mode is ssl.CERT_REQUIRED and wire.tls.check_hostname
    assert wire.tls.cert_store_stats()["x509_ca"] > 50

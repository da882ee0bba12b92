"""One upstream answer may occupy at most GATEWAY_UPSTREAM_MAX_BYTES (a unary body, one stream
event, or a whole non-SSE stream body): beyond, a 502 naming the limit, never gigabytes held.
A declared length beyond it is refused before a byte is read. After a large upstream read, the
gateway gives the memory back when idle, as after large client bodies."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from gateway import app as app_module
from gateway.config import load_settings
from gateway.errors import UpstreamError
from gateway.upstream.client import CallStats, GeminiClient
from tests.conftest import client_for, make_settings, running_app
from tests.hardening.faults import chat_body, envelope

pytestmark = pytest.mark.anyio
MIB = 1024 * 1024


class Endless(httpx.AsyncByteStream):
    """An answer made on the fly, counting what the gateway pulled."""

    def __init__(self, head: bytes, piece: bytes, pieces: int) -> None:
        self.head, self.piece, self.pieces = head, piece, pieces
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.head
        for _ in range(self.pieces):
            self.pulled += 1
            yield self.piece


def gemini(stream: Endless, headers: dict[str, str] | None = None) -> GeminiClient:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=headers, stream=stream)

    settings = make_settings(api_keys=("k",), upstream_max_bytes=MIB)
    return GeminiClient(settings, httpx.MockTransport(handler))


async def test_a_unary_answer_beyond_the_limit_is_a_502_and_reading_stops():
    stream = Endless(b'{"candidates": [{"text": "', b"a" * 64 * 1024, 10_000)  # 640 MB
    client, stats = gemini(stream), CallStats()
    with pytest.raises(UpstreamError) as caught:
        await client.generate("gemini-2.5-flash", b"{}", None, stats)
    await client.aclose()
    assert caught.value.status == 502 and "GATEWAY_UPSTREAM_MAX_BYTES" in caught.value.message
    assert stream.pulled <= 17  # 1 MiB and one piece: not the 640 MB on offer
    assert MIB < stats.received <= MIB + 128 * 1024


async def test_a_declared_length_beyond_the_limit_is_refused_unread():
    stream = Endless(b"{", b"a" * 64 * 1024, 100)
    client = gemini(stream, {"content-length": str(2 * 1024**3)})
    with pytest.raises(UpstreamError, match="GATEWAY_UPSTREAM_MAX_BYTES"):
        await client.generate("gemini-2.5-flash", b"{}", None)
    await client.aclose()
    assert stream.pulled == 0


@pytest.mark.parametrize(
    "head", [b'data: {"candidates": "', b'[{"candidates": "'], ids=["sse", "json-array"]
)
async def test_a_stream_event_beyond_the_limit_is_a_502(head):
    stream = Endless(head, b"a" * 64 * 1024, 10_000)
    client = gemini(stream)
    with pytest.raises(UpstreamError, match="GATEWAY_UPSTREAM_MAX_BYTES"):
        async with client.stream("gemini-2.5-flash", b"{}", None) as events:
            async for _ in events:
                pass
    await client.aclose()
    assert stream.pulled <= 17


def test_the_limit_is_a_setting():
    assert load_settings({}).upstream_max_bytes == 64 * MIB
    assert load_settings({"GATEWAY_UPSTREAM_MAX_BYTES": str(8 * MIB)}).upstream_max_bytes == 8 * MIB
    with pytest.raises(ValueError, match="GATEWAY_UPSTREAM_MAX_BYTES"):
        load_settings({"GATEWAY_UPSTREAM_MAX_BYTES": "1000"})


async def test_memory_is_given_back_after_a_large_upstream_read(monkeypatch):
    """The client sent and got a few hundred bytes, but the gateway read 1 MiB from Gemini
    before refusing it: that read counts towards the idle trim as client bodies do."""
    trims: list[int] = []
    monkeypatch.setattr(app_module, "TRIM_AFTER_BYTES", MIB)
    monkeypatch.setattr(app_module, "IDLE_TRIM_SECONDS", 0.05)
    monkeypatch.setattr(app_module.heap, "trim", lambda: trims.append(1))

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=Endless(b'{"a": "', b"a" * 64 * 1024, 100))

    settings = make_settings(api_keys=("k",), upstream="gemini", upstream_max_bytes=MIB)
    async with running_app(settings, httpx.MockTransport(handler)) as app, client_for(app) as http:
        answer = await http.post("/v1/chat/completions", json=chat_body("hi"))
        assert answer.status_code == 502 and envelope(answer.json())["code"] == "upstream_error"
        assert len(answer.content) < 1024
        async with asyncio.timeout(5):
            while not trims:
                await asyncio.sleep(0.01)
    assert trims == [1]

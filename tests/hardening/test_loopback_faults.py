"""Faults that need real sockets: a refused connection, read timeouts, a hang mid-stream, a
client that leaves (the upstream call must stop), and keep-alive comments while Gemini thinks.
Servers are uvicorn on 127.0.0.1 (tests/hardening/loopback.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from gateway.app import build_app
from gateway.emulator.app import build_emulator_app
from tests.conftest import client_for, make_settings, running_app
from tests.hardening.faults import (
    Reply,
    assert_complete_stream,
    assert_ends_with_error,
    chat,
    chat_body,
)
from tests.hardening.loopback import DisconnectProbe, closed_port, eventually, serve

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

BOTH = pytest.mark.parametrize("stream", [False, True], ids=["unary", "stream"])
KEY = "loopback-key"


def loopback_settings(base_url: str, **overrides: Any) -> Any:
    return make_settings(upstream="gemini", base_url=base_url, api_keys=(KEY,), **overrides)


@contextmanager
def gateway_on(base_url: str, **overrides: Any) -> Iterator[str]:
    """The gateway itself on uvicorn, calling the upstream at `base_url` over the network."""
    app = build_app(loopback_settings(base_url, **overrides))
    with serve(app) as url:
        yield url


@BOTH
async def test_connection_refused_is_a_502_naming_the_host_and_the_failure(stream):
    port = closed_port()
    settings = loopback_settings(f"http://127.0.0.1:{port}")
    async with running_app(settings, None) as app, client_for(app) as http:  # type: ignore[arg-type]
        reply = await chat(http, stream=stream)
    assert reply.status == 502
    assert (reply.error["type"], reply.error["code"]) == ("server_error", "upstream_unreachable")
    assert f"127.0.0.1:{port}: connection refused" in reply.error["message"]
    assert KEY not in reply.error["message"]


@BOTH
async def test_read_timeout_before_any_byte_is_a_504_after_one_retry(stream):
    emulator = build_emulator_app()
    state = emulator.state.emulator
    state.queue_fault("delay", ms=5000, count=2)
    with serve(emulator) as upstream:
        settings = loopback_settings(upstream, read_timeout=0.3)
        async with running_app(settings, None) as app, client_for(app) as http:  # type: ignore[arg-type]
            reply = await chat(http, stream=stream)
            assert reply.status == 504
            assert reply.error["code"] == "upstream_timeout"
            assert len(state.requests) == 2
            assert (await chat(http, stream=stream)).status == 200


async def test_hang_after_the_first_event_ends_the_stream_with_a_timeout_event():
    emulator = build_emulator_app()
    state = emulator.state.emulator
    state.queue_fault("hang", ms=10_000)
    with serve(emulator) as upstream:
        settings = loopback_settings(upstream, read_timeout=0.3)
        async with running_app(settings, None) as app, client_for(app) as http:  # type: ignore[arg-type]
            reply = await chat(http, "hello there", stream=True)
            assert_ends_with_error(reply, "upstream_timeout")
            assert len(state.requests) == 1, "never retried after the first byte"
            assert await eventually(lambda: state.cancelled == 1)
            assert_complete_stream(await chat(http, stream=True))


async def test_unary_hang_beyond_the_read_timeout_is_a_504():
    emulator = build_emulator_app()
    state = emulator.state.emulator
    state.queue_fault("hang", ms=10_000, count=2)
    with serve(emulator) as upstream:
        settings = loopback_settings(upstream, read_timeout=0.3)
        async with running_app(settings, None) as app, client_for(app) as http:  # type: ignore[arg-type]
            reply = await chat(http)
            assert reply.status == 504
            assert len(state.requests) == 2


async def test_total_deadline_bounds_what_the_read_timeout_allows():
    """A generous read timeout never fires here; the total deadline does (and ends retrying)."""
    emulator = build_emulator_app()
    emulator.state.emulator.queue_fault("delay", ms=5000, count=2)
    with serve(emulator) as upstream:
        settings = loopback_settings(upstream, read_timeout=30, total_timeout=0.5)
        async with running_app(settings, None) as app, client_for(app) as http:  # type: ignore[arg-type]
            reply = await chat(http)
    assert reply.status == 504
    assert reply.error["code"] == "upstream_timeout"


# -- the client leaves: the upstream call stops -------------------------------------------------


async def read_until(response: httpx.Response, marker: bytes) -> bytes:
    seen = b""
    async for chunk in response.aiter_raw():
        seen += chunk
        if marker in seen:
            break
    return seen


async def test_client_leaving_mid_stream_cancels_the_upstream_stream():
    emulator = build_emulator_app()
    state = emulator.state.emulator
    state.queue_fault("hang", ms=30_000)
    with serve(emulator) as upstream, gateway_on(upstream) as gateway:
        async with httpx.AsyncClient(base_url=gateway, timeout=10) as http:
            async with http.stream(
                "POST", "/v1/chat/completions", json=chat_body(stream=True)
            ) as response:
                assert response.status_code == 200
                assert b"data: " in await read_until(response, b"data: ")
        assert await eventually(lambda: state.cancelled == 1)
        assert len(state.requests) == 1


async def test_client_leaving_during_keep_alives_cancels_the_upstream_stream():
    emulator = build_emulator_app()
    state = emulator.state.emulator
    state.queue_fault("slow_first", ms=30_000)
    with serve(emulator) as upstream, gateway_on(upstream, keepalive_interval=0.2) as gateway:
        async with httpx.AsyncClient(base_url=gateway, timeout=10) as http:
            async with http.stream(
                "POST", "/v1/chat/completions", json=chat_body(stream=True)
            ) as response:
                assert response.status_code == 200
                await read_until(response, b": keep-alive")
        assert await eventually(lambda: state.cancelled == 1)


async def test_client_leaving_before_the_stream_commits_cancels_the_upstream_call():
    """Before the 200 (waiting for the first event) Starlette watches nothing; run_stream does."""
    emulator = build_emulator_app()
    state = emulator.state.emulator
    state.queue_fault("slow_first", ms=30_000)
    with serve(emulator) as upstream, gateway_on(upstream, keepalive_interval=20) as gateway:
        async with httpx.AsyncClient(base_url=gateway, timeout=httpx.Timeout(10, read=0.3)) as http:
            with pytest.raises(httpx.ReadTimeout):
                await http.post("/v1/chat/completions", json=chat_body(stream=True))
        assert await eventually(lambda: state.cancelled == 1)


async def test_client_leaving_a_unary_call_cancels_the_upstream_call():
    emulator = build_emulator_app()
    state = emulator.state.emulator
    state.queue_fault("delay", ms=30_000)
    probe = DisconnectProbe(emulator)
    with serve(probe) as upstream, gateway_on(upstream) as gateway:
        async with httpx.AsyncClient(base_url=gateway, timeout=httpx.Timeout(10, read=0.3)) as http:
            with pytest.raises(httpx.ReadTimeout):
                await http.post("/v1/chat/completions", json=chat_body())
        assert await eventually(lambda: probe.gone_early == 1)
        assert len(state.requests) == 1


async def test_keep_alive_comments_flow_while_gemini_thinks_and_the_stream_completes():
    emulator = build_emulator_app()
    emulator.state.emulator.queue_fault("slow_first", ms=1500)
    with serve(emulator) as upstream, gateway_on(upstream, keepalive_interval=0.2) as gateway:
        async with httpx.AsyncClient(base_url=gateway, timeout=10) as http:
            response = await http.post(
                "/v1/chat/completions", json=chat_body("still there", stream=True)
            )
    body = response.content
    first_data = body.index(b"data: ")
    assert body[:first_data].count(b": keep-alive\n\n") >= 2
    assert "still there" in assert_complete_stream(
        Reply(response.status_code, response.headers, body)
    )

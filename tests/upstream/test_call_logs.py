"""What an operator sees of the upstream at debug and warning, through the app and the emulator:
every attempt's URL (path, model, never a key), each retry decision with its reason and wait,
and one warning per request that met a 5xx or a timeout however many attempts it made, a
timeout while reading an answer after its headers included."""

from __future__ import annotations

import logging
from typing import Any

import anyio
import pytest

from tests.conftest import client_for, emulator_stack, make_settings, running_app
from tests.hardening.loopback import serve
from tests.upstream.test_failure import format_as_shipped

pytestmark = pytest.mark.anyio

KEY = "AIzaDEBUGLOGKEY000000000001"
ODD_KEY = "plain-server-key-77"  # not AIza-shaped: only scrubbing by value would hide it
MODEL = "gemini-2.5-flash"


def lines(caplog: pytest.LogCaptureFixture, message: str) -> list[Any]:
    return [r for r in caplog.records if r.getMessage() == message]


async def test_each_upstream_call_is_logged_at_debug_without_the_key(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with emulator_stack(api_keys=(KEY, ODD_KEY)) as stack:
        client = stack.openai()
        messages = [{"role": "user", "content": "hello"}]
        await client.chat.completions.create(model=MODEL, messages=messages)
        stream = await client.chat.completions.create(model=MODEL, messages=messages, stream=True)
        _ = [chunk async for chunk in stream]
    calls = lines(caplog, "upstream call")
    urls = [r.upstream_url for r in calls]
    assert [u.rsplit("/", 1)[-1] for u in urls] == [
        f"{MODEL}:generateContent",
        f"{MODEL}:streamGenerateContent?alt=sse",
    ]
    assert all(u.startswith("http") and "/models/" in u for u in urls)
    assert {(r.model, r.method, r.attempt, r.levelno) for r in calls} == {
        (MODEL, "POST", 1, logging.DEBUG)
    }
    # Neither the records as built nor the lines as shipped hold a configured key.
    raw = " ".join(str(vars(r)) for r in caplog.records)
    shipped = "\n".join(format_as_shipped(r) for r in caplog.records)
    for secret in (KEY, ODD_KEY):
        assert secret not in raw and secret not in shipped and secret not in caplog.text


async def test_retries_are_debug_decisions_and_the_5xx_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with emulator_stack(api_keys=(KEY,), max_retries=3) as stack, stack.http() as http:
        stack.emulator.queue_fault("status", code=503, count=2)
        body = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}
        reply = await http.post("/v1/chat/completions", json=body)
        assert reply.status_code == 200
    decisions = lines(caplog, "retrying upstream call")
    assert [(r.attempt, r.status, r.retry) for r in decisions] == [(1, 503, True), (2, 503, True)]
    assert all(0.25 <= r.wait_s <= 2.0 and "overloaded" in r.why for r in decisions)
    (warning,) = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert warning.getMessage().startswith("upstream call failed: ")
    assert (warning.model, warning.status, warning.retry) == (MODEL, 503, True)
    assert warning.upstream_host.count(":") == 1 and "/" not in warning.upstream_host
    assert [r.attempt for r in lines(caplog, "upstream call")] == [1, 2, 3]
    (access,) = [r for r in caplog.records if r.name == "gateway.access"]
    assert (access.attempts, access.retries) == (3, 2)
    assert KEY not in caplog.text


async def test_a_request_that_gives_up_still_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with emulator_stack(max_retries=2) as stack, stack.http() as http:
        stack.emulator.queue_fault("status", code=500, count=5)
        body = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "stream": True}
        reply = await http.post("/v1/chat/completions", json=body)
        assert reply.status_code == 500
    warnings = [r for r in caplog.records if r.name == "gateway.upstream" and r.levelno >= 30]
    assert [(r.status, r.model) for r in warnings] == [(500, MODEL)]
    final = lines(caplog, "not retrying upstream call")
    assert [(r.attempt, r.retry) for r in final] == [(3, False)]


async def stalls_mid_body(scope: Any, receive: Any, send: Any) -> None:
    """An upstream that sends its headers and the start of the answer, then goes quiet."""
    if scope["type"] != "http":
        return
    headers = [(b"content-type", b"application/json"), (b"content-length", b"200")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b'{"candidates": [', "more_body": True})
    await anyio.sleep(1.0)


async def test_a_unary_answer_that_stalls_after_its_headers_is_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    with serve(stalls_mid_body) as upstream:
        settings = make_settings(
            upstream="gemini", base_url=upstream, api_keys=(KEY,), read_timeout=0.2
        )
        async with running_app(settings, None) as app, client_for(app) as http:
            body = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}
            reply = await http.post("/v1/chat/completions", json=body)
    assert reply.status_code == 504
    warnings = [r for r in caplog.records if r.name == "gateway.upstream" and r.levelno >= 30]
    assert [(r.status, r.code, r.model) for r in warnings] == [(504, "upstream_timeout", MODEL)]
    assert warnings[0].upstream_host == upstream.removeprefix("http://")
    assert KEY not in caplog.text

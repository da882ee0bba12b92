"""Large bodies are read only with a place under the gate; small ones never wait for it."""

from __future__ import annotations

import asyncio

import httpx
import orjson
import pytest
from starlette.requests import Request

from gateway.config import load_settings
from gateway.errors import InvalidRequestError, RequestTooLargeError
from gateway.routes import common
from gateway.routes.common import LARGE_BODY_BYTES, read_json
from tests.conftest import make_settings, running_app

pytestmark = pytest.mark.anyio


def request_with(body: bytes, pulls: list[int]) -> Request:
    async def receive() -> dict[str, object]:
        pulls.append(len(body))
        return {"type": "http.request", "body": body, "more_body": False}

    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    return Request({"type": "http", "method": "POST", "headers": headers}, receive)


async def test_a_large_body_waits_unread_while_the_gate_is_full():
    gate = asyncio.Semaphore(1)
    big = orjson.dumps({"text": "x" * LARGE_BODY_BYTES})
    pulls: list[int] = []
    await gate.acquire()
    reading = asyncio.create_task(read_json(request_with(big, pulls), 2 * len(big), gate))
    await asyncio.sleep(0.05)
    assert pulls == [] and not reading.done()
    gate.release()
    assert (await reading)["text"] == "x" * LARGE_BODY_BYTES
    assert pulls == [len(big)]


async def test_a_small_body_is_read_even_when_the_gate_is_full():
    gate = asyncio.Semaphore(1)
    await gate.acquire()
    pulls: list[int] = []
    body = await asyncio.wait_for(read_json(request_with(b'{"a": 1}', pulls), 1024, gate), 1)
    assert body == {"a": 1}


def stalled_request(body: bytes, resume: asyncio.Event) -> Request:
    """Sends the first half of `body`, then nothing until `resume` is set."""
    halves = [body[: len(body) // 2], body[len(body) // 2 :]]

    async def receive() -> dict[str, object]:
        if len(halves) == 1:
            await resume.wait()
        return {"type": "http.request", "body": halves.pop(0), "more_body": bool(halves)}

    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    return Request({"type": "http", "method": "POST", "headers": headers}, receive)


async def test_a_slow_upload_gives_its_place_up_and_takes_one_back_to_parse(monkeypatch):
    monkeypatch.setattr(common, "SLOW_UPLOAD_SECONDS", 0.05)
    gate = asyncio.Semaphore(1)
    big = orjson.dumps({"text": "y" * LARGE_BODY_BYTES})
    resume = asyncio.Event()
    slow = asyncio.create_task(read_json(stalled_request(big, resume), 2 * len(big), gate))
    await asyncio.sleep(0.01)
    assert gate.locked()  # the slow upload holds the only place...
    fast = await asyncio.wait_for(read_json(request_with(big, []), 2 * len(big), gate), 1)
    assert fast["text"] == "y" * LARGE_BODY_BYTES  # ...until it has been slow for too long
    resume.set()
    assert (await slow)["text"] == "y" * LARGE_BODY_BYTES
    assert not gate.locked()


async def test_the_place_comes_back_when_reading_fails():
    gate = asyncio.Semaphore(1)
    big = b'{"text": "' + b"z" * LARGE_BODY_BYTES + b'"'  # truncated JSON
    with pytest.raises(InvalidRequestError):
        await read_json(request_with(big, []), 2 * len(big), gate)
    with pytest.raises(RequestTooLargeError):
        await read_json(request_with(big, []), LARGE_BODY_BYTES, gate)
    assert not gate.locked()


def unreachable(request: httpx.Request) -> httpx.Response:
    raise AssertionError("no upstream call expected")


async def test_the_number_of_places_comes_from_the_settings():
    async with running_app(
        make_settings(max_concurrent_large=2), httpx.MockTransport(unreachable)
    ) as app:
        gate = app.state.services.large_bodies
        await gate.acquire()
        await gate.acquire()
        assert gate.locked()
    assert load_settings({}).max_concurrent_large == 4
    assert load_settings({"GATEWAY_MAX_CONCURRENT_LARGE": "2"}).max_concurrent_large == 2
    with pytest.raises(ValueError, match="at least 1"):
        load_settings({"GATEWAY_MAX_CONCURRENT_LARGE": "0"})

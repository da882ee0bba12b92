"""Large bodies are read only with a place under the gate; small ones never wait for it; slow
uploads give their place up, but never more of them than the cap allows."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx
import orjson
import pytest
from starlette.requests import Request

from gateway.config import load_settings
from gateway.errors import InvalidRequestError, RequestTooLargeError
from gateway.routes.common import LARGE_BODY_BYTES, read_json
from gateway.serving.body_gate import LargeBodyGate, Place
from tests.conftest import make_settings, running_app

pytestmark = pytest.mark.anyio
BIG = orjson.dumps({"text": "x" * LARGE_BODY_BYTES})


def request_with(body: bytes, pulls: list[int]) -> Request:
    async def receive() -> dict[str, object]:
        pulls.append(len(body))
        return {"type": "http.request", "body": body, "more_body": False}

    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    return Request({"type": "http", "method": "POST", "headers": headers}, receive)


def stalled_request(
    body: bytes, resume: asyncio.Event, half_sent: asyncio.Event | None = None
) -> Request:
    """Sends the first half of `body` (then sets `half_sent`), then nothing until `resume`."""
    halves = [body[: len(body) // 2], body[len(body) // 2 :]]

    async def receive() -> dict[str, object]:
        if len(halves) == 1:
            if half_sent is not None:
                half_sent.set()
            await resume.wait()
        return {"type": "http.request", "body": halves.pop(0), "more_body": bool(halves)}

    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    return Request({"type": "http", "method": "POST", "headers": headers}, receive)


async def until(condition: Callable[[], bool], seconds: float = 10) -> None:
    """Yields to the loop until `condition` holds (event-driven: no margin to tune)."""
    async with asyncio.timeout(seconds):
        while not condition():
            await asyncio.sleep(0.005)


@asynccontextmanager
async def occupied(gate: LargeBodyGate) -> AsyncIterator[Place]:
    """Holds one of the gate's places for the duration."""
    async with gate.place() as place:
        await place.back()  # keeps it: no timer left to give it up
        yield place


async def test_a_large_body_waits_unread_while_the_gate_is_full():
    gate = LargeBodyGate(1)
    pulls: list[int] = []
    async with occupied(gate):
        reading = asyncio.create_task(read_json(request_with(BIG, pulls), 2 * len(BIG), gate))
        await asyncio.sleep(0.05)
        assert pulls == [] and not reading.done()
    assert (await reading)["text"] == "x" * LARGE_BODY_BYTES
    assert pulls == [len(BIG)] and not gate.full


async def test_a_small_body_is_read_even_when_the_gate_is_full():
    gate = LargeBodyGate(1)
    async with occupied(gate):
        body = await asyncio.wait_for(read_json(request_with(b'{"a": 1}', []), 1024, gate), 1)
    assert body == {"a": 1}


async def test_a_slow_upload_gives_its_place_up_and_takes_one_back_to_parse():
    gate = LargeBodyGate(1, slow_seconds=0.05)
    resume, half_sent = asyncio.Event(), asyncio.Event()
    slow = asyncio.create_task(
        read_json(stalled_request(BIG, resume, half_sent), 2 * len(BIG), gate)
    )
    await half_sent.wait()  # the slow upload took the only place before it began to send
    fast = await asyncio.wait_for(read_json(request_with(BIG, []), 2 * len(BIG), gate), 10)
    assert fast["text"] == "x" * LARGE_BODY_BYTES  # ...and gave it up for being slow
    assert gate.placeless == 1 and not slow.done()
    resume.set()
    assert (await slow)["text"] == "x" * LARGE_BODY_BYTES
    assert not gate.full and gate.placeless == 0


async def test_no_more_bodies_go_without_a_place_than_the_cap_allows():
    gate = LargeBodyGate(1, slow_seconds=0.05, placeless_cap=1)
    resume = asyncio.Event()
    first = asyncio.create_task(read_json(stalled_request(BIG, resume), 2 * len(BIG), gate))
    await until(lambda: gate.placeless == 1)  # first has given its place up
    second_sent = asyncio.Event()
    second = asyncio.create_task(
        read_json(stalled_request(BIG, resume, second_sent), 2 * len(BIG), gate)
    )
    await second_sent.wait()
    await asyncio.sleep(0.2)  # second is slow too (4x slow_seconds), but the slot is taken
    assert gate.placeless == 1 and gate.full
    pulls: list[int] = []
    third = asyncio.create_task(read_json(request_with(BIG, pulls), 2 * len(BIG), gate))
    await asyncio.sleep(0.05)
    assert pulls == []  # waits unread: at most two bodies in memory with one place
    resume.set()
    for reading in (first, second, third):
        assert (await asyncio.wait_for(reading, 2))["text"] == "x" * LARGE_BODY_BYTES
    assert not gate.full and gate.placeless == 0


async def test_the_place_comes_back_when_reading_fails_or_is_cancelled():
    gate = LargeBodyGate(1, slow_seconds=0.05)
    truncated = b'{"text": "' + b"z" * LARGE_BODY_BYTES + b'"'
    with pytest.raises(InvalidRequestError):
        await read_json(request_with(truncated, []), 2 * len(truncated), gate)
    with pytest.raises(RequestTooLargeError):
        await read_json(request_with(truncated, []), LARGE_BODY_BYTES, gate)
    stalled = asyncio.create_task(
        read_json(stalled_request(BIG, asyncio.Event()), 2 * len(BIG), gate)
    )
    await until(lambda: gate.placeless == 1)
    stalled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await stalled
    assert not gate.full and gate.placeless == 0


def unreachable(request: httpx.Request) -> httpx.Response:
    raise AssertionError("no upstream call expected")


async def test_the_number_of_places_comes_from_the_settings():
    async with running_app(
        make_settings(max_concurrent_large=2), httpx.MockTransport(unreachable)
    ) as app:
        gate = app.state.services.large_bodies
        assert isinstance(gate, LargeBodyGate) and gate.places == 2
    assert load_settings({}).max_concurrent_large == 1
    assert load_settings({"GATEWAY_MAX_CONCURRENT_LARGE": "2"}).max_concurrent_large == 2
    with pytest.raises(ValueError, match="at least 1"):
        load_settings({"GATEWAY_MAX_CONCURRENT_LARGE": "0"})

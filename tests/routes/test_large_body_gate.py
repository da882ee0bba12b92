"""Large bodies are read only with a place under the gate; small ones never wait for it."""

from __future__ import annotations

import asyncio

import orjson
import pytest
from starlette.requests import Request

from gateway.routes.common import LARGE_BODY_BYTES, read_json

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

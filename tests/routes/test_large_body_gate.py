"""Large bodies are read only with a place under the gate; small ones never wait for it; slow
uploads give their place up, even while stalled; no more of them read on than the cap allows."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx
import orjson
import pytest
from starlette.requests import Request

from gateway.config import load_settings
from gateway.errors import InvalidRequestError, RequestTooLargeError, ServerBusyError
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
    assert gate.placeless == 0 and not slow.done()  # stalled in a read: it holds nothing
    resume.set()
    assert (await slow)["text"] == "x" * LARGE_BODY_BYTES
    assert not gate.full and gate.placeless == 0


def paced_request(body: bytes, waits: list[asyncio.Event], pulled: list[int]) -> Request:
    """`body` in len(waits) + 1 pieces: the first at once, each later one once its event is
    set; `pulled` counts the pieces handed over."""
    size = -(-len(body) // (len(waits) + 1))
    pieces = [body[i : i + size] for i in range(0, len(body), size)]

    async def receive() -> dict[str, object]:
        n = len(pulled)
        if n:
            await waits[n - 1].wait()
        pulled.append(n)
        return {"type": "http.request", "body": pieces[n], "more_body": n + 1 < len(pieces)}

    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    return Request({"type": "http", "method": "POST", "headers": headers}, receive)


async def test_stalled_uploads_never_hold_the_place_an_honest_body_needs():
    """The black-box probe: twelve uploads announce large bodies and stall. Nine of them held
    the gate for good (the cap of placeless readers was full, so the ninth kept its place);
    now each gives its place up while stalled, and an honest large body is read meanwhile."""
    gate = LargeBodyGate(1, slow_seconds=0.05, placeless_cap=8)
    never = asyncio.Event()
    sent = [asyncio.Event() for _ in range(12)]
    stalled = [
        asyncio.create_task(read_json(stalled_request(BIG, never, s), 2 * len(BIG), gate))
        for s in sent
    ]
    for half_sent in sent:
        await asyncio.wait_for(half_sent.wait(), 10)
    honest = await asyncio.wait_for(read_json(request_with(BIG, []), 2 * len(BIG), gate), 10)
    assert honest["text"] == "x" * LARGE_BODY_BYTES
    assert not any(task.done() for task in stalled)
    for task in stalled:
        task.cancel()
    await asyncio.gather(*stalled, return_exceptions=True)
    assert not gate.full and gate.placeless == 0 and gate.parked == 0


async def test_beyond_the_cap_a_slow_upload_is_parked_unread_until_a_slot_frees():
    gate = LargeBodyGate(1, slow_seconds=0.05, placeless_cap=1)
    go_a, end_a, go_b, end_b = (asyncio.Event() for _ in range(4))
    pulled_a: list[int] = []
    pulled_b: list[int] = []
    first = asyncio.create_task(
        read_json(paced_request(BIG, [go_a, end_a], pulled_a), 2 * len(BIG), gate)
    )
    await until(lambda: len(pulled_a) == 1 and not gate.full)  # slow: its place went back
    go_a.set()
    await until(lambda: gate.placeless == 1)  # reads on with the only placeless slot
    second = asyncio.create_task(
        read_json(paced_request(BIG, [go_b, end_b], pulled_b), 2 * len(BIG), gate)
    )
    await until(lambda: len(pulled_b) == 1 and not gate.full)
    go_b.set()
    await until(lambda: gate.parked == 1)
    assert len(pulled_b) == 2  # its second piece came in; the third is not read while parked
    third = await asyncio.wait_for(read_json(request_with(BIG, []), 2 * len(BIG), gate), 10)
    assert third["text"] == "x" * LARGE_BODY_BYTES  # the place stayed free for it
    end_b.set()
    await asyncio.sleep(0.05)
    assert len(pulled_b) == 2 and gate.parked == 1
    end_a.set()
    for reading in (first, second):
        assert (await asyncio.wait_for(reading, 10))["text"] == "x" * LARGE_BODY_BYTES
    assert pulled_b == [0, 1, 2]
    assert not gate.full and gate.placeless == 0 and gate.parked == 0


async def test_a_body_parked_too_long_is_a_503_to_retry():
    gate = LargeBodyGate(1, slow_seconds=0.05, placeless_cap=1, park_seconds=0.1)
    go_a, go_b, never = asyncio.Event(), asyncio.Event(), asyncio.Event()
    pulled_a: list[int] = []
    pulled_b: list[int] = []
    first = asyncio.create_task(
        read_json(paced_request(BIG, [go_a, never], pulled_a), 2 * len(BIG), gate)
    )
    await until(lambda: len(pulled_a) == 1 and not gate.full)
    go_a.set()
    await until(lambda: gate.placeless == 1)
    second = asyncio.create_task(
        read_json(paced_request(BIG, [go_b, never], pulled_b), 2 * len(BIG), gate)
    )
    await until(lambda: len(pulled_b) == 1 and not gate.full)
    go_b.set()
    with pytest.raises(ServerBusyError) as refused:
        await asyncio.wait_for(second, 10)
    assert refused.value.status == 503 and refused.value.headers()["retry-after"] == "1"
    first.cancel()
    await asyncio.gather(first, return_exceptions=True)
    assert not gate.full and gate.placeless == 0 and gate.parked == 0


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
    await until(lambda: not gate.full)
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


async def test_a_large_body_is_parsed_off_the_event_loop(monkeypatch):
    """Parsing and depth-checking megabytes (100,000 messages: 3 MB) held every other request,
    /healthz included, for seconds; a large body is parsed on a worker thread."""
    import threading

    from gateway.routes import common

    threads: list[bool] = []
    parse = common._parse_json

    def recording(body: bytes, spans: object) -> object:
        threads.append(threading.current_thread() is threading.main_thread())
        return parse(body, spans)  # type: ignore[arg-type]

    monkeypatch.setattr(common, "_parse_json", recording)
    gate = LargeBodyGate(1)
    assert (await read_json(request_with(BIG, []), 2 * len(BIG), gate))["text"]
    assert (await read_json(request_with(b'{"a": 1}', []), 1024, gate)) == {"a": 1}
    assert threads == [False, True]  # the large one off the loop's thread, the small one on it

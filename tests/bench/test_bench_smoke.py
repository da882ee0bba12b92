"""The benchmark's verification step, in-process: one request per scenario through the gateway
on the bench's fake upstream, every answer checked in full. Plus the pieces a benchmark run
relies on: the per-response load checks, the event count, and the Python load generator over
loopback. No timing is asserted anywhere."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import orjson
import pytest
import uvicorn

from bench.fake_upstream import FakeGemini
from bench.load import run_python
from bench.payloads import Canned, FakeConfig, make_png, scenarios
from bench.procs import free_port
from bench.verify import (
    InProcessUpstream,
    count_stream,
    load_expect,
    verify_direct,
    verify_gateway,
)
from tests.conftest import client_for, make_settings, running_app

pytestmark = pytest.mark.anyio
SMALL = FakeConfig(sse_events=5, image_bytes=30_000, image_sig_bytes=3_000)


def small_scenarios() -> dict:
    return scenarios(images=2, image_bytes=20_000)


async def test_every_scenario_verifies_through_the_gateway():
    fake = FakeGemini(SMALL)
    settings = make_settings(upstream="gemini", api_keys=("bench-key",), base_url="http://fake")
    async with running_app(settings, httpx.ASGITransport(app=fake)) as app:
        async with client_for(app) as client:
            verdicts = await verify_gateway(
                client, InProcessUpstream(fake), small_scenarios(), fake.canned, strict=True
            )
    assert set(verdicts) == {
        "text",
        "stream",
        "img4",
        "imgout",
        "rtext",
        "rstream",
        "rimg4",
        "rimgout",
    }
    failed = {name: v.detail for name, v in verdicts.items() if not v.ok}
    assert not failed
    assert fake.hits == 8


async def test_verification_catches_a_gateway_that_alters_the_answer():
    """A stand-in 'gateway' that drops the image and the last event must fail verification."""
    fake = FakeGemini(SMALL)
    canned = fake.canned
    events = [
        {"choices": [{"index": 0, "delta": {"content": t}, "finish_reason": None}]}
        for t in canned.stream_texts[:-1]
    ]
    stream = b"".join(b"data: " + orjson.dumps(e) + b"\n\n" for e in events) + b"data: [DONE]\n\n"
    unary = {"choices": [{"message": {"content": canned.text}, "finish_reason": "stop"}]}

    async def lossy(scope, receive, send):
        if scope["type"] != "http":
            return
        if scope["path"].startswith("/bench"):
            await fake(scope, receive, send)
            return
        body = orjson.loads((await receive())["body"])
        fake.hits += 1
        data = stream if body.get("stream") else orjson.dumps(unary)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": data})

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=lossy), base_url="http://gw"
    ) as client:
        verdicts = await verify_gateway(
            client, InProcessUpstream(fake), small_scenarios(), canned, strict=True
        )
    assert not verdicts["stream"].ok and "events out 4 != events in 5" in verdicts["stream"].detail
    assert not verdicts["imgout"].ok and "image" in verdicts["imgout"].detail
    assert not verdicts["img4"].ok  # nothing reached the upstream with the images
    for twin in ("rtext", "rstream", "rimg4", "rimgout"):  # chat answers to Responses requests
        assert not verdicts[twin].ok


async def test_the_direct_floor_verifies():
    fake = FakeGemini(SMALL)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=fake), base_url="http://fake"
    ) as client:
        verdicts = await verify_direct(
            client, InProcessUpstream(fake), small_scenarios(), fake.canned
        )
    assert all(v.ok for v in verdicts.values()), verdicts


async def test_load_checks_accept_real_answers_and_reject_truncated_ones():
    fake = FakeGemini(SMALL)
    settings = make_settings(upstream="gemini", api_keys=("bench-key",), base_url="http://fake")
    chosen = small_scenarios()
    async with running_app(settings, httpx.ASGITransport(app=fake)) as app:
        async with client_for(app) as client:
            for name, scenario in chosen.items():
                response = await client.post(
                    scenario.path,
                    content=scenario.openai_body,
                    headers={"content-type": "application/json"},
                )
                expect = load_expect(name, fake.canned, "gateway", strict=True)
                assert expect.accepts(response.status_code, response.content), name
                truncated = response.content[: len(response.content) // 2]
                assert not expect.accepts(200, truncated), name
                assert not expect.accepts(500, response.content), name


def test_stream_events_are_counted_apart_from_framing():
    chunks = [
        {"choices": [{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}]},
        {"choices": [{"index": 0, "delta": {"content": "a"}, "finish_reason": None}]},
        {"choices": [{"index": 0, "delta": {"content": "b"}, "finish_reason": "stop"}]},
        {"choices": [], "usage": {"total_tokens": 3}},
    ]
    body = b"".join(b"data: " + orjson.dumps(c) + b"\n\n" for c in chunks) + b"data: [DONE]\n\n"
    counted = count_stream(body)
    assert (counted.events, counted.framing) == (2, 3)
    assert counted.content == "ab" and counted.finish == "stop" and counted.done


def test_pngs_have_the_exact_size_and_decode():
    import io

    from PIL import Image

    for size in (200, 5_000, 70_000):
        png = make_png(size, seed=size)
        assert len(png) == size
        Image.open(io.BytesIO(png)).load()


@pytest.fixture
def loopback_fake() -> Iterator[tuple[int, Canned]]:
    fake = FakeGemini(SMALL)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(fake, host="127.0.0.1", port=port, log_config=None, lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(500):
        if server.started:
            break
        time.sleep(0.01)
    try:
        yield port, fake.canned
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_python_load_generator_checks_every_response(loopback_fake):
    port, canned = loopback_fake
    scenario = small_scenarios()["stream"]
    good = load_expect("stream", canned, "direct", strict=True)
    result = run_python(
        port, scenario.gemini_path, scenario.gemini_body, good, conc=2, seconds=5, max_requests=20
    )
    assert (result.requests, result.errors, result.bad) == (20, 0, 0)
    wrong = load_expect("stream", canned, "gateway", strict=True)  # expects [DONE]
    result = run_python(
        port, scenario.gemini_path, scenario.gemini_body, wrong, conc=1, seconds=5, max_requests=3
    )
    assert (result.requests, result.bad) == (3, 3)

"""Fault injection: queued (state / control endpoint) and by `#fault=` directive; cancellation."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest

pytestmark = pytest.mark.anyio

MODEL = "gemini-3-pro-preview"
BODY = {"contents": [{"role": "user", "parts": [{"text": "one two three four"}]}]}


def with_text(text: str) -> dict[str, Any]:
    return {"contents": [{"role": "user", "parts": [{"text": text}]}]}


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (400, "INVALID_ARGUMENT"),
        (500, "INTERNAL"),
        (503, "UNAVAILABLE"),
        (504, "DEADLINE_EXCEEDED"),
    ],
)
async def test_status_fault_applies_once(emu: Any, code: int, status: str) -> None:
    emu.state.queue_fault(f"status:{code}")
    response = await emu.generate(MODEL, BODY)
    assert response.status_code == code
    assert response.json()["error"]["status"] == status
    assert (await emu.generate(MODEL, BODY)).status_code == 200


async def test_429_carries_quota_and_retry_info(emu: Any) -> None:
    emu.state.queue_fault("status", code=429, retry_delay="1.5s")
    error = (await emu.generate(MODEL, BODY)).json()["error"]
    assert error["status"] == "RESOURCE_EXHAUSTED"
    by_type = {d["@type"].rsplit(".", 1)[-1]: d for d in error["details"]}
    assert by_type["RetryInfo"]["retryDelay"] == "1.5s"
    assert (
        by_type["QuotaFailure"]["violations"][0]["quotaId"]
        == "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"
    )
    emu.state.queue_fault("429perday")
    error = (await emu.generate(MODEL, BODY)).json()["error"]
    quota = next(d for d in error["details"] if d["@type"].endswith("QuotaFailure"))
    assert quota["violations"][0]["quotaId"] == "GenerateRequestsPerDayPerProjectPerModel-FreeTier"
    retry = next(d for d in error["details"] if d["@type"].endswith("RetryInfo"))
    assert retry["retryDelay"] == "0.05s"


async def test_count_and_order(emu: Any) -> None:
    emu.state.queue_fault("status:503", count=2)
    emu.state.queue_fault("html502")
    codes = [(await emu.generate(MODEL, BODY)).status_code for _ in range(4)]
    assert codes == [503, 503, 502, 200]


async def test_html502(emu: Any) -> None:
    emu.state.queue_fault("html502")
    response = await emu.stream(MODEL, BODY)
    assert response.status_code == 502
    assert response.headers["content-type"].startswith("text/html")
    assert b"<html" in response.content


async def test_array_error(emu: Any) -> None:
    emu.state.queue_fault("array_error")
    response = await emu.generate(MODEL, BODY)
    assert response.status_code == 400
    (item,) = response.json()
    assert item["error"]["status"] == "INVALID_ARGUMENT"


async def test_delay_and_slow_first_still_answer(emu: Any) -> None:
    emu.state.queue_fault("delay:5")
    assert (await emu.generate(MODEL, BODY)).status_code == 200
    emu.state.queue_fault("delay", ms=5)
    assert (await emu.chunks(MODEL, BODY))[-1]["candidates"][0]["finishReason"] == "STOP"
    emu.state.queue_fault("slow_first:5")
    assert (await emu.chunks(MODEL, BODY))[-1]["candidates"][0]["finishReason"] == "STOP"


async def test_truncate(emu: Any) -> None:
    emu.state.queue_fault("truncate", count=3)
    chunks = await emu.chunks(MODEL, BODY)
    assert len(chunks) == 1 and "finishReason" not in chunks[0]["candidates"][0]
    array = await emu.stream(MODEL, BODY, sse=False)
    assert array.content.startswith(b"[{") and not array.content.endswith(b"]")
    unary = await emu.generate(MODEL, BODY)
    assert unary.status_code == 200
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(unary.content)
    assert emu.state.issued == []


async def test_malformed(emu: Any) -> None:
    emu.state.queue_fault("malformed", count=2)
    response = await emu.stream(MODEL, BODY)
    events = response.content.split(b"\r\n\r\n")
    orjson.loads(events[0][len(b"data: ") :])
    assert events[1].startswith(b"data: ")
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(events[1][len(b"data: ") :])
    unary = await emu.generate(MODEL, BODY)
    assert unary.status_code == 200
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(unary.content)


async def test_no_finish(emu: Any) -> None:
    emu.state.queue_fault("no_finish", count=2)
    chunks = await emu.chunks(MODEL, BODY)
    assert len(chunks) > 1
    assert all("finishReason" not in c["candidates"][0] for c in chunks)
    unary = await emu.ok(MODEL, BODY)
    assert "finishReason" not in unary["candidates"][0]


async def test_wrong_content_type(emu: Any) -> None:
    emu.state.queue_fault("wrong_content_type")
    response = await emu.generate(MODEL, BODY)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")


async def test_short_hang_ends_without_finish(emu: Any) -> None:
    emu.state.queue_fault("hang", ms=5)
    chunks = await emu.chunks(MODEL, BODY)
    assert len(chunks) == 1 and "finishReason" not in chunks[0]["candidates"][0]
    assert emu.state.cancelled == 0


async def test_directive_faults_apply_every_time(emu: Any) -> None:
    for _ in range(2):
        response = await emu.generate(MODEL, with_text("please fail #fault=status:500"))
        assert response.status_code == 500
    chunks = await emu.chunks(MODEL, with_text("cut me #fault=truncate"))
    assert len(chunks) == 1
    bad = await emu.generate(MODEL, with_text("#fault=explode"))
    assert bad.status_code == 400 and "unknown fault" in bad.json()["error"]["message"]


async def test_control_endpoints(emu: Any) -> None:
    response = await emu.client.post("/_emulator/faults", json={"kind": "status:503", "count": 2})
    assert response.status_code == 200
    assert (await emu.client.get("/_emulator/stats")).json()["pendingFaults"] == 2
    assert (await emu.generate(MODEL, BODY)).status_code == 503
    assert (await emu.client.post("/_emulator/faults", json={"kind": "nope"})).status_code == 400
    stats = (await emu.client.get("/_emulator/stats")).json()
    assert (
        stats["requests"] == 1
        and stats["methods"] == {"generateContent": 1}
        and stats["pendingFaults"] == 1
    )
    await emu.client.post("/_emulator/reset")
    stats = (await emu.client.get("/_emulator/stats")).json()
    assert stats == {
        "requests": 0,
        "methods": {},
        "issued": 0,
        "cancelled": 0,
        "pendingFaults": 0,
        "verdicts": {},
        "tokens": {"token_uri": 0, "metadata": 0},
    }


async def test_faults_only_hit_generation_calls(emu: Any) -> None:
    emu.state.queue_fault("status:503")
    assert (await emu.client.get("/v1beta/models")).status_code == 200
    assert (
        await emu.client.post(f"/v1beta/models/{MODEL}:countTokens", json=BODY)
    ).status_code == 200
    assert (await emu.generate(MODEL, BODY)).status_code == 503


def _scope(path: str) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"alt=sse",
        "root_path": "",
        "headers": [(b"x-goog-api-key", b"k"), (b"content-type", b"application/json")],
        "server": ("emulator", 80),
        "client": ("test", 1),
    }


async def _start_hanging_stream(
    app: Any, *, disconnect: bool
) -> tuple[asyncio.Task[None], asyncio.Event]:
    """Drive the ASGI app by hand so the test sees the first event before the stream ends."""
    first_event = asyncio.Event()
    request_sent = False

    async def receive() -> dict[str, Any]:
        nonlocal request_sent
        if not request_sent:
            request_sent = True
            return {"type": "http.request", "body": orjson.dumps(BODY), "more_body": False}
        await first_event.wait()
        if not disconnect:
            await asyncio.Event().wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body" and message.get("body"):
            first_event.set()

    app.state.emulator.queue_fault("hang")  # 60 s unless cancelled
    task = asyncio.create_task(
        app(_scope(f"/v1beta/models/{MODEL}:streamGenerateContent"), receive, send)
    )
    await first_event.wait()
    return task, first_event


async def test_hang_is_cancellable_and_counted(app: Any) -> None:
    task, _ = await _start_hanging_stream(app, disconnect=False)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert app.state.emulator.cancelled == 1


async def test_client_disconnect_ends_a_hang_and_is_counted(app: Any) -> None:
    task, _ = await _start_hanging_stream(app, disconnect=True)
    await task  # returns promptly: the pause wakes on http.disconnect
    assert app.state.emulator.cancelled == 1


@pytest.mark.parametrize("disconnect", [False, True], ids=["cancelled", "disconnected"])
async def test_leaving_during_a_stream_delay_is_counted(app: Any, disconnect: bool) -> None:
    app.state.emulator.queue_fault("delay", ms=60_000)
    watching = asyncio.Event()
    calls = 0

    async def receive() -> dict[str, Any]:
        nonlocal calls
        calls += 1
        if calls == 1:
            return {"type": "http.request", "body": orjson.dumps(BODY), "more_body": False}
        watching.set()  # the stream is parked in its delay and now watches for a disconnect
        if not disconnect:
            await asyncio.Event().wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        raise AssertionError("nothing should be sent during the delay")

    task = asyncio.create_task(
        app(_scope(f"/v1beta/models/{MODEL}:streamGenerateContent"), receive, send)
    )
    await watching.wait()
    if disconnect:
        await task
    else:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert app.state.emulator.cancelled == 1

"""GeminiClient against a scripted transport: the model id never steers the URL, the key goes
only in the header, odd stream bodies are sniffed, and the error body read is bounded."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from gateway.errors import GatewayError, NotFoundError, UpstreamError
from gateway.upstream.client import GeminiClient
from tests.conftest import make_settings

pytestmark = pytest.mark.anyio

Handler = Callable[[httpx.Request], httpx.Response]
SSE_OK = b'data: {"candidates": [{"content": {"parts": [{"text": "hi"}]}, "finishReason": "STOP"}]}\r\n\r\n'


def client(handler: Handler, **settings: object) -> GeminiClient:
    return GeminiClient(
        make_settings(api_keys=("AIzaHEADERONLY0000",), **settings), httpx.MockTransport(handler)
    )


async def events_of(gemini: GeminiClient) -> list[dict[str, object]]:
    async with gemini.stream("gemini-2.5-flash", b"{}", None) as events:
        return [event async for event in events]


@pytest.mark.parametrize(
    "model",
    [
        "../files/x",
        "gemini-2.5-flash:generateContent?key=x",
        "a/b",
        "gemini\x1b",
        "",
        "a#b",
        "gemini 2",
        "x" * 200,
        "tunedModels/../x",
    ],
)
async def test_a_model_id_that_would_change_the_url_is_refused_before_any_call(model):
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200, json={})

    gemini = client(handler)
    with pytest.raises(NotFoundError) as caught:
        await gemini.generate(model, b"{}", None)
    with pytest.raises(NotFoundError):
        await events_of_model(gemini, model)
    await gemini.aclose()
    assert calls == []
    assert caught.value.param == "model" and caught.value.code == "model_not_found"


async def events_of_model(gemini: GeminiClient, model: str) -> None:
    async with gemini.stream(model, b"{}", None) as events:
        async for _ in events:
            pass


async def test_tuned_models_keep_their_collection_and_the_key_is_only_a_header():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"candidates": []})

    gemini = client(handler)
    await gemini.generate("tunedModels/my-model-7", b"{}", None)
    await gemini.generate("gemini-2.5-flash", b"{}", None)
    await gemini.aclose()
    assert [r.url.path for r in seen] == [
        "/v1beta/tunedModels/my-model-7:generateContent",
        "/v1beta/models/gemini-2.5-flash:generateContent",
    ]
    assert all(r.headers["x-goog-api-key"] == "AIzaHEADERONLY0000" for r in seen)
    assert all("key" not in r.url.params for r in seen)


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/event-stream", SSE_OK),
        ("text/plain", SSE_OK),
        (
            "application/json",
            b'[{"candidates": [{"content": {"parts": [{"text": "hi"}]}, "finishReason": "STOP"}]}]',
        ),
        ("text/event-stream", b"\r\n\r\n" + SSE_OK),
    ],
    ids=["sse", "sse-mislabelled", "json-array", "leading-blank-lines"],
)
async def test_stream_bodies_are_sniffed(content_type, body):
    gemini = client(
        lambda r: httpx.Response(200, content=body, headers={"content-type": content_type})
    )
    events = await events_of(gemini)
    await gemini.aclose()
    assert len(events) == 1 and "candidates" in events[0]


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (b"<!DOCTYPE html><p>captive portal</p>", "HTML page"),
        (b'[{"candidates": []}', "not JSON"),
        (b'data: "a string"\n\n', "unexpected shape"),
    ],
)
async def test_unusable_stream_bodies_are_upstream_errors(body, match):
    gemini = client(
        lambda r: httpx.Response(200, content=body, headers={"content-type": "text/html"})
    )
    with pytest.raises(UpstreamError, match=match):
        await events_of(gemini)
    await gemini.aclose()


async def test_an_error_event_inside_a_200_stream_keeps_its_status():
    body = b'data: {"error": {"code": 429, "message": "slow down", "status": "RESOURCE_EXHAUSTED"}}\n\n'
    gemini = client(
        lambda r: httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})
    )
    with pytest.raises(GatewayError) as caught:
        await events_of(gemini)
    await gemini.aclose()
    assert caught.value.status == 429


async def test_an_error_event_with_a_nonsense_code_is_a_502():
    body = b'data: {"error": {"code": "teapot", "message": "?"}}\n\n'
    gemini = client(
        lambda r: httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})
    )
    with pytest.raises(GatewayError) as caught:
        await events_of(gemini)
    await gemini.aclose()
    assert caught.value.status == 502


async def test_a_huge_error_body_is_read_only_up_to_its_cap():
    served = 0

    async def endless() -> object:
        nonlocal served
        for _ in range(10_000):  # bounded: 640 MB if nobody stops reading
            served += 64 * 1024
            yield b"x" * (64 * 1024)

    gemini = client(lambda r: httpx.Response(500, content=endless()), max_retries=0)
    with pytest.raises(GatewayError) as caught:
        await gemini.generate("gemini-2.5-flash", b"{}", None)
    await gemini.aclose()
    assert caught.value.status == 500
    assert served <= 256 * 1024


async def test_a_unary_body_that_is_not_an_object_is_a_502():
    gemini = client(lambda r: httpx.Response(200, json=[1, 2]))
    with pytest.raises(UpstreamError, match="unexpected JSON shape"):
        await gemini.generate("gemini-2.5-flash", b"{}", None)
    await gemini.aclose()

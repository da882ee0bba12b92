"""The native routes' opt-in steps: off by default (the body goes upstream as sent), on per
deployment or per request header, each saying in a response header what it did."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from PIL import Image

from tests.e2e.native_stack import CLIENT_KEY, NativeStack, native_stack

pytestmark = pytest.mark.slow
PUBLIC = "http://gw.example"
KEY = {"x-goog-api-key": CLIENT_KEY}
TEXT_MODEL = "gemini-2.5-flash"


def png_b64(shade: int) -> str:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (shade, 0, 0)).save(out, "PNG")
    return base64.b64encode(out.getvalue()).decode()


@pytest.fixture(scope="module")
def stack() -> Iterator[NativeStack]:
    with native_stack(public_url=PUBLIC, history_max_tokens=1000) as running:
        yield running


@pytest.fixture(autouse=True)
def fresh(stack: NativeStack) -> None:
    stack.emulator.reset()


def hosted_url(stack: NativeStack) -> str:
    """An image generated through the chat route, hosted by the gateway."""
    reply = httpx.post(
        stack.url + "/v1/chat/completions",
        json={
            "model": "gemini-3-pro-image-preview",
            "messages": [{"role": "user", "content": "A fox"}],
        },
        headers={"authorization": f"Bearer {CLIENT_KEY}"},
        timeout=60,
    )
    url: str = reply.json()["choices"][0]["message"]["images"][0]["image_url"]["url"]
    assert url.startswith(f"{PUBLIC}/v1/files/")
    return url


def file_body(url: str) -> dict[str, Any]:
    return {
        "contents": [
            {
                "role": "user",
                "parts": [
                    {"text": "What is in this image?"},
                    {"fileData": {"mimeType": "image/png", "fileUri": url}},
                ],
            }
        ]
    }


def test_hosted_image_urls_stay_file_data_unless_asked(stack: NativeStack) -> None:
    url = hosted_url(stack)
    path = f"/v1beta/models/{TEXT_MODEL}:generateContent"
    plain = httpx.post(stack.url + path, json=file_body(url), headers=KEY)
    assert plain.status_code == 200
    assert "x-gateway-hosted-images" not in plain.headers
    assert stack.emulator.requests[-1].body["contents"][0]["parts"][1] == {
        "fileData": {"mimeType": "image/png", "fileUri": url}
    }
    asked = httpx.post(
        stack.url + path, json=file_body(url), headers={**KEY, "x-gateway-hosted-images": "true"}
    )
    assert asked.status_code == 200, asked.text
    assert asked.headers["x-gateway-hosted-images"] == "inlined=1"
    part = stack.emulator.requests[-1].body["contents"][0]["parts"][1]
    assert list(part) == ["inlineData"]
    assert part["inlineData"]["mimeType"] == "image/png"
    assert base64.b64decode(part["inlineData"]["data"]).startswith(b"\x89PNG")


def test_unknown_hosted_image_is_a_google_400(stack: NativeStack) -> None:
    gone = f"{PUBLIC}/v1/files/{'0' * 32}.png"
    response = httpx.post(
        stack.url + f"/v1beta/models/{TEXT_MODEL}:generateContent",
        json=file_body(gone),
        headers={**KEY, "x-gateway-hosted-images": "true"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert stack.emulator.requests == []  # refused before any upstream call


def long_history(turns: int) -> dict[str, Any]:
    contents: list[dict[str, Any]] = []
    for turn in range(turns):
        contents.append(
            {
                "role": "user",
                "parts": [
                    {"text": f"turn {turn}"},
                    {"inlineData": {"mimeType": "image/png", "data": png_b64(turn * 20)}},
                ],
            }
        )
        contents.append({"role": "model", "parts": [{"text": f"reply {turn}"}]})
    contents.append({"role": "user", "parts": [{"text": "and now?"}]})
    return {"contents": contents}


def test_history_budget_on_request(stack: NativeStack) -> None:
    body = long_history(8)  # 8 images of 258 tokens: over the 1000-token budget
    raw = orjson.dumps(body)
    path = f"/v1beta/models/{TEXT_MODEL}:generateContent"
    off = httpx.post(
        stack.url + path, content=raw, headers={**KEY, "content-type": "application/json"}
    )
    assert off.status_code == 200
    assert "x-gateway-history" not in off.headers
    assert len(stack.emulator.requests[-1].body["contents"]) == 17
    trimmed = httpx.post(
        stack.url + path,
        content=raw,
        headers={**KEY, "content-type": "application/json", "x-gateway-history-budget": "trim"},
    )
    assert trimmed.status_code == 200, trimmed.text
    history = trimmed.headers["x-gateway-history"]
    dropped = int(history.split(";")[0].removeprefix("trimmed="))
    assert dropped >= 1
    sent = stack.emulator.requests[-1].body["contents"]
    assert len(sent) == 17 - 2 * dropped
    assert sent[-1] == body["contents"][-1]
    assert sent == body["contents"][2 * dropped :]


def test_history_budget_bad_header_is_a_google_400(stack: NativeStack) -> None:
    response = httpx.post(
        stack.url + f"/v1beta/models/{TEXT_MODEL}:generateContent",
        json=long_history(1),
        headers={**KEY, "x-gateway-history-budget": "everything"},
    )
    assert response.status_code == 400
    assert "x-gateway-history-budget" in response.json()["error"]["message"]
    assert stack.emulator.requests == []


def test_history_budget_per_deployment() -> None:
    with native_stack(native_history_budget="trim", history_max_tokens=1000) as on:
        response = httpx.post(
            on.url + f"/v1beta/models/{TEXT_MODEL}:generateContent",
            json=long_history(8),
            headers=KEY,
        )
        assert response.status_code == 200
        assert response.headers["x-gateway-history"].startswith("trimmed=")
        assert len(on.emulator.requests[-1].body["contents"]) < 17
        opted_out = httpx.post(
            on.url + f"/v1beta/models/{TEXT_MODEL}:generateContent",
            json=long_history(8),
            headers={**KEY, "x-gateway-history-budget": "off"},
        )
        assert "x-gateway-history" not in opted_out.headers
        assert len(on.emulator.requests[-1].body["contents"]) == 17


@pytest.mark.parametrize(
    "body",
    [
        {"contents": [None]},
        {"contents": [{"role": "user", "parts": 5}]},
        {"contents": [{"role": "user", "parts": [None]}]},
        {
            "contents": [{"role": "user", "parts": [{"text": "a"}]}],
            "systemInstruction": {"parts": 5},
        },
    ],
    ids=["content null", "parts a number", "part null", "system parts a number"],
)
def test_history_budget_leaves_a_malformed_body_to_geminis_400(
    stack: NativeStack, body: dict[str, Any]
) -> None:
    """The budget reads contents; a shape it cannot read was a 500 in OpenAI's envelope. Now
    the body goes on as sent and Gemini's own 400 comes back, as without the budget."""
    response = httpx.post(
        stack.url + f"/v1beta/models/{TEXT_MODEL}:generateContent",
        json=body,
        headers={**KEY, "x-gateway-history-budget": "trim"},
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert "x-gateway-history" not in response.headers


def test_hosted_images_with_the_state_store_down_are_a_google_503(
    redis_url: str, redis_server: Any
) -> None:
    """As on the OpenAI routes: retryable, never a 500 (the store being down is no bug)."""
    url = f"{PUBLIC}/v1/files/{'0' * 32}.png"
    with native_stack(public_url=PUBLIC, state=redis_url) as down:
        redis_server.stop()
        try:
            response = httpx.post(
                down.url + f"/v1beta/models/{TEXT_MODEL}:generateContent",
                json=file_body(url),
                headers={**KEY, "x-gateway-hosted-images": "true"},
                timeout=30,
            )
        finally:
            redis_server.start()
        assert down.emulator.requests == []
    assert response.status_code == 503, response.text
    error = response.json()["error"]
    assert error["status"] == "UNAVAILABLE" and "state store" in error["message"]

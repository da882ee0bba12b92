"""Raw REST on the native routes: the JSON-array stream form, the repairs header, the gateway's
own errors in Google's shape, and a client that leaves taking the upstream call with it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import orjson
import pytest

from tests.e2e.native_stack import CLIENT_KEY, NativeStack, native_stack
from tests.hardening.loopback import wait_until

pytestmark = pytest.mark.slow
KEY = {"x-goog-api-key": CLIENT_KEY}
MODEL = "gemini-2.5-flash"
BODY = {"contents": [{"role": "user", "parts": [{"text": "one two three four"}]}]}


@pytest.fixture(scope="module")
def stack() -> Iterator[NativeStack]:
    with native_stack(max_body_bytes=1024 * 1024) as running:
        yield running


@pytest.fixture(autouse=True)
def fresh(stack: NativeStack) -> None:
    stack.emulator.reset()


def sse_payloads(text: str) -> list[object]:
    return [orjson.loads(line[6:]) for line in text.split("\r\n") if line.startswith("data: ")]


def test_array_form_carries_the_same_events_as_sse(stack: NativeStack) -> None:
    base = stack.url + f"/v1beta/models/{MODEL}:streamGenerateContent"
    sse = httpx.post(base + "?alt=sse", json=BODY, headers=KEY)
    array = httpx.post(base, json=BODY, headers=KEY)
    assert sse.headers["content-type"].startswith("text/event-stream")
    assert array.headers["content-type"].startswith("application/json")
    events = sse_payloads(sse.text)
    assert len(events) > 1
    assert array.json() == events
    assert "[DONE]" not in sse.text


def test_seed_round_two_is_repaired_and_says_so(stack: NativeStack) -> None:
    first = httpx.post(
        stack.url + "/v1beta/models/gemini-3-pro-image-preview:generateContent",
        json={"contents": [{"role": "user", "parts": [{"text": "A dog"}]}]},
        headers=KEY,
    ).json()
    image = next(p for p in first["candidates"][0]["content"]["parts"] if "inlineData" in p)
    body = {
        "contents": [
            {"role": "user", "parts": [{"text": "A dog"}]},
            {
                "role": "model",
                "parts": [
                    {
                        "inline_data": {
                            "mime_type": "image/png",
                            "data": image["inlineData"]["data"],
                        }
                    },
                    {"thought_signature": image["thoughtSignature"]},
                ],
            },
            {"role": "user", "parts": [{"text": "At sunset"}]},
        ]
    }
    second = httpx.post(
        stack.url + "/v1beta/models/gemini-3-pro-image-preview:generateContent?alt=json",
        json=body,
        headers=KEY,
    )
    assert second.status_code == 200, second.text
    assert second.headers["x-gateway-repairs"] == "snake_case=3;lone_signature=1"
    assert stack.emulator.requests[-1].verdicts == ["ok"]
    metrics = httpx.get(
        stack.url + "/metrics", headers={"authorization": f"Bearer {CLIENT_KEY}"}
    ).text
    assert 'gateway_native_repairs_total{kind="lone_signature"} 1.0' in metrics
    assert 'gateway_native_repairs_total{kind="snake_case"} 1.0' in metrics


def test_a_body_needing_nothing_has_no_repairs_header(stack: NativeStack) -> None:
    response = httpx.post(
        stack.url + f"/v1beta/models/{MODEL}:generateContent", json=BODY, headers=KEY
    )
    assert response.status_code == 200
    assert "x-gateway-repairs" not in response.headers


@pytest.mark.parametrize(
    ("path", "content", "headers", "code", "status"),
    [
        (f"/v1beta/models/{MODEL}:generateContent", b"{not json", {}, 400, "INVALID_ARGUMENT"),
        (f"/v1beta/models/{MODEL}:generateContent", b"[1, 2]", {}, 400, "INVALID_ARGUMENT"),
        (f"/v1beta/models/{MODEL}:generateContent", b"", {}, 400, "INVALID_ARGUMENT"),
        (f"/v1beta/models/{MODEL}:embedEverything", b"{}", {}, 404, "NOT_FOUND"),
        ("/v1beta/models/-bad:generateContent", b"{}", {}, 404, "NOT_FOUND"),
        ("/v1beta/tunedModels", b"{}", {}, 404, "NOT_FOUND"),
        (
            f"/v1beta/models/{MODEL}:generateContent",
            b"{}",
            {"content-type": "application/xml"},
            415,
            "INVALID_ARGUMENT",
        ),
        (
            f"/v1beta/models/{MODEL}:generateContent",
            b'{"contents": "' + b"A" * (1024 * 1024) + b'"}',
            {},
            413,
            "INVALID_ARGUMENT",
        ),
    ],
    ids=[
        "bad-json",
        "not-an-object",
        "empty",
        "unknown-method",
        "bad-model",
        "no-route",
        "xml",
        "too-large",
    ],
)
def test_the_gateways_own_errors_are_google_shaped(
    stack: NativeStack, path: str, content: bytes, headers: dict[str, str], code: int, status: str
) -> None:
    response = httpx.post(
        stack.url + path,
        content=content,
        headers={**KEY, "content-type": "application/json", **headers},
    )
    assert response.status_code == code, response.text
    error = response.json()["error"]
    assert (error["code"], error["status"]) == (code, status)
    assert stack.emulator.requests == []


def test_upstream_error_object_is_relayed_as_gemini_sent_it(stack: NativeStack) -> None:
    response = httpx.post(
        stack.url + "/v1beta/models/gemini-0-imaginary:generateContent", json=BODY, headers=KEY
    )
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["status"] == "NOT_FOUND"
    assert "gemini-0-imaginary" in error["message"]
    assert not error["message"].startswith("Gemini error")  # Gemini's own text, not ours


def test_a_client_that_leaves_cancels_the_upstream_stream(stack: NativeStack) -> None:
    stack.emulator.queue_fault("slow_first", ms=3000)
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            stack.url + f"/v1beta/models/{MODEL}:streamGenerateContent?alt=sse",
            json=BODY,
            headers=KEY,
            timeout=httpx.Timeout(5, read=0.3),
        )
    wait_until(lambda: stack.emulator.cancelled == 1, 5.0, "the upstream stream was not cancelled")

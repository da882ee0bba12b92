"""Canary keys (§6 K1): a server Gemini key, a client key and a pass-through key go through
chat, streams, images, upstream errors and mid-stream faults with DEBUG on every logger, and no
8-character piece of any of them shows up in a log record, a response, an SSE event or /metrics.
The emulator never sees a `key=` query parameter."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from gateway.logs import JsonFormatter, body_for_log, redact
from tests.conftest import Stack, emulator_stack
from tests.hardening.faults import chat_body

pytestmark = pytest.mark.anyio

UPSTREAM_KEY = "AIzaCANARYKEY0123456789"
CLIENT_KEY = "sk-CANARYCLIENT123456"
PASS_THROUGH_KEY = "AIzaCANARYPASSTHRU98765"
LOGGERS = (
    "",
    "gateway",
    "gateway.access",
    "gateway.upstream",
    "gateway.bodies",
    "httpx",
    "httpcore",
    "uvicorn",
    "uvicorn.error",
    "hpack",
    "asyncio",
)


def pieces(secret: str, size: int = 8) -> set[str]:
    return {secret[i : i + size] for i in range(len(secret) - size + 1)}


CANARY_PIECES = pieces(UPSTREAM_KEY) | pieces(CLIENT_KEY) | pieces(PASS_THROUGH_KEY)


def leaks(text: str) -> set[str]:
    return {piece for piece in CANARY_PIECES if piece in text}


@pytest.fixture
def debug_everywhere(caplog) -> Iterator[pytest.LogCaptureFixture]:
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name or None)
    yield caplog


def everything_logged(caplog: pytest.LogCaptureFixture) -> str:
    """Raw messages, every extra attribute, and the JSON line our formatter would write."""
    formatter = JsonFormatter()
    lines = [caplog.text]
    for record in caplog.records:
        lines.append(repr(vars(record)))
        lines.append(formatter.format(record))
    return "\n".join(lines)


async def exercise(stack: Stack, headers: dict[str, str]) -> list[str]:
    """Every kind of traffic; returns each response's headers and body as text."""
    seen: list[str] = []
    emulator = stack.emulator
    async with stack.http(headers=headers) as http:

        async def post(body: dict[str, Any], **extra: str) -> None:
            response = await http.post("/v1/chat/completions", json=body, headers=extra)
            seen.append(repr(response.headers.raw) + response.text)

        for stream in (False, True):
            await post(chat_body("hello", stream=stream))
            await post(chat_body("draw a fox", stream=stream, model="gemini-3-pro-image-preview"))
            for kind, params in [
                ("status", {"code": 429, "retry_delay": "45s"}),
                ("status", {"code": 429, "retry_delay": "0.01s"}),
                ("429perday", {}),
                ("status", {"code": 503, "count": 2}),
                ("status", {"code": 401}),
                ("html502", {"count": 2}),
                ("array_error", {}),
                ("truncate", {}),
                ("malformed", {}),
                ("no_finish", {}),
            ]:
                emulator.queue_fault(kind, **params)
                await post(chat_body("x", stream=stream))
            await post(chat_body("y", stream=stream, model="gemini-0-missing"))
        await post(chat_body(), authorization="Bearer sk-WRONGKEY000000")
        for path in (
            "/v1/models",
            "/v1/models/gemini-2.5-flash",
            "/v1/models/nope",
            "/metrics",
            "/readyz",
            "/healthz",
            "/openapi.json",
            "/v1/files/none",
            "/nowhere",
        ):
            response = await http.get(path)
            seen.append(repr(response.headers.raw) + response.text)
    return seen


@pytest.mark.parametrize("log_bodies", [False, True], ids=["default", "log_bodies"])
async def test_server_and_client_keys_never_leak(debug_everywhere, log_bodies):
    async with emulator_stack(
        api_keys=(UPSTREAM_KEY,), client_keys=(CLIENT_KEY,), log_bodies=log_bodies
    ) as stack:
        responses = await exercise(stack, {"authorization": f"Bearer {CLIENT_KEY}"})
        requests = stack.emulator.requests
        assert requests, "the traffic reached the emulator"
        assert all(r.headers["x-goog-api-key"] == UPSTREAM_KEY for r in requests)
        assert all("key" not in r.query for r in requests)
    assert leaks("\n".join(responses)) == set()
    assert leaks(everything_logged(debug_everywhere)) == set()


async def test_a_pass_through_key_never_leaks(debug_everywhere):
    async with emulator_stack(upstream="gemini", log_bodies=True) as stack:
        responses = await exercise(stack, {"authorization": f"Bearer {PASS_THROUGH_KEY}"})
        requests = stack.emulator.requests
        keyless = [r for r in requests if "x-goog-api-key" not in r.headers]
        assert [(r.method, r.query) for r in keyless] == [("models.list", {"pageSize": "1"})]
        sent = {r.headers["x-goog-api-key"] for r in requests if r not in keyless}
        assert sent == {PASS_THROUGH_KEY, "sk-WRONGKEY000000"}  # pass-through: Gemini judges
        assert all("key" not in r.query for r in stack.emulator.requests)
    assert leaks("\n".join(responses)) == set()
    assert leaks(everything_logged(debug_everywhere)) == set()


async def test_bodies_are_not_logged_by_default(debug_everywhere):
    async with emulator_stack() as stack, stack.http() as http:
        await http.post("/v1/chat/completions", json=chat_body("MARKER-PROMPT-7d1f"))
        await http.post("/v1/chat/completions", json=chat_body("MARKER-PROMPT-7d1f", stream=True))
    assert "MARKER-PROMPT-7d1f" not in everything_logged(debug_everywhere)
    assert not [r for r in debug_everywhere.records if r.name == "gateway.bodies"]


@pytest.mark.parametrize("stream", [False, True], ids=["unary", "stream"])
async def test_log_bodies_logs_them_without_images_or_signatures(debug_everywhere, stream):
    async with emulator_stack(log_bodies=True) as stack, stack.http() as http:
        first = await http.post(
            "/v1/chat/completions",
            json=chat_body("MARKER-DRAW-9c2e", model="gemini-3-pro-image-preview"),
        )
        message = first.json()["choices"][0]["message"]
        follow_up = {
            "model": "gemini-3-pro-image-preview",
            "stream": stream,
            "messages": [
                {"role": "user", "content": "MARKER-DRAW-9c2e"},
                message,
                {"role": "user", "content": "now at night"},
            ],
        }
        second = await http.post("/v1/chat/completions", json=follow_up)
        assert second.status_code == 200
    google = message["extra_content"]["google"]
    signatures = [p["thought_signature"] for p in google["parts"] if p.get("thought_signature")]
    signatures += [
        i["extra_content"]["google"]["thought_signature"]
        for i in message["images"]
        if i.get("extra_content")
    ]
    image_b64 = message["images"][0]["image_url"]["url"].split(",", 1)[1]
    assert signatures and image_b64
    bodies = [r for r in debug_everywhere.records if r.name == "gateway.bodies"]
    kinds = {r.body_of for r in bodies}
    assert {"request", "upstream_request"} <= kinds
    assert ("upstream_event" in kinds) if stream else ({"upstream_response", "response"} <= kinds)
    logged = everything_logged(debug_everywhere)
    assert "MARKER-DRAW-9c2e" in logged, "bodies are logged when asked"
    assert image_b64[:64] not in logged
    for signature in signatures:
        assert signature[:24] not in logged


def test_redact_elides_signatures_images_and_keys():
    text = (
        '{"thoughtSignature": "c2hvcnQ=", "thought_signature":"QUJD\\"REVG", '
        '"url": "data:image/png;base64,iVBORw0KGgo=", "key": "AIzaSyA1234567890abcdefg", '
        '"auth": "Bearer sk-abcdefghijkl", "q": "?key=secret-value&x=1", "blob": "'
        + "A" * 300
        + '"}'
    )
    out = redact(text)
    for secret in (
        "c2hvcnQ=",
        "QUJD",
        "iVBORw0KGgo=",
        "AIzaSyA1234567890abcdefg",
        "sk-abcdefghijkl",
        "secret-value",
        "A" * 300,
    ):
        assert secret not in out
    assert '"thoughtSignature": "[8 chars elided]"' in out
    assert ";base64,[12 chars elided]" in out
    assert '"blob": "[300 chars elided]"' in out


def test_configured_keys_are_redacted_whatever_their_shape():
    from gateway.logs import add_secrets

    add_secrets("plain-server-secret-42")
    assert "plain-server-secret-42" not in redact("calling with plain-server-secret-42 now")
    assert "[redacted]" in body_for_log({"k": "plain-server-secret-42"})


def test_long_bodies_are_capped_in_logs():
    logged = body_for_log({"text": "word " * 100_000})
    assert len(logged) < 70_000 and logged.endswith("more chars]")


def test_an_upstream_error_that_echoes_the_key_is_scrubbed():
    """Real Gemini puts `Invalid API key: <key>` in a DebugInfo detail (sample 14); even if a
    message carried it, the client removes the key it sent."""
    import httpx

    from gateway.upstream.client import GeminiClient
    from tests.conftest import make_settings

    def echo(request: httpx.Request) -> httpx.Response:
        key = request.headers["x-goog-api-key"]
        return httpx.Response(
            400,
            json={
                "error": {
                    "code": 400,
                    "status": "INVALID_ARGUMENT",
                    "message": f"API key not valid: {key}",
                }
            },
        )

    async def call() -> str:
        client = GeminiClient(make_settings(api_keys=(UPSTREAM_KEY,)), httpx.MockTransport(echo))
        try:
            await client.generate("gemini-2.5-flash", b"{}", None)
        except Exception as exc:
            return str(getattr(exc, "message", exc))
        finally:
            await client.aclose()
        return ""

    import asyncio

    message = asyncio.run(call())
    assert message and leaks(message) == set()

"""Every emulator fault, streamed and not, through the whole gateway (reliability-security.md
§5 mapping, §6 F1/F2): the intended status/type/code, the retry count, and a healthy next call."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import emulator_stack
from tests.hardening.faults import (
    assert_complete_stream,
    assert_ends_with_error,
    chat,
)

pytestmark = pytest.mark.anyio

BOTH = pytest.mark.parametrize("stream", [False, True], ids=["unary", "stream"])

# fault kind, params, count → status, type, code, upstream attempts (max_retries = 1)
ERRORS_BEFORE_FIRST_BYTE: list[tuple[str, dict[str, Any], int, int, str, str, int]] = [
    ("status", {"code": 400}, 1, 400, "invalid_request_error", "invalid_argument", 1),
    ("status", {"code": 401}, 1, 401, "invalid_request_error", "invalid_api_key", 1),
    ("status", {"code": 403}, 1, 403, "permission_error", "permission_denied", 1),
    ("status", {"code": 404}, 1, 404, "invalid_request_error", "model_not_found", 1),
    (
        "status",
        {"code": 429, "retry_delay": "45s"},
        1,
        429,
        "rate_limit_error",
        "rate_limit_exceeded",
        1,
    ),
    ("429perday", {}, 1, 429, "insufficient_quota", "insufficient_quota", 1),
    ("status", {"code": 500}, 2, 500, "server_error", "upstream_error", 2),
    ("status", {"code": 503}, 2, 503, "server_error", "upstream_overloaded", 2),
    ("status", {"code": 504}, 2, 504, "server_error", "upstream_timeout", 2),
    ("array_error", {}, 1, 400, "invalid_request_error", "invalid_argument", 1),
    ("html502", {}, 2, 502, "server_error", "upstream_error", 2),
]


@BOTH
@pytest.mark.parametrize(
    ("kind", "params", "count", "status", "type_", "code", "attempts"),
    ERRORS_BEFORE_FIRST_BYTE,
    ids=[
        f"{c[0]}-{c[1].get('code', '')}{c[1].get('retry_delay', '')}"
        for c in ERRORS_BEFORE_FIRST_BYTE
    ],
)
async def test_errors_before_the_first_byte_keep_their_status(
    stream, kind, params, count, status, type_, code, attempts
):
    async with emulator_stack() as stack, stack.http() as http:
        stack.emulator.queue_fault(kind, count=count, **params)
        reply = await chat(http, stream=stream)
        assert reply.status == status, reply.body[:300]
        assert reply.headers["content-type"].startswith("application/json")
        error = reply.error
        assert (error["type"], error["code"]) == (type_, code)
        assert len(stack.emulator.requests) == attempts
        assert "x-request-id" in reply.headers
        again = await chat(http, stream=stream)
        assert again.status == 200
        assert len(stack.emulator.requests) == attempts + 1


@BOTH
async def test_html_from_a_proxy_says_so_and_is_not_echoed(stream):
    async with emulator_stack() as stack, stack.http() as http:
        stack.emulator.queue_fault("html502", count=2)
        reply = await chat(http, stream=stream)
        assert reply.status == 502
        assert "HTML" in reply.error["message"]
        assert b"<html" not in reply.body and b"That's an error" not in reply.body


@BOTH
async def test_long_rate_limit_passes_retry_info_to_the_client(stream):
    async with emulator_stack() as stack, stack.http() as http:
        stack.emulator.queue_fault("status", code=429, retry_delay="45s")
        reply = await chat(http, stream=stream)
        assert reply.status == 429
        assert reply.headers["retry-after"] == "45"
        assert reply.headers["retry-after-ms"] == "45000"
        assert "x-should-retry" not in reply.headers


@BOTH
async def test_fractional_retry_after_rounds_up(stream):
    async with emulator_stack(retry_max_wait=1.0) as stack, stack.http() as http:
        stack.emulator.queue_fault("status", code=429, retry_delay="2.5s")
        reply = await chat(http, stream=stream)
        assert reply.status == 429
        assert (reply.headers["retry-after"], reply.headers["retry-after-ms"]) == ("3", "2500")


@BOTH
async def test_per_day_quota_tells_the_sdk_not_to_retry(stream):
    async with emulator_stack() as stack, stack.http() as http:
        stack.emulator.queue_fault("429perday", retry_delay="0.01s")
        reply = await chat(http, stream=stream)
        assert reply.status == 429
        assert reply.headers["x-should-retry"] == "false"
        assert "retry-after" not in reply.headers
        assert len(stack.emulator.requests) == 1


@BOTH
async def test_short_rate_limit_is_retried_in_place(stream):
    async with emulator_stack() as stack, stack.http() as http:
        stack.emulator.queue_fault("status", code=429, retry_delay="0.05s")
        reply = await chat(http, "retry me", stream=stream)
        if stream:
            assert "retry me" in assert_complete_stream(reply)
        else:
            assert reply.status == 200
            assert "retry me" in reply.json()["choices"][0]["message"]["content"]
        assert len(stack.emulator.requests) == 2


@BOTH
@pytest.mark.parametrize("code", [500, 503, 504])
async def test_one_server_error_is_retried_once_and_succeeds(stream, code):
    async with emulator_stack() as stack, stack.http() as http:
        stack.emulator.queue_fault("status", code=code)
        reply = await chat(http, stream=stream)
        assert reply.status == 200
        assert len(stack.emulator.requests) == 2


@BOTH
async def test_invalid_gemini_key_is_a_401(stream):
    async with emulator_stack(upstream="gemini") as stack, stack.http() as http:
        reply = await chat(http, stream=stream, authorization="Bearer invalid-key")
        assert reply.status == 401
        assert reply.error["code"] == "invalid_api_key"
        assert len(stack.emulator.requests) == 1


@BOTH
async def test_unknown_model_is_a_404(stream):
    async with emulator_stack() as stack, stack.http() as http:
        response = await http.post(
            "/v1/chat/completions",
            json={
                "model": "gemini-0-nope",
                "messages": [{"role": "user", "content": "x"}],
                "stream": stream,
            },
        )
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "model_not_found"


async def test_max_retries_zero_makes_one_attempt():
    async with emulator_stack(max_retries=0) as stack, stack.http() as http:
        stack.emulator.queue_fault("status", code=503)
        reply = await chat(http)
        assert reply.status == 503
        assert len(stack.emulator.requests) == 1


# -- faults after the first byte: a final error event and [DONE], never a silent end ------------


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        ("truncate", "upstream_incomplete"),
        ("no_finish", "upstream_incomplete"),
        ("malformed", "upstream_error"),
    ],
)
async def test_stream_broken_after_the_first_event_ends_with_an_error_event(kind, code):
    async with emulator_stack() as stack, stack.http() as http:
        stack.emulator.queue_fault(kind)
        reply = await chat(http, "hello there", stream=True)
        assert_ends_with_error(reply, code)
        content = "".join(
            ch["delta"].get("content") or "" for e in reply.events[:-2] for ch in e["choices"]
        )
        assert content, "the events before the fault still reach the client"
        assert len(stack.emulator.requests) == 1, "never retried after the first byte"
        assert_complete_stream(await chat(http, stream=True))


@pytest.mark.parametrize("kind", ["truncate", "malformed"])
async def test_unary_unreadable_body_is_a_502(kind):
    async with emulator_stack() as stack, stack.http() as http:
        stack.emulator.queue_fault(kind)
        reply = await chat(http)
        assert reply.status == 502
        assert (reply.error["type"], reply.error["code"]) == ("server_error", "upstream_error")
        assert len(stack.emulator.requests) == 1
        assert (await chat(http)).status == 200


async def test_unary_without_finish_reason_still_returns_the_text():
    """A unary body is complete JSON even without finishReason: the text is delivered."""
    async with emulator_stack() as stack, stack.http() as http:
        stack.emulator.queue_fault("no_finish")
        reply = await chat(http, "all here")
        assert reply.status == 200
        assert "all here" in reply.json()["choices"][0]["message"]["content"]


@BOTH
async def test_wrong_content_type_is_sniffed_not_trusted(stream):
    async with emulator_stack() as stack, stack.http() as http:
        stack.emulator.queue_fault("wrong_content_type")
        reply = await chat(http, "typed", stream=stream)
        if stream:
            assert "typed" in assert_complete_stream(reply)
        else:
            assert reply.status == 200
            assert "typed" in reply.json()["choices"][0]["message"]["content"]


async def test_fault_directive_in_the_prompt_works_like_a_queued_fault():
    async with emulator_stack() as stack, stack.http() as http:
        reply = await chat(http, "#fault=no_finish please", stream=True)
        assert_ends_with_error(reply, "upstream_incomplete")


async def test_mid_stream_error_reaches_the_openai_sdk_as_an_api_error(stack):
    import openai

    stack.emulator.queue_fault("malformed")
    client = stack.openai()
    stream = await client.chat.completions.create(
        model="gemini-2.5-flash", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    seen = 0
    with pytest.raises(openai.APIError) as caught:
        async for _chunk in stream:
            seen += 1
    assert seen >= 1
    assert caught.value.code == "upstream_error"


async def test_sdk_retries_multiply_at_most_to_six_upstream_attempts():
    """SDK (3 attempts) × gateway (2): the F2 ceiling, with every attempt failing."""
    import openai

    async with emulator_stack() as stack:
        stack.emulator.queue_fault("status", code=503, count=50)
        client = stack.openai()
        client = client.with_options(max_retries=2)
        with pytest.raises(openai.InternalServerError):
            await client.chat.completions.create(
                model="gemini-2.5-flash", messages=[{"role": "user", "content": "hi"}]
            )
        assert len(stack.emulator.requests) == 6


async def test_sdk_makes_one_attempt_on_a_per_day_quota():
    import openai

    async with emulator_stack() as stack:
        stack.emulator.queue_fault("429perday", count=5)
        client = stack.openai().with_options(max_retries=2)
        with pytest.raises(openai.RateLimitError) as caught:
            await client.chat.completions.create(
                model="gemini-2.5-flash", messages=[{"role": "user", "content": "hi"}]
            )
        assert caught.value.code == "insufficient_quota"
        assert len(stack.emulator.requests) == 1

"""Retry discipline (§6 F2) and server-key rotation: a key that hit its quota rests, the next
call goes to the other key, and no key ever shows up in a response or a log line."""

from __future__ import annotations

import logging

import pytest

from tests.conftest import emulator_stack
from tests.hardening.faults import assert_complete_stream, chat

pytestmark = pytest.mark.anyio

BOTH = pytest.mark.parametrize("stream", [False, True], ids=["unary", "stream"])
K1, K2 = "AIzaROTATIONKEYONE0000", "AIzaROTATIONKEYTWO0000"


def keys_used(stack) -> list[str]:
    return [r.headers.get("x-goog-api-key", "") for r in stack.emulator.requests]


@BOTH
async def test_a_rate_limited_key_rests_and_the_retry_uses_the_other(stream, caplog):
    caplog.set_level(logging.DEBUG)
    async with emulator_stack(api_keys=(K1, K2)) as stack, stack.http() as http:
        stack.emulator.queue_fault("status", code=429, retry_delay="0.05s")
        first = await chat(http, stream=stream)
        second = await chat(http, stream=stream)
        assert first.status == second.status == 200
        assert keys_used(stack) == [K1, K2, K2]
        for reply in (first, second):
            assert K1.encode() not in reply.body and K2.encode() not in reply.body
        assert all(not r.query.get("key") for r in stack.emulator.requests)
    assert K1 not in caplog.text and K2 not in caplog.text


async def test_a_long_rate_limit_goes_to_the_client_and_the_next_call_to_the_other_key():
    async with emulator_stack(api_keys=(K1, K2)) as stack, stack.http() as http:
        stack.emulator.queue_fault("status", code=429, retry_delay="45s")
        limited = await chat(http)
        assert limited.status == 429
        assert (await chat(http)).status == 200
        assert (await chat(http)).status == 200
        assert keys_used(stack) == [K1, K2, K2]


async def test_keys_take_turns_when_none_is_resting():
    async with emulator_stack(api_keys=(K1, K2)) as stack, stack.http() as http:
        for _ in range(4):
            assert (await chat(http)).status == 200
        assert keys_used(stack) == [K1, K2, K1, K2]


async def test_a_pass_through_key_is_not_rotated_or_rested():
    async with emulator_stack(upstream="gemini") as stack, stack.http() as http:
        stack.emulator.queue_fault("status", code=429, retry_delay="0.05s")
        reply = await chat(http, authorization="Bearer client-own-key")
        assert reply.status == 200
        assert keys_used(stack) == ["client-own-key", "client-own-key"]


@BOTH
async def test_a_400_is_never_retried(stream):
    async with emulator_stack(max_retries=3) as stack, stack.http() as http:
        stack.emulator.queue_fault("status", code=400, count=5)
        assert (await chat(http, stream=stream)).status == 400
        assert len(stack.emulator.requests) == 1


@BOTH
async def test_attempts_never_exceed_one_plus_max_retries(stream):
    async with emulator_stack(max_retries=2) as stack, stack.http() as http:
        stack.emulator.queue_fault("status", code=503, count=10)
        assert (await chat(http, stream=stream)).status == 503
        assert len(stack.emulator.requests) == 3


async def test_nothing_is_retried_after_the_first_byte():
    async with emulator_stack(max_retries=3) as stack, stack.http() as http:
        stack.emulator.queue_fault("no_finish")
        reply = await chat(http, stream=True)
        assert reply.events[-1] == "[DONE]" and "error" in reply.events[-2]
        assert len(stack.emulator.requests) == 1
        assert_complete_stream(await chat(http, stream=True))


async def test_retry_info_beyond_the_wait_cap_is_not_waited_in_place():
    async with emulator_stack(retry_max_wait=0.5) as stack, stack.http() as http:
        stack.emulator.queue_fault("status", code=429, retry_delay="2s")
        reply = await chat(http)
        assert reply.status == 429
        assert reply.headers["retry-after"] == "2"
        assert len(stack.emulator.requests) == 1


async def test_retries_are_in_the_access_log_and_metrics(caplog):
    caplog.set_level(logging.INFO, logger="gateway.access")
    async with emulator_stack() as stack, stack.http() as http:
        stack.emulator.queue_fault("status", code=503)
        assert (await chat(http)).status == 200
        metrics = (await http.get("/metrics")).text
    line = next(
        r for r in caplog.records if r.name == "gateway.access" and r.path.endswith("/completions")
    )
    assert (line.retries, line.attempts) == (1, 2)
    assert "gateway_upstream_retries_total 1.0" in metrics

"""Function calling on Gemini 3 through every client pattern: the current turn's first call
must go back with its exact signature (or Gemini answers 400), a parallel second call goes back
unsigned (Gemini never signed it: no dummy), and the whole tool loop replays byte-exact."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Stack, emulator_stack
from tests.e2e.fidelity_helpers import (
    ALL_PATTERNS,
    CARRIER_PATTERNS,
    SIG,
    TOOL_MODEL,
    TOOLS,
    Pattern,
    Session,
    assert_faithful,
    fallbacks,
    metrics,
    model_turns,
    tool_call_ids,
    turn_sources,
)

pytestmark = pytest.mark.anyio


async def tool_loop(stack: Stack, pattern: Pattern, prompt: str) -> list[list[dict]]:
    """ask → tool calls → tool results → answer → follow-up; returns the model turns of the
    last request (the call turn and the answer turn)."""
    session = Session(stack)
    history = [pattern.user(prompt)]
    calls = await pattern.reply(session, TOOL_MODEL, history, tools=TOOLS)
    ids = tool_call_ids(calls.message)
    assert ids and len(set(ids)) == len(ids)
    history += [calls.message, *(pattern.tool_result(i, '{"ok": true}') for i in ids)]
    answer = await pattern.reply(session, TOOL_MODEL, history, tools=TOOLS)
    assert_faithful(stack.emulator)
    history += [answer.message, pattern.user("thanks, and now in words")]
    await pattern.reply(session, TOOL_MODEL, history, tools=TOOLS)
    assert_faithful(stack.emulator)
    return model_turns(stack.emulator.requests[-1].body)


def stack_for(pattern: Pattern) -> Any:
    """Patterns that send our carrier back run with a turn cache that keeps nothing: they must
    not need one. The others (hand-built `{id, type, function}` tool calls, LangChain) are
    served by the cache, keyed by tool-call id and visible text."""
    if pattern in CARRIER_PATTERNS:
        return emulator_stack(state_max_bytes=1)
    return emulator_stack()


async def assert_sources(stack: Stack, pattern: Pattern) -> None:
    samples = await metrics(stack)
    expected = {} if pattern in CARRIER_PATTERNS else {"cache": 3.0}
    assert turn_sources(samples) == expected
    assert fallbacks(samples) == {}


@pytest.mark.parametrize("pattern", ALL_PATTERNS, ids=lambda p: p.name)
async def test_a_tool_call_goes_back_with_its_exact_signature(pattern: Pattern):
    async with stack_for(pattern) as stack:
        call_turn, answer_turn = await tool_loop(stack, pattern, "use get_time for Paris")
        assert [p["functionCall"]["name"] for p in call_turn] == ["get_time"]
        assert call_turn[0][SIG] == stack.emulator.issued[0]["parts"][0][SIG]
        assert answer_turn[0]["text"].startswith("Done: ")
        await assert_sources(stack, pattern)


@pytest.mark.parametrize("pattern", ALL_PATTERNS, ids=lambda p: p.name)
async def test_parallel_calls_keep_the_first_signature_and_add_no_dummy(pattern: Pattern):
    async with stack_for(pattern) as stack:
        call_turn, _ = await tool_loop(stack, pattern, "look both up in parallel for Paris")
        assert [p["functionCall"]["name"] for p in call_turn] == ["get_weather", "get_time"]
        assert SIG in call_turn[0]
        assert SIG not in call_turn[1]  # Gemini signs only the first of parallel calls
        # Function responses in the user turn, one per call, in the calls' order.
        responses = [
            p["functionResponse"]["name"]
            for p in stack.emulator.requests[-1].body["contents"][2]["parts"]
        ]
        assert responses == ["get_weather", "get_time"]
        await assert_sources(stack, pattern)


async def test_a_tool_call_id_alone_restores_the_signature():
    """A client that rewrote its whole history (another system prompt, so no prefix matches)
    but kept the tool-call id still gets the exact signature back."""
    by_hand = next(p for p in ALL_PATTERNS if p.name == "content_only")
    async with emulator_stack() as stack:
        session = Session(stack)
        history = [by_hand.user("use get_weather for Oslo")]
        calls = await by_hand.reply(session, TOOL_MODEL, history, tools=TOOLS)
        (call_id,) = tool_call_ids(calls.message)
        rewritten = [
            {"role": "system", "content": "You are terse."},
            *history,
            calls.message,
            by_hand.tool_result(call_id, "sunny"),
        ]
        await by_hand.reply(session, TOOL_MODEL, rewritten, tools=TOOLS)
        assert_faithful(stack.emulator)


async def test_without_any_carrier_the_current_call_gets_the_dummy_not_a_400():
    by_hand = next(p for p in ALL_PATTERNS if p.name == "content_only")
    async with emulator_stack(state_max_bytes=1) as stack:
        session = Session(stack)
        history = [by_hand.user("look both up in parallel for Rome")]
        calls = await by_hand.reply(session, TOOL_MODEL, history, tools=TOOLS)
        ids = tool_call_ids(calls.message)
        history += [calls.message, *(by_hand.tool_result(i, "{}") for i in ids)]
        await by_hand.reply(session, TOOL_MODEL, history, tools=TOOLS)
        assert stack.emulator.requests[-1].verdicts == ["dummy"]  # FC1 only; FC2 stays bare
        call_turn = model_turns(stack.emulator.requests[-1].body)[0]
        assert [SIG in p for p in call_turn] == [True, False]
        assert fallbacks(await metrics(stack)) == {"function_call": 1.0}

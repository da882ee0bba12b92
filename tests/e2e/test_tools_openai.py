"""Tool loops with the real OpenAI SDK against the gateway on the emulator (gemini-3-pro-preview,
which enforces the current turn's function-call signatures with Gemini's exact 400).

Every loop must finish without a missing-signature error, and the model turns the emulator
receives on the last request must be the turns it issued, signature for signature: the
emulator verifies each one (`ok`), and a dummy or a missing signature would show up as
`dummy` / `missing`.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

pytestmark = pytest.mark.anyio

MODEL = "gemini-3-pro-preview"
MAX_STEPS = 6
TOOLS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather in a city",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "get_time",
            "description": "Local time in a zone",
            "parameters": {"type": "object", "properties": {"zone": {"type": "string"}}},
        },
    },
]

Message = Any
Step = Callable[[Any, list[Any]], Awaitable[tuple[Message, list[tuple[str, str]], str | None]]]


def assert_replayed_as_issued(stack: Any, steps: int) -> None:
    """The last request carries the first `steps` issued turns byte-exact, all verified `ok`."""
    emulator = stack.emulator
    last = emulator.requests[-1].body
    model_turns = [c["parts"] for c in last["contents"] if c["role"] == "model"]
    assert model_turns == [turn["parts"] for turn in emulator.issued[:steps]]
    for request in emulator.requests:
        assert set(request.verdicts) <= {"ok"}, request.verdicts
    assert emulator.requests[-1].verdicts == ["ok"] * steps


async def unary_step(
    client: Any, messages: list[Any]
) -> tuple[Message, list[tuple[str, str]], str | None]:
    reply = await client.chat.completions.create(model=MODEL, messages=messages, tools=TOOLS)
    message = reply.choices[0].message
    calls = [(c.id, c.function.name) for c in message.tool_calls or []]
    return message, calls, reply.choices[0].finish_reason


async def unary_dump_step(
    client: Any, messages: list[Any]
) -> tuple[Message, list[tuple[str, str]], str | None]:
    message, calls, finish = await unary_step(client, messages)
    return message.model_dump(exclude_none=True), calls, finish


async def stream_by_hand(
    client: Any, messages: list[Any], *, keep_extra: bool
) -> tuple[Message, list[tuple[str, str]], str | None]:
    """A hand-written accumulator: content and arguments concatenated per tool-call index."""
    stream = await client.chat.completions.create(
        model=MODEL, messages=messages, tools=TOOLS, stream=True
    )
    content = ""
    finish = None
    calls: dict[int, dict[str, Any]] = {}
    async for chunk in stream:
        for choice in chunk.choices:
            delta = choice.delta
            content += delta.content or ""
            finish = choice.finish_reason or finish
            for piece in delta.tool_calls or []:
                slot = calls.setdefault(
                    piece.index,
                    {"id": "", "type": "function", "function": {"name": "", "arguments": ""}},
                )
                slot["id"] += piece.id or ""
                if piece.function is not None:
                    slot["function"]["name"] += piece.function.name or ""
                    slot["function"]["arguments"] += piece.function.arguments or ""
                extra = (piece.model_extra or {}).get("extra_content")
                if keep_extra and extra:
                    slot["extra_content"] = extra
    for slot in calls.values():
        json.loads(slot["function"]["arguments"])  # the concatenation is valid JSON
    message: dict[str, Any] = {"role": "assistant", "content": content or None}
    if calls:
        message["tool_calls"] = [calls[i] for i in sorted(calls)]
    return (
        message,
        [(c["id"], c["function"]["name"]) for c in message.get("tool_calls", [])],
        finish,
    )


async def stream_keeping_signatures(
    client: Any, messages: list[Any]
) -> tuple[Message, list[tuple[str, str]], str | None]:
    return await stream_by_hand(client, messages, keep_extra=True)


async def stream_dropping_extras(
    client: Any, messages: list[Any]
) -> tuple[Message, list[tuple[str, str]], str | None]:
    """Keeps only id/name/arguments: the turn cache, keyed by tool-call ids, must cover it."""
    return await stream_by_hand(client, messages, keep_extra=False)


async def stream_helper(
    client: Any, messages: list[Any]
) -> tuple[Message, list[tuple[str, str]], str | None]:
    """The SDK's own streaming helper, whose final message goes back into the history."""
    async with client.chat.completions.stream(
        model=MODEL, messages=messages, tools=TOOLS
    ) as stream:
        async for _ in stream:
            pass
        final = await stream.get_final_completion()
    message = final.choices[0].message
    calls = [(c.id, c.function.name) for c in message.tool_calls or []]
    return (
        message.model_dump(exclude_none=True, exclude={"parsed"}),
        calls,
        final.choices[0].finish_reason,
    )


async def run_loop(
    stack: Any, prompt: str, step: Step
) -> tuple[list[Any], list[list[tuple[str, str]]], list[str | None]]:
    client = stack.openai()
    messages: list[Any] = [{"role": "user", "content": prompt}]
    all_calls: list[list[tuple[str, str]]] = []
    finishes: list[str | None] = []
    for _ in range(MAX_STEPS):
        message, calls, finish = await step(client, messages)
        messages.append(message)
        finishes.append(finish)
        if not calls:
            return messages, all_calls, finishes
        all_calls.append(calls)
        for call_id, name in calls:
            messages.append(
                {"role": "tool", "tool_call_id": call_id, "content": json.dumps({"from": name})}
            )
    pytest.fail(f"the tool loop did not finish in {MAX_STEPS} steps")


STEPS: dict[str, Step] = {
    "sdk-objects": unary_step,
    "model-dump": unary_dump_step,
    "stream-by-hand": stream_keeping_signatures,
    "stream-drop-extras": stream_dropping_extras,
    "stream-helper": stream_helper,
}


@pytest.mark.parametrize("pattern", list(STEPS))
async def test_two_sequential_steps_then_an_answer(stack: Any, pattern: str) -> None:
    messages, calls, finishes = await run_loop(
        stack, "check the weather with get_weather steps=2", STEPS[pattern]
    )
    assert finishes == ["tool_calls", "tool_calls", "stop"]
    assert [[name for _, name in step] for step in calls] == [["get_weather"], ["get_weather"]]
    ids = [call_id for step in calls for call_id, _ in step]
    assert len(set(ids)) == 2 and all(i.startswith("call_") for i in ids)
    final = messages[-1]
    content = final["content"] if isinstance(final, dict) else final.content
    assert content.startswith("Done: ") and '"get_weather"' in content
    assert len(stack.emulator.requests) == 3
    assert_replayed_as_issued(stack, steps=2)


@pytest.mark.parametrize("pattern", ["sdk-objects", "stream-by-hand", "stream-drop-extras"])
async def test_parallel_calls_in_one_step(stack: Any, pattern: str) -> None:
    _, calls, finishes = await run_loop(
        stack, "weather and time in parallel for Oslo", STEPS[pattern]
    )
    assert finishes == ["tool_calls", "stop"]
    assert [name for _, name in calls[0]] == ["get_weather", "get_time"]
    issued = stack.emulator.issued[0]["parts"]
    assert "thoughtSignature" in issued[0] and "thoughtSignature" not in issued[1]
    assert_replayed_as_issued(stack, steps=1)
    last = stack.emulator.requests[-1].body["contents"]
    assert [p["functionResponse"]["name"] for p in last[-1]["parts"]] == ["get_weather", "get_time"]


async def test_parallel_results_sent_out_of_order_follow_the_calls(stack: Any) -> None:
    client = stack.openai()
    messages: list[Any] = [{"role": "user", "content": "weather and time in parallel"}]
    reply = await client.chat.completions.create(model=MODEL, messages=messages, tools=TOOLS)
    message = reply.choices[0].message
    messages.append(message)
    for call in reversed(message.tool_calls or []):
        messages.append({"role": "tool", "tool_call_id": call.id, "content": call.function.name})
    await client.chat.completions.create(model=MODEL, messages=messages, tools=TOOLS)
    assert_replayed_as_issued(stack, steps=1)
    parts = stack.emulator.requests[-1].body["contents"][-1]["parts"]
    assert [p["functionResponse"]["name"] for p in parts] == ["get_weather", "get_time"]


async def test_a_lost_signature_gets_the_documented_fallback_not_a_400(stack: Any) -> None:
    """A history the gateway never saw (no carrier, no cache entry): the current step's first
    call gets the dummy signature, Gemini accepts it, and the metric counts it."""
    client = stack.openai()
    messages: list[Any] = [
        {"role": "user", "content": "weather in Rome steps=2"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_x",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Rome"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_x", "content": "sunny"},
    ]
    reply = await client.chat.completions.create(model=MODEL, messages=messages, tools=TOOLS)
    assert reply.choices[0].finish_reason == "tool_calls"
    assert stack.emulator.requests[-1].verdicts == ["dummy"]
    async with stack.http() as http:
        metrics = (await http.get("/metrics")).text
    assert 'gateway_signature_fallbacks_total{kind="function_call"} 1.0' in metrics


async def test_tool_choice_and_bad_schemas_reach_the_client(stack: Any) -> None:
    import openai

    client = stack.openai()
    reply = await client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "anything"}],
        tools=TOOLS,
        tool_choice={"type": "function", "function": {"name": "get_time"}},
    )
    assert [c.function.name for c in reply.choices[0].message.tool_calls or []] == ["get_time"]
    assert stack.emulator.requests[-1].body["toolConfig"] == {
        "functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_time"]}
    }
    reply = await client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "get_time"}],
        tools=TOOLS,
        tool_choice="none",
    )
    assert reply.choices[0].message.tool_calls is None and reply.choices[0].finish_reason == "stop"
    sent = len(stack.emulator.requests)
    bad = {
        "type": "function",
        "function": {
            "name": "fetch",
            "parameters": {
                "type": "object",
                "properties": {"a": {"$ref": "https://x.example/s.json"}},
            },
        },
    }
    with pytest.raises(openai.BadRequestError) as caught:
        await client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "x"}], tools=[bad]
        )
    error = caught.value.body
    assert isinstance(error, dict)
    assert "'fetch'" in error["message"] and "$ref" in error["message"]
    assert error["param"] == "tools[0].function.parameters.properties.a.$ref"
    assert len(stack.emulator.requests) == sent  # refused before any upstream call


async def test_a_missing_tool_result_is_geminis_400_with_its_words(stack: Any) -> None:
    """FC/FR pairing is Gemini's rule; the gateway forwards its 400 unchanged (status, text)."""
    import openai

    client = stack.openai()
    messages: list[Any] = [{"role": "user", "content": "weather and time in parallel"}]
    reply = await client.chat.completions.create(model=MODEL, messages=messages, tools=TOOLS)
    first = (reply.choices[0].message.tool_calls or [])[0]
    messages += [
        reply.choices[0].message,
        {"role": "tool", "tool_call_id": first.id, "content": "only one"},
    ]
    with pytest.raises(openai.BadRequestError) as caught:
        await client.chat.completions.create(model=MODEL, messages=messages, tools=TOOLS)
    assert "number of function response parts is equal to the number of function call parts" in (
        str(caught.value)
    )

"""LangChain `bind_tools` agent loops through the gateway on the emulator (gemini-3-pro-preview).

LangChain keeps no unknown fields: an AIMessage goes back with its text and tool calls only, so
every signature must come from the gateway's turn cache, keyed by the tool-call ids. The
emulator verifies each replayed signature; the loops must end with every verdict `ok`.
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    ToolMessage,
)
from langchain_core.tools import tool

pytestmark = pytest.mark.anyio

MODEL = "gemini-3-pro-preview"
MAX_STEPS = 6


@tool
def get_weather(city: str) -> str:
    """Weather in a city."""
    return f"sunny in {city}"


@tool
def get_time(zone: str) -> str:
    """Local time in a time zone."""
    return f"noon in {zone}"


TOOLS = {"get_weather": get_weather, "get_time": get_time}


def assert_replayed_as_issued(stack: Any, steps: int) -> None:
    emulator = stack.emulator
    last = emulator.requests[-1].body
    model_turns = [c["parts"] for c in last["contents"] if c["role"] == "model"]
    assert model_turns == [turn["parts"] for turn in emulator.issued[:steps]]
    for request in emulator.requests:
        assert set(request.verdicts) <= {"ok"}, request.verdicts
    assert emulator.requests[-1].verdicts == ["ok"] * steps


async def run_tools(messages: list[BaseMessage], reply: AIMessage) -> None:
    messages.append(reply)
    for call in reply.tool_calls:
        output = await TOOLS[call["name"]].ainvoke(call["args"])
        messages.append(ToolMessage(content=output, tool_call_id=call["id"]))


async def test_bind_tools_ainvoke_loop(stack: Any) -> None:
    llm = stack.langchain(MODEL).bind_tools(list(TOOLS.values()))
    messages: list[BaseMessage] = [HumanMessage("what time is it? use get_time steps=3")]
    replies: list[AIMessage] = []
    for _ in range(MAX_STEPS):
        reply = await llm.ainvoke(messages)
        replies.append(reply)
        if not reply.tool_calls:
            break
        await run_tools(messages, reply)
    else:
        pytest.fail("the agent loop did not finish")
    assert [len(r.tool_calls) for r in replies] == [1, 1, 1, 0]
    assert all(r.tool_calls[0]["name"] == "get_time" for r in replies[:3])
    assert all(r.response_metadata["finish_reason"] == "tool_calls" for r in replies[:3])
    assert isinstance(replies[-1].content, str) and replies[-1].content.startswith("Done: ")
    assert_replayed_as_issued(stack, steps=3)


async def test_astream_tool_call_chunks_loop(stack: Any) -> None:
    llm = stack.langchain(MODEL).bind_tools(list(TOOLS.values()))
    messages: list[BaseMessage] = [HumanMessage("weather and time in parallel for Lima steps=2")]
    steps = 0
    for _ in range(MAX_STEPS):
        merged: AIMessageChunk | None = None
        chunk_calls: list[dict[str, Any]] = []
        async for chunk in llm.astream(messages):
            chunk_calls.extend(chunk.tool_call_chunks)
            merged = chunk if merged is None else merged + chunk
        assert merged is not None
        if not merged.tool_calls:
            break
        steps += 1
        assert [(c["index"], c["name"]) for c in chunk_calls] == [
            (0, "get_weather"),
            (1, "get_time"),
        ]
        assert all(c["id"] and c["id"].startswith("call_") for c in chunk_calls)
        assert [c["args"] for c in merged.tool_calls] == [{"city": "Lima"}, {"zone": "Lima"}]
        await run_tools(messages, merged)  # the accumulated chunk goes back as it is
    else:
        pytest.fail("the agent loop did not finish")
    assert steps == 2
    assert merged.content.startswith("Done: ")
    assert_replayed_as_issued(stack, steps=2)


async def test_bind_tools_tool_choice_reaches_gemini(stack: Any) -> None:
    llm = stack.langchain(MODEL).bind_tools(list(TOOLS.values()), tool_choice="get_weather")
    reply = await llm.ainvoke("anything at all about Quito")
    assert [c["name"] for c in reply.tool_calls] == ["get_weather"]
    assert stack.emulator.requests[-1].body["toolConfig"] == {
        "functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}
    }
    required = stack.langchain(MODEL).bind_tools(list(TOOLS.values()), tool_choice="any")
    await required.ainvoke("hello")
    assert stack.emulator.requests[-1].body["toolConfig"] == {
        "functionCallingConfig": {"mode": "ANY"}
    }

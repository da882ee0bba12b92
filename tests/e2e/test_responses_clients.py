"""Other real clients on /v1/responses: the OpenAI Agents SDK with a plain string model (its
default model path is the Responses API), streamed and not, and LangChain's ChatOpenAI with
use_responses_api=True."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.conftest import Stack, emulator_stack
from tests.e2e.fidelity_helpers import (
    EDIT_PROMPTS,
    IMAGE_MODELS,
    TOOL_MODEL,
    assert_faithful,
    fallbacks,
    metrics,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
async def agents_stack() -> AsyncIterator[Stack]:
    agents = pytest.importorskip("agents")
    async with emulator_stack() as stack:
        agents.set_tracing_disabled(True)
        agents.set_default_openai_client(stack.openai(), use_for_tracing=False)
        agents.set_default_openai_api("responses")
        yield stack


def _agent() -> Any:
    from agents import Agent, function_tool

    @function_tool
    def get_weather(city: str) -> str:
        """Weather in a city."""
        return f"sunny in {city}"

    return Agent(
        name="weather", instructions="Use the tool.", model=TOOL_MODEL, tools=[get_weather]
    )


async def test_agents_sdk_runs_a_one_tool_agent(agents_stack: Stack):
    from agents import Runner

    result = await Runner.run(_agent(), "weather in Paris?")
    assert str(result.final_output).startswith("Done:")
    assert "sunny in Paris" in str(result.final_output)
    assert_faithful(agents_stack.emulator)
    assert len(agents_stack.emulator.requests) == 2
    assert fallbacks(await metrics(agents_stack)) == {}


async def test_agents_sdk_streamed(agents_stack: Stack):
    from agents import Runner

    result = Runner.run_streamed(_agent(), "weather in Paris?")
    kinds = {event.type async for event in result.stream_events()}
    assert "raw_response_event" in kinds
    assert "sunny in Paris" in str(result.final_output)
    assert_faithful(agents_stack.emulator)
    assert fallbacks(await metrics(agents_stack)) == {}


async def test_langchain_chat_openai_with_the_responses_api(stack: Stack):
    llm = stack.langchain(TOOL_MODEL.replace("pro", "flash"), use_responses_api=True)
    first = await llm.ainvoke("hello there")
    assert "Echo: hello there" in first.text
    second = await llm.ainvoke(["hello there", first, "and again"])
    assert "and again" in second.text
    assert len(stack.emulator.requests) == 2
    assert_faithful(stack.emulator)


async def test_langchain_image_edit_with_the_responses_api(stack: Stack):
    llm = stack.langchain(IMAGE_MODELS[0], use_responses_api=True).bind_tools(
        [{"type": "image_generation"}]
    )
    history: list[Any] = []
    for prompt in EDIT_PROMPTS:
        history.append(("user", prompt))
        reply = await llm.ainvoke(history)
        assert_faithful(stack.emulator)
        history.append(reply)

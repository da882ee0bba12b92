"""Google's built-in tools, structured output and reasoning, end to end with the real clients
against the gateway on the emulator: what is asked for reaches Gemini in its own shape, and
what Gemini answers reaches the client where the README says it does."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel

pytestmark = pytest.mark.anyio

PROMPT = "how long is https://docs.example.org/page"


async def collect(stream: Any) -> tuple[str, str, dict[str, Any], str | None, Any]:
    """content, reasoning, the final delta's extras, finish_reason, usage."""
    content = reasoning = ""
    extras: dict[str, Any] = {}
    finish = None
    usage = None
    async for chunk in stream:
        usage = chunk.usage or usage
        for choice in chunk.choices:
            content += choice.delta.content or ""
            extra = choice.delta.model_extra or {}
            reasoning += extra.get("reasoning_content") or ""
            if choice.finish_reason:
                finish = choice.finish_reason
                extras = extra
    return content, reasoning, extras, finish, usage


@pytest.mark.parametrize(
    "how",
    [
        {"tools": [{"type": "code_execution"}, {"type": "google_search"}, {"type": "url_context"}]},
        {
            "tools": [{"type": "code_execution"}],
            "web_search_options": {},
            "extra_body": {"google": {"tools": [{"url_context": {}}]}},
        },
    ],
    ids=["tool-types", "web-search-options-and-extra-body"],
)
async def test_builtin_tools_unary_and_stream(stack: Any, how: dict[str, Any]) -> None:
    client = stack.openai()
    messages = [{"role": "user", "content": PROMPT}]
    reply = await client.chat.completions.create(model="gemini-2.5-flash", messages=messages, **how)
    sent = stack.emulator.requests[-1].body["tools"]
    assert sorted(next(iter(t)) for t in sent) == ["codeExecution", "googleSearch", "urlContext"]
    message = reply.choices[0].message
    content = message.content or ""
    assert "```python\nprint(len(" in content and "```output\n" in content
    assert content.endswith("Echo: " + PROMPT)
    (annotation,) = message.annotations or []
    assert annotation.type == "url_citation"
    assert annotation.url_citation.url.startswith("https://example.com/search?q=")
    google = (message.model_extra or {})["extra_content"]["google"]
    issued = stack.emulator.issued[-1]
    assert google["grounding_metadata"]["groundingChunks"][0]["web"]["uri"] == (
        annotation.url_citation.url
    )
    assert google["url_context_metadata"]["urlMetadata"] == [
        {
            "retrievedUrl": "https://docs.example.org/page",
            "urlRetrievalStatus": "URL_RETRIEVAL_STATUS_SUCCESS",
        }
    ]
    assert [next(iter(p)) for p in issued["parts"]] == [
        "executableCode",
        "codeExecutionResult",
        "text",
    ]
    stream = await client.chat.completions.create(
        model="gemini-2.5-flash", messages=messages, stream=True, **how
    )
    streamed, _, extras, finish, _ = await collect(stream)
    assert streamed == content and finish == "stop"
    assert extras["annotations"] == [a.model_dump() for a in message.annotations or []]
    assert extras["extra_content"]["google"]["grounding_metadata"] == google["grounding_metadata"]


async def test_code_execution_turn_replays_byte_exact(stack: Any) -> None:
    """The executableCode / codeExecutionResult parts go back to Gemini as they came."""
    client = stack.openai()
    messages: list[Any] = [{"role": "user", "content": "count letters of fox"}]
    tools = [{"type": "code_execution"}]
    reply = await client.chat.completions.create(
        model="gemini-3-pro-preview", messages=messages, tools=tools
    )
    messages += [reply.choices[0].message, {"role": "user", "content": "and of wolf?"}]
    await client.chat.completions.create(
        model="gemini-3-pro-preview", messages=messages, tools=tools
    )
    last = stack.emulator.requests[-1]
    assert last.body["contents"][1] == stack.emulator.issued[0]
    assert last.verdicts == ["ok"]


class Person(BaseModel):
    name: str
    age: int
    tags: list[str]


async def test_structured_output_json_schema_and_json_object(stack: Any) -> None:
    client = stack.openai()
    schema = Person.model_json_schema() | {"additionalProperties": False}
    reply = await client.chat.completions.create(
        model="gemini-3-pro-preview",
        messages=[{"role": "user", "content": "describe someone"}],
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "person", "strict": True, "schema": schema},
        },
    )
    config = stack.emulator.requests[-1].body["generationConfig"]
    assert config == {"responseMimeType": "application/json", "responseJsonSchema": schema}
    person = Person.model_validate_json(reply.choices[0].message.content or "")
    assert person.name and isinstance(person.age, int)
    parsed = await client.chat.completions.parse(
        model="gemini-3-pro-preview",
        messages=[{"role": "user", "content": "describe someone"}],
        response_format=Person,
    )
    assert isinstance(parsed.choices[0].message.parsed, Person)
    reply = await client.chat.completions.create(
        model="gemini-2.5-flash",
        messages=[{"role": "user", "content": "json please"}],
        response_format={"type": "json_object"},
    )
    assert isinstance(json.loads(reply.choices[0].message.content or ""), dict)


async def test_langchain_structured_output(stack: Any) -> None:
    llm = stack.langchain("gemini-3-pro-preview").with_structured_output(
        Person, method="json_schema"
    )
    person = await llm.ainvoke("describe someone")
    assert isinstance(person, Person)
    body = stack.emulator.requests[-1].body
    assert body["generationConfig"]["responseMimeType"] == "application/json"
    assert set(body["generationConfig"]["responseJsonSchema"]["properties"]) == {
        "name",
        "age",
        "tags",
    }


@pytest.mark.parametrize(
    ("model", "extra", "thinking"),
    [
        (
            "gemini-3-pro-preview",
            {"reasoning_effort": "low", "extra_body": {"include_reasoning": True}},
            {"thinkingLevel": "LOW", "includeThoughts": True},
        ),
        (
            "gemini-2.5-flash",
            {
                "reasoning_effort": "high",
                "extra_body": {"google": {"thinking_config": {"include_thoughts": True}}},
            },
            {"thinkingBudget": 24576, "includeThoughts": True},
        ),
    ],
)
async def test_thought_summaries_unary_and_stream(
    stack: Any, model: str, extra: dict[str, Any], thinking: dict[str, Any]
) -> None:
    client = stack.openai()
    messages = [{"role": "user", "content": "think about owls"}]
    reply = await client.chat.completions.create(model=model, messages=messages, **extra)
    assert stack.emulator.requests[-1].body["generationConfig"]["thinkingConfig"] == thinking
    reasoning = (reply.choices[0].message.model_extra or {})["reasoning_content"]
    assert reasoning.startswith("**Reading the request**")
    assert reply.choices[0].message.content == "Echo: think about owls"
    usage = reply.usage
    assert usage is not None and usage.completion_tokens_details is not None
    assert usage.completion_tokens_details.reasoning_tokens
    assert usage.completion_tokens > usage.completion_tokens_details.reasoning_tokens
    stream = await client.chat.completions.create(
        model=model,
        messages=messages,
        stream=True,
        stream_options={"include_usage": True},
        **extra,
    )
    content, streamed_reasoning, _, finish, stream_usage = await collect(stream)
    assert (content, streamed_reasoning, finish) == (
        reply.choices[0].message.content,
        reasoning,
        "stop",
    )
    assert stream_usage.completion_tokens_details.reasoning_tokens == (
        usage.completion_tokens_details.reasoning_tokens
    )

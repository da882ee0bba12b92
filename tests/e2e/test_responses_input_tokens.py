"""`POST /v1/responses/input_tokens` with the OpenAI SDK: the count is of the body a create
would send (chain and instructions included), on AI Studio and Vertex AI; and cancel."""

from __future__ import annotations

import openai
import pytest
from openai.types.responses.input_token_count_response import InputTokenCountResponse

from tests.conftest import Stack, emulator_stack
from tests.validators import validate_gemini_request

pytestmark = pytest.mark.anyio
MODEL = "gemini-2.5-flash"


async def test_count_is_gemini_count_of_what_create_would_send(stack: Stack):
    client = stack.openai()
    counted = await client.responses.input_tokens.count(
        model=MODEL, input="hello there", instructions="be brief"
    )
    assert isinstance(counted, InputTokenCountResponse)
    (count_call,) = stack.emulator.requests
    assert count_call.method == "countTokens"
    inner = dict(count_call.body["generateContentRequest"])
    assert inner.pop("model") == f"models/{MODEL}"
    validate_gemini_request(inner)
    assert inner["systemInstruction"]["parts"][0]["text"] == "be brief"

    created = await client.responses.create(
        model=MODEL, input="hello there", instructions="be brief"
    )
    sent = stack.emulator.requests[-1]
    assert sent.method == "generateContent"
    assert sent.body == inner  # the very body a create sends is what was counted
    assert created.usage is not None
    assert counted.input_tokens == created.usage.input_tokens


async def test_count_includes_the_stored_chain(stack: Stack):
    client = stack.openai()
    first = await client.responses.create(model=MODEL, input="first question")
    alone = await client.responses.input_tokens.count(model=MODEL, input="again")
    chained = await client.responses.input_tokens.count(
        model=MODEL, input="again", previous_response_id=first.id
    )
    assert chained.input_tokens > alone.input_tokens
    body = stack.emulator.requests[-1].body["generateContentRequest"]
    assert [c["role"] for c in body["contents"]] == ["user", "model", "user"]
    methods = [r.method for r in stack.emulator.requests]
    assert methods == ["generateContent", "countTokens", "countTokens"]  # nothing generated


async def test_count_errors_are_openai_shaped(stack: Stack):
    client = stack.openai()
    with pytest.raises(openai.NotFoundError) as missing:
        await client.responses.input_tokens.count(
            model=MODEL, input="x", previous_response_id="resp_missing"
        )
    assert missing.value.body["code"] == "previous_response_not_found"
    with pytest.raises(openai.BadRequestError):
        await client.responses.input_tokens.count(model=MODEL, input=[{"type": "nonsense"}])
    response = await stack.http().post(
        "/v1/responses/input_tokens", json={"model": MODEL, "input": "x", "stream": True}
    )
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "stream"
    assert stack.emulator.requests == []


async def test_vertex_counts_with_its_own_body():
    async with emulator_stack(use_vertexai=True) as stack:
        counted = await stack.openai().responses.input_tokens.count(
            model=MODEL, input="hello", instructions="be brief"
        )
        assert counted.input_tokens > 0
        (count_call,) = stack.emulator.requests
        assert count_call.method == "countTokens"
        assert "generateContentRequest" not in count_call.body
        assert count_call.body["systemInstruction"]["parts"][0]["text"] == "be brief"


async def test_cancel_says_there_is_nothing_to_cancel(stack: Stack):
    client = stack.openai()
    created = await client.responses.create(model=MODEL, input="hi")
    with pytest.raises(openai.BadRequestError) as refused:
        await client.responses.cancel(created.id)
    assert "background" in refused.value.message
    with pytest.raises(openai.NotFoundError):
        await client.responses.cancel("resp_missing")
    assert (await client.responses.retrieve(created.id)).status == "completed"

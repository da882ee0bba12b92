"""/v1/responses with the real openai SDK against app + emulator: create, stream, retrieve,
delete, input_items, errors; every object checked with the SDK's own types."""

from __future__ import annotations

import base64

import openai
import pytest
from responses_helpers import check_grammar, parse_events, validate_response

from tests.conftest import Stack, emulator_stack

pytestmark = pytest.mark.anyio

TEXT_MODEL = "gemini-3-flash-preview"
IMAGE_MODEL = "gemini-3-pro-image-preview"


async def test_create_retrieve_input_items_delete(stack: Stack):
    client = stack.openai()
    created = await client.responses.create(
        model=TEXT_MODEL,
        instructions="Answer briefly.",
        input="hello there",
        metadata={"k": "v"},
        temperature=0.5,
    )
    validate_response(created.model_dump())
    assert created.status == "completed"
    assert created.output_text == "Echo: hello there"
    assert [o.type for o in created.output] == ["reasoning", "message"]
    assert created.output[0].encrypted_content.startswith("ggw1.")
    assert created.metadata == {"k": "v"} and created.temperature == 0.5
    assert created.usage.input_tokens > 0 and created.usage.output_tokens > 0
    body = stack.upstream_bodies()[-1]
    assert body["systemInstruction"] == {"role": "user", "parts": [{"text": "Answer briefly."}]}
    assert body["generationConfig"]["temperature"] == 0.5

    got = await client.responses.retrieve(created.id)
    assert got.model_dump() == created.model_dump()
    items = await client.responses.input_items.list(created.id)
    assert [(i.type, i.role) for i in items.data] == [("message", "user")]
    assert items.data[0].content[0].text == "hello there"

    await client.responses.delete(created.id)
    with pytest.raises(openai.NotFoundError):
        await client.responses.retrieve(created.id)
    with pytest.raises(openai.NotFoundError) as caught:
        await client.responses.create(
            model=TEXT_MODEL, input="again", previous_response_id=created.id
        )
    assert caught.value.body["code"] == "previous_response_not_found"
    assert len(stack.emulator.requests) == 1  # never a silent fresh conversation


async def test_store_false_is_not_retrievable(stack: Stack):
    client = stack.openai()
    created = await client.responses.create(model=TEXT_MODEL, input="hi", store=False)
    assert created.store is False
    with pytest.raises(openai.NotFoundError):
        await client.responses.retrieve(created.id)


async def test_stored_responses_belong_to_their_credential(stack: Stack):
    mine = stack.openai(api_key="key-one")
    theirs = stack.openai(api_key="key-two")
    created = await mine.responses.create(model=TEXT_MODEL, input="hi")
    with pytest.raises(openai.NotFoundError):
        await theirs.responses.retrieve(created.id)
    with pytest.raises(openai.NotFoundError):
        await theirs.responses.create(model=TEXT_MODEL, input="x", previous_response_id=created.id)


async def test_stream_equals_the_final_response_and_follows_the_grammar(stack: Stack):
    client = stack.openai()
    async with client.responses.stream(
        model=TEXT_MODEL, input="tell me something", reasoning={"summary": "auto"}
    ) as stream:
        kinds = [event.type async for event in stream]
        final = await stream.get_final_response()
    validate_response(final.model_dump())
    assert final.output_text == "Echo: tell me something"
    assert final.output[0].summary and final.output[0].summary[0].text
    assert "response.reasoning_summary_text.delta" in kinds
    assert (await client.responses.retrieve(final.id)).output_text == final.output_text

    async with stack.http() as http:
        raw = await http.post(
            "/v1/responses",
            json={"model": TEXT_MODEL, "input": "tell me something", "stream": True},
            headers={"authorization": "Bearer k"},
        )
    assert raw.headers["content-type"].startswith("text/event-stream")
    assert "[DONE]" not in raw.text
    events = parse_events(raw.text)
    check_grammar(events)
    assert events[-1]["type"] == "response.completed"


async def test_streamed_image_and_unary_agree(stack: Stack):
    client = stack.openai()
    tool = {"type": "image_generation", "size": "1024x1024"}
    unary = await client.responses.create(model=IMAGE_MODEL, input="a red fox", tools=[tool])
    async with client.responses.stream(model=IMAGE_MODEL, input="a red fox", tools=[tool]) as s:
        streamed = await s.get_final_response()
    for response in (unary, streamed):
        image = next(o for o in response.output if o.type == "image_generation_call")
        assert base64.b64decode(image.result).startswith(b"\x89PNG")
        assert image.output_format == "png" and image.status == "completed"
    assert [o.type for o in unary.output] == [o.type for o in streamed.output]
    assert stack.upstream_bodies()[0]["generationConfig"]["imageConfig"] == {
        "aspectRatio": "1:1",
        "imageSize": "1K",
    }


async def test_failure_after_the_first_event_ends_with_response_failed():
    async with emulator_stack(max_retries=0) as stack, stack.http() as http:
        raw = await http.post(
            "/v1/responses",
            json={"model": TEXT_MODEL, "input": "hi #fault=truncate", "stream": True},
            headers={"authorization": "Bearer k"},
        )
    events = parse_events(raw.text)
    check_grammar(events)
    assert [e["type"] for e in events[-2:]] == ["error", "response.failed"]
    assert events[-1]["response"]["status"] == "failed"


async def test_bad_input_names_the_responses_field(stack: Stack):
    client = stack.openai()
    with pytest.raises(openai.BadRequestError) as caught:
        await client.responses.create(
            model=TEXT_MODEL,
            input=[{"role": "user", "content": [{"type": "input_image", "image_url": "data:x"}]}],
        )
    assert caught.value.body["param"].startswith("input[0]")
    with pytest.raises(openai.BadRequestError) as caught:
        await client.responses.create(
            model=TEXT_MODEL, input="x", previous_response_id="resp_1", conversation="conv_1"
        )
    assert caught.value.status_code == 400
    with pytest.raises(openai.BadRequestError) as caught:
        await client.responses.create(
            model=IMAGE_MODEL, input="x", tools=[{"type": "image_generation", "size": "huge"}]
        )
    assert caught.value.body["param"] == "tools[0].size"
    assert stack.emulator.requests == []

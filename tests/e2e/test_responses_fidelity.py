"""The fidelity invariant through /v1/responses: every model turn the emulator issued comes back
part for part, signatures byte-exact (the emulator verifies each), whether the history comes
from the store (previous_response_id) or from the client (store=False replay of model_dump()ed
items); degraded replays fall back visibly (notes, metrics), never to a Gemini 400."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.conftest import Stack
from tests.e2e.fidelity_helpers import (
    EDIT_PROMPTS,
    IMAGE_MODELS,
    TOOL_MODEL,
    assert_degraded_without_corruption,
    assert_faithful,
    band_count,
    fallbacks,
    metrics,
    model_turns,
    turn_sources,
)

pytestmark = pytest.mark.anyio

MODEL = IMAGE_MODELS[0]
IMAGE_TOOL = [{"type": "image_generation"}]


def _png(response: Any) -> bytes:
    import base64

    image = next(o for o in response.output if o.type == "image_generation_call")
    return base64.b64decode(image.result)


async def test_three_turn_edit_by_previous_response_id(stack: Stack):
    client = stack.openai()
    previous = None
    bands = []
    for prompt in EDIT_PROMPTS:
        response = await client.responses.create(
            model=MODEL, input=prompt, tools=IMAGE_TOOL, previous_response_id=previous
        )
        assert_faithful(stack.emulator)
        bands.append(band_count(_png(response)))
        previous = response.id
    assert bands == [0, 1, 2]
    assert len(model_turns(stack.upstream_bodies()[-1])) == 2
    assert turn_sources(await metrics(stack)) == {}


async def test_three_turn_edit_by_store_false_replay(stack: Stack):
    client = stack.openai()
    history: list[Any] = []
    bands = []
    for prompt in EDIT_PROMPTS:
        history.append({"role": "user", "content": prompt})
        response = await client.responses.create(
            model=MODEL, input=history, tools=IMAGE_TOOL, store=False
        )
        assert_faithful(stack.emulator)
        bands.append(band_count(_png(response)))
        history.extend(item.model_dump() for item in response.output)
    assert bands == [0, 1, 2]
    assert turn_sources(await metrics(stack)) == {}


async def test_streamed_turns_replay_exactly(stack: Stack):
    client = stack.openai()
    history: list[Any] = []
    for prompt in EDIT_PROMPTS:
        history.append({"role": "user", "content": prompt})
        async with client.responses.stream(
            model=MODEL, input=history, tools=IMAGE_TOOL, store=False
        ) as stream:
            final = await stream.get_final_response()
        assert_faithful(stack.emulator)
        history.extend(item.model_dump() for item in final.output)


async def test_dropped_reasoning_item_falls_back_to_the_turn_cache(stack: Stack):
    client = stack.openai()
    first = await client.responses.create(
        model=MODEL, input=EDIT_PROMPTS[0], tools=IMAGE_TOOL, store=False
    )
    kept = [o.model_dump() for o in first.output if o.type != "reasoning"]
    await client.responses.create(
        model=MODEL,
        input=[
            {"role": "user", "content": EDIT_PROMPTS[0]},
            *kept,
            {"role": "user", "content": "x"},
        ],
        tools=IMAGE_TOOL,
        store=False,
    )
    assert_faithful(stack.emulator)
    assert turn_sources(await metrics(stack)) == {"cache": 1.0}


async def test_foreign_or_edited_envelopes_are_ignored_not_refused(stack: Stack):
    client = stack.openai()
    first = await client.responses.create(
        model=MODEL, input=EDIT_PROMPTS[0], tools=IMAGE_TOOL, store=False
    )
    items = [o.model_dump() for o in first.output]
    forged = copy.deepcopy(items)
    forged[0]["encrypted_content"] = forged[0]["encrypted_content"][:-4] + "AAAA"
    foreign = copy.deepcopy(items)
    foreign[0]["encrypted_content"] = "gAAAAABo-some-other-provider"
    extra = [{"type": "compaction", "id": "cmp_1", "encrypted_content": "opaque"}]
    for replay in (forged, foreign):
        await client.responses.create(
            model=MODEL,
            input=[
                {"role": "user", "content": "a"},
                *replay,
                *extra,
                {"role": "user", "content": "b"},
            ],
            tools=IMAGE_TOOL,
            store=False,
        )
        assert_degraded_without_corruption(stack.emulator)
    samples = await metrics(stack)
    ignored = {k: v for k, v in samples.items() if k.startswith("gateway_responses_ignored_total")}
    assert ignored == {
        'gateway_responses_ignored_total{kind="envelope_forged"}': 1.0,
        'gateway_responses_ignored_total{kind="envelope_foreign"}': 1.0,
        'gateway_responses_ignored_total{kind="item_compaction"}': 2.0,
    }
    assert turn_sources(samples) == {"cache": 2.0}  # the turn cache still had the turn


async def test_an_edited_message_wins_and_only_it_loses_its_signature(stack: Stack):
    client = stack.openai()
    first = await client.responses.create(
        model=MODEL, input=EDIT_PROMPTS[0], tools=IMAGE_TOOL, store=False
    )
    items = [o.model_dump() for o in first.output]
    message = next(i for i in items if i["type"] == "message")
    message["content"][0]["text"] = "a blue fox instead"
    await client.responses.create(
        model=MODEL,
        input=[
            {"role": "user", "content": EDIT_PROMPTS[0]},
            *items,
            {"role": "user", "content": "x"},
        ],
        tools=IMAGE_TOOL,
        store=False,
    )
    (text, image) = model_turns(stack.upstream_bodies()[-1])[0]
    assert text["text"] == "a blue fox instead"
    assert image == stack.emulator.issued[0]["parts"][1]  # untouched: its own signature
    assert assert_degraded_without_corruption(stack.emulator) == ["dummy", "ok"]
    assert fallbacks(await metrics(stack)) == {"text": 1.0}


async def test_two_step_function_tool_loop(stack: Stack):
    client = stack.openai()
    tools = [
        {
            "type": "function",
            "name": "get_weather",
            "description": "Weather in a city",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        }
    ]
    history: list[Any] = [{"role": "user", "content": "weather in Paris?"}]
    first = await client.responses.create(model=TOOL_MODEL, input=history, tools=tools, store=False)
    calls = [o for o in first.output if o.type == "function_call"]
    assert calls and calls[0].name == "get_weather"
    history.extend(o.model_dump() for o in first.output)
    history.extend(
        {"type": "function_call_output", "call_id": c.call_id, "output": '{"temp": 21}'}
        for c in calls
    )
    second = await client.responses.create(
        model=TOOL_MODEL, input=history, tools=tools, store=False
    )
    assert_faithful(stack.emulator)
    assert second.output_text.startswith("Done:")
    body = stack.upstream_bodies()[-1]
    assert body["contents"][-1]["parts"][0]["functionResponse"]["response"] == {"temp": 21}
    assert fallbacks(await metrics(stack)) == {}

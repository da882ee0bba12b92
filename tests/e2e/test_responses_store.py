"""What the gateway keeps for /v1/responses: chains that survive a restart with SQLite state,
input_items paging, images found again by id (item_reference, id-only image_generation_call),
hosted images by file_id, and interim images as partial_image events only when asked."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from responses_helpers import check_grammar, parse_events

from tests.conftest import Stack, emulator_stack
from tests.e2e.fidelity_helpers import (
    EDIT_PROMPTS,
    IMAGE_MODELS,
    assert_faithful,
    band_count,
    model_turns,
)

pytestmark = pytest.mark.anyio

MODEL = IMAGE_MODELS[0]
TOOL = [{"type": "image_generation"}]


def _image(response: Any) -> Any:
    return next(o for o in response.output if o.type == "image_generation_call")


async def test_previous_response_id_survives_a_restart_with_sqlite_state(tmp_path: Path):
    state = f"sqlite:///{tmp_path / 'state.db'}"
    async with emulator_stack(state=state) as first:
        created = await first.openai().responses.create(
            model=MODEL, input=EDIT_PROMPTS[0], tools=TOOL
        )
        issued = list(first.emulator.issued)
    assert (tmp_path / "state.responses.db").is_file()
    async with emulator_stack(state=state) as second:
        client = second.openai()
        again = await client.responses.create(
            model=MODEL, input=EDIT_PROMPTS[1], tools=TOOL, previous_response_id=created.id
        )
        assert_faithful(second.emulator, issued)
        assert band_count(base64.b64decode(_image(again).result)) == 1
        assert (await client.responses.retrieve(created.id)).output_text == created.output_text


async def test_input_items_pages_by_cursor(stack: Stack):
    client = stack.openai()
    words = ["one", "two", "three", "four", "five"]
    created = await client.responses.create(
        model="gemini-3-flash-preview",
        input=[{"role": "user", "content": w} for w in words],
    )
    everything = await client.responses.input_items.list(created.id, order="asc")
    assert [i.content[0].text for i in everything.data] == words
    ids = [i.id for i in everything.data]
    page = await client.responses.input_items.list(created.id, limit=2, order="asc", after=ids[1])
    assert [i.id for i in page.data] == ids[2:4] and page.has_more
    newest = await client.responses.input_items.list(created.id, limit=2)
    assert [i.id for i in newest.data] == ids[:2:-1][:2]
    seen = [item.id async for item in client.responses.input_items.list(created.id, limit=2)]
    assert seen == ids[::-1]


@pytest.mark.parametrize("limit", ["\u00b2", "\u0661", "0", "101", "x"])
async def test_a_list_limit_that_is_not_ascii_digits_is_a_400(stack: Stack, limit: str):
    """'²' passes str.isdigit() but not int(): it was a 500 on both item lists."""
    async with stack.http() as http:
        created = await http.post(
            "/v1/responses", json={"model": "gemini-2.5-flash", "input": "hi"}
        )
        conv = await http.post("/v1/conversations", json={})
        for path in (
            f"/v1/responses/{created.json()['id']}/input_items",
            f"/v1/conversations/{conv.json()['id']}/items",
        ):
            listed = await http.get(path, params={"limit": limit})
            assert listed.status_code == 400, listed.text
            assert listed.json()["error"]["param"] == "limit"


@pytest.mark.parametrize("style", ["item_reference", "id_only"])
async def test_images_found_again_by_id(stack: Stack, style: str):
    client = stack.openai()
    first = await client.responses.create(model=MODEL, input=EDIT_PROMPTS[0], tools=TOOL)
    items = [o.model_dump() for o in first.output]
    image_id = _image(first).id
    for k, item in enumerate(items):
        if item["id"] == image_id:
            items[k] = (
                {"type": "item_reference", "id": image_id}
                if style == "item_reference"
                else {"type": "image_generation_call", "id": image_id, "status": "completed"}
            )
    await client.responses.create(
        model=MODEL,
        input=[
            {"role": "user", "content": EDIT_PROMPTS[0]},
            *items,
            {"role": "user", "content": EDIT_PROMPTS[1]},
        ],
        tools=TOOL,
        store=False,
    )
    assert_faithful(stack.emulator)


async def test_a_hosted_image_by_file_id():
    async with emulator_stack(public_url="http://gateway") as stack:
        client = stack.openai()
        made = await client.images.generate(model=MODEL, prompt="a fox", response_format="url")
        name = made.data[0].url.rsplit("/", 1)[1]
        await client.responses.create(
            model="gemini-3-flash-preview",
            input=[
                {
                    "role": "user",
                    "content": [
                        {"type": "input_text", "text": "describe"},
                        {"type": "input_image", "file_id": name},
                    ],
                }
            ],
        )
        (user,) = stack.upstream_bodies()[-1]["contents"]
        blob = user["parts"][1]["inlineData"]
        assert blob["data"] == stack.emulator.issued[0]["parts"][-1]["inlineData"]["data"]


async def test_partial_images_only_when_the_tool_asks(stack: Stack):
    async with stack.http() as http:
        bodies = [
            {"partial_images": 1, "type": "image_generation"},
            {"type": "image_generation"},
        ]
        counts = []
        for tool in bodies:
            raw = await http.post(
                "/v1/responses",
                json={
                    "model": MODEL,
                    "input": "a fox",
                    "stream": True,
                    "tools": [tool],
                    "reasoning": {"summary": "auto"},
                },
                headers={"authorization": "Bearer k"},
            )
            events = parse_events(raw.text)
            check_grammar(events)
            partial = [e for e in events if e["type"].endswith("partial_image")]
            counts.append(len(partial))
            final = events[-1]["response"]["output"]
            images = [o for o in final if o["type"] == "image_generation_call"]
            assert len(images) == 1 and images[0]["result"]
            if partial:
                assert partial[0]["partial_image_b64"] != images[0]["result"]
    assert counts == [1, 0]
    assert all("thought" not in p for t in model_turns(stack.upstream_bodies()[-1]) for p in t)


async def _sent_image(stack: Stack, client: Any, image_id: str) -> bool:
    """Whether a request naming `image_id` (item_reference) still sends that image to Gemini."""
    before = len(stack.upstream_bodies())
    await client.responses.create(
        model=MODEL,
        input=[
            {"role": "user", "content": EDIT_PROMPTS[0]},
            {"type": "item_reference", "id": image_id},
            {"role": "user", "content": EDIT_PROMPTS[1]},
        ],
        tools=TOOL,
        store=False,
    )
    (body,) = stack.upstream_bodies()[before:]
    return any("inlineData" in part for turn in body["contents"] for part in turn["parts"])


async def test_deleting_a_response_deletes_its_images_and_no_one_else_s(stack: Stack):
    client = stack.openai()
    kept = await client.responses.create(model=MODEL, input=EDIT_PROMPTS[0], tools=TOOL)
    gone = await client.responses.create(model=MODEL, input=EDIT_PROMPTS[0], tools=TOOL)
    assert await _sent_image(stack, client, _image(gone).id)  # found by id while stored
    await client.responses.delete(gone.id)
    assert not await _sent_image(stack, client, _image(gone).id)
    assert await _sent_image(stack, client, _image(kept).id)
    assert _image(await client.responses.retrieve(kept.id)).result == _image(kept).result


async def test_deleting_a_response_keeps_the_images_its_conversation_still_holds(stack: Stack):
    client = stack.openai()
    conv = await client.conversations.create()
    made = await client.responses.create(
        model=MODEL, input=EDIT_PROMPTS[0], tools=TOOL, conversation=conv.id
    )
    await client.responses.delete(made.id)
    items = (await client.conversations.items.list(conv.id, order="asc")).data
    images = [i for i in items if i.type == "image_generation_call"]
    assert [i.result for i in images] == [_image(made).result]
    assert await _sent_image(stack, client, _image(made).id)

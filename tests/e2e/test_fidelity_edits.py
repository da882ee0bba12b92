"""The harder round trips: the markdown mirror turned off per request (the image then lives
only in `images[]`, which content-only clients drop), a client that edits an assistant message
(its edit wins; only the edited part loses its signature), and the same image arriving twice."""

from __future__ import annotations

import copy

import pytest

from tests.conftest import Stack, emulator_stack
from tests.e2e.fidelity_helpers import (
    DUMMY,
    EDIT_PROMPTS,
    IMAGE_MODELS,
    SIG,
    TOOL_MODEL,
    TOOLS,
    Pattern,
    Session,
    assert_degraded_without_corruption,
    assert_faithful,
    band_count,
    content_only,
    converse,
    fallbacks,
    metrics,
    model_dump,
    model_turns,
    sdk_object,
    tool_call_ids,
    turn_sources,
)

pytestmark = pytest.mark.anyio

MODEL = IMAGE_MODELS[0]
NO_MIRROR = {"extra_body": {"google": {"image_markdown": False}}}


async def test_mirror_off_sdk_objects_keep_fidelity_without_server_state():
    async with emulator_stack(state_max_bytes=1) as stack:
        pattern = Pattern("sdk_object", sdk_object)
        turns = await converse(Session(stack), pattern, MODEL, EDIT_PROMPTS, **NO_MIRROR)
        assert all("data:image" not in (t.message.content or "") for t in turns)
        assert [band_count(t.png) for t in turns if t.png] == [0, 1, 2]
        assert turn_sources(await metrics(stack)) == {}


async def test_mirror_off_content_only_gets_the_image_back_from_the_cache(stack: Stack):
    """No image anywhere in what the client sends back ("image amnesia"), yet the upstream
    model turn still holds the image bytes and both signatures."""
    pattern = Pattern("content_only", content_only)
    turns = await converse(Session(stack), pattern, MODEL, EDIT_PROMPTS, **NO_MIRROR)
    assert turns[0].message["content"] == f"Here is your image: {EDIT_PROMPTS[0]}"
    replayed = model_turns(stack.emulator.requests[-1].body)
    assert [["inlineData" in p for p in parts] for parts in replayed] == [[False, True]] * 2
    assert [band_count(t.png) for t in turns if t.png] == [0, 1, 2]
    assert turn_sources(await metrics(stack)) == {"cache": 3.0}


@pytest.mark.parametrize("keep", ["model_dump", "content_only"])
async def test_an_edited_caption_wins_and_only_it_loses_its_signature(stack: Stack, keep: str):
    pattern = Pattern(keep, model_dump if keep == "model_dump" else content_only)
    session = Session(stack)
    history = [pattern.user(EDIT_PROMPTS[0])]
    turn = await pattern.reply(session, MODEL, history)
    edited = copy.deepcopy(turn.message)
    edited["content"] = edited["content"].replace("a red fox", "a blue fox")
    assert edited["content"] != turn.message["content"]
    history += [edited, pattern.user(EDIT_PROMPTS[1])]
    await pattern.reply(session, MODEL, history)

    issued = stack.emulator.issued[0]["parts"]
    (text, image) = model_turns(stack.emulator.requests[-1].body)[0]
    assert text == {"text": "Here is your image: a blue fox in the snow", SIG: DUMMY}
    assert image == issued[1]  # untouched: same bytes, its own signature
    assert assert_degraded_without_corruption(stack.emulator) == ["dummy", "ok"]
    assert fallbacks(await metrics(stack)) == {"text": 1.0}


async def test_an_edited_caption_next_to_a_hosted_image_keeps_the_image_signature():
    """With GATEWAY_PUBLIC_URL the image is a link the gateway hosts; the link names the
    image's fingerprint, so the image is still recognised (and keeps its signature)."""
    async with emulator_stack(public_url="http://gateway") as stack:
        pattern = Pattern("content_only", content_only)
        session = Session(stack)
        turn = await pattern.reply(session, MODEL, [pattern.user(EDIT_PROMPTS[0])])
        assert "](http://gateway/v1/files/" in turn.message["content"]
        edited = {**turn.message, "content": turn.message["content"].replace("red", "blue")}
        history = [pattern.user(EDIT_PROMPTS[0]), edited, pattern.user(EDIT_PROMPTS[1])]
        await pattern.reply(session, MODEL, history)
        (text, image) = model_turns(stack.emulator.requests[-1].body)[0]
        assert text == {"text": "Here is your image: a blue fox in the snow", SIG: DUMMY}
        assert image == stack.emulator.issued[0]["parts"][1]
        assert assert_degraded_without_corruption(stack.emulator) == ["dummy", "ok"]


async def test_an_edited_tool_call_wins_and_gets_the_dummy_it_needs(stack: Stack):
    pattern = Pattern("content_only", content_only)
    session = Session(stack)
    history = [pattern.user("use get_weather for Paris")]
    calls = await pattern.reply(session, TOOL_MODEL, history, tools=TOOLS)
    edited = copy.deepcopy(calls.message)
    edited["tool_calls"][0]["function"]["arguments"] = '{"city": "Lyon"}'
    (call_id,) = tool_call_ids(edited)
    history += [edited, pattern.tool_result(call_id, "rain")]
    await pattern.reply(session, TOOL_MODEL, history, tools=TOOLS)

    (call,) = model_turns(stack.emulator.requests[-1].body)[0]
    assert call == {"functionCall": {"name": "get_weather", "args": {"city": "Lyon"}}, SIG: DUMMY}
    assert assert_degraded_without_corruption(stack.emulator) == ["dummy"]


async def test_two_images_in_both_images_and_markdown_are_sent_once_each(stack: Stack):
    """A hand-merged assistant message holding two earlier images twice over (markdown in
    `content` and `images[]`): each image goes up once, with its own signature."""
    pattern = Pattern("model_dump", model_dump)
    session = Session(stack)
    first = await pattern.reply(session, MODEL, [pattern.user("a red fox")])
    second = await pattern.reply(session, MODEL, [pattern.user("a grey wolf")])
    merged = {
        "role": "assistant",
        "content": first.message["content"] + "\n\n" + second.message["content"],
        "images": first.message["images"] + second.message["images"],
    }
    history = [pattern.user("draw both"), merged, pattern.user("put them side by side")]
    await pattern.reply(session, MODEL, history)

    (parts,) = model_turns(stack.emulator.requests[-1].body)
    images = [p for p in parts if "inlineData" in p]
    issued_images = [t["parts"][1] for t in stack.emulator.issued[:2]]
    assert images == issued_images
    assert [("text" in p, "inlineData" in p) for p in parts] == [(True, False), (False, True)] * 2
    assert set(assert_degraded_without_corruption(stack.emulator)) == {"ok"}


async def test_the_carrier_is_not_trusted_over_the_visible_content(stack: Stack):
    """`extra_content` says one thing, `content` another (the client edited only `content`):
    the gateway sends the visible text, never the stale carrier text."""
    pattern = Pattern("model_dump", model_dump)
    session = Session(stack)
    turn = await pattern.reply(session, MODEL, [pattern.user(EDIT_PROMPTS[0])])
    edited = copy.deepcopy(turn.message)
    edited["content"] = "Just a caption now."
    edited.pop("images")
    history = [pattern.user(EDIT_PROMPTS[0]), edited, pattern.user(EDIT_PROMPTS[1])]
    await pattern.reply(session, MODEL, history)
    (parts,) = model_turns(stack.emulator.requests[-1].body)
    assert parts == [{"text": "Just a caption now.", SIG: DUMMY}]
    assert assert_degraded_without_corruption(stack.emulator) == ["dummy"]


async def test_langchain_v1_list_content_with_non_standard_image_blocks_is_restored(
    stack: Stack,
):
    """What LangChain `output_version="v1"` sends back for list content: text blocks and
    `non_standard` wrappers around `image_url` parts, with none of our extra fields."""
    pattern = Pattern("model_dump", model_dump)
    session = Session(stack)
    turn = await pattern.reply(session, MODEL, [pattern.user(EDIT_PROMPTS[0])])
    url = turn.message["images"][0]["image_url"]["url"]
    v1 = {
        "role": "assistant",
        "content": [
            {"type": "text", "text": f"Here is your image: {EDIT_PROMPTS[0]}"},
            {"type": "non_standard", "value": {"type": "image_url", "image_url": {"url": url}}},
        ],
    }
    history = [pattern.user(EDIT_PROMPTS[0]), v1, pattern.user(EDIT_PROMPTS[1])]
    second = await pattern.reply(session, MODEL, history)
    assert_faithful(stack.emulator)
    assert second.png is not None and band_count(second.png) == 1


@pytest.mark.parametrize("mirror", [True, False], ids=["mirror", "no_mirror"])
async def test_image_only_turns_kept_as_empty_content_are_restored(stack: Stack, mirror: bool):
    """`modalities=["image"]`: no caption. Without the mirror the client keeps `content: ""`
    (nothing visible at all); the conversation prefix still finds the turn."""
    options: dict = {"modalities": ["image"]}
    if not mirror:
        options["extra_body"] = {"google": {"image_markdown": False}}
    pattern = Pattern("content_only", content_only)
    turns = await converse(Session(stack), pattern, MODEL, EDIT_PROMPTS, **options)
    assert (turns[0].message["content"] or "").startswith("![image 1](data:") is mirror
    replayed = model_turns(stack.emulator.requests[-1].body)
    assert [[sorted(p) for p in parts] for parts in replayed] == [
        [["inlineData", "thoughtSignature"]]
    ] * 2
    assert [band_count(t.png) for t in turns if t.png] == [0, 1, 2]


async def test_a_system_prompt_rebuilt_every_turn_still_finds_the_turns(stack: Stack):
    """Apps that put a timestamp in the system prompt change the conversation prefix on every
    request; the visible-text key still finds each turn."""
    pattern = Pattern("content_only", content_only)
    session = Session(stack)
    history: list = [pattern.user(EDIT_PROMPTS[0])]
    for k in range(3):
        system = {"role": "system", "content": f"You draw. The time is 12:0{k}."}
        turn = await pattern.reply(session, MODEL, [system, *history])
        assert_faithful(stack.emulator)
        if k < 2:
            history += [turn.message, pattern.user(EDIT_PROMPTS[k + 1])]
    assert turn_sources(await metrics(stack)) == {"cache": 3.0}

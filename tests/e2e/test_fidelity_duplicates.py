"""An assistant message that carries its generated image twice (issue 13): in the text's
markdown mirror and again as an `image_url` content part, or in `images[]` and a content part.
Gemini returned the image once, so it goes back once, with its signature, where Gemini put it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Stack
from tests.e2e.fidelity_helpers import (
    DUMMY,
    IMAGE_MODELS,
    Pattern,
    Session,
    model_dump,
    model_turns,
    signature_count,
)

pytestmark = pytest.mark.anyio

MODEL = IMAGE_MODELS[0]
NO_MIRROR = {"extra_body": {"google": {"image_markdown": False}}}
PROMPTS = ("a red fox in the snow", "make it night time")


async def first_turn(stack: Stack, **kw: Any) -> dict[str, Any]:
    turn = await Pattern("model_dump", model_dump).reply(
        Session(stack), MODEL, [{"role": "user", "content": PROMPTS[0]}], **kw
    )
    message: dict[str, Any] = turn.message
    return message


async def send_back(stack: Stack, assistant: dict[str, Any], **kw: Any) -> list[dict[str, Any]]:
    history = [
        {"role": "user", "content": PROMPTS[0]},
        assistant,
        {"role": "user", "content": PROMPTS[1]},
    ]
    await stack.openai().chat.completions.create(model=MODEL, messages=history, **kw)
    (parts,) = model_turns(stack.emulator.requests[-1].body)
    return parts


async def test_markdown_mirror_and_an_image_part_send_the_image_once(stack: Stack) -> None:
    first = await first_turn(stack)
    url = first["images"][0]["image_url"]["url"]
    assert url in first["content"]  # the mirror
    assistant = {
        "role": "assistant",
        "content": [
            {"type": "text", "text": first["content"]},
            {"type": "image_url", "image_url": {"url": url}},
        ],
    }
    parts = await send_back(stack, assistant)
    assert parts == stack.emulator.issued[0]["parts"]  # text then image, each signed, once


async def test_images_and_an_image_part_send_the_image_once(stack: Stack) -> None:
    first = await first_turn(stack, **NO_MIRROR)
    image = first["images"][0]
    assistant = {
        "role": "assistant",
        "content": [
            {"type": "text", "text": first["content"]},
            {"type": "image_url", "image_url": {"url": image["image_url"]["url"]}},
        ],
        "images": [image],
    }
    parts = await send_back(stack, assistant, **NO_MIRROR)
    assert [p for p in parts if "inlineData" in p] == [
        p for p in stack.emulator.issued[0]["parts"] if "inlineData" in p
    ]
    assert signature_count(stack.emulator.requests[-1].body, DUMMY) == 0


async def test_an_image_part_before_its_mirror_keeps_geminis_order(stack: Stack) -> None:
    """The mirror is where Gemini put the image; a loose copy elsewhere is the duplicate."""
    first = await first_turn(stack)
    url = first["images"][0]["image_url"]["url"]
    assistant = {
        "role": "assistant",
        "content": [
            {"type": "image_url", "image_url": {"url": url}},
            {"type": "text", "text": first["content"]},
        ],
    }
    parts = await send_back(stack, assistant)
    assert parts == stack.emulator.issued[0]["parts"]

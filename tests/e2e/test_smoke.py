"""The README's promise, end to end with the real OpenAI client: text and an image, streamed
and not, against the app on the built-in emulator."""

from __future__ import annotations

import base64

import pytest

pytestmark = pytest.mark.anyio


async def test_text_chat(stack):
    client = stack.openai()
    reply = await client.chat.completions.create(
        model="gemini-2.5-flash", messages=[{"role": "user", "content": "hello there"}]
    )
    assert "hello there" in reply.choices[0].message.content
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage.total_tokens > 0


async def test_image_chat_returns_a_png(stack):
    client = stack.openai()
    reply = await client.chat.completions.create(
        model="gemini-3-pro-image-preview",
        messages=[{"role": "user", "content": "a red fox"}],
    )
    message = reply.choices[0].message
    url = message.images[0]["image_url"]["url"]
    assert url.startswith("data:image/png;base64,")
    assert base64.b64decode(url.split(",", 1)[1]).startswith(b"\x89PNG")
    assert url in message.content


async def test_streamed_image_chat(stack):
    client = stack.openai()
    stream = await client.chat.completions.create(
        model="gemini-3-pro-image-preview",
        messages=[{"role": "user", "content": "a red fox"}],
        stream=True,
    )
    content = ""
    images = []
    finish = None
    async for chunk in stream:
        for choice in chunk.choices:
            content += choice.delta.content or ""
            images.extend((choice.delta.model_extra or {}).get("images") or [])
            finish = choice.finish_reason or finish
    assert finish == "stop"
    assert len(images) == 1
    assert images[0]["image_url"]["url"] in content

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


@pytest.mark.parametrize("stream", [False, True])
async def test_large_images_reach_gemini_byte_for_byte(stack, stream):
    """Payloads of this size are spliced from the request bytes (serving/splice.py)."""
    import io
    import os

    from PIL import Image

    noisy = Image.frombytes("RGB", (300, 300), os.urandom(300 * 300 * 3))
    out = io.BytesIO()
    noisy.save(out, format="PNG")
    payloads = [base64.b64encode(out.getvalue()).decode(), base64.b64encode(b"x" * 90).decode()]
    content = [{"type": "text", "text": "describe these"}] + [
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{p}"}}
        for p in (payloads[0], payloads[1], payloads[0])
    ]
    client = stack.openai()
    reply = await client.chat.completions.create(
        model="gemini-2.5-flash", messages=[{"role": "user", "content": content}], stream=stream
    )
    if stream:
        async for _ in reply:
            pass
    sent = stack.upstream_bodies()[-1]["contents"][-1]["parts"]
    assert [p["inlineData"]["data"] for p in sent if "inlineData" in p] == [
        payloads[0],
        payloads[1],
        payloads[0],
    ]


async def test_the_stack_calls_the_emulator_over_the_wire_it_names(stack, upstream_wire):
    from gateway.upstream.wire_aiohttp import AiohttpWire
    from gateway.upstream.wire_httpx import HttpxWire

    wire = stack.app.state.services.upstream.wire
    assert isinstance(wire, AiohttpWire if upstream_wire == "aiohttp" else HttpxWire)
    reply = await stack.openai().chat.completions.create(
        model="gemini-2.5-flash", messages=[{"role": "user", "content": "over the wire"}]
    )
    assert "over the wire" in reply.choices[0].message.content
    assert len(stack.emulator.requests) == 1

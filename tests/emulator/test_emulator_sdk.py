"""Google's own client against the emulator: if google-genai can hold a multi-turn image chat and a
tool loop here, the emulator's wire format (and its signature checks) match the real API's."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from google import genai
from google.genai import errors, types

pytestmark = pytest.mark.anyio


def sdk_client(app: Any) -> genai.Client:
    options = types.HttpOptions(
        base_url="http://emulator",
        api_version="v1beta",
        async_client_args={"transport": httpx.ASGITransport(app=app)},
    )
    return genai.Client(api_key="sdk-key", http_options=options)


async def test_sdk_multi_turn_image_chat_replays_every_signature(app: Any) -> None:
    client = sdk_client(app)
    config = types.GenerateContentConfig(
        thinking_config=types.ThinkingConfig(include_thoughts=True)
    )
    chat = client.aio.chats.create(model="gemini-3-pro-image-preview", config=config)
    for prompt in ("a cat", "make it blue", "add a hat"):
        response = await chat.send_message(prompt)
        assert response.candidates and response.candidates[0].content
        parts = response.candidates[0].content.parts or []
        assert [bool(p.thought) for p in parts] == [True, True, False, False]
        assert all(p.thought_signature for p in parts if not p.thought)
    state = app.state.emulator
    # google-genai re-encodes image bytes and signatures as URL-safe base64; Gemini accepts that.
    assert state.requests[-1].verdicts == ["ok"] * 4
    assert state.requests[-1].headers["x-goog-api-key"] == "sdk-key"


async def test_sdk_stream_and_tool_loop(app: Any) -> None:
    client = sdk_client(app)
    chunks = [
        c
        async for c in await client.aio.models.generate_content_stream(
            model="gemini-3-pro-preview", contents="stream this text"
        )
    ]
    assert "".join(c.text or "" for c in chunks) == "Echo: stream this text"
    assert (
        chunks[-1].candidates and chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP
    )

    declaration = types.FunctionDeclaration(
        name="get_weather",
        parameters_json_schema={
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    )
    config = types.GenerateContentConfig(
        tools=[types.Tool(function_declarations=[declaration])],
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
    )
    chat = client.aio.chats.create(model="gemini-3-pro-preview", config=config)
    response = await chat.send_message("weather in Paris")
    assert response.function_calls
    call = response.function_calls[0]
    assert (call.name, call.args) == ("get_weather", {"city": "Paris"})
    final = await chat.send_message(
        types.Part.from_function_response(name="get_weather", response={"t": 20})
    )
    assert final.text == 'Done: [{"name":"get_weather","response":{"t":20}}]'
    assert app.state.emulator.requests[-1].verdicts == ["ok"]


async def test_sdk_count_tokens_models_and_errors(app: Any) -> None:
    client = sdk_client(app)
    counted = await client.aio.models.count_tokens(model="gemini-2.5-flash", contents="hello world")
    assert counted.total_tokens == 3
    model = await client.aio.models.get(model="gemini-3.1-pro-preview")
    assert (model.name, model.input_token_limit, model.thinking) == (
        "models/gemini-3.1-pro-preview",
        1048576,
        True,
    )
    with pytest.raises(errors.ClientError) as caught:
        await client.aio.models.generate_content(model="gemini-5", contents="x")
    assert caught.value.code == 404

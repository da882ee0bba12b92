"""streamGenerateContent: SSE framing, running usage, where signatures ride, the JSON-array form."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

pytestmark = pytest.mark.anyio

TOOLS = [
    {
        "functionDeclarations": [
            {
                "name": "get_weather",
                "parameters": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}},
                    "required": ["city"],
                },
            }
        ]
    }
]


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "parts": [{"text": text}]}


def stream_parts(chunks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        p
        for c in chunks
        for cand in c.get("candidates", [])
        for p in cand["content"].get("parts", [])
    ]


async def test_sse_framing_and_envelope(emu: Any) -> None:
    response = await emu.stream(
        "gemini-2.5-flash", {"contents": [user("one two three four five six")]}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert b"[DONE]" not in response.content
    assert b"\r\n\r\n" in response.content
    chunks = emu.parse_sse(response.content)
    assert 3 <= len(chunks) <= 5
    for chunk in chunks:
        assert chunk["modelVersion"] == "gemini-2.5-flash"
        assert chunk["responseId"] == chunks[0]["responseId"]
        assert chunk["usageMetadata"]["promptTokenCount"] == 7
    finishes = [c["candidates"][0].get("finishReason") for c in chunks]
    assert finishes == [None] * (len(chunks) - 1) + ["STOP"]
    text = "".join(p["text"] for p in stream_parts(chunks))
    assert text == "Echo: one two three four five six"
    running = [c["usageMetadata"].get("candidatesTokenCount", 0) for c in chunks]
    assert running == sorted(running)


async def test_stream_usage_ends_at_the_unary_usage(emu: Any) -> None:
    body = {"contents": [user("same usage either way, please")]}
    unary = await emu.ok("gemini-3-pro-preview", body)
    chunks = await emu.chunks("gemini-3-pro-preview", body)
    assert chunks[-1]["usageMetadata"] == unary["usageMetadata"]


async def test_gemini3_signature_on_trailing_empty_part(emu: Any) -> None:
    body = {"contents": [user("sign the end of this")]}
    chunks = await emu.chunks("gemini-3-pro-preview", body)
    last = chunks[-1]["candidates"][0]
    assert last["finishReason"] == "STOP"
    (trailing,) = last["content"]["parts"]
    assert trailing["text"] == ""
    assert trailing["thoughtSignature"]
    for chunk in chunks[:-1]:
        assert all("thoughtSignature" not in p for p in chunk["candidates"][0]["content"]["parts"])
    merged = "".join(p["text"] for p in stream_parts(chunks))
    expected = {"text": merged, "thoughtSignature": trailing["thoughtSignature"]}
    assert emu.state.issued[-1] == {"role": "model", "parts": [expected]}
    # A client that merges the pieces and keeps the signature on the merged part verifies.
    replay = {"contents": [user("sign the end of this"), emu.state.issued[-1], user("next")]}
    await emu.ok("gemini-3-pro-preview", replay)
    assert emu.state.requests[-1].verdicts == ["ok"]


async def test_multibyte_text_is_never_split_inside_a_character(emu: Any) -> None:
    prompt = "日本語のテキストと絵文字🙂🙂🙂"
    response = await emu.stream("gemini-2.5-flash", {"contents": [user(prompt)]})
    chunks = emu.parse_sse(response.content)  # each event decodes as UTF-8 JSON on its own
    assert "".join(p["text"] for p in stream_parts(chunks)) == "Echo: " + prompt


async def test_thoughts_stream_first_and_merge_in_issued(emu: Any) -> None:
    body = {
        "contents": [user("thinking stream")],
        "generationConfig": {"thinkingConfig": {"includeThoughts": True}},
    }
    chunks = await emu.chunks("gemini-2.5-flash", body)
    parts = stream_parts(chunks)
    flags = [bool(p.get("thought")) for p in parts]
    assert flags == sorted(flags, reverse=True) and flags[0] and not flags[-1]
    issued = emu.state.issued[-1]["parts"]
    assert [bool(p.get("thought")) for p in issued] == [True, False]
    assert issued[0]["text"] == "".join(p["text"] for p in parts if p.get("thought"))


async def test_function_call_stream_like_sample_07(emu: Any) -> None:
    body = {"contents": [user("weather in Rome")], "tools": TOOLS}
    chunks = await emu.chunks("gemini-3-pro-preview", body)
    assert len(chunks) == 2
    first = chunks[0]["candidates"][0]
    assert "finishReason" not in first
    (call,) = first["content"]["parts"]
    assert call["functionCall"] == {"name": "get_weather", "args": {"city": "Rome"}}
    assert call["thoughtSignature"]
    last = chunks[1]["candidates"][0]
    assert last["content"]["parts"] == [{"text": ""}]
    assert last["finishReason"] == "STOP"
    assert last["finishMessage"] == "Model generated function call(s)."


async def test_image_stream_gemini3_like_sample_01(emu: Any) -> None:
    chunks = await emu.chunks("gemini-3-pro-image-preview", {"contents": [user("a red moon")]})
    image_chunks = [c for c in chunks if any("inlineData" in p for p in stream_parts([c]))]
    assert len(image_chunks) == 1
    (image,) = stream_parts(image_chunks)
    assert image["inlineData"]["mimeType"] == "image/png"
    assert image["thoughtSignature"]
    assert chunks[-1]["candidates"][0]["content"]["parts"] == [{"text": ""}]
    assert chunks[-1]["candidates"][0]["finishReason"] == "STOP"
    texts = [p for p in stream_parts(chunks) if p.get("text")]
    assert texts[0]["thoughtSignature"]  # the first text part is signed (gemini-api.md §4)
    assert image_chunks[0]["usageMetadata"]["candidatesTokensDetails"] == [
        {"modality": "IMAGE", "tokenCount": 1120}
    ]
    issued = emu.state.issued[-1]["parts"]
    assert [sorted(p) for p in issued] == [
        ["text", "thoughtSignature"],
        ["inlineData", "thoughtSignature"],
    ]
    assert issued[0]["text"] == "Here is your image: a red moon"


async def test_image_stream_25_like_sample_02(emu: Any) -> None:
    chunks = await emu.chunks("gemini-2.5-flash-image", {"contents": [user("a kitten")]})
    contents = [c["candidates"][0]["content"] for c in chunks]
    assert {"role": "model"} in contents  # the parts-less chunk before the image
    last = chunks[-1]["candidates"][0]
    assert "inlineData" in last["content"]["parts"][0]
    assert last["finishReason"] == "STOP"
    assert chunks[-1]["usageMetadata"]["candidatesTokensDetails"][0]["tokenCount"] == 1290
    assert all("thoughtSignature" not in p for p in stream_parts(chunks))


async def test_json_array_stream_without_alt_sse(emu: Any) -> None:
    response = await emu.stream(
        "gemini-3-pro-preview", {"contents": [user("array form here")]}, sse=False
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.content.startswith(b"[{") and response.content.endswith(b"}]")
    assert b",\r\n{" in response.content
    chunks = orjson.loads(response.content)
    assert chunks[-1]["candidates"][0]["finishReason"] == "STOP"
    assert all("usageMetadata" in c for c in chunks)


async def test_multiple_candidates_stream_side_by_side(emu: Any) -> None:
    body = {"contents": [user("two at once")], "generationConfig": {"candidateCount": 2}}
    chunks = await emu.chunks("gemini-2.5-flash", body)
    texts: dict[int, str] = {0: "", 1: ""}
    for chunk in chunks:
        for candidate in chunk["candidates"]:
            texts[candidate["index"]] += "".join(p["text"] for p in candidate["content"]["parts"])
    assert texts == {0: "Echo: two at once", 1: "Echo [2]: two at once"}

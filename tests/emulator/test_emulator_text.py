"""Unary text answers: echo, signatures per model family, thoughts, JSON mode, candidates, usage."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

pytestmark = pytest.mark.anyio


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "parts": [{"text": text}]}


def parts_of(data: dict[str, Any], index: int = 0) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = data["candidates"][index]["content"]["parts"]
    return parts


async def test_gemini3_text_is_echoed_and_signed_on_the_last_part(emu: Any) -> None:
    data = await emu.ok("gemini-3-pro-preview", {"contents": [user("hello there")]})
    (part,) = parts_of(data)
    assert part["text"] == "Echo: hello there"
    assert len(part["thoughtSignature"]) == 44
    candidate = data["candidates"][0]
    assert candidate["finishReason"] == "STOP"
    assert candidate["index"] == 0
    assert data["modelVersion"] == "gemini-3-pro-preview"
    assert data["responseId"]
    assert emu.state.issued == [{"role": "model", "parts": [part]}]


async def test_gemini25_text_is_unsigned(emu: Any) -> None:
    data = await emu.ok("gemini-2.5-flash", {"contents": [user("hi")]})
    assert parts_of(data) == [{"text": "Echo: hi"}]


async def test_usage_metadata_adds_up(emu: Any) -> None:
    data = await emu.ok("gemini-3-flash-preview", {"contents": [user("x" * 40)]})
    usage = data["usageMetadata"]
    assert usage["promptTokenCount"] == 10
    assert usage["promptTokensDetails"] == [{"modality": "TEXT", "tokenCount": 10}]
    assert usage["candidatesTokenCount"] == 12  # ceil(len("Echo: " + 40 x) / 4)
    assert usage["thoughtsTokenCount"] == 12
    assert usage["totalTokenCount"] == 10 + 12 + 12


async def test_thinking_budget_zero_means_no_thought_tokens(emu: Any) -> None:
    body = {"contents": [user("hi")], "generationConfig": {"thinkingConfig": {"thinkingBudget": 0}}}
    data = await emu.ok("gemini-2.5-flash", body)
    assert "thoughtsTokenCount" not in data["usageMetadata"]


async def test_same_request_same_answer(emu: Any) -> None:
    body = {"contents": [user("deterministic please")]}
    first = await emu.generate("gemini-3-pro-preview", body)
    second = await emu.generate("gemini-3-pro-preview", body)
    assert first.content == second.content


async def test_include_thoughts_adds_an_unsigned_thought_part_first(emu: Any) -> None:
    body = {
        "contents": [user("think")],
        "generationConfig": {"thinkingConfig": {"includeThoughts": True, "thinkingLevel": "low"}},
    }
    parts = parts_of(await emu.ok("gemini-3-pro-preview", body))
    assert parts[0]["thought"] is True
    assert "thoughtSignature" not in parts[0]
    assert parts[-1]["text"] == "Echo: think"
    assert "thoughtSignature" in parts[-1]


async def test_snake_case_config_is_accepted(emu: Any) -> None:
    body = {
        "contents": [{"role": "user", "parts": [{"text": "snake"}]}],
        "generation_config": {"thinking_config": {"include_thoughts": True}},
        "system_instruction": {"parts": [{"text": "be brief"}]},
    }
    parts = parts_of(await emu.ok("gemini-2.5-flash", body))
    assert parts[0]["thought"] is True


async def test_candidate_count_gives_varied_candidates(emu: Any) -> None:
    body = {"contents": [user("many")], "generationConfig": {"candidateCount": 3}}
    data = await emu.ok("gemini-2.5-flash", body)
    texts = [c["content"]["parts"][0]["text"] for c in data["candidates"]]
    assert [c["index"] for c in data["candidates"]] == [0, 1, 2]
    assert texts[0] == "Echo: many"
    assert len(set(texts)) == 3


async def test_json_mode_fills_required_properties(emu: Any) -> None:
    schema = {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "count": {"type": "integer"},
            "ok": {"type": "boolean"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "kind": {"type": "string", "enum": ["a", "b"]},
            "ignored": {"type": "string"},
        },
        "required": ["city", "count", "ok", "tags", "kind"],
    }
    body = {
        "contents": [user("weather for Paris")],
        "generationConfig": {"responseMimeType": "application/json", "responseJsonSchema": schema},
    }
    text = parts_of(await emu.ok("gemini-2.5-flash", body))[0]["text"]
    assert orjson.loads(text) == {"city": "Paris", "count": 1, "ok": True, "tags": [], "kind": "a"}


async def test_json_mode_with_openapi_schema_and_without_schema(emu: Any) -> None:
    schema = {"type": "OBJECT", "properties": {"n": {"type": "NUMBER"}}, "required": ["n"]}
    body = {
        "contents": [user("num")],
        "generationConfig": {"responseMimeType": "application/json", "responseSchema": schema},
    }
    assert orjson.loads(parts_of(await emu.ok("gemini-2.5-flash", body))[0]["text"]) == {"n": 1}
    body["generationConfig"] = {"responseMimeType": "application/json"}
    assert orjson.loads(parts_of(await emu.ok("gemini-2.5-flash", body))[0]["text"]) == {
        "echo": "num"
    }


async def test_max_output_tokens_cuts_the_text(emu: Any) -> None:
    body = {"contents": [user("word " * 40)], "generationConfig": {"maxOutputTokens": 5}}
    data = await emu.ok("gemini-2.5-flash", body)
    assert data["candidates"][0]["finishReason"] == "MAX_TOKENS"
    assert len(parts_of(data)[0]["text"]) == 20


async def test_a_blank_role_is_a_user_turn(emu: Any) -> None:
    data = await emu.ok("gemini-2.5-flash", {"contents": [{"parts": [{"text": "no role"}]}]})
    assert parts_of(data)[0]["text"] == "Echo: no role"


async def test_api_versions_all_work(emu: Any) -> None:
    for version in ("v1beta", "v1", "v1alpha"):
        response = await emu.client.post(
            f"/{version}/models/gemini-2.5-flash:generateContent", json={"contents": [user("v")]}
        )
        assert response.status_code == 200


async def test_requests_are_recorded(emu: Any) -> None:
    await emu.generate("gemini-2.5-flash", {"contents": [user("rec")]}, params={"foo": "bar"})
    (recorded,) = emu.state.requests
    assert recorded.path == "/v1beta/models/gemini-2.5-flash:generateContent"
    assert recorded.model == "gemini-2.5-flash"
    assert recorded.method == "generateContent"
    assert recorded.query == {"foo": "bar"}
    assert recorded.headers["x-goog-api-key"] == "test-key"
    assert recorded.body == {"contents": [user("rec")]}

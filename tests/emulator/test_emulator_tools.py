"""Function calling (choice, args, parallel, sequential steps, modes) and the built-in tools."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

pytestmark = pytest.mark.anyio

G3 = "gemini-3-pro-preview"
DECLARATIONS = [
    {
        "name": "get_weather",
        "parameters": {
            "type": "OBJECT",
            "properties": {"city": {"type": "STRING"}, "days": {"type": "INTEGER"}},
            "required": ["city", "days"],
        },
    },
    {
        "name": "get_time",
        "parametersJsonSchema": {
            "type": "object",
            "properties": {"utc": {"type": "boolean"}, "opts": {"$ref": "#/$defs/Opts"}},
            "required": ["utc", "opts"],
            "$defs": {
                "Opts": {
                    "type": "object",
                    "properties": {"n": {"type": ["number", "null"]}},
                    "required": ["n"],
                }
            },
        },
    },
    {"name": "no_args"},
]
TOOLS = [{"functionDeclarations": DECLARATIONS}]


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "parts": [{"text": text}]}


def calls_of(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in data["candidates"][0]["content"]["parts"] if "functionCall" in p]


def responses_for(turn: dict[str, Any]) -> dict[str, Any]:
    return {
        "role": "user",
        "parts": [
            {"functionResponse": {"name": p["functionCall"]["name"], "response": {"result": 42}}}
            for p in turn["parts"]
            if "functionCall" in p
        ],
    }


async def test_first_declaration_is_called_by_default(emu: Any) -> None:
    data = await emu.ok(G3, {"contents": [user("what now in Lisbon?")], "tools": TOOLS})
    (part,) = calls_of(data)
    assert part["functionCall"] == {"name": "get_weather", "args": {"city": "Lisbon", "days": 1}}
    assert "id" not in part["functionCall"]
    candidate = data["candidates"][0]
    assert candidate["finishReason"] == "STOP"
    assert candidate["finishMessage"] == "Model generated function call(s)."


async def test_named_declaration_wins_and_json_schema_args_are_filled(emu: Any) -> None:
    data = await emu.ok(G3, {"contents": [user("use get_time please")], "tools": TOOLS})
    assert calls_of(data)[0]["functionCall"] == {
        "name": "get_time",
        "args": {"utc": True, "opts": {"n": 1}},
    }


async def test_parallel_calls_sign_only_the_first(emu: Any) -> None:
    data = await emu.ok(G3, {"contents": [user("parallel for Oslo")], "tools": TOOLS})
    first, second = calls_of(data)
    assert first["functionCall"]["name"] == "get_weather" and "thoughtSignature" in first
    assert second["functionCall"]["name"] == "get_time" and "thoughtSignature" not in second


async def test_gemini25_signs_the_first_call_too(emu: Any) -> None:
    data = await emu.ok("gemini-2.5-flash", {"contents": [user("go")], "tools": TOOLS})
    assert "thoughtSignature" in calls_of(data)[0]


async def test_sequential_steps_then_done(emu: Any) -> None:
    contents = [user("plan steps=3 for Rome")]
    names = []
    for _ in range(3):
        data = await emu.ok(G3, {"contents": contents, "tools": TOOLS})
        if not calls_of(data):
            break
        names.append(calls_of(data)[0]["functionCall"]["name"])
        turn = emu.state.issued[-1]
        contents = [*contents, turn, responses_for(turn)]
    assert len(names) == 3
    final = await emu.ok(G3, {"contents": contents, "tools": TOOLS})
    (text,) = final["candidates"][0]["content"]["parts"]
    assert (
        text["text"]
        == "Done: " + orjson.dumps([{"name": "get_weather", "response": {"result": 42}}]).decode()
    )
    assert "thoughtSignature" in text
    assert emu.state.requests[-1].verdicts == ["ok", "ok", "ok"]


async def test_mode_none_answers_text(emu: Any) -> None:
    body = {
        "contents": [user("hi")],
        "tools": TOOLS,
        "toolConfig": {"functionCallingConfig": {"mode": "NONE"}},
    }
    data = await emu.ok(G3, body)
    assert data["candidates"][0]["content"]["parts"][0]["text"] == "Echo: hi"


async def test_mode_any_with_allowed_names(emu: Any) -> None:
    config = {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["no_args"]}}
    data = await emu.ok(
        G3, {"contents": [user("get_weather?")], "tools": TOOLS, "toolConfig": config}
    )
    assert calls_of(data)[0]["functionCall"] == {"name": "no_args", "args": {}}


async def test_snake_case_tools(emu: Any) -> None:
    tools = [
        {
            "function_declarations": [
                {
                    "name": "lookup",
                    "parameters_json_schema": {
                        "type": "object",
                        "properties": {"q": {"type": "string"}},
                        "required": ["q"],
                    },
                }
            ]
        }
    ]
    data = await emu.ok(G3, {"contents": [user("find cats")], "tools": tools})
    assert calls_of(data)[0]["functionCall"] == {"name": "lookup", "args": {"q": "cats"}}


async def test_code_execution(emu: Any) -> None:
    data = await emu.ok(G3, {"contents": [user("compute")], "tools": [{"codeExecution": {}}]})
    parts = data["candidates"][0]["content"]["parts"]
    assert parts[0]["executableCode"]["language"] == "PYTHON"
    assert parts[1]["codeExecutionResult"] == {"outcome": "OUTCOME_OK", "output": "7\n"}
    assert parts[2]["text"] == "Echo: compute" and "thoughtSignature" in parts[2]


async def test_google_search_grounding(emu: Any) -> None:
    data = await emu.ok(
        G3, {"contents": [user("news about Mars")], "tools": [{"google_search": {}}]}
    )
    grounding = data["candidates"][0]["groundingMetadata"]
    assert grounding["webSearchQueries"] == ["news about Mars"]
    assert grounding["groundingChunks"][0]["web"]["uri"].startswith("https://")


async def test_url_context_metadata(emu: Any) -> None:
    body = {
        "contents": [user("summarise https://example.org/a and https://example.org/b")],
        "tools": [{"urlContext": {}}],
    }
    data = await emu.ok("gemini-2.5-flash", body)
    urls = [m["retrievedUrl"] for m in data["candidates"][0]["urlContextMetadata"]["urlMetadata"]]
    assert urls == ["https://example.org/a", "https://example.org/b"]


async def test_built_in_tool_stream_carries_metadata_on_the_last_chunk(emu: Any) -> None:
    chunks = await emu.chunks(
        G3, {"contents": [user("search this")], "tools": [{"googleSearch": {}}]}
    )
    assert "groundingMetadata" in chunks[-1]["candidates"][0]
    assert all("groundingMetadata" not in c["candidates"][0] for c in chunks[:-1])

"""The tool loop's history (assistant tool_calls → functionCall parts with their signatures,
tool messages → functionResponse), Google's built-in tools, and the structured-output and
reasoning knobs. Expected bodies are written out in full and validated against google-genai."""

from __future__ import annotations

from typing import Any

import pytest
from tool_requests import TIME, body, rejected, tools_of, upstream
from validators import validate_gemini_request

from gateway.translate.parse import parse_chat_request
from gateway.translate.request import Resolved, to_gemini_request
from gateway.translate.signatures import DUMMY_SIGNATURE
from gateway.translate.turn_view import ViewOptions

Json = dict[str, Any]

WEATHER: Json = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


# -- Google built-ins ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tool", "expected"),
    [
        ({"type": "google_search"}, {"googleSearch": {}}),
        ({"type": "web_search"}, {"googleSearch": {}}),
        ({"type": "url_context"}, {"urlContext": {}}),
        ({"type": "code_execution"}, {"codeExecution": {}}),
        (
            {"type": "google_maps", "google_maps": {"enable_widget": True}},
            {"googleMaps": {"enableWidget": True}},
        ),
        (
            {
                "type": "google_search",
                "google_search": {"time_range_filter": {"start_time": "2025-01-01T00:00:00Z"}},
            },
            {"googleSearch": {"timeRangeFilter": {"startTime": "2025-01-01T00:00:00Z"}}},
        ),
    ],
)
def test_builtin_tool_types(tool: Json, expected: Json) -> None:
    assert upstream(body(tools=[tool]))["tools"] == [expected]


def test_web_search_options_and_builtins_beside_functions() -> None:
    sent = upstream(
        body(
            tools=[WEATHER, {"type": "code_execution"}],
            web_search_options={"search_context_size": "low"},
        )
    )
    assert sent["tools"] == [
        {
            "functionDeclarations": [
                upstream(body(tools=[WEATHER]))["tools"][0]["functionDeclarations"][0]
            ]
        },
        {"codeExecution": {}},
        {"googleSearch": {}},
    ]


def test_native_google_tools_merge_without_renaming_schema_properties() -> None:
    native = [
        {"google_search": {}},
        {"url_context": {}},
        {
            "function_declarations": [
                {
                    "name": "lookup_user",
                    "parameters_json_schema": {
                        "type": "object",
                        "properties": {"user_id": {"type": "string"}},
                        "required": ["user_id"],
                    },
                }
            ]
        },
    ]
    for key in ("google", "extra_body"):
        wrapped = {"google": {"tools": native}} if key == "extra_body" else {"tools": native}
        tools, _ = tools_of(tools=[WEATHER, {"type": "google_search"}], **{key: wrapped})
        declarations = tools[0]["functionDeclarations"]
        assert [d["name"] for d in declarations] == ["get_weather", "lookup_user"]
        assert declarations[1]["parametersJsonSchema"]["properties"] == {
            "user_id": {"type": "string"}
        }
        assert tools[1:] == [{"googleSearch": {}}, {"urlContext": {}}]


def test_native_declarations_count_for_tool_choice_and_duplicates() -> None:
    native = {"tools": [{"functionDeclarations": [{"name": "native_fn"}]}]}
    _, config = tools_of(
        tool_choice={"type": "function", "function": {"name": "native_fn"}}, google=native
    )
    assert config == {
        "functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["native_fn"]}
    }
    clash = {"tools": [{"functionDeclarations": [{"name": "get_weather"}]}]}
    assert "declared twice" in rejected(tools=[WEATHER], google=clash).message


# -- the tool loop's history -------------------------------------------------------------------


def call(call_id: str, name: str, args: str, signature: str | None = None) -> Json:
    item: Json = {"id": call_id, "type": "function", "function": {"name": name, "arguments": args}}
    if signature is not None:
        item["extra_content"] = {"google": {"thought_signature": signature}}
    return item


def test_history_calls_keep_their_signatures_in_order() -> None:
    messages = [
        {"role": "user", "content": "Weather in Paris, then the time"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [call("c1", "get_weather", '{"city":"Paris"}', "U0lHLTE=")],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
        {"role": "assistant", "tool_calls": [call("c2", "get_time", "", "U0lHLTI=")]},
        {"role": "tool", "tool_call_id": "c2", "content": '{"utc": "12:00"}'},
    ]
    sent = upstream(body(messages=messages, tools=[WEATHER, TIME]))
    assert sent["contents"][1:] == [
        {
            "role": "model",
            "parts": [
                {
                    "functionCall": {"name": "get_weather", "args": {"city": "Paris"}},
                    "thoughtSignature": "U0lHLTE=",
                }
            ],
        },
        {
            "role": "user",
            "parts": [
                {"functionResponse": {"name": "get_weather", "response": {"output": "sunny"}}}
            ],
        },
        {
            "role": "model",
            "parts": [
                {"functionCall": {"name": "get_time", "args": {}}, "thoughtSignature": "U0lHLTI="}
            ],
        },
        {
            "role": "user",
            "parts": [{"functionResponse": {"name": "get_time", "response": {"utc": "12:00"}}}],
        },
    ]


def test_parallel_calls_then_grouped_responses() -> None:
    messages = [
        {"role": "user", "content": "Paris and Rome"},
        {
            "role": "assistant",
            "tool_calls": [
                call("p", "get_weather", '{"city":"Paris"}', "U0lHLVA="),
                call("r", "get_weather", '{"city":"Rome"}'),
            ],
        },
        {"role": "tool", "tool_call_id": "p", "content": "21"},
        {"role": "tool", "tool_call_id": "r", "content": "25"},
    ]
    contents = upstream(body(messages=messages, tools=[WEATHER]))["contents"]
    assert [next(iter(p)) for c in contents for p in c["parts"]] == [
        "text",
        "functionCall",
        "functionCall",
        "functionResponse",
        "functionResponse",
    ]
    assert contents[1]["parts"][0]["thoughtSignature"] == "U0lHLVA="
    assert "thoughtSignature" not in contents[1]["parts"][1]
    assert [p["functionResponse"]["response"] for p in contents[2]["parts"]] == [
        {"output": 21},
        {"output": 25},
    ]


def test_out_of_order_tool_results_follow_the_calls_order() -> None:
    messages = [
        {"role": "user", "content": "Paris and Rome"},
        {
            "role": "assistant",
            "tool_calls": [
                call("p", "get_weather", '{"city":"Paris"}', "U0lHLVA="),
                call("r", "get_weather", '{"city":"Rome"}'),
            ],
        },
        {"role": "tool", "tool_call_id": "r", "content": "rome"},
        {"role": "tool", "tool_call_id": "p", "content": "paris"},
    ]
    contents = upstream(body(messages=messages, tools=[WEATHER]))["contents"]
    assert [p["functionResponse"]["response"]["output"] for p in contents[2]["parts"]] == [
        "paris",
        "rome",
    ]


def test_unrecoverable_signatures_get_the_dummy_only_in_the_current_turn() -> None:
    """Gemini 3 validates the first functionCall of every step since the last user text."""
    messages = [
        {"role": "user", "content": "earlier question"},
        {"role": "assistant", "tool_calls": [call("o", "get_time", "{}")]},
        {"role": "tool", "tool_call_id": "o", "content": "noon"},
        {"role": "assistant", "content": "It is noon."},
        {"role": "user", "content": "now Paris and Rome, twice"},
        {
            "role": "assistant",
            "tool_calls": [
                call("a", "get_weather", '{"city":"Paris"}'),
                call("b", "get_weather", '{"city":"Rome"}'),
            ],
        },
        {"role": "tool", "tool_call_id": "a", "content": "1"},
        {"role": "tool", "tool_call_id": "b", "content": "2"},
        {"role": "assistant", "tool_calls": [call("c", "get_time", "{}", "U0lHLUM=")]},
        {"role": "tool", "tool_call_id": "c", "content": "3"},
        {"role": "assistant", "tool_calls": [call("d", "get_time", "{}")]},
        {"role": "tool", "tool_call_id": "d", "content": "4"},
    ]
    raw = body(messages=messages, tools=[WEATHER, TIME])
    call_ = to_gemini_request(parse_chat_request(raw), Resolved(), ViewOptions())
    validate_gemini_request(call_.body)
    signatures = [
        part.get("thoughtSignature")
        for content in call_.body["contents"]
        for part in content["parts"]
        if "functionCall" in part
    ]
    assert signatures == [None, DUMMY_SIGNATURE, None, "U0lHLUM=", DUMMY_SIGNATURE]
    assert call_.notes.count("signature_fallback:function_call") == 2


def test_gemini_2_5_never_gets_a_dummy() -> None:
    messages = [
        {"role": "user", "content": "time?"},
        {"role": "assistant", "tool_calls": [call("o", "get_time", "{}")]},
        {"role": "tool", "tool_call_id": "o", "content": "noon"},
    ]
    sent = upstream(body(model="gemini-2.5-flash", messages=messages, tools=[TIME]))
    assert sent["contents"][1]["parts"] == [{"functionCall": {"name": "get_time", "args": {}}}]


@pytest.mark.parametrize(
    "holder",
    [
        {"provider_specific_fields": {"thought_signature": "TElURUxMTQ=="}},
        {"function": {"name": "get_time", "arguments": "{}", "thought_signature": "TElURUxMTQ=="}},
    ],
    ids=["litellm", "portkey"],
)
def test_other_gateways_signature_spellings_are_read(holder: Json) -> None:
    tool_call = call("o", "get_time", "{}") | holder
    messages = [
        {"role": "user", "content": "time?"},
        {"role": "assistant", "tool_calls": [tool_call]},
        {"role": "tool", "tool_call_id": "o", "content": "noon"},
    ]
    sent = upstream(body(messages=messages, tools=[TIME]))
    assert sent["contents"][1]["parts"][0]["thoughtSignature"] == "TElURUxMTQ=="


def test_tool_message_for_an_unknown_call_is_refused() -> None:
    messages = [
        {"role": "user", "content": "time?"},
        {"role": "tool", "tool_call_id": "ghost", "content": "noon"},
    ]
    err = rejected(messages=messages)
    assert err.param == "messages[1].tool_call_id" and "'ghost'" in err.message


# -- structured output and reasoning (generation_config.py) ----------------------------------------

PERSON: Json = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "tags": {"type": ["array", "null"]}},
    "required": ["name", "tags"],
    "additionalProperties": False,
}


@pytest.mark.parametrize(
    ("response_format", "expected"),
    [
        ({"type": "text"}, {}),
        ({"type": "json_object"}, {"responseMimeType": "application/json"}),
        (
            {"type": "json_schema", "json_schema": {"name": "p", "strict": True, "schema": PERSON}},
            {"responseMimeType": "application/json", "responseJsonSchema": PERSON},
        ),
        (
            {"type": "json_schema", "json_schema": {"name": "p", "schema": PERSON}},
            {"responseMimeType": "application/json", "responseJsonSchema": PERSON},
        ),
    ],
    ids=["text", "json-object", "json-schema-strict", "json-schema"],
)
def test_response_format(response_format: Json, expected: Json) -> None:
    sent = upstream(body(response_format=response_format, tools=[WEATHER]))
    assert sent.get("generationConfig", {}) == expected
    assert sent["tools"][0]["functionDeclarations"][0]["name"] == "get_weather"


@pytest.mark.parametrize(
    ("model", "fields", "thinking"),
    [
        ("gemini-2.5-flash", {"reasoning_effort": "low"}, {"thinkingBudget": 1024}),
        ("gemini-2.5-flash", {"reasoning_effort": "none"}, {"thinkingBudget": 0}),
        ("gemini-2.5-pro", {"reasoning_effort": "none"}, {"thinkingBudget": 128}),
        ("gemini-3-pro-preview", {"reasoning_effort": "minimal"}, {"thinkingLevel": "LOW"}),
        ("gemini-3.1-pro-preview", {"reasoning_effort": "high"}, {"thinkingLevel": "HIGH"}),
        ("gemini-3-flash-preview", {"reasoning_effort": "minimal"}, {"thinkingLevel": "MINIMAL"}),
        ("gemini-3-flash-preview", {"reasoning_effort": "medium"}, {"thinkingLevel": "MEDIUM"}),
        ("gemini-3-pro-image-preview", {"reasoning_effort": "high"}, None),
        (
            "gemini-3-pro-preview",
            {"reasoning_effort": "high", "google": {"thinking_config": {"thinking_budget": 2048}}},
            {"thinkingBudget": 2048},
        ),
        (
            "gemini-2.5-flash",
            {
                "reasoning_effort": "high",
                "extra_body": {"google": {"thinking_config": {"thinking_level": "low"}}},
            },
            {"thinkingLevel": "low"},
        ),
        (
            "gemini-3-pro-preview",
            {"reasoning_effort": "low", "include_reasoning": True},
            {"thinkingLevel": "LOW", "includeThoughts": True},
        ),
        (
            "gemini-2.5-flash",
            {"reasoning_effort": "low", "google": {"thinking_config": {"include_thoughts": True}}},
            {"thinkingBudget": 1024, "includeThoughts": True},
        ),
    ],
)
def test_reasoning(model: str, fields: Json, thinking: Json | None) -> None:
    sent = upstream(body(model=model, **fields))
    assert sent.get("generationConfig", {}).get("thinkingConfig") == thinking


def test_native_gemini_call_ids_go_back_on_the_function_response() -> None:
    call = {"id": "gem-7", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    carrier = {"google": {"parts": [{"tool_call": 0, "native_id": True}]}}
    messages = [
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": None, "tool_calls": [call], "extra_content": carrier},
        {"role": "tool", "tool_call_id": "gem-7", "content": "ok"},
    ]
    contents = upstream(body(messages=messages))["contents"]
    assert contents[1]["parts"][0]["functionCall"]["id"] == "gem-7"
    assert contents[2]["parts"][0]["functionResponse"]["id"] == "gem-7"


def test_legacy_assistant_function_call_becomes_a_function_call_part() -> None:
    messages = [
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": None, "function_call": {"name": "f", "arguments": "{}"}},
        {"role": "function", "name": "f", "content": "x"},
    ]
    contents = upstream(body(model="gemini-2.5-flash", messages=messages))["contents"]
    assert [c["role"] for c in contents] == ["user", "model", "user"]
    assert contents[1]["parts"] == [{"functionCall": {"name": "f", "args": {}}}]
    assert contents[2]["parts"][0]["functionResponse"] == {
        "name": "f",
        "response": {"output": "x"},
    }


def test_empty_user_text_parts_are_not_sent() -> None:
    messages = [
        {"role": "user", "content": [{"type": "text", "text": ""}, {"type": "text", "text": "hi"}]},
        {"role": "user", "content": ""},
    ]
    contents = upstream(body(model="gemini-2.5-flash", messages=messages))["contents"]
    assert contents == [{"role": "user", "parts": [{"text": "hi"}]}]

"""tools / tool_choice / built-ins → Gemini tools + toolConfig. Expected values are written out
in full; every upstream body is also validated against google-genai's own types. The tool
loop's history is in test_tools_history.py."""

from __future__ import annotations

from typing import Any

import pytest
from tool_requests import TIME, body, rejected, tools_of, upstream

Json = dict[str, Any]

WEATHER: Json = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


def function(name: str, parameters: Any = None, **extra: Any) -> Json:
    fn: Json = {"name": name, **extra}
    if parameters is not None:
        fn["parameters"] = parameters
    return {"type": "function", "function": fn}


# -- declarations ------------------------------------------------------------------------------


def test_function_tools_become_one_function_declarations_tool() -> None:
    sent = upstream(body(tools=[WEATHER, TIME]))
    assert sent["tools"] == [
        {
            "functionDeclarations": [
                {
                    "name": "get_weather",
                    "description": "Weather for a city",
                    "parametersJsonSchema": {
                        "type": "object",
                        "properties": {"city": {"type": "string"}},
                        "required": ["city"],
                    },
                },
                {"name": "get_time"},
            ]
        }
    ]
    assert "toolConfig" not in sent


def test_full_json_schema_travels_unchanged() -> None:
    """No lossy cleaning: $defs/$ref, anyOf, const, type unions, formats and
    additionalProperties reach Gemini exactly as written."""
    schema = {
        "type": "object",
        "properties": {
            "when": {"type": "string", "format": "date-time", "title": "When"},
            "unit": {"const": "celsius"},
            "limit": {"type": ["integer", "null"], "minimum": 1, "default": None},
            "place": {"$ref": "#/$defs/Place", "description": "where"},
            "tags": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"$ref": "#"}]}},
        },
        "required": ["when", "place"],
        "additionalProperties": False,
        "$defs": {"Place": {"type": "object", "properties": {"city": {"type": "string"}}}},
    }
    (tool,), _ = tools_of(tools=[function("plan", schema, strict=True)])
    assert tool == {"functionDeclarations": [{"name": "plan", "parametersJsonSchema": schema}]}


def test_dialect_marker_dropped_but_properties_with_keyword_names_kept() -> None:
    schema = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "properties": {
            "$schema": {"type": "string"},
            "strict": {"type": "boolean"},
            "$ref": {"type": "string"},
            "nested": {"$schema": "x", "type": "object", "properties": {"a": {"enum": ["$ref"]}}},
        },
        "required": ["$schema", "strict"],
    }
    (tool,), _ = tools_of(tools=[function("odd", schema)])
    assert tool["functionDeclarations"][0]["parametersJsonSchema"] == {
        "type": "object",
        "properties": {
            "$schema": {"type": "string"},
            "strict": {"type": "boolean"},
            "$ref": {"type": "string"},
            "nested": {"type": "object", "properties": {"a": {"enum": ["$ref"]}}},
        },
        "required": ["$schema", "strict"],
    }


@pytest.mark.parametrize(
    ("parameters", "expected"),
    [
        (None, None),
        ({}, None),
        ({"type": "object"}, {"type": "object"}),
        (
            {"properties": {"a": {"type": "string"}}},
            {"type": "object", "properties": {"a": {"type": "string"}}},
        ),
    ],
    ids=["absent", "empty", "bare-object", "type-implied"],
)
def test_parameter_shapes(parameters: Any, expected: Json | None) -> None:
    (tool,), _ = tools_of(tools=[function("f", parameters)])
    declaration = tool["functionDeclarations"][0]
    assert declaration.get("parametersJsonSchema") == expected


@pytest.mark.parametrize(
    "ref", ["#", "#/$defs/A", "#/properties/a", "#/$defs/a~1b", "#/$defs/x%20y", "#spot"]
)
def test_local_refs_that_resolve_are_accepted(ref: str) -> None:
    schema = {
        "type": "object",
        "properties": {"a": {"type": "string"}, "b": {"$ref": ref}},
        "$defs": {"A": {"$anchor": "spot"}, "a/b": {}, "x y": {}},
    }
    (tool,), _ = tools_of(tools=[function("f", schema)])
    assert tool["functionDeclarations"][0]["parametersJsonSchema"]["properties"]["b"] == {
        "$ref": ref
    }


def test_a_root_ref_gets_no_added_type() -> None:
    schema = {"$ref": "#/$defs/Args", "$defs": {"Args": {"type": "object"}}}
    (tool,), _ = tools_of(tools=[function("f", schema)])
    assert tool["functionDeclarations"][0]["parametersJsonSchema"] == schema


def test_refs_under_a_nested_id_are_left_to_gemini() -> None:
    schema = {
        "type": "object",
        "properties": {"a": {"$id": "https://example.com/a", "$ref": "#/$defs/inner"}},
    }
    (tool,), _ = tools_of(tools=[function("f", schema)])
    assert tool["functionDeclarations"][0]["parametersJsonSchema"] == schema


@pytest.mark.parametrize(
    ("parameters", "param", "words"),
    [
        (["city"], "tools[0].function.parameters", ["'f'", "JSON Schema object"]),
        ({"type": "string"}, "tools[0].function.parameters.type", ["'f'", "object"]),
        (
            {"type": "object", "properties": {"a": {"$ref": "https://example.com/a.json"}}},
            "tools[0].function.parameters.properties.a.$ref",
            ["'f'", "local '$ref'", "https://example.com/a.json"],
        ),
        (
            {"type": "object", "properties": {"a": {"$ref": 3}}},
            "tools[0].function.parameters.properties.a.$ref",
            ["'f'", "$ref"],
        ),
        (
            {"type": "object", "properties": {"a": {"items": {"$ref": "#/$defs/Missing"}}}},
            "tools[0].function.parameters.properties.a.items.$ref",
            ["'f'", "#/$defs/Missing", "points at nothing"],
        ),
        (
            {"type": "object", "properties": {"a": {"$ref": "#nowhere"}}},
            "tools[0].function.parameters.properties.a.$ref",
            ["'f'", "#nowhere"],
        ),
    ],
    ids=["not-an-object", "not-type-object", "remote-ref", "ref-not-string", "dangling", "anchor"],
)
def test_schemas_gemini_cannot_take_are_refused(
    parameters: Any, param: str, words: list[str]
) -> None:
    err = rejected(tools=[function("f", parameters)])
    assert err.param == param
    for word in words:
        assert word in err.message


@pytest.mark.parametrize("name", ["a", "_x", "get.weather:v2-beta_1", "f" * 64])
def test_names_gemini_accepts(name: str) -> None:
    (tool,), _ = tools_of(tools=[function(name)])
    assert tool["functionDeclarations"][0]["name"] == name


@pytest.mark.parametrize("name", ["", "1st", "-x", "has space", "é", "f" * 65, 7, None])
def test_names_gemini_rejects(name: Any) -> None:
    err = rejected(tools=[function(name)])
    assert err.param == "tools[0].function.name"
    assert "64" in err.message and repr(name) in err.message


def test_duplicate_names_refused() -> None:
    err = rejected(tools=[WEATHER, WEATHER])
    assert "'get_weather' is declared twice" in err.message


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"tools": {"type": "function"}}, "tools"),
        ({"tools": ["get_weather"]}, "tools[0]"),
        ({"tools": [{"type": "function"}]}, "tools[0].function"),
        ({"tools": [{"type": "custom", "custom": {"name": "x"}}]}, "tools[0].type"),
        ({"tools": [{"type": "google_search", "google_search": "yes"}]}, "tools[0].google_search"),
        ({"functions": {"name": "f"}}, "functions"),
        ({"google": {"tools": {"googleSearch": {}}}}, "google.tools"),
        ({"google": {"tools": ["googleSearch"]}}, "google.tools[0]"),
    ],
)
def test_malformed_tool_lists_refused(fields: Json, param: str) -> None:
    assert rejected(**fields).param == param


def test_legacy_functions_and_function_call() -> None:
    sent = upstream(
        body(functions=[WEATHER["function"], {"name": "noop"}], function_call={"name": "noop"})
    )
    assert sent["tools"][0]["functionDeclarations"][1] == {"name": "noop"}
    assert sent["toolConfig"] == {
        "functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["noop"]}
    }
    assert upstream(body(functions=[WEATHER["function"]], function_call="none"))["toolConfig"] == {
        "functionCallingConfig": {"mode": "NONE"}
    }


# -- tool_choice --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("choice", "config"),
    [
        ("auto", {"mode": "AUTO"}),
        ("none", {"mode": "NONE"}),
        ("required", {"mode": "ANY"}),
        (
            {"type": "function", "function": {"name": "get_time"}},
            {"mode": "ANY", "allowedFunctionNames": ["get_time"]},
        ),
        (
            {"type": "function", "name": "get_time"},
            {"mode": "ANY", "allowedFunctionNames": ["get_time"]},
        ),
        (
            {
                "type": "allowed_tools",
                "allowed_tools": {
                    "mode": "auto",
                    "tools": [{"type": "function", "function": {"name": "get_weather"}}],
                },
            },
            {"mode": "VALIDATED", "allowedFunctionNames": ["get_weather"]},
        ),
        (
            {
                "type": "allowed_tools",
                "allowed_tools": {
                    "mode": "required",
                    "tools": [
                        {"type": "function", "function": {"name": "get_time"}},
                        {"type": "function", "function": {"name": "get_weather"}},
                    ],
                },
            },
            {"mode": "ANY", "allowedFunctionNames": ["get_time", "get_weather"]},
        ),
    ],
    ids=["auto", "none", "required", "named", "named-flat", "allowed-auto", "allowed-required"],
)
def test_tool_choice(choice: Any, config: Json) -> None:
    sent = upstream(body(tools=[WEATHER, TIME], tool_choice=choice))
    assert sent["toolConfig"] == {"functionCallingConfig": config}


@pytest.mark.parametrize(
    ("choice", "words"),
    [
        ("any", ["'auto', 'none', 'required'"]),
        ({"type": "function", "function": {"name": "nope"}}, ["'nope'", "not declared"]),
        ({"type": "custom", "custom": {"name": "x"}}, ["allowed_tools"]),
        ({"type": "allowed_tools", "allowed_tools": {"mode": "auto", "tools": []}}, ["mode"]),
    ],
)
def test_bad_tool_choice_refused(choice: Any, words: list[str]) -> None:
    err = rejected(tools=[WEATHER], tool_choice=choice)
    assert err.param is not None and err.param.startswith("tool_choice")
    for word in words:
        assert word in err.message


def test_tool_choice_without_functions() -> None:
    assert tools_of(tool_choice="auto") == ([], None)
    assert tools_of(tools=[{"type": "google_search"}], tool_choice="none") == (
        [{"googleSearch": {}}],
        None,
    )
    err = rejected(tool_choice="required")
    assert "at least one function" in err.message


def test_native_tool_config_kept_and_tool_choice_overrides_only_function_calling() -> None:
    native = {
        "function_calling_config": {"mode": "NONE"},
        "retrieval_config": {"lat_lng": {"latitude": 1.5, "longitude": 2.5}},
    }
    _, config = tools_of(tools=[WEATHER], google={"tool_config": native})
    assert config == {
        "functionCallingConfig": {"mode": "NONE"},
        "retrievalConfig": {"latLng": {"latitude": 1.5, "longitude": 2.5}},
    }
    _, config = tools_of(tools=[WEATHER], tool_choice="required", google={"tool_config": native})
    assert config == {
        "functionCallingConfig": {"mode": "ANY"},
        "retrievalConfig": {"latLng": {"latitude": 1.5, "longitude": 2.5}},
    }


def test_parallel_tool_calls_false_changes_nothing() -> None:
    """Gemini has no switch for it (documented in tools.py and the README)."""
    plain = upstream(body(tools=[WEATHER], tool_choice="auto"))
    assert upstream(body(tools=[WEATHER], tool_choice="auto", parallel_tool_calls=False)) == plain

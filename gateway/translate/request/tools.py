"""tools / tool_choice → tools[] / toolConfig.

Function parameters go out as `parametersJsonSchema` (full JSON Schema, Gemini 2.5+), not the
OpenAPI `Schema` subset: no lossy cleaning, and strict schemas keep their meaning. The few
things Gemini cannot take are refused here with a 400 that names the tool and the keyword.
"""

from __future__ import annotations

import re
from typing import Any, Final

from gateway.errors import InvalidRequestError
from gateway.translate.parse import ChatRequest
from gateway.translate.request.generation_config import camelize

Json = dict[str, Any]

FUNCTION_NAME_RE: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$")
BUILTIN_TOOLS: Final[dict[str, str]] = {
    "google_search": "googleSearch",
    "googleSearch": "googleSearch",
    "web_search": "googleSearch",
    "url_context": "urlContext",
    "urlContext": "urlContext",
    "code_execution": "codeExecution",
    "codeExecution": "codeExecution",
}
TOOL_CHOICE_TO_MODE: Final[dict[str, str]] = {"auto": "AUTO", "none": "NONE", "required": "ANY"}
# Keywords with no meaning for Gemini that tool schemas often carry: dropped, not refused.
DROPPED_KEYWORDS: Final = frozenset({"$schema", "strict"})


def _check_schema(schema: Any, tool: str, path: str) -> Any:
    if isinstance(schema, dict):
        out: Json = {}
        for key, value in schema.items():
            if key in DROPPED_KEYWORDS:
                continue
            if key == "$ref" and not (isinstance(value, str) and value.startswith("#")):
                raise InvalidRequestError(
                    f"tool {tool!r}: only local '$ref' (\"#/...\") is supported by Gemini, "
                    f"got {value!r}",
                    param=f"{path}.$ref",
                )
            child = f"{path}.{key}"
            out[key] = (
                value
                if key in {"enum", "const", "default", "examples"}
                else (_check_schema(value, tool, child))
            )
        return out
    if isinstance(schema, list):
        return [_check_schema(v, tool, f"{path}[{i}]") for i, v in enumerate(schema)]
    return schema


def _declaration(tool: Json, i: int) -> Json:
    fn = tool.get("function")
    if not isinstance(fn, dict):
        raise InvalidRequestError("a function tool needs a 'function' object", param=f"tools[{i}]")
    name = fn.get("name")
    if not isinstance(name, str) or not FUNCTION_NAME_RE.match(name):
        raise InvalidRequestError(
            "function names must start with a letter or underscore and use only letters, "
            "digits, '_', '.', ':' or '-' (at most 128 characters)",
            param=f"tools[{i}].function.name",
        )
    declaration: Json = {"name": name}
    if fn.get("description"):
        declaration["description"] = str(fn["description"])
    params = fn.get("parameters")
    if params is not None:
        if not isinstance(params, dict):
            raise InvalidRequestError(
                f"tool {name!r}: 'parameters' must be a JSON Schema object",
                param=f"tools[{i}].function.parameters",
            )
        schema = _check_schema(params, name, f"tools[{i}].function.parameters")
        if schema.get("type", "object") != "object":
            raise InvalidRequestError(
                f"tool {name!r}: 'parameters' must describe an object (type: object)",
                param=f"tools[{i}].function.parameters.type",
            )
        if schema.get("properties") or schema.get("type"):
            declaration["parametersJsonSchema"] = {"type": "object", **schema}
    return declaration


def _tools(chat: ChatRequest) -> list[Json]:
    raw = chat.body.get("tools")
    if raw is not None and not isinstance(raw, list):
        raise InvalidRequestError("'tools' must be a list", param="tools")
    declarations: list[Json] = []
    builtins: dict[str, Json] = {}
    for i, tool in enumerate(raw or []):
        if not isinstance(tool, dict):
            raise InvalidRequestError("each tool must be an object", param=f"tools[{i}]")
        kind = tool.get("type")
        if kind == "function":
            declarations.append(_declaration(tool, i))
        elif kind in BUILTIN_TOOLS:
            builtins[BUILTIN_TOOLS[kind]] = camelize(tool.get(kind) or {})
        else:
            raise InvalidRequestError(
                f"unknown tool type {kind!r}; use 'function', 'google_search', 'url_context' "
                "or 'code_execution'",
                param=f"tools[{i}].type",
            )
    if chat.body.get("web_search_options") is not None:
        builtins.setdefault("googleSearch", {})
    tools: list[Json] = []
    if declarations:
        tools.append({"functionDeclarations": declarations})
    tools.extend({name: config} for name, config in builtins.items())
    extra = chat.google.get("tools")
    if isinstance(extra, list):
        tools.extend(camelize(t) for t in extra if isinstance(t, dict))
    return tools


def _tool_config(chat: ChatRequest, declared: set[str]) -> Json | None:
    choice = chat.body.get("tool_choice")
    native = chat.google.get("tool_config") or chat.google.get("toolConfig")
    if choice is None:
        return camelize(native) if isinstance(native, dict) else None
    if isinstance(choice, str):
        mode = TOOL_CHOICE_TO_MODE.get(choice)
        if mode is None:
            raise InvalidRequestError(
                "'tool_choice' must be 'auto', 'none', 'required' or a named function",
                param="tool_choice",
            )
        return {"functionCallingConfig": {"mode": mode}}
    fn = choice.get("function") if isinstance(choice, dict) else None
    name = fn.get("name") if isinstance(fn, dict) else None
    if not isinstance(name, str) or name not in declared:
        raise InvalidRequestError(
            "'tool_choice' names a function that is not in 'tools'", param="tool_choice"
        )
    return {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": [name]}}


def to_gemini_tools(chat: ChatRequest) -> tuple[list[Json], Json | None]:
    tools = _tools(chat)
    declared = {
        d["name"] for t in tools for d in t.get("functionDeclarations", []) if isinstance(d, dict)
    }
    return tools, _tool_config(chat, declared)

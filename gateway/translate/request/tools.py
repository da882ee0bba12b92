"""tools / tool_choice (and the legacy functions / function_call) → tools[] / toolConfig.

Function parameters go out as `parametersJsonSchema`, the full JSON Schema field (Gemini 2.5+),
not the OpenAPI `Schema` subset in `parameters`: that subset rejects `$ref`, `const`,
`additionalProperties`, type unions and more, and cleaning them out would silently change what
the model may call. The schema is forwarded as the client wrote it; only `$schema` (a dialect
marker, answered with "Unknown name" by Gemini endpoints that read it as a field) is dropped.
What Gemini cannot take is refused here with a 400 that names the tool and the keyword:
`parameters` that is not an object schema, a `$ref` that is not local ("#..."), a local `$ref`
that points at nothing, function names outside Gemini's rule (a letter or `_` first, then
letters, digits, `_ . : -`, at most 64) and duplicate names. Rules Gemini may relax (keywords
beside a `$ref`) are left to Gemini, whose 400 reaches the client unchanged.

`tool_choice`: auto → AUTO, none → NONE, required → ANY, a named function → ANY restricted to it,
`allowed_tools` → VALIDATED (auto) or ANY (required) restricted to the listed names.
`parallel_tool_calls` is ignored: Gemini has no switch for it, and a prompt hint would change the
conversation the model sees; clients already accept a list of calls. `function.strict` is
dropped: Gemini has no strict mode, the full schema it keeps is the closest thing.

Google built-ins: `{"type": "google_search" | "url_context" | "code_execution" | "google_maps"}`
(with an optional config object under the same key), `web_search_options`, and native Gemini
Tool objects in `google.tools` (merged, so there is one functionDeclarations entry).
"""

from __future__ import annotations

import re
from typing import Any, Final
from urllib.parse import unquote

from gateway.errors import InvalidRequestError
from gateway.translate.parse import ChatRequest
from gateway.translate.request.generation_config import camel, camelize

Json = dict[str, Any]

FUNCTION_NAME_RE: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_.:-]{0,63}")
BUILTIN_TOOLS: Final[dict[str, str]] = {
    "google_search": "googleSearch",
    "googleSearch": "googleSearch",
    "web_search": "googleSearch",
    "url_context": "urlContext",
    "urlContext": "urlContext",
    "code_execution": "codeExecution",
    "codeExecution": "codeExecution",
    "google_maps": "googleMaps",
    "googleMaps": "googleMaps",
}
TOOL_CHOICE_TO_MODE: Final[dict[str, str]] = {"auto": "AUTO", "none": "NONE", "required": "ANY"}
ALLOWED_TOOLS_TO_MODE: Final[dict[str, str]] = {"auto": "VALIDATED", "required": "ANY"}

# JSON Schema keywords by what their value holds (2020-12 plus draft-07 spellings).
_SCHEMA_MAPS: Final = frozenset(
    {"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"}
)
_SCHEMA_LISTS: Final = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})
_SCHEMA_VALUES: Final = frozenset(
    {
        "items",
        "additionalItems",
        "additionalProperties",
        "unevaluatedItems",
        "unevaluatedProperties",
        "contains",
        "propertyNames",
        "not",
        "if",
        "then",
        "else",
    }
)
_DROPPED_KEYWORDS: Final = frozenset({"$schema"})
# Declaration fields whose values are schemas: never camelCased (property names are data).
_OPAQUE_DECLARATION_KEYS: Final = frozenset(
    {"parameters", "parametersJsonSchema", "response", "responseJsonSchema"}
)


# -- schemas -------------------------------------------------------------------------------------


class _SchemaWalk:
    """Copies one parameters schema, keyword-aware, collecting what must be checked after."""

    def __init__(self, tool: str) -> None:
        self.tool = tool
        self.refs: list[tuple[str, str]] = []  # (ref, param path)
        self.anchors: set[str] = set()
        self.nested_ids = False

    def schema(self, node: Any, path: str, root: bool = False) -> Any:
        if not isinstance(node, dict):
            return node  # boolean schemas (and anything else) travel as they are
        out: Json = {}
        for key, value in node.items():
            where = f"{path}.{key}"
            if key in _DROPPED_KEYWORDS:
                continue
            if key == "$ref":
                self._ref(value, where)
            elif key == "$anchor" and isinstance(value, str):
                self.anchors.add(value)
            elif key == "$id" and not root:
                self.nested_ids = True
            if key in _SCHEMA_MAPS and isinstance(value, dict):
                out[key] = {k: self.schema(v, f"{where}.{k}") for k, v in value.items()}
            elif key in _SCHEMA_LISTS and isinstance(value, list):
                out[key] = [self.schema(v, f"{where}[{i}]") for i, v in enumerate(value)]
            elif key in _SCHEMA_VALUES:
                out[key] = (
                    [self.schema(v, f"{where}[{i}]") for i, v in enumerate(value)]
                    if isinstance(value, list)
                    else self.schema(value, where)
                )
            else:
                out[key] = value  # enum, const, default, examples, required...: data
        return out

    def _ref(self, value: Any, where: str) -> None:
        if not isinstance(value, str) or not value.startswith("#"):
            raise InvalidRequestError(
                f"tool {self.tool!r}: Gemini resolves only local '$ref' values (\"#/...\" inside "
                f"the same parameters schema), got {value!r}; inline the referenced schema",
                param=where,
            )
        self.refs.append((value, where))

    def check_refs(self, root: Json) -> None:
        if self.nested_ids:
            return  # refs resolve against nested $id bases: leave them to Gemini
        for ref, where in self.refs:
            fragment = unquote(ref[1:])
            if fragment and not fragment.startswith("/"):
                found = fragment in self.anchors
            else:
                found = _pointer(root, fragment)
            if not found:
                raise InvalidRequestError(
                    f"tool {self.tool!r}: '$ref' {ref!r} points at nothing in the parameters "
                    "schema (Gemini rejects references to undefined schemas)",
                    param=where,
                )


def _pointer(root: Any, fragment: str) -> bool:
    """Does this JSON Pointer (RFC 6901) resolve inside `root`?"""
    node = root
    for token in fragment.split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return False
    return True


def _parameters(params: Any, name: str, where: str) -> Json | None:
    if params is None:
        return None
    if not isinstance(params, dict):
        raise InvalidRequestError(
            f"tool {name!r}: 'parameters' must be a JSON Schema object", param=where
        )
    kind = params.get("type", "object")
    if kind != "object":
        raise InvalidRequestError(
            f'tool {name!r}: \'parameters\' must describe an object ("type": "object"), '
            f"got type {kind!r}; Gemini passes arguments as an object",
            param=f"{where}.type",
        )
    walk = _SchemaWalk(name)
    schema: Json = walk.schema(params, where, root=True)
    walk.check_refs(schema)
    if not schema:
        return None  # `{}`: a function without parameters
    if "$ref" in schema:
        return schema  # Gemini allows only description/default beside a $ref: add no type
    return {"type": "object", **schema}


# -- declarations ----------------------------------------------------------------------------


def _declaration(fn: Any, where: str) -> Json:
    if not isinstance(fn, dict):
        raise InvalidRequestError("a function tool needs a 'function' object", param=where)
    name = fn.get("name")
    if not isinstance(name, str) or not FUNCTION_NAME_RE.fullmatch(name):
        raise InvalidRequestError(
            f"function name {name!r} is not accepted by Gemini: it must start with a letter or "
            "an underscore and use only letters, digits, '_', '.', ':' or '-' (at most 64 "
            "characters)",
            param=f"{where}.name",
        )
    declaration: Json = {"name": name}
    description = fn.get("description")
    if description:
        declaration["description"] = str(description)
    schema = _parameters(fn.get("parameters"), name, f"{where}.parameters")
    if schema is not None:
        declaration["parametersJsonSchema"] = schema
    return declaration


def _native_tool(tool: Json) -> Json:
    """A Gemini Tool object from `google.tools`: camelCase keys, schemas left as written."""
    out: Json = {}
    for key, value in tool.items():
        name = camel(key)
        if name == "functionDeclarations" and isinstance(value, list):
            out[name] = [
                {
                    camel(k): (v if camel(k) in _OPAQUE_DECLARATION_KEYS else camelize(v))
                    for k, v in d.items()
                }
                if isinstance(d, dict)
                else d
                for d in value
            ]
        else:
            out[name] = camelize(value)
    return out


def _openai_tools(chat: ChatRequest) -> tuple[list[Json], dict[str, Json]]:
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
            declarations.append(_declaration(tool.get("function"), f"tools[{i}].function"))
        elif isinstance(kind, str) and kind in BUILTIN_TOOLS:
            config = tool.get(kind) or {}
            if not isinstance(config, dict):
                raise InvalidRequestError(
                    f"the '{kind}' tool's options must be an object", param=f"tools[{i}].{kind}"
                )
            builtins[BUILTIN_TOOLS[kind]] = camelize(config)
        else:
            raise InvalidRequestError(
                f"unsupported tool type {kind!r}; use 'function', 'google_search', "
                "'url_context', 'code_execution' or 'google_maps'",
                param=f"tools[{i}].type",
            )
    legacy = chat.body.get("functions")
    if legacy is not None:
        if not isinstance(legacy, list):
            raise InvalidRequestError("'functions' must be a list", param="functions")
        declarations.extend(_declaration(fn, f"functions[{i}]") for i, fn in enumerate(legacy))
    if chat.body.get("web_search_options") is not None:
        builtins.setdefault("googleSearch", {})
    return declarations, builtins


def _tools(chat: ChatRequest) -> list[Json]:
    declarations, builtins = _openai_tools(chat)
    native = chat.google.get("tools")
    if native is not None and not isinstance(native, list):
        raise InvalidRequestError(
            "'google.tools' must be a list of Gemini Tool objects", param="google.tools"
        )
    for i, tool in enumerate(native or []):
        if not isinstance(tool, dict):
            raise InvalidRequestError(
                "each Gemini tool must be an object", param=f"google.tools[{i}]"
            )
        converted = _native_tool(tool)
        extra = converted.pop("functionDeclarations", None)
        if isinstance(extra, list):
            declarations.extend(extra)
        builtins.update(converted)  # one Tool per kind; native options win over OpenAI's
    _unique_names(declarations)
    tools: list[Json] = [{"functionDeclarations": declarations}] if declarations else []
    tools.extend({name: config} for name, config in builtins.items())
    return tools


def _unique_names(declarations: list[Json]) -> None:
    seen: set[str] = set()
    for declaration in declarations:
        name = declaration.get("name")
        if name in seen:
            raise InvalidRequestError(
                f"function {name!r} is declared twice; function names must be unique",
                param="tools",
            )
        if isinstance(name, str):
            seen.add(name)


# -- tool_choice --------------------------------------------------------------------------------


def _choice(chat: ChatRequest) -> tuple[Any, str]:
    if chat.body.get("tool_choice") is not None:
        return chat.body["tool_choice"], "tool_choice"
    legacy = chat.body.get("function_call")
    if isinstance(legacy, dict):
        return {"type": "function", "function": legacy}, "function_call"
    return legacy, "function_call"


def _named(choice: Json, declared: set[str], param: str) -> str:
    fn = choice.get("function")
    name = fn.get("name") if isinstance(fn, dict) else choice.get("name")
    if not isinstance(name, str) or name not in declared:
        raise InvalidRequestError(
            f"'{param}' names the function {name!r}, which is not declared in 'tools'",
            param=param,
        )
    return name


def _allowed_tools(choice: Json, declared: set[str], param: str) -> Json:
    spec = choice.get("allowed_tools")
    spec = spec if isinstance(spec, dict) else {}
    mode = ALLOWED_TOOLS_TO_MODE.get(str(spec.get("mode")))
    listed = spec.get("tools")
    if mode is None or not isinstance(listed, list) or not listed:
        raise InvalidRequestError(
            "'allowed_tools' needs a mode ('auto' or 'required') and a non-empty 'tools' list",
            param=f"{param}.allowed_tools",
        )
    names = [_named(t if isinstance(t, dict) else {}, declared, param) for t in listed]
    return {"mode": mode, "allowedFunctionNames": list(dict.fromkeys(names))}


def _calling_config(choice: Any, declared: set[str], param: str) -> Json | None:
    if isinstance(choice, str):
        mode = TOOL_CHOICE_TO_MODE.get(choice)
        if mode is None:
            raise InvalidRequestError(
                f"'{param}' must be 'auto', 'none', 'required' or a named function",
                param=param,
            )
        if not declared:
            if mode == "ANY":
                raise InvalidRequestError(
                    f"'{param}': 'required' needs at least one function in 'tools'", param=param
                )
            return None  # nothing to call: auto and none mean the same as no setting
        return {"mode": mode}
    if isinstance(choice, dict) and choice.get("type") == "allowed_tools":
        return _allowed_tools(choice, declared, param)
    if isinstance(choice, dict) and choice.get("type", "function") == "function":
        return {"mode": "ANY", "allowedFunctionNames": [_named(choice, declared, param)]}
    raise InvalidRequestError(
        f"'{param}' must be 'auto', 'none', 'required', a named function or allowed_tools",
        param=param,
    )


def _tool_config(chat: ChatRequest, declared: set[str]) -> Json | None:
    native = chat.google.get("tool_config") or chat.google.get("toolConfig")
    config: Json = camelize(native) if isinstance(native, dict) else {}
    choice, param = _choice(chat)
    if choice is not None:
        calling = _calling_config(choice, declared, param)
        if calling is not None:
            config["functionCallingConfig"] = calling
    return config or None


def to_gemini_tools(chat: ChatRequest) -> tuple[list[Json], Json | None]:
    tools = _tools(chat)
    declared = {
        d["name"]
        for t in tools
        for d in t.get("functionDeclarations", [])
        if isinstance(d, dict) and isinstance(d.get("name"), str)
    }
    return tools, _tool_config(chat, declared)

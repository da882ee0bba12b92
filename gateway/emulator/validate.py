"""Structural request checks: Gemini rejects unknown or misplaced fields instead of ignoring them,
so a gateway bug that sends one must fail here too, with Google's wording."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from gateway.emulator.errors import GeminiError, invalid_argument, unknown_field
from gateway.emulator.fields import field, is_base64, snake, spellings

TOP_LEVEL: Final = spellings(
    [
        "contents",
        "systemInstruction",
        "tools",
        "toolConfig",
        "safetySettings",
        "generationConfig",
        "cachedContent",
    ]
)
CONTENT_KEYS: Final = spellings(["role", "parts"])
DATA_FIELDS: Final = (
    "text",
    "inlineData",
    "fileData",
    "functionCall",
    "functionResponse",
    "executableCode",
    "codeExecutionResult",
)
PART_KEYS: Final = spellings(
    [
        *DATA_FIELDS,
        "thought",
        "thoughtSignature",
        "videoMetadata",
        "mediaResolution",
        "partMetadata",
    ]
)
TOOL_KEYS: Final = spellings(
    [
        "functionDeclarations",
        "googleSearch",
        "googleSearchRetrieval",
        "codeExecution",
        "urlContext",
        "fileSearch",
        "googleMaps",
        "computerUse",
    ]
)
DECLARATION_KEYS: Final = spellings(
    [
        "name",
        "description",
        "parameters",
        "parametersJsonSchema",
        "response",
        "responseJsonSchema",
        "behavior",
    ]
)
TOOL_CONFIG_KEYS: Final = spellings(["functionCallingConfig", "retrievalConfig"])
CALLING_CONFIG_KEYS: Final = spellings(["mode", "allowedFunctionNames"])
CALLING_MODES: Final = frozenset({"AUTO", "ANY", "NONE", "VALIDATED", "MODE_UNSPECIFIED"})
VALID_ROLES: Final = frozenset({"user", "model"})
_FUNCTION_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_.:\-]{0,63}")
_BAD_FUNCTION_NAME: Final = (
    "Invalid function name. Must start with a letter or an underscore. Must be alphameric "
    "(a-z, A-Z, 0-9), underscores (_), dots (.), colons (:), or dashes (-), with a maximum "
    "length of 64."
)


def check_known(mapping: Mapping[str, Any], known: frozenset[str], where: str | None) -> None:
    for key in mapping:
        if key not in known:
            raise unknown_field(key, where)


def _expect_object(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid_argument(f"Invalid value at '{where}': expected a JSON object.", where)
    return value


def _expect_list(value: object, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise invalid_argument(
            "Invalid JSON payload received. Proto field is not repeating, cannot start list "
            f"at '{where}'.",
            where,
        )
    return value


def check_body(body: object) -> dict[str, Any]:
    """Everything but generationConfig (see options.py); returns the body as an object."""
    if not isinstance(body, dict):
        raise invalid_argument("Invalid JSON payload received. Expected an object.")
    check_known(body, TOP_LEVEL, None)
    contents = field(body, "contents")
    if not contents:
        raise invalid_argument(
            "* GenerateContentRequest.contents: contents is not specified", "contents"
        )
    for i, content in enumerate(_expect_list(contents, "contents")):
        check_content(content, f"contents[{i}]")
    system = field(body, "systemInstruction")
    if system is not None:
        check_content(system, "system_instruction", any_role=True)
    tools = field(body, "tools")
    if tools is not None:
        for i, tool in enumerate(_expect_list(tools, "tools")):
            _check_tool(_expect_object(tool, f"tools[{i}]"), f"tools[{i}]")
    tool_config = field(body, "toolConfig")
    if tool_config is not None:
        _check_tool_config(_expect_object(tool_config, "tool_config"))
    return body


def check_content(content: object, where: str, *, any_role: bool = False) -> None:
    content = _expect_object(content, where)
    check_known(content, CONTENT_KEYS, where)
    role = content.get("role")
    if role is not None and not isinstance(role, str):
        raise invalid_argument(f"Invalid value at '{where}.role' (TYPE_STRING).", f"{where}.role")
    if not any_role and role and role not in VALID_ROLES:
        raise invalid_argument("Please use a valid role: user, model.", f"{where}.role")
    parts = _expect_list(content.get("parts") or [], f"{where}.parts")
    if not parts:
        raise invalid_argument(
            f"* GenerateContentRequest.{where}.parts: contents.parts must not be empty.",
            f"{where}.parts",
        )
    for j, part in enumerate(parts):
        check_part(part, f"{where}.parts[{j}]")


def check_part(part: object, where: str) -> None:
    part = _expect_object(part, where)
    check_known(part, PART_KEYS, where)
    present = [name for name in DATA_FIELDS if field(part, name) is not None]
    if not present:
        raise invalid_argument(
            f"* GenerateContentRequest.{where}.data: required oneof field 'data' must have one "
            "initialized field",
            f"{where}.data",
        )
    if len(present) > 1:
        raise invalid_argument(
            f"Invalid value at '{where}' (oneof field 'data' is already set. Cannot set "
            f"'{present[1]}')",
            where,
        )
    _check_part_values(part, present[0], where)


def _check_part_values(part: Mapping[str, Any], kind: str, where: str) -> None:
    value = field(part, kind)
    if kind == "text" and not isinstance(value, str):
        raise invalid_argument(f"Invalid value at '{where}.text' (TYPE_STRING)", f"{where}.text")
    if kind == "inlineData":
        blob = _expect_object(value, f"{where}.inline_data")
        check_known(blob, spellings(["mimeType", "data", "displayName"]), f"{where}.inline_data")
        data = blob.get("data")
        if not isinstance(data, str) or not is_base64(data):
            spot = f"{where}.inline_data.data"
            raise invalid_argument(
                f"Invalid value at '{spot}' (TYPE_BYTES), Base64 decoding failed.", spot
            )
        if not isinstance(field(blob, "mimeType"), str):
            spot = f"{where}.inline_data.mime_type"
            raise invalid_argument(
                f"* GenerateContentRequest.{spot}: mime_type is not specified", spot
            )
    if kind in ("functionCall", "functionResponse"):
        call = _expect_object(value, f"{where}.{snake(kind)}")
        if not isinstance(call.get("name"), str) or not call["name"]:
            spot = f"{where}.{snake(kind)}.name"
            raise invalid_argument(f"* GenerateContentRequest.{spot}: Name cannot be empty.", spot)
    signature = field(part, "thoughtSignature")
    if signature is not None and not isinstance(signature, str):
        spot = f"{where}.thought_signature"
        raise invalid_argument(f"Invalid value at '{spot}' (TYPE_BYTES)", spot)
    thought = part.get("thought")
    if thought is not None and not isinstance(thought, bool):
        raise invalid_argument(
            f"Invalid value at '{where}.thought' (TYPE_BOOL)", f"{where}.thought"
        )


def _check_tool(tool: Mapping[str, Any], where: str) -> None:
    check_known(tool, TOOL_KEYS, where)
    declarations = field(tool, "functionDeclarations")
    if declarations is None:
        return
    for k, declaration in enumerate(_expect_list(declarations, f"{where}.function_declarations")):
        spot = f"{where}.function_declarations[{k}]"
        declaration = _expect_object(declaration, spot)
        check_known(declaration, DECLARATION_KEYS, spot)
        name = declaration.get("name")
        if not isinstance(name, str) or not name:
            raise invalid_argument(
                f"* GenerateContentRequest.{spot}.name: Name cannot be empty.", spot
            )
        if not _FUNCTION_NAME.fullmatch(name):
            raise invalid_argument(
                f"* GenerateContentRequest.{spot}.name: {_BAD_FUNCTION_NAME}", spot
            )


def _check_tool_config(config: Mapping[str, Any]) -> None:
    check_known(config, TOOL_CONFIG_KEYS, "tool_config")
    calling = field(config, "functionCallingConfig")
    if calling is None:
        return
    where = "tool_config.function_calling_config"
    calling = _expect_object(calling, where)
    check_known(calling, CALLING_CONFIG_KEYS, where)
    mode = calling.get("mode")
    if mode is not None and (not isinstance(mode, str) or mode.upper() not in CALLING_MODES):
        raise invalid_argument(
            f"Invalid value at '{where}.mode' (type.googleapis.com/google.ai.generativelanguage."
            f'v1beta.FunctionCallingConfig.Mode), "{mode}"',
            f"{where}.mode",
        )


def parse_json_error() -> GeminiError:
    return invalid_argument("Invalid JSON payload received. Unexpected token.")

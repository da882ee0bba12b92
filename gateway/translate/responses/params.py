"""Responses parameters → the chat request fields the chat translation already maps to Gemini
(one home for each rule: tools.py, generation_config.py, images/sizes.py), plus
the fields a response echoes back.

- tools[type=function] {name, description, parameters} → tools[].function
  (→ functionDeclarations);
- tools[type=image_generation] size / quality → image_config through the Images API size
  table (→ imageConfig); ignored, with a note, on a model that makes no images;
- tools[type=web_search*] / code_interpreter → the google_search / code_execution built-ins;
- tool_choice auto / none / required, {type: function, name}, allowed_tools → tool_choice
  (→ toolConfig); a hosted tool's choice leaves the decision to Gemini;
- text.format json_schema / json_object → response_format (→ responseJsonSchema);
- reasoning.effort → reasoning_effort (→ thinkingLevel / thinkingBudget);
  reasoning.summary → include_reasoning (→ includeThoughts);
- max_output_tokens, temperature, top_p → max_completion_tokens, temperature, top_p;
- google / extra_body.google / generationConfig → passed on as chat passes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from gateway.errors import InvalidRequestError
from gateway.translate.families import is_image_model
from gateway.translate.images.sizes import (
    QUALITY_TO_IMAGE_SIZE,
    size_to_image_config,
    takes_image_size,
)
from gateway.translate.responses.parse import ResponsesRequest

Json = dict[str, Any]

SEARCH_TOOLS: Final = frozenset(
    {"web_search", "web_search_preview", "web_search_2025_08_26", "web_search_preview_2025_03_11"}
)
PASSTHROUGH: Final = ("temperature", "top_p", "google", "extra_body", "generationConfig")


@dataclass(frozen=True, slots=True)
class ChatParams:
    fields: Json  # chat request fields other than model/messages
    partial_images: int  # the image_generation tool's partial_images
    notes: tuple[str, ...]


def _function(tool: Json, where: str) -> Json:
    fn: Json = {"name": tool.get("name")}
    if tool.get("description"):
        fn["description"] = tool["description"]
    if tool.get("parameters") is not None:
        fn["parameters"] = tool["parameters"]
    if not isinstance(fn["name"], str):
        raise InvalidRequestError("a function tool needs a string 'name'", param=f"{where}.name")
    return {"type": "function", "function": fn}


def _image_config(tool: Json, model: str, where: str) -> Json:
    size = tool.get("size")
    quality = tool.get("quality")
    try:
        config = size_to_image_config(size if isinstance(size, str) else None, model)
    except InvalidRequestError as exc:
        raise InvalidRequestError(exc.message, param=f"{where}.size") from exc
    if quality is not None and quality not in QUALITY_TO_IMAGE_SIZE:
        raise InvalidRequestError(
            f"'quality' must be one of {', '.join(QUALITY_TO_IMAGE_SIZE)}", param=f"{where}.quality"
        )
    tier = QUALITY_TO_IMAGE_SIZE.get(quality or "auto")
    if "imageSize" not in config and tier is not None and takes_image_size(model):
        config["imageSize"] = tier
    return config


def _tools(raw: Any, model: str, fields: Json, notes: list[str]) -> int:
    """Fills fields["tools"] / fields["image_config"]; returns the partial_images asked for."""
    partial = 0
    tools: list[Json] = []
    for i, tool in enumerate(raw or []):
        where = f"tools[{i}]"
        kind = tool.get("type") if isinstance(tool, dict) else None
        if kind == "function":
            tools.append(_function(tool, where))
        elif kind == "image_generation":
            if not is_image_model(model):
                notes.append("responses_ignored:image_tool_on_text_model")
                continue
            config = _image_config(tool, model, where)
            if config:
                fields["image_config"] = config
            value = tool.get("partial_images")
            partial = value if isinstance(value, int) and not isinstance(value, bool) else 0
        elif isinstance(kind, str) and kind in SEARCH_TOOLS:
            tools.append({"type": "google_search"})
        elif kind == "code_interpreter":
            tools.append({"type": "code_execution"})
        else:
            raise InvalidRequestError(
                f"unsupported tool type {kind!r}; this gateway takes 'function', "
                "'image_generation', 'web_search' and 'code_interpreter' tools",
                param=f"{where}.type",
            )
    if tools:
        fields["tools"] = tools
    return max(0, min(partial, 3))


def _tool_choice(choice: Any) -> Any:
    if choice is None or isinstance(choice, str):
        return choice
    if not isinstance(choice, dict):
        raise InvalidRequestError(
            "'tool_choice' must be a string or an object", param="tool_choice"
        )
    kind = choice.get("type")
    if kind == "function":
        return {"type": "function", "function": {"name": choice.get("name")}}
    if kind == "allowed_tools":
        listed = [
            {"type": "function", "function": {"name": t.get("name")}}
            for t in choice.get("tools") or []
            if isinstance(t, dict) and t.get("type") == "function"
        ]
        return {
            "type": "allowed_tools",
            "allowed_tools": {"mode": choice.get("mode"), "tools": listed},
        }
    return None  # a hosted tool (image_generation, web_search): Gemini decides on its own


def _response_format(text: Any) -> Json | None:
    fmt = text.get("format") if isinstance(text, dict) else None
    if not isinstance(fmt, dict) or fmt.get("type") == "text":
        return None
    if fmt["type"] == "json_object":
        return {"type": "json_object"}
    return {
        "type": "json_schema",
        "json_schema": {"name": fmt.get("name") or "response", "schema": fmt["schema"]},
    }


def to_chat_params(request: ResponsesRequest) -> ChatParams:
    body = request.body
    fields: Json = {k: body[k] for k in PASSTHROUGH if body.get(k) is not None}
    notes: list[str] = []
    partial = _tools(body.get("tools"), request.model, fields, notes)
    choice = _tool_choice(body.get("tool_choice"))
    if choice is not None:
        fields["tool_choice"] = choice
    response_format = _response_format(body.get("text"))
    if response_format is not None:
        fields["response_format"] = response_format
    reasoning = body.get("reasoning") or {}
    if reasoning.get("effort") is not None:
        fields["reasoning_effort"] = reasoning["effort"]
    if reasoning.get("summary") is not None:
        fields["include_reasoning"] = True
    if body.get("max_output_tokens") is not None:
        fields["max_completion_tokens"] = body["max_output_tokens"]
    return ChatParams(fields, partial, tuple(notes))


def echo_fields(request: ResponsesRequest) -> Json:
    """What a response object repeats of its request (OpenAI's defaults where unset)."""
    body = request.body
    reasoning = body.get("reasoning") or {}
    return {
        "instructions": request.instructions,
        "metadata": body.get("metadata") or {},
        "parallel_tool_calls": body.get("parallel_tool_calls") is not False,
        "temperature": body.get("temperature", 1.0),
        "top_p": body.get("top_p", 1.0),
        "tool_choice": body.get("tool_choice") or "auto",
        "tools": body.get("tools") or [],
        "previous_response_id": request.previous_response_id,
        "conversation": {"id": request.conversation} if request.conversation else None,
        "store": request.store,
        "text": body.get("text") or {"format": {"type": "text"}},
        "reasoning": {"effort": reasoning.get("effort"), "summary": reasoning.get("summary")},
        "max_output_tokens": body.get("max_output_tokens"),
        "truncation": body.get("truncation") or "disabled",
        "user": body.get("user"),
        "service_tier": "default",
    }

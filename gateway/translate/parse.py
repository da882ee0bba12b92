"""Raw JSON → a validated ChatRequest, or InvalidRequestError naming the field (`param`).

Validation is hand-written because every error must carry the OpenAI `param` path of the
culprit, and because the body is never copied: big strings stay where the client put them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from gateway.errors import InvalidRequestError
from gateway.translate.turn_keys import prefix_digests

Json = dict[str, Any]

ROLES: Final = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
USER_PART_TYPES: Final = frozenset({"text", "image_url", "input_audio", "file"})
ASSISTANT_PART_TYPES: Final = frozenset(
    {"text", "image_url", "refusal", "thought_signature", "non_standard", "reasoning"}
)
REASONING_EFFORTS: Final = frozenset({"none", "minimal", "low", "medium", "high", "xhigh"})
MODALITIES: Final = frozenset({"text", "image", "audio"})
# What one request may ask translation to walk. Far above real conversations (long agent runs
# reach a few thousand messages), low enough that the worst request costs a fraction of a
# second of CPU (~25 µs per message measured, issue 13): 100k one-character messages were
# 3.4 MB, well under the body limit, and took seconds.
MAX_MESSAGES: Final = 10_000
MAX_PARTS: Final = 20_000  # content parts, images[] and tool_calls, over all messages


@dataclass(frozen=True, slots=True)
class ChatRequest:
    model: str
    messages: list[Json]
    stream: bool
    include_usage: bool
    body: Json
    google: Json  # `google` and `extra_body.google`, merged (the literal extra_body wins)
    prefixes: tuple[str, ...] = ()  # turn-cache prefix digests: prefixes[i] covers messages[:i]


def _fail(message: str, param: str) -> InvalidRequestError:
    return InvalidRequestError(message, param=param)


def _number(body: Json, name: str, low: float, high: float) -> None:
    value = body.get(name)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(f"'{name}' must be a number", name)
    if not low <= value <= high:
        raise _fail(f"'{name}' must be between {low:g} and {high:g}, got {value}", name)


def _integer(body: Json, name: str, low: int, high: int) -> None:
    value = body.get(name)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(f"'{name}' must be an integer", name)
    if not low <= value <= high:
        raise _fail(f"'{name}' must be between {low} and {high}, got {value}", name)


def _stop(body: Json) -> None:
    stop = body.get("stop")
    if stop is None or isinstance(stop, str):
        return
    if not isinstance(stop, list) or not all(isinstance(s, str) for s in stop):
        raise _fail("'stop' must be a string or a list of strings", "stop")
    if len(stop) > 5:
        raise _fail("'stop' may hold at most 5 sequences (Gemini's limit)", "stop")


def _response_format(body: Json) -> None:
    fmt = body.get("response_format")
    if fmt is None:
        return
    kind = fmt.get("type") if isinstance(fmt, dict) else None
    if not isinstance(kind, str) or kind not in {"text", "json_object", "json_schema"}:
        raise _fail(
            "'response_format.type' must be 'text', 'json_object' or 'json_schema'",
            "response_format.type",
        )
    if kind == "json_schema":
        spec = fmt.get("json_schema")
        if not isinstance(spec, dict) or not isinstance(spec.get("schema", {}), dict):
            raise _fail(
                "'response_format.json_schema' must be an object with a 'schema' object",
                "response_format.json_schema",
            )


def _enum_list(body: Json, name: str, allowed: frozenset[str]) -> None:
    value = body.get(name)
    if value is None:
        return
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(f"'{name}' must be a list of strings", name)
    bad = [v for v in value if v.lower() not in allowed]
    if bad:
        raise _fail(f"'{name}' has unknown value(s) {bad}; allowed: {sorted(allowed)}", name)


def _content_parts(content: list[Any], path: str, allowed: frozenset[str]) -> None:
    for j, part in enumerate(content):
        where = f"{path}.content[{j}]"
        if isinstance(part, str):
            continue
        if not isinstance(part, dict):
            raise _fail("each content part must be an object", where)
        kind = part.get("type")
        if not isinstance(kind, str) or kind not in allowed:
            raise _fail(
                f"unknown content part type {kind!r}; expected one of {sorted(allowed)}",
                f"{where}.type",
            )
        if kind == "text" and not isinstance(part.get("text"), str):
            raise _fail("a text part needs a string 'text'", f"{where}.text")
        if kind == "image_url":
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, dict) else image
            if not isinstance(url, str) or not url:
                raise _fail("an image_url part needs 'image_url.url'", f"{where}.image_url.url")
        if kind == "input_audio":
            audio = part.get("input_audio")
            if not isinstance(audio, dict) or not isinstance(audio.get("data"), str):
                raise _fail("an input_audio part needs 'input_audio.data'", f"{where}.input_audio")
        if kind == "file" and not isinstance(part.get("file"), dict):
            raise _fail("a file part needs a 'file' object", f"{where}.file")


def _message(message: Any, i: int) -> None:
    path = f"messages[{i}]"
    if not isinstance(message, dict):
        raise _fail("each message must be an object", path)
    role = message.get("role")
    if not isinstance(role, str) or role not in ROLES:
        raise _fail(f"unknown role {role!r}; expected one of {sorted(ROLES)}", f"{path}.role")
    content = message.get("content")
    if content is not None and not isinstance(content, str | list):
        raise _fail("'content' must be a string, a list of parts or null", f"{path}.content")
    if role == "user" and content is None:
        raise _fail("a user message needs 'content'", f"{path}.content")
    if isinstance(content, list):
        allowed = ASSISTANT_PART_TYPES if role == "assistant" else USER_PART_TYPES
        if role in {"system", "developer", "tool"}:
            allowed = frozenset({"text"})
        _content_parts(content, path, allowed)
    if role == "tool" and not isinstance(message.get("tool_call_id"), str):
        raise _fail("a tool message needs a string 'tool_call_id'", f"{path}.tool_call_id")
    calls = message.get("tool_calls")
    if calls is not None:
        _tool_calls(calls, path)
    images = message.get("images")
    if images is not None and (
        not isinstance(images, list) or not all(isinstance(item, dict) for item in images)
    ):
        raise _fail("'images' must be a list of image objects", f"{path}.images")


def _tool_calls(calls: Any, path: str) -> None:
    if not isinstance(calls, list):
        raise _fail("'tool_calls' must be a list", f"{path}.tool_calls")
    for k, call in enumerate(calls):
        where = f"{path}.tool_calls[{k}]"
        fn = call.get("function") if isinstance(call, dict) else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            raise _fail("a tool call needs 'function.name'", f"{where}.function.name")
        if not isinstance(call.get("id"), str):
            raise _fail("a tool call needs a string 'id'", f"{where}.id")
        args = fn.get("arguments")
        if args is not None and not isinstance(args, str | dict):
            raise _fail("'function.arguments' must be a JSON string", f"{where}.function.arguments")


def google_options(body: Json) -> Json:
    extra_body = body.get("extra_body")
    if extra_body is not None and not isinstance(extra_body, dict):
        raise _fail("'extra_body' must be an object", "extra_body")
    merged: Json = {}
    for param, source in (
        ("google", body.get("google")),
        ("extra_body.google", (extra_body or {}).get("google")),
    ):
        if source is None:
            continue
        if not isinstance(source, dict):
            raise _fail(f"'{param}' must be an object", param)
        merged.update(source)
    return merged


_CHECKS: Final[tuple[Callable[[Json], None], ...]] = (
    lambda b: _number(b, "temperature", 0, 2),
    lambda b: _number(b, "top_p", 0, 1),
    lambda b: _number(b, "presence_penalty", -2, 2),
    lambda b: _number(b, "frequency_penalty", -2, 2),
    lambda b: _integer(b, "max_tokens", 1, 10_000_000),
    lambda b: _integer(b, "max_completion_tokens", 1, 10_000_000),
    lambda b: _integer(b, "n", 1, 8),
    lambda b: _integer(b, "seed", -(2**31), 2**31 - 1),  # Gemini's seed is an int32
    lambda b: _integer(b, "top_logprobs", 0, 20),
    _stop,
    _response_format,
    lambda b: _enum_list(b, "modalities", MODALITIES),
)


def translation_items(messages: object) -> int:
    """Messages plus their content parts, images and tool calls: what translation walks, so
    what its CPU cost grows with. Counted without validating (lists' lengths only)."""
    if not isinstance(messages, list):
        return 0
    items = len(messages)
    for message in messages:
        if isinstance(message, dict):
            for name in ("content", "images", "tool_calls"):
                value = message.get(name)
                if isinstance(value, list):
                    items += len(value)
    return items


def _within_limits(messages: list[Any]) -> None:
    if len(messages) > MAX_MESSAGES:
        raise InvalidRequestError(
            f"'messages' holds {len(messages)} messages; this gateway accepts at most "
            f"{MAX_MESSAGES} in one request",
            param="messages",
            code="too_many_messages",
        )
    parts = translation_items(messages) - len(messages)
    if parts > MAX_PARTS:
        raise InvalidRequestError(
            f"the messages hold {parts} content parts, images and tool calls in all; this "
            f"gateway accepts at most {MAX_PARTS} in one request",
            param="messages",
            code="too_many_parts",
        )


def parse_chat_request(raw: object) -> ChatRequest:
    if not isinstance(raw, dict):
        raise _fail("the request body must be a JSON object", "body")
    model = raw.get("model")
    if not isinstance(model, str) or not model.strip():
        raise _fail("'model' is required and must be a non-empty string", "model")
    messages = raw.get("messages")
    if not isinstance(messages, list) or not messages:
        raise _fail("'messages' must be a non-empty list", "messages")
    _within_limits(messages)
    for i, message in enumerate(messages):
        _message(message, i)
    for check in _CHECKS:
        check(raw)
    effort = raw.get("reasoning_effort")
    if effort is not None and (not isinstance(effort, str) or effort not in REASONING_EFFORTS):
        raise _fail(
            f"'reasoning_effort' must be one of {sorted(REASONING_EFFORTS)}", "reasoning_effort"
        )
    stream = raw.get("stream")
    stream = False if stream is None else stream  # null means "not given", as at OpenAI
    if not isinstance(stream, bool):
        raise _fail("'stream' must be a boolean", "stream")
    options = raw.get("stream_options")
    if options is not None and not isinstance(options, dict):
        raise _fail("'stream_options' must be an object", "stream_options")
    return ChatRequest(
        model=model.strip().removeprefix("models/"),
        messages=messages,
        stream=stream,
        include_usage=bool((options or {}).get("include_usage")),
        body=raw,
        google=google_options(raw),
        prefixes=tuple(prefix_digests(messages)),
    )

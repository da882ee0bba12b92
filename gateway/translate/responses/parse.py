"""Raw `POST /v1/responses` JSON → a validated ResponsesRequest with `input` as a list of
items (a string input becomes one user message). Every error names the Responses field
(`input[2].content[0].image_url`), never a chat field. Unknown top-level fields are ignored
(and never forwarded); unknown item types are kept and skipped later with a note, because
clients replay items from other providers (Codex `compaction`, foreign reasoning)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from gateway.errors import InvalidRequestError

Json = dict[str, Any]

MESSAGE_ROLES: Final = frozenset({"user", "system", "developer", "assistant"})
USER_PART_TYPES: Final = frozenset({"input_text", "input_image", "input_file"})
ASSISTANT_PART_TYPES: Final = frozenset({"output_text", "refusal", "input_text"})
EFFORTS: Final = frozenset({"none", "minimal", "low", "medium", "high", "xhigh"})
TEXT_FORMATS: Final = frozenset({"text", "json_object", "json_schema"})


@dataclass(frozen=True, slots=True)
class ResponsesRequest:
    model: str
    input: list[Json]  # items, normalised (a message's string content becomes parts)
    instructions: str | None
    stream: bool
    store: bool
    previous_response_id: str | None
    conversation: str | None
    body: Json  # the raw request, for the parameters translated in params.py


def _fail(message: str, param: str) -> InvalidRequestError:
    return InvalidRequestError(message, param=param)


def _number(body: Json, name: str, low: float, high: float) -> None:
    value = body.get(name)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise _fail(f"'{name}' must be a number from {low:g} to {high:g}", name)


def _optional(body: Json, name: str, kind: type, what: str) -> Any:
    value = body.get(name)
    if value is None:
        return None
    ok = isinstance(value, bool) if kind is bool else isinstance(value, kind)
    if not ok or (kind is not bool and isinstance(value, bool)):
        raise _fail(f"'{name}' must be {what}", name)
    return value


def _name(value: Any) -> str | None:
    """A client's enum value, for a membership test: a list or an object there (unhashable)
    would be a TypeError, a 500, instead of the 400 naming the field."""
    return value if isinstance(value, str) else None


def _content_part(part: Any, where: str, role: str, allowed: frozenset[str]) -> None:
    kind = _name(part.get("type")) if isinstance(part, dict) else None
    if not isinstance(part, dict) or kind not in allowed:
        raise _fail(
            f"unknown content part type {kind!r} for a {role} message; expected one of "
            f"{sorted(allowed)}",
            f"{where}.type",
        )
    if kind in {"input_text", "output_text"} and not isinstance(part.get("text"), str):
        raise _fail(f"an {kind} part needs a string 'text'", f"{where}.text")
    if kind == "refusal" and not isinstance(part.get("refusal"), str):
        raise _fail("a refusal part needs a string 'refusal'", f"{where}.refusal")
    if kind == "input_image" and not any(
        isinstance(part.get(k), str) and part.get(k) for k in ("image_url", "file_id")
    ):
        raise _fail("an input_image part needs 'image_url' or 'file_id'", where)
    if kind == "input_file" and not any(
        isinstance(part.get(k), str) and part.get(k) for k in ("file_data", "file_id")
    ):
        raise _fail("an input_file part needs 'file_data' or 'file_id'", where)


def _text_parts(content: Any, role: str, path: str) -> list[Json]:
    """A message's content as a list of parts (string content becomes one text part)."""
    assistant = role == "assistant"
    if isinstance(content, str):
        if assistant:
            return [{"type": "output_text", "text": content, "annotations": []}]
        return [{"type": "input_text", "text": content}]
    if not isinstance(content, list):
        raise _fail("a message's 'content' must be a string or a list of parts", f"{path}.content")
    allowed = ASSISTANT_PART_TYPES if assistant else USER_PART_TYPES
    for j, part in enumerate(content):
        _content_part(part, f"{path}.content[{j}]", role, allowed)
    return content


def _required_strings(item: Json, path: str, *names: str) -> None:
    for name in names:
        if not isinstance(item.get(name), str) or not item[name]:
            raise _fail(f"a {item['type']} item needs a string '{name}'", f"{path}.{name}")


def _other_item(item: Json, kind: str, path: str) -> None:
    if kind == "function_call":
        _required_strings(item, path, "call_id", "name")
        if not isinstance(item.get("arguments", ""), str):
            raise _fail("'arguments' must be a JSON string", f"{path}.arguments")
    elif kind == "function_call_output":
        _required_strings(item, path, "call_id")
        if not isinstance(item.get("output"), str | list):
            raise _fail("'output' must be a string or a list of parts", f"{path}.output")
    elif kind in {"image_generation_call", "item_reference"}:
        _required_strings(item, path, "id")
        if item.get("result") is not None and not isinstance(item["result"], str):
            raise _fail("'result' must be base64 image data or null", f"{path}.result")
    elif kind == "reasoning" and not isinstance(item.get("summary", []), list):
        raise _fail("'summary' must be a list", f"{path}.summary")


def _item(item: Any, i: int, field: str = "input") -> Json:
    path = f"{field}[{i}]"
    if not isinstance(item, dict):
        raise _fail("each input item must be an object", path)
    kind = item.get("type")
    if kind is None and "role" in item:
        kind = "message"
    if not isinstance(kind, str):
        raise _fail("an input item needs a 'type'", f"{path}.type")
    if kind != "message":
        _other_item(item, kind, path)
        return item
    role = item.get("role")
    if not isinstance(role, str) or role not in MESSAGE_ROLES:
        raise _fail(
            f"unknown role {role!r}; expected one of {sorted(MESSAGE_ROLES)}", f"{path}.role"
        )
    return {**item, "type": "message", "content": _text_parts(item.get("content"), role, path)}


def _input(raw: Any) -> list[Json]:
    if isinstance(raw, str):
        return [
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": raw}]}
        ]
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise _fail("'input' must be a string or a list of items", "input")
    return [_item(item, i) for i, item in enumerate(raw)]


ID_PREFIXES: Final = {"message": "msg", "function_call_output": "fco", "function_call": "fc"}


def with_ids(items: list[Json], seed: str) -> list[Json]:
    """Items as stored and listed: each gets an id (OpenAI lists them with ids) and messages a
    status (the Conversations API's Message requires one)."""
    out: list[Json] = []
    for n, item in enumerate(items):
        if not item.get("id"):
            prefix = ID_PREFIXES.get(str(item.get("type")), "item")
            item = {**item, "id": f"{prefix}_{seed}in{n:03d}"}
        if item.get("type") == "message" and not item.get("status"):
            item = {**item, "status": "completed"}
        out.append(item)
    return out


def conversation_items(raw: Any, field: str, seed: str) -> list[Json]:
    """`items` of a Conversations API request: validated as input items, with ids."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise _fail(f"'{field}' must be a list of items", field)
    return with_ids([_item(item, i, field) for i, item in enumerate(raw)], seed)


def _conversation(raw: Any) -> str | None:
    if raw is None:
        return None
    value = raw.get("id") if isinstance(raw, dict) else raw
    if not isinstance(value, str) or not value:
        raise _fail("'conversation' must be a conversation id or {\"id\": ...}", "conversation")
    return value


def _checks(body: Json) -> None:
    _number(body, "temperature", 0, 2)
    _number(body, "top_p", 0, 1)
    tokens = body.get("max_output_tokens")
    if tokens is not None and (
        isinstance(tokens, bool) or not isinstance(tokens, int) or not 1 <= tokens <= 10_000_000
    ):
        raise _fail(
            "'max_output_tokens' must be an integer from 1 to 10000000", "max_output_tokens"
        )
    reasoning = _optional(body, "reasoning", dict, "an object")
    effort = (reasoning or {}).get("effort")
    if effort is not None and _name(effort) not in EFFORTS:
        raise _fail(f"'reasoning.effort' must be one of {sorted(EFFORTS)}", "reasoning.effort")
    text = _optional(body, "text", dict, "an object")
    fmt = (text or {}).get("format")
    if fmt is not None:
        kind = _name(fmt.get("type")) if isinstance(fmt, dict) else None
        if kind not in TEXT_FORMATS:
            raise _fail(f"'text.format.type' must be one of {sorted(TEXT_FORMATS)}", "text.format")
        if kind == "json_schema" and not isinstance(fmt.get("schema"), dict):
            raise _fail("a json_schema format needs a 'schema' object", "text.format.schema")
    _optional(body, "metadata", dict, "an object of strings")
    _optional(body, "tools", list, "a list")
    _optional(body, "parallel_tool_calls", bool, "a boolean")
    truncation = body.get("truncation")
    if truncation is not None and _name(truncation) not in {"auto", "disabled"}:
        raise _fail("'truncation' must be 'auto' or 'disabled'", "truncation")
    if body.get("background") is True:
        raise _fail(
            "background responses are not supported by this gateway; leave 'background' out",
            "background",
        )


def parse_responses_request(raw: object) -> ResponsesRequest:
    if not isinstance(raw, dict):
        raise _fail("the request body must be a JSON object", "body")
    model = raw.get("model")
    if not isinstance(model, str) or not model.strip():
        raise _fail("'model' is required and must be a non-empty string", "model")
    instructions = raw.get("instructions")
    if instructions is not None and not isinstance(instructions, str):
        raise _fail("'instructions' must be a string", "instructions")
    _checks(raw)
    stream = _optional(raw, "stream", bool, "a boolean")
    store = _optional(raw, "store", bool, "a boolean")
    previous = _optional(raw, "previous_response_id", str, "a response id")
    conversation = _conversation(raw.get("conversation"))
    if previous and conversation:
        raise _fail(
            "'previous_response_id' and 'conversation' cannot be used together",
            "previous_response_id",
        )
    items = _input(raw.get("input"))
    if not items and not previous and not conversation:
        raise _fail("'input' is required", "input")
    return ResponsesRequest(
        model=model.strip().removeprefix("models/"),
        input=items,
        instructions=instructions or None,
        stream=bool(stream),
        store=store is not False,
        previous_response_id=previous or None,
        conversation=conversation,
        body=raw,
    )

"""messages → contents + systemInstruction: roles, merging, tool results, signature fallbacks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from gateway.errors import InvalidRequestError
from gateway.translate.families import family_of
from gateway.translate.parse import ChatRequest
from gateway.translate.request.model_turn import ModelTurn, to_gemini_model_turn
from gateway.translate.request.parts import to_gemini_user_part
from gateway.translate.request.resolved import Resolved
from gateway.translate.signatures import SIG, with_dummy_signature
from gateway.translate.turn_view import ViewOptions

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Contents:
    system_instruction: Json | None
    contents: list[Json]
    notes: tuple[str, ...]


def _text_of(content: Any, param: str) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            p if isinstance(p, str) else str(p.get("text", ""))
            for p in content
            if isinstance(p, str) or p.get("type") == "text"
        )
    if content is None:
        return ""
    raise InvalidRequestError("content must be a string or a list of text parts", param=param)


def tool_output(content: Any, param: str) -> Json:
    """Tool results: a JSON object passes as is; anything else is wrapped as {"output": ...}."""
    text = _text_of(content, param)
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return {"output": text}
    return value if isinstance(value, dict) else {"output": value}


def _call_names(messages: list[Json]) -> dict[str, str]:
    names: dict[str, str] = {}
    for message in messages:
        for call in message.get("tool_calls") or []:
            names[call["id"]] = call["function"]["name"]
    return names


def _function_response(message: Json, i: int, names: dict[str, str], native: set[str]) -> Json:
    call_id = message.get("tool_call_id") or ""
    name = names.get(call_id) or message.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidRequestError(
            f"no earlier assistant tool call has id {call_id!r}, so the function name is unknown",
            param=f"messages[{i}].tool_call_id",
        )
    body: Json = {
        "name": name,
        "response": tool_output(message.get("content"), f"messages[{i}].content"),
    }
    if call_id in native:  # Gemini gave the call its own id: the response must carry it back
        body["id"] = call_id
    return {"functionResponse": body}


def _legacy_function_call(message: Json, i: int) -> Json:
    """An assistant `function_call` (the pre-tools API) is a one-call `tool_calls`."""
    call = message.get("function_call")
    if message.get("tool_calls") or not isinstance(call, dict) or not call.get("name"):
        return message
    tool_call = {"id": f"call_legacy_{i}", "type": "function", "function": call}
    return {**message, "tool_calls": [tool_call]}


def in_call_order(messages: list[Json]) -> list[tuple[int, Json]]:
    """Tool results answering one assistant turn, put in the order of its calls: Gemini pairs
    responses with calls by position (FC1, FC2, FR1, FR2). Unknown ids keep their place last."""
    out: list[tuple[int, Json]] = []
    order: dict[str, int] = {}
    run: list[tuple[int, Json]] = []
    for i, message in enumerate(messages):
        if message.get("role") == "tool":
            run.append((i, message))
            continue
        out.extend(sorted(run, key=lambda item: order.get(item[1]["tool_call_id"], len(order))))
        run = []
        out.append((i, message))
        if message.get("role") == "assistant":
            calls = message.get("tool_calls") or []
            order = {c["id"]: k for k, c in enumerate(calls) if isinstance(c, dict)}
    out.extend(sorted(run, key=lambda item: order.get(item[1]["tool_call_id"], len(order))))
    return out


def _user_parts(message: Json, i: int, resolved: Resolved) -> list[Json]:
    content = message["content"]
    if isinstance(content, str):
        return [{"text": content}] if content else []  # Gemini refuses empty text parts
    parts = []
    for j, part in enumerate(content):
        translated = to_gemini_user_part(part, f"messages[{i}].content[{j}]", resolved)
        if translated is not None and translated.get("text") != "":
            parts.append(translated)
    return parts


def _has_text(message: Json) -> bool:
    content = message.get("content")
    if isinstance(content, str):
        return bool(content)
    return any(isinstance(p, dict) and p.get("type") == "text" for p in content or [])


def _apply_fallbacks(turn: ModelTurn, model: str, current: bool) -> tuple[ModelTurn, list[str]]:
    """Dummy signatures only where Gemini requires one and none could be recovered."""
    notes: list[str] = []
    parts = list(turn.parts)
    family = family_of(model)
    if family.strict_signatures and current:
        for k, part in enumerate(parts):
            if "functionCall" in part:
                if SIG not in part:
                    parts[k] = with_dummy_signature(part)
                    notes.append("signature_fallback:function_call")
                break
    if family.signed_image_turns:
        seen_image = False
        first_text = True
        for k, part in enumerate(parts):
            is_image = "inlineData" in part
            is_text = "text" in part and not part.get("thought")
            needs = is_image or (is_text and first_text and not seen_image)
            if needs and SIG not in part and not turn.known[k]:
                parts[k] = with_dummy_signature(part)
                notes.append("signature_fallback:" + ("image" if is_image else "text"))
            seen_image = seen_image or is_image
            first_text = first_text and not is_text
    return ModelTurn(parts, turn.known, turn.source, turn.dropped), notes


def _append(contents: list[Json], role: str, parts: list[Json]) -> None:
    """Consecutive turns of one role are merged into one: the last turn's own parts list
    (made here, never shared) is extended in place, so N merges cost N, not N² copies."""
    if not parts:
        return
    if contents and contents[-1]["role"] == role:
        contents[-1]["parts"].extend(parts)
    else:
        contents.append({"role": role, "parts": list(parts)})


def to_gemini_contents(chat: ChatRequest, resolved: Resolved, options: ViewOptions) -> Contents:
    messages = chat.messages
    prefixes = chat.prefixes
    names = _call_names(messages)
    last_user_text = max(
        (i for i, m in enumerate(messages) if m["role"] == "user" and _has_text(m)), default=-1
    )
    system: list[Json] = []
    contents: list[Json] = []
    notes: list[str] = []
    native_ids: set[str] = set()
    for i, message in in_call_order(messages):
        role = message["role"]
        if role in {"system", "developer"}:
            text = _text_of(message.get("content"), f"messages[{i}].content")
            if text:
                system.append({"text": text})
        elif role == "user":
            _append(contents, "user", _user_parts(message, i, resolved))
        elif role in {"tool", "function"}:
            if role == "function":
                message = {**message, "tool_call_id": "", "name": message.get("name")}
            _append(contents, "user", [_function_response(message, i, names, native_ids)])
        else:
            message = _legacy_function_call(message, i)
            turn = to_gemini_model_turn(message, f"messages[{i}]", prefixes[i], resolved, options)
            native_ids.update(
                p["functionCall"]["id"] for p in turn.parts if "id" in p.get("functionCall", {})
            )
            notes.extend(["signature_dropped:backend"] * turn.dropped)
            turn, fallback = _apply_fallbacks(turn, chat.model, i > last_user_text)
            notes.extend(fallback)
            if turn.source != "carrier" and turn.parts:
                notes.append(f"turn_source:{turn.source}")
            _append(contents, "model", turn.parts)
    if not contents:
        raise InvalidRequestError(
            "the conversation needs at least one user or assistant message", param="messages"
        )
    instruction = {"role": "user", "parts": system} if system else None
    return Contents(instruction, contents, tuple(notes))


def count_images(content: Json) -> int:
    return sum(1 for p in content["parts"] if "inlineData" in p or "fileData" in p)

"""The OpenAI Responses API (`/v1/responses`) on Gemini, pure parts.

Request: parse.py validates; params.py and history.py turn the request (and any stored or
replayed history) into a chat request, which translate/request/ maps to Gemini exactly as for
chat. Response: output.py lays one Gemini turn out as output items and seals the reasoning
envelope (envelope.py); reply.py builds the response object; events.py the stream events.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gateway.errors import InvalidRequestError
from gateway.translate.parse import ChatRequest, parse_chat_request
from gateway.translate.responses.history import History, Keys, to_chat_messages
from gateway.translate.responses.params import ChatParams, to_chat_params
from gateway.translate.responses.parse import ResponsesRequest

Json = dict[str, Any]

_MESSAGE_PARAM = re.compile(r"^messages\[(\d+)\]")


@dataclass(frozen=True, slots=True)
class Translated:
    chat: ChatRequest
    params: ChatParams
    notes: tuple[str, ...]
    sources: tuple[str, ...]  # chat messages[i] came from this Responses field


def _remap(err: InvalidRequestError, sources: Sequence[str]) -> InvalidRequestError:
    """A chat error about messages[i] names the Responses field message i came from."""
    param = err.param or ""
    match = _MESSAGE_PARAM.match(param)
    if match is None:
        if param == "messages":
            err.param = "input"
        return err
    index = int(match[1])
    if index < len(sources):
        err.param = sources[index] + param[match.end() :]
    return err


def to_chat_request(
    request: ResponsesRequest,
    history: Sequence[tuple[Json, str]],
    keys: Keys,
    references: Mapping[str, Json] | None = None,
) -> Translated:
    """`history`: earlier items (stored chain or conversation), each with its source field."""
    params = to_chat_params(request)
    items = [*history, *((item, f"input[{i}]") for i, item in enumerate(request.input))]
    converted: History = to_chat_messages(items, keys, request.instructions, references)
    body: Json = {"model": request.model, "messages": converted.messages, **params.fields}
    try:
        chat = parse_chat_request(body)
    except InvalidRequestError as err:
        raise _remap(err, converted.sources) from None
    notes = (*params.notes, *converted.notes)
    return Translated(chat, params, notes, tuple(converted.sources))


def remap_error(err: InvalidRequestError, translated: Translated | None) -> InvalidRequestError:
    """For errors raised later by the chat translation (tools, images, contents)."""
    return err if translated is None else _remap(err, translated.sources)


__all__ = ["Keys", "ResponsesRequest", "Translated", "remap_error", "to_chat_request"]

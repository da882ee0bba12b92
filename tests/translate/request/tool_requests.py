"""Helpers shared by the tool tests: a minimal chat body, the upstream body it becomes
(validated with google-genai, the client's body left untouched), and refusals."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from validators import validate_gemini_request

from gateway.errors import InvalidRequestError
from gateway.translate.parse import parse_chat_request
from gateway.translate.request import Resolved, to_gemini_request
from gateway.translate.request.tools import to_gemini_tools
from gateway.translate.turn_view import ViewOptions

Json = dict[str, Any]

TIME: Json = {"type": "function", "function": {"name": "get_time"}}


def body(**fields: Any) -> Json:
    return {"model": "gemini-3-pro-preview", "messages": [{"role": "user", "content": "hi"}]} | (
        fields
    )


def upstream(raw: Json) -> Json:
    """The whole upstream body, validated, with the client's body left untouched."""
    before = copy.deepcopy(raw)
    result = to_gemini_request(parse_chat_request(raw), Resolved(), ViewOptions()).body
    assert raw == before
    validate_gemini_request(result)
    return result


def tools_of(**fields: Any) -> tuple[list[Json], Json | None]:
    return to_gemini_tools(parse_chat_request(body(**fields)))


def rejected(**fields: Any) -> InvalidRequestError:
    with pytest.raises(InvalidRequestError) as caught:
        upstream(body(**fields))
    assert caught.value.status == 400
    return caught.value

"""A list or an object where the Responses API expects an enum string (a content part's or a
tool's `type`, `reasoning.effort`, `text.format.type`, `truncation`) is the client's mistake:
a 400 naming the field, unary and streamed. Each was a TypeError (unhashable) and a 500."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Stack

pytestmark = pytest.mark.anyio

TEXT = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}
CASES: dict[str, tuple[dict[str, Any], str]] = {
    "content part type": (
        {"input": [{**TEXT, "content": [{"type": ["input_text"], "text": "hi"}]}]},
        "input[0].content[0].type",
    ),
    "tool type": ({"tools": [{"type": {"name": "web_search"}}]}, "tools[0].type"),
    "reasoning effort": ({"reasoning": {"effort": ["low"]}}, "reasoning.effort"),
    "text format type": ({"text": {"format": {"type": {}}}}, "text.format"),
    "truncation": ({"truncation": ["auto"]}, "truncation"),
}


@pytest.mark.parametrize(("fields", "param"), CASES.values(), ids=list(CASES))
@pytest.mark.parametrize("stream", [False, True])
async def test_an_unhashable_enum_value_is_a_400(
    stack: Stack, fields: dict[str, Any], param: str, stream: bool
) -> None:
    body = {"model": "gemini-2.5-flash", "input": [TEXT], "stream": stream, **fields}
    async with stack.http() as http:
        answer = await http.post("/v1/responses", json=body)
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param


async def test_an_unhashable_item_type_in_a_conversation_is_a_400(stack: Stack) -> None:
    items = [{**TEXT, "content": [{"type": {}, "text": "hi"}]}]
    async with stack.http() as http:
        answer = await http.post("/v1/conversations", json={"items": items})
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["param"] == "items[0].content[0].type"

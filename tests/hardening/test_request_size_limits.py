"""What one request may ask translation to walk (translate/parse.py MAX_MESSAGES, MAX_PARTS):
over it, a 400 envelope naming the limit before any upstream call; at it, served. Issue 13:
100k one-character messages (3.4 MB) froze the event loop. Raw HTTP here: the OpenAI SDK spends
seconds validating ten thousand messages on the client side."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.translate.parse import MAX_MESSAGES, MAX_PARTS
from tests.conftest import emulator_stack
from tests.hardening.faults import envelope
from tests.validators import validate_openai_completion

pytestmark = pytest.mark.anyio

URL = "/v1/chat/completions"
MODEL = "gemini-2.5-flash"


def one_char_messages(n: int) -> list[dict[str, Any]]:
    return [{"role": "user", "content": "x"}] * n


async def refused(messages: list[dict[str, Any]]) -> dict[str, Any]:
    async with emulator_stack() as stack, stack.http() as http:
        response = await http.post(URL, json={"model": MODEL, "messages": messages})
        assert response.status_code == 400, response.text[:300]
        assert stack.emulator.requests == []
    error = envelope(response.json())
    assert error["type"] == "invalid_request_error" and error["param"] == "messages"
    return error


async def test_more_messages_than_the_limit_is_a_400_naming_it() -> None:
    error = await refused(one_char_messages(MAX_MESSAGES + 1))
    assert error["code"] == "too_many_messages"
    assert f"at most {MAX_MESSAGES}" in error["message"]
    assert str(MAX_MESSAGES + 1) in error["message"]


async def test_more_parts_than_the_limit_is_a_400_naming_it() -> None:
    text = {"type": "text", "text": "x"}
    error = await refused([{"role": "user", "content": [text] * (MAX_PARTS + 1)}])
    assert error["code"] == "too_many_parts"
    assert f"at most {MAX_PARTS}" in error["message"]


async def test_the_limit_itself_is_served_as_one_merged_turn() -> None:
    async with emulator_stack() as stack, stack.http() as http:
        response = await http.post(
            URL, json={"model": MODEL, "messages": one_char_messages(MAX_MESSAGES)}
        )
        assert response.status_code == 200, response.text[:300]
        validate_openai_completion(response.json())
        (turn,) = stack.emulator.requests[-1].body["contents"]
        assert turn["role"] == "user" and len(turn["parts"]) == MAX_MESSAGES

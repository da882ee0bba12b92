"""The countTokens body for a Responses request, per backend, and OpenAI's answer from Gemini's."""

from __future__ import annotations

import pytest

from gateway.errors import UpstreamError
from gateway.translate.responses.input_tokens import count_tokens_body, input_tokens_reply
from tests.validators import validate_gemini_request

GENERATE = {
    "contents": [{"role": "user", "parts": [{"text": "hello"}]}],
    "systemInstruction": {"parts": [{"text": "be brief"}]},
    "tools": [{"functionDeclarations": [{"name": "f", "description": "d"}]}],
    "toolConfig": {"functionCallingConfig": {"mode": "AUTO"}},
    "generationConfig": {"temperature": 0.5},
    "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}],
}


def test_ai_studio_counts_the_whole_request_inside_generate_content_request():
    body = count_tokens_body(GENERATE, "gemini-2.5-flash", vertex=False)
    assert list(body) == ["generateContentRequest"]
    inner = dict(body["generateContentRequest"])
    assert inner.pop("model") == "models/gemini-2.5-flash"
    assert inner == GENERATE  # instructions and tools are counted, not only contents
    validate_gemini_request(inner)


def test_vertex_gets_only_the_fields_its_count_tokens_knows():
    body = count_tokens_body(GENERATE, "gemini-2.5-flash", vertex=True)
    assert body == {
        "contents": GENERATE["contents"],
        "systemInstruction": GENERATE["systemInstruction"],
        "tools": GENERATE["tools"],
        "generationConfig": GENERATE["generationConfig"],
    }


def test_reply_carries_gemini_total():
    reply = input_tokens_reply({"totalTokens": 42, "promptTokensDetails": []})
    assert reply == {"object": "response.input_tokens", "input_tokens": 42}


def test_an_absent_total_is_zero_as_proto3_omits_it():
    assert input_tokens_reply({})["input_tokens"] == 0


@pytest.mark.parametrize(
    "count", [[], "7", {"totalTokens": "7"}, {"totalTokens": -1}, {"totalTokens": True}]
)
def test_garbage_from_gemini_is_an_upstream_error(count: object):
    with pytest.raises(UpstreamError):
        input_tokens_reply(count)

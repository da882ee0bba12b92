"""The boundary check of Gemini's answers (translate/response/checked.py): garbage of every
kind the rest of translation would trip on is an UpstreamError (502 upstream_error) naming the
field, for the unary and the streamed translators alike; what Gemini really sends passes."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.errors import UpstreamError
from gateway.translate.response.completion import to_openai_completion
from gateway.translate.response.context import ResponseContext
from gateway.translate.response.stream import ChunkTranslator
from gateway.translate.responses.output import OutputContext
from gateway.translate.responses.reply import ReplyReader
from gateway.translate.turn_view import ViewOptions

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVQImWNwav0CAALIAbzDqqRyAAAAAElFTkSuQmCC"

BAD_PARTS: dict[str, tuple[Any, str]] = {
    "text not a string": ({"text": 5}, "parts[0].text must be a string"),
    "thought not a boolean": ({"text": "x", "thought": "yes"}, "parts[0].thought"),
    "signature not a string": ({"text": "x", "thoughtSignature": 5}, "thoughtSignature"),
    "inline data not an object": ({"inlineData": "x"}, "parts[0].inlineData must be an object"),
    "mime type not ASCII": ({"inlineData": {"mimeType": "image/pñg", "data": PNG}}, "mimeType"),
    "mime type not a string": ({"inlineData": {"mimeType": 5, "data": PNG}}, "mimeType"),
    "mime type with a newline": ({"inlineData": {"mimeType": "image/png\n", "data": PNG}}, "mime"),
    "image type with parameters": (
        {"inlineData": {"mimeType": "image/png;x=1", "data": PNG}},
        "image/<subtype>",
    ),
    "data a number": ({"inlineData": {"mimeType": "image/png", "data": 5}}, "got int"),
    "data a list": ({"inlineData": {"mimeType": "image/png", "data": ["x"]}}, "got list"),
    "data breaking out of markdown": (
        {"inlineData": {"mimeType": "image/png", "data": "iVBO)![x](javascript:alert(1)"}},
        "data is not base64",
    ),
    "data not ASCII": ({"inline_data": {"mime_type": "image/png", "data": "iVBOé"}}, "base64"),
    "function call not an object": ({"functionCall": "f"}, "needs a string name"),
    "function args a string": ({"functionCall": {"name": "f", "args": "{}"}}, "args"),
}


def context() -> ResponseContext:
    return ResponseContext(completion_id="c", created=0, model="m", view=ViewOptions())


def answer(*parts: Any) -> dict[str, Any]:
    content = {"role": "model", "parts": list(parts)}
    return {"candidates": [{"content": content, "finishReason": "STOP"}]}


@pytest.mark.parametrize(("part", "says"), BAD_PARTS.values(), ids=list(BAD_PARTS))
def test_a_malformed_part_is_an_upstream_error_in_both_translators(part: Any, says: str) -> None:
    with pytest.raises(UpstreamError) as unary:
        to_openai_completion(answer(part), context())
    with pytest.raises(UpstreamError) as streamed:
        ChunkTranslator(context()).feed(answer(part))
    for caught in (unary.value, streamed.value):
        assert (caught.status, caught.code) == (502, "upstream_error")
        assert says in caught.message


@pytest.mark.parametrize(
    "response",
    [
        {"candidates": "x"},
        {"candidates": [5]},
        {"promptFeedback": "x", "candidates": []},
        {"candidates": [{"index": "first", "finishReason": "STOP"}]},
        {"candidates": [{"index": [0], "finishReason": "STOP"}]},
        {"candidates": [{"index": -1, "finishReason": "STOP"}]},
    ],
    ids=[
        "candidates not a list",
        "a candidate not an object",
        "feedback not an object",
        "index a word",
        "index a list",
        "index negative",
    ],
)
def test_a_malformed_answer_is_an_upstream_error(response: dict[str, Any]) -> None:
    """In every translator: chat unary and streamed, and the Responses reader (an index that
    is not an integer was a ValueError there: a 500)."""
    with pytest.raises(UpstreamError):
        to_openai_completion(response, context())
    with pytest.raises(UpstreamError):
        ChunkTranslator(context()).feed(response)
    ctx = OutputContext(response_id="resp_x", model="m", backend="b", secret=b"k" * 32)
    with pytest.raises(UpstreamError):
        ReplyReader(ctx, streaming=False).feed(response)


def test_what_gemini_really_sends_passes() -> None:
    parts = [
        {"text": "Here", "thought": False, "thoughtSignature": "c2ln"},
        {"inlineData": {"mimeType": "image/png", "data": PNG}, "thoughtSignature": "c2ln"},
        {"inlineData": {"mimeType": "audio/L16;codec=pcm;rate=24000", "data": "AAAA"}},
        {"inline_data": {"mime_type": "image/jpeg", "data": "/9j/4AAQ-_=="}},
        {"functionCall": {"name": "f", "args": {"a": 1}, "id": "x"}},
        {"executableCode": {"language": "PYTHON", "code": "print(1)"}},
    ]
    completion, _ = to_openai_completion(answer(*parts), context())
    assert len(completion["choices"][0]["message"]["images"]) == 2


def test_an_answer_without_candidates_or_a_block_is_the_same_error_unary_and_streamed() -> None:
    with pytest.raises(UpstreamError) as unary:
        to_openai_completion({"candidates": []}, context())
    translator = ChunkTranslator(context())
    translator.feed({"usageMetadata": {"promptTokenCount": 1}})
    with pytest.raises(UpstreamError) as streamed:
        translator.finish()
    assert unary.value.message == streamed.value.message
    assert unary.value.code == streamed.value.code == "upstream_error"

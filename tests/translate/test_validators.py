"""The validators other tests lean on must themselves refuse what Gemini or the SDKs refuse."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pydantic
import pytest
from validators import (
    validate_gemini_request,
    validate_gemini_response,
    validate_openai_chunk,
    validate_openai_completion,
)

Json = dict[str, Any]
GOOD_REQUEST: Json = {
    "contents": [
        {"role": "user", "parts": [{"text": "Draw a fox."}]},
        {
            "role": "model",
            "parts": [
                {"text": "Here.", "thoughtSignature": "c2lnLXQ="},
                {
                    "inlineData": {"mimeType": "image/png", "data": "AA=="},
                    "thoughtSignature": "c2k=",
                },
            ],
        },
        {"role": "user", "parts": [{"text": "At night."}]},
    ],
    "systemInstruction": {"role": "user", "parts": [{"text": "Be brief."}]},
    "generationConfig": {
        "responseModalities": ["TEXT", "IMAGE"],
        "imageConfig": {"aspectRatio": "16:9", "imageSize": "2K"},
        "thinkingConfig": {"thinkingLevel": "HIGH"},
    },
    "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}],
}


def mutated(change: Callable[[Json], None]) -> Json:
    body = copy.deepcopy(GOOD_REQUEST)
    change(body)
    return body


def test_a_good_request_passes() -> None:
    contents, config = validate_gemini_request(GOOD_REQUEST)
    assert len(contents) == 3
    assert config.image_config is not None and config.image_config.image_size == "2K"


BAD_REQUESTS: dict[str, Json] = {
    "unknown top-level key": mutated(lambda b: b.update(generationconfig={})),
    "no contents": mutated(lambda b: b.update(contents=[])),
    "role assistant": mutated(lambda b: b["contents"][1].update(role="assistant")),
    "role missing": mutated(lambda b: b["contents"][0].pop("role")),
    "empty parts": mutated(lambda b: b["contents"][0].update(parts=[])),
    "two data fields in a part": mutated(
        lambda b: b["contents"][0]["parts"][0].update(fileData={"fileUri": "gs://a/b"})
    ),
    "no data field in a part": mutated(
        lambda b: b["contents"][0]["parts"].append({"thought": True})
    ),
    "both spellings": mutated(lambda b: b["generationConfig"].update(response_modalities=["TEXT"])),
    "modality PICTURE": mutated(
        lambda b: b["generationConfig"].update(responseModalities=["PICTURE"])
    ),
    "image size 1k": mutated(lambda b: b["generationConfig"]["imageConfig"].update(imageSize="1k")),
    "aspect ratio 7:3": mutated(
        lambda b: b["generationConfig"]["imageConfig"].update(aspectRatio="7:3")
    ),
    "budget and level": mutated(
        lambda b: b["generationConfig"]["thinkingConfig"].update(thinkingBudget=128)
    ),
    "unknown enum value": mutated(lambda b: b["safetySettings"][0].update(threshold="BLOCK_ALL")),
    "unknown generationConfig field": mutated(lambda b: b["generationConfig"].update(topQ=1)),
    "signature not base64": mutated(
        lambda b: b["contents"][1]["parts"][0].update(thoughtSignature="not base64!")
    ),
    "image system instruction": mutated(
        lambda b: b["systemInstruction"]["parts"].append(
            {"inlineData": {"mimeType": "image/png", "data": "AA=="}}
        )
    ),
}


@pytest.mark.parametrize("body", BAD_REQUESTS.values(), ids=BAD_REQUESTS.keys())
def test_bad_requests_are_refused(body: Json) -> None:
    with pytest.raises((AssertionError, pydantic.ValidationError)):
        validate_gemini_request(body)


def test_response_validation_is_lenient_on_new_fields_but_not_on_types() -> None:
    response = {
        "candidates": [{"content": {"role": "model", "parts": [{"text": "hi"}]}, "index": 0}],
        "usageMetadata": {"promptTokenCount": 1, "serviceTier": "standard"},
    }
    assert validate_gemini_response(response).text == "hi"
    response["candidates"][0]["content"]["parts"][0]["thoughtSignature"] = "not base64!"
    with pytest.raises(pydantic.ValidationError):
        validate_gemini_response(response)


COMPLETION: Json = {
    "id": "chatcmpl-test",
    "object": "chat.completion",
    "created": 1700000000,
    "model": "m",
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": "hi",
                "images": [
                    {
                        "type": "image_url",
                        "image_url": {"url": "data:image/png;base64,AA=="},
                        "index": 0,
                    }
                ],
                "tool_calls": [
                    {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}
                ],
            },
            "finish_reason": "tool_calls",
            "logprobs": None,
        }
    ],
}


def completion_with(change: Callable[[Json], None]) -> Json:
    body = copy.deepcopy(COMPLETION)
    change(body)
    return body


def message_of(d: Json) -> Json:
    message: Json = d["choices"][0]["message"]
    return message


BAD_COMPLETIONS: dict[str, Json] = {
    "finish_reason unknown": completion_with(
        lambda d: d["choices"][0].update(finish_reason="done")
    ),
    "arguments an object": completion_with(
        lambda d: message_of(d)["tool_calls"][0]["function"].update(arguments={})
    ),
    "created a string": completion_with(lambda d: d.update(created="1700000000")),
    "role model": completion_with(lambda d: message_of(d).update(role="model")),
    "image without url": completion_with(lambda d: message_of(d)["images"][0].update(image_url={})),
    "image index off": completion_with(lambda d: message_of(d)["images"][0].update(index=3)),
    "signature not a string": completion_with(
        lambda d: message_of(d).update(extra_content={"google": {"thought_signature": 5}})
    ),
}


def test_a_good_completion_passes() -> None:
    assert validate_openai_completion(COMPLETION).choices[0].finish_reason == "tool_calls"


@pytest.mark.parametrize("body", BAD_COMPLETIONS.values(), ids=BAD_COMPLETIONS.keys())
def test_bad_completions_are_refused(body: Json) -> None:
    with pytest.raises((AssertionError, pydantic.ValidationError)):
        validate_openai_completion(body)


def test_chunks_are_checked_strictly() -> None:
    chunk = {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "m",
        "choices": [
            {"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "c"}]}, "finish_reason": None}
        ],
    }
    validate_openai_chunk(chunk)
    chunk["choices"][0]["delta"]["tool_calls"][0]["index"] = "0"
    with pytest.raises(pydantic.ValidationError):
        validate_openai_chunk(chunk)
    chunk["choices"][0]["delta"] = {"content": "x"}
    chunk["object"] = "chat.completion"
    with pytest.raises(pydantic.ValidationError):
        validate_openai_chunk(chunk)

"""Gemini replies → images or an OpenAI-shaped refusal, usage, and the ImagesResponse shape;
pure, on real captured payloads (gemini-samples 03, 04, 05) and hand-made variants."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import orjson
import pytest
from openai.types import ImagesResponse
from validators import validate_gemini_request

from gateway.errors import InvalidRequestError, UpstreamError
from gateway.translate.images.reply import (
    OutputImage,
    read_image_reply,
    to_images_usage,
    to_openai_images_response,
)
from gateway.translate.images.request import (
    InlineImage,
    parse_images_request,
    to_gemini_images_body,
)

PNG_B64 = "iVBORw0KGgo="


def sample(samples_dir: Path, prefix: str) -> dict[str, Any]:
    path = next(samples_dir.glob(f"{prefix}_*.json"))
    return orjson.loads(path.read_bytes())


def image_reply(*parts: dict[str, Any], finish: str = "STOP") -> dict[str, Any]:
    return {
        "candidates": [{"content": {"role": "model", "parts": list(parts)}, "finishReason": finish}]
    }


def test_live_31_flash_image_reply(samples_dir: Path) -> None:
    """The sample's redaction left a placeholder that is not base64: as sent it is refused as
    Gemini's garbage (never a data URL); with base64 in its place it is the image."""
    live = sample(samples_dir, "03")
    with pytest.raises(UpstreamError, match=r"inlineData\.data is not base64"):
        read_image_reply(live)
    blob = live["candidates"][0]["content"]["parts"][0]["inlineData"]
    assert blob["data"].startswith("<redacted live image data")
    blob["data"] = PNG_B64
    reply = read_image_reply(live)
    assert [i.mime_type for i in reply.images] == ["image/jpeg"]
    assert reply.images[0].data == PNG_B64
    assert reply.text is None
    assert to_images_usage([reply.usage]) == {
        "input_tokens": 10,
        "input_tokens_details": {"text_tokens": 10, "image_tokens": 0},
        "output_tokens": 1392,
        "output_tokens_details": {"text_tokens": 272, "image_tokens": 1120},
        "total_tokens": 1402,
    }


def test_live_no_image_is_a_no_image_error(samples_dir: Path) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        read_image_reply(sample(samples_dir, "04"))
    assert caught.value.code == "no_image"
    assert caught.value.status == 400
    assert "NO_IMAGE" in caught.value.message


def test_live_blocked_prompt_is_a_content_policy_error(samples_dir: Path) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        read_image_reply(sample(samples_dir, "05"))
    assert caught.value.code == "content_policy_violation"
    assert "PROHIBITED_CONTENT" in caught.value.message


@pytest.mark.parametrize(
    ("reply", "code", "words"),
    [
        (image_reply(finish="IMAGE_SAFETY"), "content_policy_violation", "IMAGE_SAFETY"),
        (image_reply(finish="SAFETY"), "content_policy_violation", "SAFETY"),
        (image_reply(finish="IMAGE_PROHIBITED_CONTENT"), "content_policy_violation", "PROHIBITED"),
        ({"candidates": []}, "no_image", "no candidates"),
        ({}, "no_image", "no candidates"),
        (
            image_reply({"text": "I can only describe foxes."}),
            "no_image",
            "The model said: I can only describe foxes.",
        ),
        (image_reply({"text": "x"}, finish="MAX_TOKENS"), "no_image", "MAX_TOKENS"),
        (
            {"promptFeedback": {"blockReason": "OTHER", "blockReasonMessage": "nope"}},
            "content_policy_violation",
            "(blockReason OTHER). nope",
        ),
    ],
)
def test_replies_without_an_image_are_refusals(
    reply: dict[str, Any], code: str, words: str
) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        read_image_reply(reply)
    assert caught.value.code == code
    assert words in caught.value.message


def test_thought_images_are_not_results_and_text_is_the_revised_prompt() -> None:
    reply = read_image_reply(
        image_reply(
            {"text": "thinking", "thought": True},
            {"inlineData": {"mimeType": "image/png", "data": "ZHJhZnQ="}, "thought": True},
            {"text": "A fox ", "thoughtSignature": "c2ln"},
            {"text": "in snow."},
            {
                "inline_data": {"mime_type": "image/png", "data": PNG_B64},
                "thoughtSignature": "c2ln",
            },
        )
    )
    assert reply.images == (InlineImage("image/png", PNG_B64),)
    assert reply.text == "A fox in snow."


def test_only_thought_images_is_still_no_image() -> None:
    draft = {"inlineData": {"mimeType": "image/png", "data": "ZHJhZnQ="}, "thought": True}
    with pytest.raises(InvalidRequestError) as caught:
        read_image_reply(image_reply(draft))
    assert caught.value.code == "no_image"


def test_usage_sums_calls_and_splits_modalities() -> None:
    meta = {
        "promptTokenCount": 300,
        "promptTokensDetails": [
            {"modality": "TEXT", "tokenCount": 40},
            {"modality": "IMAGE", "tokenCount": 260},
        ],
        "candidatesTokenCount": 1130,
        "thoughtsTokenCount": 50,
        "candidatesTokensDetails": [{"modality": "IMAGE", "tokenCount": 1120}],
    }
    usage = to_images_usage([meta, meta])
    assert usage == {
        "input_tokens": 600,
        "input_tokens_details": {"text_tokens": 80, "image_tokens": 520},
        "output_tokens": 2360,
        "output_tokens_details": {"text_tokens": 120, "image_tokens": 2240},
        "total_tokens": 2960,
    }


def test_response_shape_validates_with_the_openai_types() -> None:
    items = [
        OutputImage(PNG_B64, None, "A fox", "png"),
        OutputImage(PNG_B64, None, None, "png"),
    ]
    out = to_openai_images_response(1700000000, items, to_images_usage([{}]), "64x64")
    parsed = ImagesResponse.model_validate(out, strict=True)
    assert parsed.output_format == "png" and parsed.size == "64x64"
    assert out["data"] == [{"b64_json": PNG_B64, "revised_prompt": "A fox"}, {"b64_json": PNG_B64}]
    hosted = to_openai_images_response(
        1, [OutputImage(None, "http://gw/v1/files/a.png", None, "jpeg")], {}, None
    )
    assert hosted["data"] == [{"url": "http://gw/v1/files/a.png"}]
    assert hosted["output_format"] == "jpeg" and "size" not in hosted
    mixed = to_openai_images_response(
        1, [OutputImage("a", None, None, "png"), OutputImage("b", None, None, None)], {}, None
    )
    assert "output_format" not in mixed


def test_gemini_body_layout_and_validation() -> None:
    request = parse_images_request({"prompt": "make it night", "size": "1536x1024"})
    images = [InlineImage("image/png", PNG_B64), InlineImage("image/jpeg", "/9j/")]
    mask = InlineImage("image/png", PNG_B64)
    body = to_gemini_images_body(request, images, mask)
    original = copy.deepcopy(body)
    validate_gemini_request(body)
    assert body == original
    parts = body["contents"][0]["parts"]
    assert [next(iter(p)) for p in parts] == [
        "text",
        "inlineData",
        "inlineData",
        "text",
        "inlineData",
    ]
    assert parts[0] == {"text": "make it night"}
    assert "mask" in parts[3]["text"] and "transparent" in parts[3]["text"]
    assert parts[2] == {"inlineData": {"mimeType": "image/jpeg", "data": "/9j/"}}
    assert body["generationConfig"] == {
        "responseModalities": ["TEXT", "IMAGE"],
        "imageConfig": {"aspectRatio": "3:2", "imageSize": "2K"},
    }
    plain = to_gemini_images_body(parse_images_request({"prompt": "a fox"}))
    assert plain["generationConfig"] == {"responseModalities": ["TEXT", "IMAGE"]}
    assert plain["contents"] == [{"role": "user", "parts": [{"text": "a fox"}]}]

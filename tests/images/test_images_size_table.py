"""OpenAI `size` / `quality` / extensions → Gemini imageConfig, against a table written by hand
from the image-generation docs (gemini-api.md §1: aspect ratios per model, imageSize 1K/2K/4K,
"512" on 3.1 Flash Image only, none on 2.5 Flash Image), not derived from the code's table."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.errors import InvalidRequestError
from gateway.translate.images.request import (
    DEFAULT_IMAGE_MODEL,
    parse_images_request,
    resolve_image_model,
)

PRO = "gemini-3-pro-image-preview"
FLASH31 = "gemini-3.1-flash-image-preview"
FLASH25 = "gemini-2.5-flash-image"

# (size, model) → imageConfig. Ratios: the documented ratio nearest to W/H on a log scale;
# imageSize: the smallest tier whose longer side reaches the requested longer side.
GOLDEN: list[tuple[str, str, dict[str, str]]] = [
    ("1024x1024", PRO, {"aspectRatio": "1:1", "imageSize": "1K"}),
    ("1536x1024", PRO, {"aspectRatio": "3:2", "imageSize": "2K"}),
    ("1024x1536", PRO, {"aspectRatio": "2:3", "imageSize": "2K"}),
    ("1792x1024", PRO, {"aspectRatio": "16:9", "imageSize": "2K"}),
    ("1024x1792", PRO, {"aspectRatio": "9:16", "imageSize": "2K"}),
    ("512x512", PRO, {"aspectRatio": "1:1", "imageSize": "1K"}),
    ("256x256", PRO, {"aspectRatio": "1:1", "imageSize": "1K"}),
    ("2048x2048", PRO, {"aspectRatio": "1:1", "imageSize": "2K"}),
    ("2049x2049", PRO, {"aspectRatio": "1:1", "imageSize": "4K"}),
    ("4096x4096", PRO, {"aspectRatio": "1:1", "imageSize": "4K"}),
    ("1000x800", PRO, {"aspectRatio": "5:4", "imageSize": "1K"}),
    ("800x1000", PRO, {"aspectRatio": "4:5", "imageSize": "1K"}),
    ("1200x900", PRO, {"aspectRatio": "4:3", "imageSize": "2K"}),
    ("900x1200", PRO, {"aspectRatio": "3:4", "imageSize": "2K"}),
    ("1376x768", PRO, {"aspectRatio": "16:9", "imageSize": "2K"}),  # docs' 16:9 at 1K
    ("2100x900", PRO, {"aspectRatio": "21:9", "imageSize": "4K"}),
    ("2048x512", PRO, {"aspectRatio": "21:9", "imageSize": "2K"}),  # 4:1 is 3.1 Flash only
    ("1024X1024", PRO, {"aspectRatio": "1:1", "imageSize": "1K"}),
    ("16:9", PRO, {"aspectRatio": "16:9"}),
    ("auto", PRO, {}),
    ("512x512", FLASH31, {"aspectRatio": "1:1", "imageSize": "512"}),
    ("256x256", FLASH31, {"aspectRatio": "1:1", "imageSize": "512"}),
    ("513x513", FLASH31, {"aspectRatio": "1:1", "imageSize": "1K"}),
    ("1024x1024", FLASH31, {"aspectRatio": "1:1", "imageSize": "1K"}),
    ("1792x1024", FLASH31, {"aspectRatio": "16:9", "imageSize": "2K"}),
    ("2048x512", FLASH31, {"aspectRatio": "4:1", "imageSize": "2K"}),
    ("512x2048", FLASH31, {"aspectRatio": "1:4", "imageSize": "2K"}),
    ("4000x500", FLASH31, {"aspectRatio": "8:1", "imageSize": "4K"}),
    ("1024x1024", FLASH25, {"aspectRatio": "1:1"}),
    ("1536x1024", FLASH25, {"aspectRatio": "3:2"}),
    ("1024x1792", FLASH25, {"aspectRatio": "9:16"}),
    ("4096x4096", FLASH25, {"aspectRatio": "1:1"}),
    ("auto", FLASH25, {}),
]


def config(**raw: Any) -> dict[str, Any]:
    return parse_images_request({"prompt": "a fox", **raw}).image_config


@pytest.mark.parametrize(("size", "model", "expected"), GOLDEN)
def test_size_table(size: str, model: str, expected: dict[str, str]) -> None:
    assert config(size=size, model=model) == expected


@pytest.mark.parametrize(
    ("quality", "model", "expected"),
    [
        ("low", PRO, {"imageSize": "1K"}),
        ("standard", PRO, {"imageSize": "1K"}),
        ("medium", PRO, {"imageSize": "2K"}),
        ("high", PRO, {"imageSize": "2K"}),
        ("hd", PRO, {"imageSize": "2K"}),
        ("max", PRO, {"imageSize": "4K"}),
        ("auto", PRO, {}),
        ("HIGH", FLASH31, {"imageSize": "2K"}),
        ("high", FLASH25, {}),
    ],
)
def test_quality_sets_image_size_when_size_does_not(
    quality: str, model: str, expected: dict[str, str]
) -> None:
    assert config(quality=quality, model=model) == expected


def test_size_wins_over_quality() -> None:
    assert config(size="1024x1024", quality="hd") == {"aspectRatio": "1:1", "imageSize": "1K"}
    assert config(size="16:9", quality="hd") == {"aspectRatio": "16:9", "imageSize": "2K"}


def test_explicit_extensions_win_over_size_and_quality() -> None:
    assert config(size="1792x1024", aspect_ratio="1:1") == {"aspectRatio": "1:1", "imageSize": "2K"}
    assert config(size="1024x1024", quality="low", image_size="4K") == {
        "aspectRatio": "1:1",
        "imageSize": "4K",
    }
    assert config(image_config={"aspect_ratio": "21:9"}) == {"aspectRatio": "21:9"}
    assert config(google={"image_config": {"imageSize": "2K"}}) == {"imageSize": "2K"}


@pytest.mark.parametrize(
    ("raw", "param", "words"),
    [
        ({"image_size": "2k"}, "image_config.image_size", 'did you mean "2K"'),
        ({"aspect_ratio": "7:3"}, "image_config.aspect_ratio", "use one of"),
        ({"aspect_ratio": "4:1"}, "image_config.aspect_ratio", "not supported by"),
        ({"model": FLASH25, "image_size": "2K"}, "image_config.image_size", "no image_size"),
        ({"size": "big"}, "size", "WIDTHxHEIGHT"),
        ({"size": "0x100"}, "size", "WIDTHxHEIGHT"),
        ({"size": "99999x100"}, "size", "WIDTHxHEIGHT"),
        ({"quality": "ultra"}, "quality", "one of"),
        ({"n": 0}, "n", "from 1 to 10"),
        ({"n": 11}, "n", "from 1 to 10"),
        ({"n": "two"}, "n", "from 1 to 10"),
        ({"n": True}, "n", "from 1 to 10"),
        ({"response_format": "file"}, "response_format", "b64_json, url"),
        ({"output_format": "gif"}, "output_format", "png"),
        ({"output_compression": 101}, "output_compression", "from 0 to 100"),
        ({"prompt": "  "}, "prompt", "non-empty"),
        ({"stream": True}, "stream", "not supported"),
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(
    raw: dict[str, Any], param: str, words: str
) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        parse_images_request({"prompt": "a fox", **raw})
    assert caught.value.status == 400
    assert caught.value.param == param
    assert words in caught.value.message


def test_form_fields_arrive_as_strings() -> None:
    request = parse_images_request(
        {"prompt": "a fox", "n": "3", "size": "1536x1024", "response_format": "url"}
    )
    assert (request.n, request.response_format) == (3, "url")
    assert request.image_config == {"aspectRatio": "3:2", "imageSize": "2K"}


def test_defaults() -> None:
    request = parse_images_request({"prompt": "a fox"})
    assert request.model == DEFAULT_IMAGE_MODEL == PRO
    assert (request.n, request.response_format, request.output_format) == (1, "b64_json", None)
    assert request.image_config == {}
    assert parse_images_request({"prompt": "x", "output_format": "jpg"}).output_format == "jpeg"


@pytest.mark.parametrize(
    ("given", "model", "note"),
    [
        (None, PRO, None),
        ("", PRO, None),
        (FLASH31, FLASH31, None),
        (f"models/{FLASH25}", FLASH25, None),
        ("dall-e-3", PRO, "images_model_alias:dall-e-3"),
        ("gpt-image-1", PRO, "images_model_alias:gpt-image-1"),
    ],
)
def test_model_resolution(given: Any, model: str, note: str | None) -> None:
    assert resolve_image_model(given) == (model, note)


@pytest.mark.parametrize(
    "model", ["gemini-2.5-flash", "imagen-4.0-generate-001", "gpt-4o", "gemini-image/../x", 3]
)
def test_non_image_models_are_refused_naming_the_image_models(model: Any) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        resolve_image_model(model)
    assert caught.value.param == "model"
    if isinstance(model, str):
        for name in (PRO, FLASH31, FLASH25):
            assert name in caught.value.message

"""The token estimate of translate/budget.py: image sizes read from real encoder output, the
tile rule, the Gemini 3 caps, text at four characters a token, and the model limits."""

from __future__ import annotations

import base64
import io
import math
from pathlib import Path

import orjson
import pytest
from PIL import Image

from gateway.config import load_settings
from gateway.errors import InvalidRequestError
from gateway.translate.budget import HistoryPolicy, history_policy
from gateway.translate.token_estimate import (
    estimate_tokens,
    image_size,
    image_tokens,
    input_limit,
)


def encoded(size: tuple[int, int], fmt: str, **options: object) -> str:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 40, 90)).save(out, format=fmt, **options)
    return base64.b64encode(out.getvalue()).decode()


@pytest.mark.parametrize("size", [(1, 1), (64, 48), (1024, 1024), (1376, 768), (768, 1376)])
@pytest.mark.parametrize(
    ("fmt", "options"),
    [
        ("PNG", {}),
        ("JPEG", {}),
        ("JPEG", {"progressive": True}),
        ("WEBP", {"lossless": True}),
        ("WEBP", {"quality": 80}),
        ("WEBP", {"exif": b"Exif\x00\x00" + b"\x00" * 32}),  # written as VP8X
    ],
)
def test_image_size_from_the_header(size: tuple[int, int], fmt: str, options: dict) -> None:
    assert image_size(encoded(size, fmt, **options)) == size


def test_jpeg_size_behind_a_large_metadata_block() -> None:
    """The frame header may sit after tens of KB of EXIF/ICC data."""
    out = io.BytesIO()
    Image.new("RGB", (300, 200)).save(out, format="JPEG", icc_profile=b"\x00" * 120_000)
    assert image_size(base64.b64encode(out.getvalue()).decode()) == (300, 200)


def test_url_safe_base64_is_read_too() -> None:
    data = encoded((517, 333), "PNG")
    assert image_size(data.replace("+", "-").replace("/", "_")) == (517, 333)


@pytest.mark.parametrize(
    "data", ["", "not base64 at all!", base64.b64encode(b"GIF89a" * 9).decode()]
)
def test_unreadable_images_have_no_size(data: str) -> None:
    assert image_size(data) is None


@pytest.mark.parametrize(
    ("size", "cap", "tokens"),
    [
        ((384, 384), None, 258),
        ((100, 10), None, 258),
        ((385, 100), None, 258),  # one 768 tile
        ((768, 768), None, 258),
        ((769, 768), None, 516),
        ((1024, 1024), None, 1032),
        ((2048, 2048), None, 9 * 258),
        ((2048, 2048), 1120, 1120),
        ((1024, 1024), 1120, 1032),
        ((1024, 1024), 280, 280),
    ],
)
def test_image_tokens(size: tuple[int, int], cap: int | None, tokens: int) -> None:
    assert image_tokens(*size, cap) == tokens


def _body(*texts: str, image: str | None = None, **extra: object) -> dict:
    parts: list[dict] = [{"text": t} for t in texts]
    if image is not None:
        parts.append({"inlineData": {"mimeType": "image/png", "data": image}})
    return {"contents": [{"role": "user", "parts": parts}], **extra}


def test_text_is_four_characters_a_token_per_part() -> None:
    body = _body("a" * 10, "b" * 4, systemInstruction={"parts": [{"text": "c" * 9}]})
    assert estimate_tokens(body, "gemini-2.5-flash") == 3 + 1 + 3


def test_signatures_are_not_counted_but_calls_and_tools_are() -> None:
    call = {"functionCall": {"name": "lookup", "args": {"q": "x" * 40}}}
    body = {
        "contents": [{"role": "model", "parts": [{**call, "thoughtSignature": "s" * 10_000}]}],
        "tools": [{"functionDeclarations": [{"name": "lookup"}]}],
    }
    expected = math.ceil(len(orjson.dumps(call)) / 4)
    expected += math.ceil(len(orjson.dumps(body["tools"])) / 4)
    assert estimate_tokens(body, "gemini-3-pro-preview") == expected


def test_gemini3_caps_images_by_media_resolution() -> None:
    big = encoded((2048, 2048), "PNG")
    assert estimate_tokens(_body(image=big), "gemini-2.5-flash-image") == 9 * 258
    assert estimate_tokens(_body(image=big), "gemini-3-pro-image-preview") == 1120
    low = _body(image=big, generationConfig={"mediaResolution": "media_resolution_low"})
    assert estimate_tokens(low, "gemini-3-pro-image-preview") == 280


def test_images_of_unknown_size_and_files_count_as_1024_square() -> None:
    unknown = {"inlineData": {"mimeType": "image/heic", "data": "AAAA"}}
    file = {"fileData": {"mimeType": "image/png", "fileUri": "gs://b/x.png"}}
    body = {"contents": [{"role": "user", "parts": [unknown, file]}]}
    assert estimate_tokens(body, "gemini-2.5-flash") == 2 * 1032


@pytest.mark.parametrize(
    ("model", "limit"),
    [
        ("gemini-3-pro-image-preview", 65_536),
        ("gemini-3.1-flash-image-preview", 65_536),
        ("gemini-2.5-flash-image", 32_768),
        ("gemini-2.5-flash-image-preview", 32_768),
        ("gemini-2.5-flash", 1_048_576),
        ("gemini-3-pro-preview", 1_048_576),
    ],
)
def test_input_limits(model: str, limit: int) -> None:
    assert input_limit(model) == limit


def test_policy_from_settings_and_request() -> None:
    assert history_policy({}, "off", 3, 0) is None
    assert history_policy({}, "trim", 3, 0) == HistoryPolicy(True, False, 3, 0)
    asked = {"history_budget": "trim+downsample", "history_keep_turns": 2}
    assert history_policy(asked, "off", 5, 100) == HistoryPolicy(True, True, 2, 100)
    assert history_policy({"history_budget": "off"}, "trim", 0, 0) is None
    limited = history_policy({"history_max_tokens": 50}, "downsample", 0, 0)
    assert limited == HistoryPolicy(False, True, 0, 50)


@pytest.mark.parametrize(
    ("google", "param"),
    [
        ({"history_budget": "shrink"}, "google.history_budget"),
        ({"history_budget": True}, "google.history_budget"),
        ({"history_budget": ["trim"]}, "google.history_budget"),
        ({"history_keep_turns": -1}, "google.history_keep_turns"),
        ({"history_keep_turns": "4"}, "google.history_keep_turns"),
        ({"history_max_tokens": 1.5}, "google.history_max_tokens"),
    ],
)
def test_bad_request_options_name_the_field(google: dict, param: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        history_policy(google, "off", 0, 0)
    assert caught.value.param == param


def test_settings_from_the_environment() -> None:
    env = {
        "GATEWAY_HISTORY_BUDGET": "trim+downsample",
        "GATEWAY_HISTORY_KEEP_TURNS": "6",
        "GATEWAY_HISTORY_MAX_TOKENS": "40000",
    }
    settings = load_settings(environ=env)
    assert (settings.history_budget, settings.history_keep_turns) == ("trim+downsample", 6)
    assert settings.history_max_tokens == 40_000
    assert load_settings(environ={}).history_max_tokens == 0
    with pytest.raises(ValueError, match="history_max_tokens"):
        load_settings(environ={"GATEWAY_HISTORY_MAX_TOKENS": "-1"})
    with pytest.raises(ValueError, match="history_budget"):
        load_settings(environ={"GATEWAY_HISTORY_BUDGET": "squeeze"})


def test_the_example_config_documents_the_history_options() -> None:
    text = (Path(__file__).resolve().parents[2] / "config" / "gateway.toml").read_text()
    for name in ("history_budget", "history_keep_turns", "history_max_tokens"):
        assert f"\n{name} = " in text
        assert f"GATEWAY_{name.upper()}" in text

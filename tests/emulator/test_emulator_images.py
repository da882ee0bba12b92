"""Image models: parts, signatures, modalities, sizes, and PNGs that change across edit turns."""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest
from PIL import Image

from gateway.emulator.png import decode_png_size

pytestmark = pytest.mark.anyio


def user(text: str, *extra: dict[str, Any]) -> dict[str, Any]:
    return {"role": "user", "parts": [{"text": text}, *extra]}


def pil(data_b64: str) -> Image.Image:
    raw = base64.b64decode(data_b64)
    Image.open(io.BytesIO(raw)).verify()
    image = Image.open(io.BytesIO(raw))
    image.load()
    return image


def image_of(data: dict[str, Any]) -> dict[str, Any]:
    parts = data["candidates"][0]["content"]["parts"]
    images: list[dict[str, Any]] = [p for p in parts if "inlineData" in p and not p.get("thought")]
    assert len(images) == 1
    return images[0]


def band_count(image: Image.Image) -> int:
    """Number of stripes down the right-hand column (left side may hold swatches)."""
    column = [image.getpixel((image.width - 1, y)) for y in range(image.height)]
    background = column[0]
    stripes = 0
    for previous, current in zip([background, *column], column, strict=False):
        if current != background and previous == background:
            stripes += 1
    return stripes


async def test_gemini3_image_unary_signs_text_and_image(emu: Any) -> None:
    data = await emu.ok("gemini-3-pro-image-preview", {"contents": [user("a lighthouse")]})
    text, image = data["candidates"][0]["content"]["parts"]
    assert text["text"] == "Here is your image: a lighthouse"
    assert text["thoughtSignature"] and image["thoughtSignature"]
    assert image["inlineData"]["mimeType"] == "image/png"
    assert pil(image["inlineData"]["data"]).size == (64, 64)
    assert data["usageMetadata"]["candidatesTokensDetails"] == [
        {"modality": "IMAGE", "tokenCount": 1120}
    ]


async def test_25_image_is_unsigned_png(emu: Any) -> None:
    data = await emu.ok("gemini-2.5-flash-image", {"contents": [user("a boat")]})
    parts = data["candidates"][0]["content"]["parts"]
    assert all("thoughtSignature" not in p for p in parts)
    assert pil(image_of(data)["inlineData"]["data"]).mode == "RGB"


@pytest.mark.parametrize(
    ("modalities", "kinds"),
    [
        (None, ["text", "inlineData"]),
        (["IMAGE"], ["inlineData"]),
        (["TEXT"], ["text"]),
        (["text", "image"], ["text", "inlineData"]),
    ],
)
async def test_response_modalities(
    emu: Any, modalities: list[str] | None, kinds: list[str]
) -> None:
    body: dict[str, Any] = {"contents": [user("modal")]}
    if modalities is not None:
        body["generationConfig"] = {"responseModalities": modalities}
    parts = (await emu.ok("gemini-3.1-flash-image-preview", body))["candidates"][0]["content"][
        "parts"
    ]
    assert [next(k for k in ("text", "inlineData") if k in p) for p in parts] == kinds
    assert all("thoughtSignature" in p for p in parts)


@pytest.mark.parametrize(
    ("ratio", "size", "expected"),
    [
        ("16:9", "1K", (114, 64)),
        ("9:16", "2K", (96, 171)),
        ("1:1", "4K", (128, 128)),
        ("21:9", "1K", (149, 64)),
    ],
)
async def test_image_dimensions_follow_image_config(
    emu: Any, ratio: str, size: str, expected: tuple[int, int]
) -> None:
    body = {
        "contents": [user("sized")],
        "generationConfig": {"imageConfig": {"aspectRatio": ratio, "imageSize": size}},
    }
    data = await emu.ok("gemini-3-pro-image-preview", body)
    raw = base64.b64decode(image_of(data)["inlineData"]["data"])
    assert decode_png_size(raw) == expected
    assert pil(image_of(data)["inlineData"]["data"]).size == expected


async def test_31_flash_image_extra_ratios_and_512(emu: Any) -> None:
    body = {
        "contents": [user("tall")],
        "generationConfig": {"imageConfig": {"aspectRatio": "1:8", "imageSize": "512"}},
    }
    data = await emu.ok("gemini-3.1-flash-image-preview", body)
    assert pil(image_of(data)["inlineData"]["data"]).size == (48, 384)
    assert data["usageMetadata"]["candidatesTokensDetails"][0]["tokenCount"] == 747


@pytest.mark.parametrize(
    ("model", "config", "needle"),
    [
        ("gemini-3-pro-image-preview", {"imageSize": "1k"}, 'image_size "1k"'),
        ("gemini-3-pro-image-preview", {"imageSize": "512"}, 'image_size "512"'),
        ("gemini-3-pro-image-preview", {"aspectRatio": "1:8"}, 'aspect_ratio "1:8"'),
        ("gemini-3-pro-image-preview", {"aspectRatio": "7:5"}, 'aspect_ratio "7:5"'),
        (
            "gemini-3-pro-image-preview",
            {"personGeneration": "ALLOW_ALL"},
            'Unknown name "personGeneration"',
        ),
    ],
)
async def test_bad_image_config_is_400(
    emu: Any, model: str, config: dict[str, Any], needle: str
) -> None:
    body = {"contents": [user("bad")], "generationConfig": {"imageConfig": config}}
    assert needle in await emu.error(model, body)


async def test_text_model_refuses_image_modality(emu: Any) -> None:
    body = {
        "contents": [user("img")],
        "generationConfig": {"responseModalities": ["TEXT", "IMAGE"]},
    }
    assert "response modalities" in await emu.error("gemini-2.5-flash", body)


async def test_edit_turns_add_one_band_per_earlier_image(emu: Any) -> None:
    model = "gemini-3-pro-image-preview"
    contents: list[dict[str, Any]] = [user("a blue square")]
    images = []
    for turn in range(3):
        data = await emu.ok(model, {"contents": contents})
        images.append(pil(image_of(data)["inlineData"]["data"]))
        contents = [*contents, emu.state.issued[-1], user(f"edit number {turn + 1}")]
    assert [band_count(image) for image in images] == [0, 1, 2]
    assert len({image.tobytes() for image in images}) == 3
    assert emu.state.requests[-1].verdicts == ["ok"] * 4


async def test_reference_images_change_the_output(emu: Any) -> None:
    model = "gemini-2.5-flash-image"
    plain = await emu.ok(model, {"contents": [user("combine")]})
    reference = image_of(plain)["inlineData"]
    with_ref = await emu.ok(model, {"contents": [user("combine", {"inlineData": reference})]})
    assert image_of(plain)["inlineData"]["data"] != image_of(with_ref)["inlineData"]["data"]
    assert with_ref["usageMetadata"]["promptTokensDetails"] == [
        {"modality": "TEXT", "tokenCount": 2},
        {"modality": "IMAGE", "tokenCount": 258},
    ]


async def test_include_thoughts_adds_interim_unsigned_image(emu: Any) -> None:
    body = {
        "contents": [user("think then draw")],
        "generationConfig": {"thinkingConfig": {"includeThoughts": True}},
    }
    data = await emu.ok("gemini-3-pro-image-preview", body)
    parts = data["candidates"][0]["content"]["parts"]
    assert [bool(p.get("thought")) for p in parts] == [True, True, False, False]
    assert "inlineData" in parts[1] and "thoughtSignature" not in parts[1]
    assert pil(parts[1]["inlineData"]["data"]).size == (64, 64)
    assert parts[1]["inlineData"]["data"] != parts[3]["inlineData"]["data"]
    assert data["usageMetadata"]["candidatesTokensDetails"][0]["tokenCount"] == 1120
    assert emu.state.issued[-1]["parts"] == parts


async def test_image_model_rejects_multiple_candidates(emu: Any) -> None:
    body = {"contents": [user("two")], "generationConfig": {"candidateCount": 2}}
    assert "Multiple candidates" in await emu.error("gemini-3-pro-image-preview", body)

"""Small helpers for the Images API tests: in-memory input images, output checks, and the
upstream-body validation every end-to-end test runs."""

from __future__ import annotations

import base64
import io
from typing import Any

from PIL import Image
from validators import validate_gemini_request

IMAGE_MODEL = "gemini-3-pro-image-preview"


def png_bytes(
    colour: tuple[int, int, int] = (200, 30, 30), size: tuple[int, int] = (24, 16)
) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def mask_bytes(size: tuple[int, int] = (24, 16)) -> bytes:
    """An OpenAI-style mask: opaque, with a fully transparent square where the edit goes."""
    image = Image.new("RGBA", size, (0, 0, 0, 255))
    image.paste((0, 0, 0, 0), (4, 4, 12, 12))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def upload(name: str, data: bytes, mime: str = "image/png") -> tuple[str, bytes, str]:
    return (name, data, mime)


def opened(b64: str, expected_format: str) -> Image.Image:
    """Decodes, verifies (Pillow's integrity check) and re-opens a base64 image."""
    raw = base64.b64decode(b64, validate=True)
    probe = Image.open(io.BytesIO(raw))
    assert probe.format == expected_format, probe.format
    probe.verify()
    image = Image.open(io.BytesIO(raw))
    image.load()
    return image


def upstream_bodies(stack: Any) -> list[dict[str, Any]]:
    """Every generateContent body the emulator saw, each validated with google-genai's types."""
    bodies = [
        r.body for r in stack.emulator.requests if (r.path or "").endswith(":generateContent")
    ]
    for body in bodies:
        validate_gemini_request(body)
    return bodies


def inline_parts(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [p["inlineData"] for p in body["contents"][0]["parts"] if "inlineData" in p]

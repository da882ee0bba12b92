"""A Gemini request's input tokens, estimated offline (no tokenizer; simple and on the generous
side), for the history budget (budget.py) and its tests.

The estimate (no tokenizer offline; simple and on the generous side): text and structured parts
ceil(chars / 4), signatures not counted (opaque); an image by Gemini 2.x's tile rule (258 tokens
when both sides are <= 384 px, else 258 per 768x768 tile), on Gemini 3 capped at the
media-resolution budget (1120 high, the image default; 560 medium; 280 low). Sizes come from the
image header; an unreadable size, other media or a fileData part count as 1024x1024.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Mapping
from typing import Any, Final

import orjson

from gateway.translate.families import family_of
from gateway.translate.signatures import SIG

TILE: Final = 768
TILE_TOKENS: Final = 258
SMALL_SIDE: Final = 384
UNKNOWN_SIZE: Final = (1024, 1024)
MEDIA_RESOLUTION_CAPS: Final[dict[str, int]] = {
    "MEDIA_RESOLUTION_LOW": 280,
    "MEDIA_RESOLUTION_MEDIUM": 560,
    "MEDIA_RESOLUTION_HIGH": 1120,
}
DEFAULT_MEDIA_CAP: Final = 1120
_URLSAFE: Final = str.maketrans("-_", "+/")
_JPEG_HEAD: Final = 64 * 1024


def input_limit(model: str) -> int:
    return family_of(model).input_token_limit


def _head(data: str, chars: int) -> bytes:
    piece = data[: chars - chars % 4].translate(_URLSAFE)
    try:
        return base64.b64decode(piece + "=" * (-len(piece) % 4))
    except (binascii.Error, ValueError):
        return b""


def _jpeg_size(raw: bytes) -> tuple[int, int] | None:
    i = 2
    while i + 9 <= len(raw):  # each step moves forward by at least 2
        if raw[i] != 0xFF:
            return None
        marker = raw[i + 1]
        if marker == 0xFF:
            i += 1
            continue
        if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            return int.from_bytes(raw[i + 7 : i + 9]), int.from_bytes(raw[i + 5 : i + 7])
        i += 2 + int.from_bytes(raw[i + 2 : i + 4])
    return None


def _webp_size(raw: bytes) -> tuple[int, int] | None:
    kind = raw[12:16]
    if kind == b"VP8X" and len(raw) >= 30:
        return 1 + int.from_bytes(raw[24:27], "little"), 1 + int.from_bytes(raw[27:30], "little")
    if kind == b"VP8L" and len(raw) >= 25:
        bits = int.from_bytes(raw[21:25], "little")
        return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
    if kind == b"VP8 " and len(raw) >= 30:
        return (
            int.from_bytes(raw[26:28], "little") & 0x3FFF,
            int.from_bytes(raw[28:30], "little") & 0x3FFF,
        )
    return None


def image_size(data: str) -> tuple[int, int] | None:
    """(width, height) from a PNG, JPEG or WebP header in base64; None for anything else."""
    raw = _head(data, 64)
    if raw.startswith(b"\x89PNG\r\n\x1a\n") and raw[12:16] == b"IHDR" and len(raw) >= 24:
        return int.from_bytes(raw[16:20]), int.from_bytes(raw[20:24])
    if raw[:4] == b"RIFF" and raw[8:12] == b"WEBP":
        return _webp_size(raw)
    if raw.startswith(b"\xff\xd8"):
        return _jpeg_size(_head(data, _JPEG_HEAD)) or _jpeg_size(_head(data, len(data)))
    return None


def image_cap(model: str, body: Mapping[str, Any]) -> int | None:
    if not family_of(model).media_resolution_caps:
        return None
    config = body.get("generationConfig") or {}
    level = str(config.get("mediaResolution") or "").upper() if isinstance(config, dict) else ""
    return MEDIA_RESOLUTION_CAPS.get(level, DEFAULT_MEDIA_CAP)


def image_tokens(width: int, height: int, cap: int | None) -> int:
    if width <= SMALL_SIDE and height <= SMALL_SIDE:
        tokens = TILE_TOKENS
    else:
        tokens = math.ceil(width / TILE) * math.ceil(height / TILE) * TILE_TOKENS
    return tokens if cap is None else min(tokens, cap)


def inline_image(part: Mapping[str, Any]) -> Mapping[str, Any] | None:
    inline = part.get("inlineData") or part.get("inline_data")
    if not isinstance(inline, dict):
        return None
    mime = str(inline.get("mimeType") or inline.get("mime_type") or "")
    return inline if mime.startswith("image/") else None


def part_tokens(part: Mapping[str, Any], cap: int | None) -> int:
    text = part.get("text")
    if isinstance(text, str):
        return math.ceil(len(text) / 4)
    inline = inline_image(part)
    if inline is not None:
        size = image_size(str(inline.get("data") or "")) or UNKNOWN_SIZE
        return image_tokens(*size, cap)
    if any(k in part for k in ("inlineData", "inline_data", "fileData", "file_data")):
        return image_tokens(*UNKNOWN_SIZE, cap)
    rest = {k: v for k, v in part.items() if k not in (SIG, "thought_signature")}
    return math.ceil(len(orjson.dumps(rest)) / 4)


def content_tokens(content: Mapping[str, Any], cap: int | None) -> int:
    parts = content.get("parts") or []
    return sum(part_tokens(p, cap) for p in parts if isinstance(p, dict))


def fixed_tokens(body: Mapping[str, Any], cap: int | None) -> int:
    """What trimming cannot touch: the system instruction and the tool declarations."""
    system = body.get("systemInstruction")
    total = content_tokens(system, cap) if isinstance(system, dict) else 0
    extras = [body[name] for name in ("tools", "toolConfig") if body.get(name)]
    return total + sum(math.ceil(len(orjson.dumps(extra)) / 4) for extra in extras)


def estimate_tokens(body: Mapping[str, Any], model: str) -> int:
    cap = image_cap(model, body)
    contents = body.get("contents") or []
    return fixed_tokens(body, cap) + sum(content_tokens(c, cap) for c in contents)

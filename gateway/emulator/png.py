"""Tiny, valid, deterministic PNGs whose look depends on the conversation, so a test can see that
an edit turn really carried the history (one band per earlier model image) without Pillow here."""

from __future__ import annotations

import hashlib
import struct
import zlib
from collections.abc import Sequence
from typing import Final

PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
SHORT_SIDE: Final[dict[str, int]] = {"512": 48, "1K": 64, "2K": 96, "4K": 128}
MAX_BANDS: Final = 16
MAX_SWATCHES: Final = 14

Rgb = tuple[int, int, int]


def _chunk(kind: bytes, payload: bytes) -> bytes:
    body = kind + payload
    return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))


def encode_png(width: int, height: int, rows: Sequence[bytes]) -> bytes:
    """RGB, 8 bits per channel, filter 0 on every row; `rows` are `width * 3` bytes each."""
    if width < 1 or height < 1 or len(rows) != height or any(len(r) != width * 3 for r in rows):
        raise ValueError("rows do not match the image size")
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + row for row in rows), 9)
    return PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", pixels) + _chunk(b"IEND", b"")


def decode_png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from the IHDR chunk; ValueError if `data` is not a PNG."""
    if len(data) < 24 or not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def image_dimensions(aspect_ratio: str, image_size: str) -> tuple[int, int]:
    """Short side from imageSize (1K→64 px …), long side from the aspect ratio."""
    short = SHORT_SIDE.get(image_size, 64)
    w_text, _, h_text = aspect_ratio.partition(":")
    try:
        ratio_w, ratio_h = int(w_text), int(h_text)
    except ValueError:
        ratio_w = ratio_h = 1
    if ratio_w >= ratio_h:
        return round(short * ratio_w / ratio_h), short
    return short, round(short * ratio_h / ratio_w)


def colour_of(seed: bytes) -> Rgb:
    """A mid-range colour (never near black or white) so bands and swatches stay visible."""
    digest = hashlib.sha256(seed).digest()
    return 48 + digest[0] % 160, 48 + digest[1] % 160, 48 + digest[2] % 160


def render_image(
    width: int,
    height: int,
    *,
    texts: Sequence[str],
    bands: int,
    swatches: Sequence[str],
    draft: bool = False,
) -> bytes:
    """Background from the user texts, `bands` stripes, one square per reference image."""
    background = colour_of("\n".join(texts).encode())
    stripe: Rgb = (255 - background[0], 255 - background[1], 255 - background[2])
    bands = max(0, min(bands, MAX_BANDS, height // 2))
    plain = bytes(background) * width
    striped = bytes(stripe) * width
    strips = 2 * bands + 1
    rows = [bytearray(striped if (y * strips // height) % 2 else plain) for y in range(height)]
    side = max(3, min(width, height) // 8)
    for k, data in enumerate(swatches[:MAX_SWATCHES]):
        x0 = 1 + k * (side + 1)
        if x0 + side > width:
            break
        square = bytes(colour_of(data.encode())) * side
        for y in range(1, min(1 + side, height)):
            rows[y][x0 * 3 : (x0 + side) * 3] = square
    if draft:
        rows = [_grey(row) for row in rows]
    return encode_png(width, height, [bytes(row) for row in rows])


def _grey(row: bytearray) -> bytearray:
    out = bytearray(len(row))
    for i in range(0, len(row), 3):
        out[i] = out[i + 1] = out[i + 2] = (row[i] + row[i + 1] + row[i + 2]) // 3
    return out

from __future__ import annotations

import pytest

from gateway.media.sniff import GEMINI_IMAGE_MIME_TYPES, sniff_image_mime


def _ftyp(major: bytes, *compatible: bytes) -> bytes:
    body = major + b"\0\0\0\0" + b"".join(compatible)
    return (8 + len(body)).to_bytes(4, "big") + b"ftyp" + body + b"\0\0\0\x08meta"


def test_real_images(
    png_bytes: bytes, jpeg_bytes: bytes, webp_bytes: bytes, gif_bytes: bytes
) -> None:
    assert sniff_image_mime(png_bytes) == "image/png"
    assert sniff_image_mime(jpeg_bytes) == "image/jpeg"
    assert sniff_image_mime(webp_bytes) == "image/webp"
    assert sniff_image_mime(gif_bytes) == "image/gif"


@pytest.mark.parametrize(
    ("head", "mime"),
    [
        (_ftyp(b"heic", b"mif1", b"heic"), "image/heic"),
        (_ftyp(b"heix", b"mif1"), "image/heic"),
        (_ftyp(b"mif1", b"mif1", b"heic"), "image/heic"),
        (_ftyp(b"mif1", b"mif1"), "image/heif"),
        (_ftyp(b"msf1", b"msf1"), "image/heif"),
        (_ftyp(b"avif", b"mif1", b"miaf"), "image/avif"),
        (_ftyp(b"mif1", b"avif", b"miaf"), "image/avif"),
        (_ftyp(b"isom", b"mp41"), None),  # an MP4 video
        (b"GIF87a\x01\x00", "image/gif"),
        (b"<!DOCTYPE html><html>", None),
        (b'{"error": "not found"}', None),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", None),
        (b"\x89PN", None),
        (b"", None),
    ],
)
def test_signatures(head: bytes, mime: str | None) -> None:
    assert sniff_image_mime(head) == mime


def test_gemini_types() -> None:
    assert {"image/png", "image/jpeg", "image/webp", "image/heic", "image/heif"} == (
        GEMINI_IMAGE_MIME_TYPES
    )
    assert "image/gif" not in GEMINI_IMAGE_MIME_TYPES

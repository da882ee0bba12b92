"""Image type from magic bytes.

Servers mislabel images (and error pages as images), so the gateway decides what a fetched body is
from its first bytes, never from `Content-Type` or the file extension. Pure: no I/O.
"""

from __future__ import annotations

from typing import Final

GEMINI_IMAGE_MIME_TYPES: Final[frozenset[str]] = frozenset(
    {"image/png", "image/jpeg", "image/webp", "image/heic", "image/heif"}
)
"""The image types Gemini accepts as `inlineData`."""

SNIFF_BYTES: Final[int] = 64
"""Enough of the head for every signature below (an ISO-BMFF `ftyp` box lists its brands early)."""

_PNG: Final[bytes] = b"\x89PNG\r\n\x1a\n"
_JPEG: Final[bytes] = b"\xff\xd8\xff"
_GIF: Final[tuple[bytes, ...]] = (b"GIF87a", b"GIF89a")

# ISO-BMFF brands (HEIF family, ISO/IEC 23008-12). HEIC = HEVC-coded HEIF; mif1/msf1 are the
# generic image/sequence brands, which AVIF files also use, so their compatible brands decide.
_HEIC_BRANDS: Final[frozenset[bytes]] = frozenset(
    {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"}
)
_HEIF_BRANDS: Final[frozenset[bytes]] = frozenset({b"mif1", b"msf1", b"mif2", b"heif"})
_AVIF_BRANDS: Final[frozenset[bytes]] = frozenset({b"avif", b"avis"})


def sniff_image_mime(head: bytes) -> str | None:
    """The MIME type the leading bytes prove, or None when they match no known image.

    GIF and AVIF are recognised (though Gemini takes neither) so callers can say "convert it"
    instead of "not an image".
    """
    if head.startswith(_PNG):
        return "image/png"
    if head.startswith(_JPEG):
        return "image/jpeg"
    if head.startswith(_GIF):
        return "image/gif"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return _sniff_iso_bmff(head)


def _sniff_iso_bmff(head: bytes) -> str | None:
    """HEIC/HEIF/AVIF share one container; the `ftyp` box's brands tell them apart."""
    if len(head) < 12 or head[4:8] != b"ftyp":
        return None
    box_size = int.from_bytes(head[:4], "big")
    end = min(box_size, len(head)) if box_size >= 16 else 12
    major = head[8:12]
    compatible = {head[i : i + 4] for i in range(16, end - 3, 4)}
    brands = {major} | compatible
    if major in _HEIC_BRANDS or (major in _HEIF_BRANDS and brands & _HEIC_BRANDS):
        return "image/heic"
    if major in _AVIF_BRANDS or (major in _HEIF_BRANDS and brands & _AVIF_BRANDS):
        return "image/avif"
    if major in _HEIF_BRANDS:
        return "image/heif"
    return None

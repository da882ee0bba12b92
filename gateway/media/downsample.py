"""Shrinking older history images for the history budget (translate/budget.py decides which
and to what size). Pillow is a default dependency; should it be missing (a slimmed image, a
broken wheel) `AVAILABLE` is False and the budget trims instead (serving/budget.py), saying so in
`x-gateway-history` and the log.

CPU-bound: callers run it in a worker thread. An image that cannot be decoded is left alone
(None), never turned into an error: the request goes on with the original. A conversation
sends the same older images on every turn, so results are kept in a small LRU (same bytes in,
same bytes out, which also keeps the shrunk history stable for Gemini's prefix caching).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import importlib.util
import io
import threading
from collections import OrderedDict
from typing import Any, Final

from gateway.translate.budget import ImageRef, Shrunk

# Imported on first use: Pillow costs ~2 MB of resident memory in every idle gateway.
AVAILABLE: bool = importlib.util.find_spec("PIL") is not None


def _pillow() -> Any:
    from PIL import Image

    return Image


# Pillow format name and encoder options per mime type; other types are never shrunk.
FORMATS: Final[dict[str, tuple[str, dict[str, Any]]]] = {
    "image/png": ("PNG", {}),
    "image/jpeg": ("JPEG", {"quality": 85}),
    "image/webp": ("WEBP", {"quality": 85}),
}
MAX_PIXELS: Final = 64 * 1024 * 1024  # refuse to decode anything bigger (decompression bombs)
CACHE_BYTES: Final = 64 * 1024 * 1024  # base64 characters of shrunk images kept


class ShrunkCache:
    """Bounded by the size of what it holds; shared by worker threads, hence the lock."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self.items: OrderedDict[bytes, Shrunk] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: bytes) -> Shrunk | None:
        with self.lock:
            found = self.items.get(key)
            if found is not None:
                self.items.move_to_end(key)
            return found

    def put(self, key: bytes, value: Shrunk) -> None:
        with self.lock:
            if key in self.items or len(value.data) > self.max_bytes:
                return
            self.items[key] = value
            self.size += len(value.data)
            while self.size > self.max_bytes:
                _, dropped = self.items.popitem(last=False)
                self.size -= len(dropped.data)


CACHE: Final = ShrunkCache(CACHE_BYTES)


def available() -> bool:
    return AVAILABLE


def shrink(ref: ImageRef) -> Shrunk | None:
    """`ref.data` resized to `ref.target`, in its own format; None if it cannot be done."""
    if not AVAILABLE or ref.mime_type not in FORMATS:
        return None
    if ref.size[0] * ref.size[1] > MAX_PIXELS:
        return None
    key = hashlib.sha256(f"{ref.mime_type} {ref.target}\n{ref.data}".encode()).digest()
    found = CACHE.get(key)
    if found is None:
        found = _resize(ref)
        if found is not None:
            CACHE.put(key, found)
    return found


def _resize(ref: ImageRef) -> Shrunk | None:
    fmt, options = FORMATS[ref.mime_type]
    try:
        pil = _pillow()
    except ImportError:  # present but broken (a missing shared library): leave images as sent
        return None
    try:
        raw = base64.b64decode(ref.data.translate(str.maketrans("-_", "+/")), validate=False)
        with pil.open(io.BytesIO(raw), formats=[fmt]) as image:
            if image.width * image.height > MAX_PIXELS:
                return None
            if fmt == "JPEG" and image.mode not in ("RGB", "L", "CMYK"):
                image = image.convert("RGB")
            small = image.resize(ref.target, pil.Resampling.LANCZOS, reducing_gap=3.0)
            out = io.BytesIO()
            small.save(out, format=fmt, **options)
    except (OSError, ValueError, binascii.Error, pil.DecompressionBombError):
        return None
    data = base64.b64encode(out.getvalue()).decode("ascii")
    return Shrunk(ref.mime_type, data, (small.width, small.height))


def shrink_all(refs: tuple[ImageRef, ...]) -> dict[tuple[int, int], Shrunk]:
    """Every image that could be shrunk, keyed by (content, part) as second_pass expects."""
    done: dict[tuple[int, int], Shrunk] = {}
    for ref in refs:
        result = shrink(ref)
        if result is not None:
            done[(ref.content, ref.part)] = result
    return done

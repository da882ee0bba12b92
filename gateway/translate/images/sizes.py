"""OpenAI's `size` / `quality` → Gemini's `imageConfig` (the table is in README "Images API").

The aspect ratio is the one the model supports nearest to W/H on a log scale (OpenAI's named
sizes: SIZE_TO_IMAGE_CONFIG); imageSize is the smallest tier whose longer side reaches the
requested one (≤1024 → 1K, ≤2048 → 2K, else 4K; 3.1 Flash Image: ≤512 → "512"). 2.x image
models render at ~1024 px and take no imageSize. `auto` or no size leaves both to Gemini (1:1,
or the input's ratio on edits). `quality` picks imageSize only when `size` did not: low/standard
→ 1K, medium/high/hd → 2K, xhigh/max → 4K.
"""

from __future__ import annotations

import math
import re
from typing import Any, Final

from gateway.errors import InvalidRequestError
from gateway.translate.families import family_of

Json = dict[str, Any]

SIZE_TO_IMAGE_CONFIG: Final[dict[str, tuple[str, int]]] = {
    "256x256": ("1:1", 256),
    "512x512": ("1:1", 512),
    "1024x1024": ("1:1", 1024),
    "1536x1024": ("3:2", 1536),
    "1024x1536": ("2:3", 1536),
    "1792x1024": ("16:9", 1792),
    "1024x1792": ("9:16", 1792),
}  # OpenAI's named sizes → (aspectRatio, longer side); `image_size_for` gives the tier

QUALITY_TO_IMAGE_SIZE: Final[dict[str, str | None]] = {
    "auto": None,
    "low": "1K",
    "standard": "1K",
    "medium": "2K",
    "high": "2K",
    "hd": "2K",
    "xhigh": "4K",
    "max": "4K",
}
MAX_SIDE: Final = 16384
_WXH: Final = re.compile(r"^(\d{1,6})x(\d{1,6})$")


def aspect_ratios_for(model: str) -> frozenset[str]:
    return family_of(model).aspect_ratios


def takes_image_size(model: str) -> bool:
    return bool(family_of(model).image_sizes)


def _ratio_log(ratio: str) -> float:
    width, _, height = ratio.partition(":")
    return math.log(int(width) / int(height))


def nearest_aspect_ratio(width: int, height: int, model: str) -> str:
    target = math.log(width / height)
    return min(sorted(aspect_ratios_for(model)), key=lambda r: abs(_ratio_log(r) - target))


def image_size_for(longer_side: int, model: str) -> str | None:
    if not takes_image_size(model):
        return None
    if longer_side <= 512 and "512" in family_of(model).image_sizes:
        return "512"
    return "1K" if longer_side <= 1024 else "2K" if longer_side <= 2048 else "4K"


def _sides(text: str) -> tuple[int, int] | None:
    match = _WXH.match(text)
    if match is None:
        return None
    width, height = int(match[1]), int(match[2])
    return (width, height) if 0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE else None


def size_to_image_config(size: str | None, model: str) -> Json:
    """OpenAI `size` → imageConfig (module docstring table); {} for auto or absent."""
    if size is None or size.lower() == "auto":
        return {}
    text = size.lower().replace(" ", "")
    if text in SIZE_TO_IMAGE_CONFIG:
        ratio, longer = SIZE_TO_IMAGE_CONFIG[text]
    elif (sides := _sides(text)) is not None:
        ratio, longer = nearest_aspect_ratio(*sides, model), max(sides)
    elif text in aspect_ratios_for(model):
        return {"aspectRatio": text}
    else:
        raise InvalidRequestError(
            f"'size' must be 'auto', WIDTHxHEIGHT (e.g. 1024x1024, sides up to {MAX_SIDE}) or "
            f"an aspect ratio {model} supports (e.g. 16:9); got {size!r}",
            param="size",
        )
    config: Json = {"aspectRatio": ratio}
    tier = image_size_for(longer, model)
    if tier is not None:
        config["imageSize"] = tier
    return config

"""What the gateway knows about each Gemini model family, in one table (gemini-api.md §2-§5).

Every rule that depends on the model name asks `family_of(model)`: signatures (where Gemini
needs one back, so where the documented dummy goes when none is known), the thinking knob, the
image options, the reference-image limit and the input token limit. Adding a model is one row.

A row applies to the names that start with its prefix and agree on `image` (an image model
is one whose name says "image"); the first such row wins, so specific rows come first and
each generation ends with a row for its other models.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

DEFAULT_IMAGE_MODEL: Final = "gemini-3-pro-image-preview"
# The image models /v1/images names when it refuses another model.
IMAGE_MODELS: Final = (
    "gemini-3-pro-image-preview",
    "gemini-3.1-flash-image-preview",
    "gemini-2.5-flash-image",
)

ASPECT_RATIOS: Final = frozenset(
    {"1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9"}
)
ASPECT_RATIOS_WIDE: Final = ASPECT_RATIOS | {"1:4", "4:1", "1:8", "8:1"}  # 3.1 Flash Image
IMAGE_SIZES: Final = frozenset({"1K", "2K", "4K"})
NO_IMAGE_SIZES: Final = frozenset[str]()  # renders at ~1024 px only

# reasoning_effort → thinkingLevel (Gemini 3): Pro takes LOW/HIGH, Flash also MINIMAL/MEDIUM.
LEVELS_PRO: Final[Mapping[str, str]] = {
    "none": "LOW",
    "minimal": "LOW",
    "low": "LOW",
    "medium": "HIGH",
    "high": "HIGH",
    "xhigh": "HIGH",
}
LEVELS_FLASH: Final[Mapping[str, str]] = {
    "none": "MINIMAL",
    "minimal": "MINIMAL",
    "low": "LOW",
    "medium": "MEDIUM",
    "high": "HIGH",
    "xhigh": "HIGH",
}

ONE_MILLION: Final = 1_048_576


@dataclass(frozen=True, slots=True)
class Family:
    prefix: str
    image: bool  # answers with images unasked; takes no reasoning_effort
    # reasoning_effort becomes thinkingBudget ("budget", within `budget_range`), thinkingLevel
    # ("level", by `levels`), or nothing (families that would answer either with a 400).
    thinking: Literal["budget", "level"] | None = None
    budget_range: tuple[int, int] = (0, 24_576)
    levels: Mapping[str, str] = field(default_factory=dict)
    # Gemini 3 validates signatures: the current turn's first function call must carry one, and
    # a re-encoded (shrunk) image may not keep its own; where none is known, the dummy goes in.
    strict_signatures: bool = False
    # Gemini 3 image models also want one on every image part and the first text of a turn.
    signed_image_turns: bool = False
    image_limit: int = 14  # reference images in one user turn
    input_token_limit: int = ONE_MILLION
    media_resolution_caps: bool = False  # image tokens capped by mediaResolution (Gemini 3)
    # Vertex AI serves these (Gemini 3 previews) on the global location only, not regional ones.
    vertex_global_only: bool = False
    aspect_ratios: frozenset[str] = ASPECT_RATIOS
    image_sizes: frozenset[str] = IMAGE_SIZES  # imageSize values; "512" also maps small sizes

    def matches(self, model: str) -> bool:
        return model.startswith(self.prefix) and ("image" in model) == self.image


def _gemini3(prefix: str, image: bool, **rest: Any) -> Family:
    """Gemini 3: strict signatures (image models: on every image turn), capped image tokens,
    on Vertex only at the global location."""
    return Family(
        prefix,
        image,
        strict_signatures=True,
        signed_image_turns=image,
        media_resolution_caps=True,
        vertex_global_only=True,
        **rest,
    )


FAMILIES: Final[tuple[Family, ...]] = (
    _gemini3(
        "gemini-3.1-flash-image",
        image=True,
        input_token_limit=65_536,  # not in the reference; assumed equal to 3 Pro Image
        aspect_ratios=ASPECT_RATIOS_WIDE,
        image_sizes=IMAGE_SIZES | {"512"},
    ),
    _gemini3("gemini-3-pro-image", image=True, input_token_limit=65_536),
    _gemini3("gemini-3", image=True),
    _gemini3("gemini-3-pro", image=False, thinking="level", levels=LEVELS_PRO),
    _gemini3("gemini-3.1-pro", image=False, thinking="level", levels=LEVELS_PRO),
    _gemini3("gemini-3", image=False, thinking="level", levels=LEVELS_FLASH),
    Family(
        "gemini-2.5-flash-image",
        image=True,
        image_limit=3,
        input_token_limit=32_768,
        image_sizes=NO_IMAGE_SIZES,
    ),
    Family("gemini-2", image=True, image_sizes=NO_IMAGE_SIZES),
    # Pro cannot switch thinking off (128 minimum); Flash and Flash-Lite stop at 24576.
    Family("gemini-2.5-pro", image=False, thinking="budget", budget_range=(128, 32_768)),
    Family("gemini-2.5", image=False, thinking="budget", budget_range=(0, 24_576)),
    Family("", image=True),
    Family("", image=False),
)


def family_of(model: str) -> Family:
    return next(family for family in FAMILIES if family.matches(model))


def is_image_model(model: str) -> bool:
    return family_of(model).image

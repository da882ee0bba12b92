"""The model catalogue: which ids exist and the traits that change how the emulator answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from gateway.emulator.errors import invalid_argument

GENERATION_METHODS: Final = (
    "generateContent",
    "countTokens",
    "createCachedContent",
    "batchGenerateContent",
)
EMBEDDING_METHODS: Final = (
    "embedContent",
    "countTextTokens",
    "countTokens",
    "asyncBatchEmbedContent",
)
ASPECT_RATIOS: Final = frozenset(
    {"1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9"}
)
EXTRA_ASPECT_RATIOS_31_FLASH_IMAGE: Final = frozenset({"1:4", "4:1", "1:8", "8:1"})
IMAGE_SIZES: Final = frozenset({"1K", "2K", "4K"})


@dataclass(frozen=True)
class ModelInfo:
    """One catalogue entry; traits are derived from the id the way Google names its models."""

    id: str
    version: str
    display_name: str
    input_token_limit: int
    output_token_limit: int
    thinking: bool = True
    methods: tuple[str, ...] = GENERATION_METHODS
    embedding_width: int = 0  # an embedding model's default outputDimensionality (else 0)

    @property
    def is_gemini3(self) -> bool:
        return self.id.startswith("gemini-3")

    @property
    def is_image(self) -> bool:
        return "image" in self.id

    @property
    def is_pro(self) -> bool:
        return "-pro" in self.id

    @property
    def is_31_flash_image(self) -> bool:
        return self.id.startswith("gemini-3.1-flash-image")

    @property
    def aspect_ratios(self) -> frozenset[str]:
        if self.is_31_flash_image:
            return ASPECT_RATIOS | EXTRA_ASPECT_RATIOS_31_FLASH_IMAGE
        return ASPECT_RATIOS

    @property
    def image_sizes(self) -> frozenset[str]:
        return IMAGE_SIZES | {"512"} if self.is_31_flash_image else IMAGE_SIZES

    def image_tokens(self, image_size: str) -> int:
        """Output tokens billed per image (gemini-api.md §1 size table)."""
        if not self.is_gemini3:
            return 1290
        return {"512": 747, "4K": 2000}.get(image_size, 1120)

    def resource(self) -> dict[str, Any]:
        """The `Model` resource as `models.get` returns it (sample 16)."""
        resource: dict[str, Any] = {
            "name": f"models/{self.id}",
            "version": self.version,
            "displayName": self.display_name,
            "description": self.display_name,
            "inputTokenLimit": self.input_token_limit,
            "outputTokenLimit": self.output_token_limit,
            "supportedGenerationMethods": list(self.methods),
        }
        if self.embedding_width:
            return resource  # Google lists no sampling fields for embedding models
        return resource | {
            "temperature": 1,
            "topP": 0.95,
            "topK": 64,
            "maxTemperature": 2,
            "thinking": self.thinking,
        }


_LONG: Final = (1_048_576, 65_536)

CATALOGUE: Final[dict[str, ModelInfo]] = {
    m.id: m
    for m in (
        ModelInfo("gemini-2.5-flash", "001", "Gemini 2.5 Flash", *_LONG),
        ModelInfo("gemini-2.5-flash-lite", "001", "Gemini 2.5 Flash-Lite", *_LONG),
        ModelInfo("gemini-2.5-pro", "2.5", "Gemini 2.5 Pro", *_LONG),
        ModelInfo("gemini-2.5-flash-image", "2.0", "Nano Banana", 32_768, 32_768, thinking=False),
        ModelInfo(
            "gemini-2.5-flash-image-preview",
            "2.0",
            "Nano Banana (preview)",
            32_768,
            32_768,
            thinking=False,
        ),
        ModelInfo("gemini-3-pro-preview", "3-pro-preview-11-2025", "Gemini 3 Pro Preview", *_LONG),
        ModelInfo(
            "gemini-3-flash-preview", "3-flash-preview-12-2025", "Gemini 3 Flash Preview", *_LONG
        ),
        ModelInfo(
            "gemini-3.1-pro-preview", "3.1-pro-preview-01-2026", "Gemini 3.1 Pro Preview", *_LONG
        ),
        ModelInfo("gemini-3-pro-image-preview", "3.0", "Nano Banana Pro", 65_536, 32_768),
        ModelInfo("gemini-3.1-flash-image-preview", "3.1", "Nano Banana 2", 65_536, 32_768),
        ModelInfo(
            "gemini-embedding-001",
            "001",
            "Gemini Embedding 001",
            2048,
            1,
            thinking=False,
            methods=EMBEDDING_METHODS,
            embedding_width=3072,
        ),
        ModelInfo(
            "text-embedding-004",
            "004",
            "Text Embedding 004",
            2048,
            1,
            thinking=False,
            methods=("embedContent",),
            embedding_width=768,
        ),
    )
}


def find_model(model_id: str) -> ModelInfo | None:
    return CATALOGUE.get(model_id.removeprefix("models/"))


DEFAULT_PAGE_SIZE: Final = 50
MAX_PAGE_SIZE: Final = 1000


def models_page(page_size: str | None, page_token: str | None) -> dict[str, Any]:
    """`models.list`: `pageSize` models (Google's default 50, at most 1000) from `pageToken` (an
    offset here; opaque to clients), with `nextPageToken` while more remain."""
    models = list(CATALOGUE.values())
    try:
        size = int(page_size) if page_size else DEFAULT_PAGE_SIZE
        start = int(page_token) if page_token else 0
    except ValueError:
        start = -1
    if start < 0 or start > len(models):
        raise invalid_argument("Invalid pageSize or pageToken.")
    size = max(1, min(size, MAX_PAGE_SIZE))
    page: dict[str, Any] = {"models": [m.resource() for m in models[start : start + size]]}
    if start + size < len(models):
        page["nextPageToken"] = str(start + size)
    return page

"""OpenAI Images API request (`/v1/images/generations`, `/v1/images/edits`) → one Gemini body.

Gemini has no images endpoint: an image model answers `generateContent` with one image per call,
so `n` images are `n` calls (serving/images.py fans them out). `size` and `quality` map to
`imageConfig` in sizes.py; explicit `aspect_ratio` / `image_size` (top level, `image_config`,
or `google.image_config`) win over both.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from gateway.errors import InvalidRequestError
from gateway.translate.families import DEFAULT_IMAGE_MODEL, IMAGE_MODELS, is_image_model
from gateway.translate.images.sizes import (
    QUALITY_TO_IMAGE_SIZE,
    size_to_image_config,
    takes_image_size,
)
from gateway.translate.request.generation_config import camelize, check_image_config

Json = dict[str, Any]

# OpenAI's own image model ids: existing code passes them, and a base_url swap is all it should
# need, so they mean the default Gemini image model (logged as a note).
OPENAI_IMAGE_MODEL_PREFIXES: Final = ("dall-e-", "gpt-image-", "chatgpt-image")

OUTPUT_FORMATS: Final[dict[str, str]] = {
    "png": "image/png",
    "jpeg": "image/jpeg",
    "jpg": "image/jpeg",
    "webp": "image/webp",
}
RESPONSE_FORMATS: Final = ("b64_json", "url")
MAX_N: Final = 10
MASK_INSTRUCTION: Final = (
    "The next image is a mask for the first image. Edit only the region where the mask is "
    "transparent (if it has no transparency: where it is white) and keep everything else "
    "exactly as it is. Do not draw the mask itself."
)
_MODEL_ID: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


@dataclass(frozen=True, slots=True)
class ImagesRequest:
    model: str
    prompt: str
    n: int
    image_config: Json  # camelCase, checked against the model
    response_format: str  # "b64_json" | "url"
    output_format: str | None  # "png" | "jpeg" | "webp"; None: keep what Gemini returned
    output_compression: int | None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class InlineImage:
    mime_type: str
    data: str  # base64


def _string(raw: Mapping[str, Any], name: str) -> str | None:
    value = raw.get(name)
    if value is not None and not isinstance(value, str):
        raise InvalidRequestError(f"'{name}' must be a string", param=name)
    return (value or "").strip() or None


def _integer(raw: Mapping[str, Any], name: str, low: int, high: int) -> int | None:
    value = raw.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidRequestError(
            f"'{name}' must be an integer from {low} to {high}, got {value!r}", param=name
        )
    return value


def _choice(raw: Mapping[str, Any], name: str, allowed: Sequence[str]) -> str | None:
    value = _string(raw, name)
    if value is not None and value.lower() not in allowed:
        raise InvalidRequestError(
            f"'{name}' must be one of {', '.join(allowed)}; got {value!r}", param=name
        )
    return value.lower() if value is not None else None


def resolve_image_model(value: Any) -> tuple[str, str | None]:
    """(Gemini image model, note); OpenAI ids → the default; anything else that is not a Gemini
    image model is a 400 naming the ones that are."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return DEFAULT_IMAGE_MODEL, None
    if not isinstance(value, str):
        raise InvalidRequestError("'model' must be a string", param="model")
    model = value.strip().removeprefix("models/")
    if model.lower().startswith(OPENAI_IMAGE_MODEL_PREFIXES):
        return DEFAULT_IMAGE_MODEL, f"images_model_alias:{model}"
    if _MODEL_ID.match(model) and model.startswith("gemini") and is_image_model(model):
        return model, None
    raise InvalidRequestError(
        f"model {model!r} cannot make images here: /v1/images takes a Gemini image model ("
        + ", ".join(IMAGE_MODELS)
        + f"); leave 'model' out for {DEFAULT_IMAGE_MODEL}",
        param="model",
        code="model_not_supported",
    )


def _explicit_image_config(raw: Mapping[str, Any]) -> Json:
    google = raw.get("google")
    merged: Json = {}
    for source in (
        raw.get("image_config"),
        raw.get("imageConfig"),
        google.get("image_config") if isinstance(google, dict) else None,
    ):
        if source is None:
            continue
        if not isinstance(source, dict):
            raise InvalidRequestError("'image_config' must be an object", param="image_config")
        merged.update(camelize(source))
    for name, key in (("aspect_ratio", "aspectRatio"), ("image_size", "imageSize")):
        value = _string(raw, name)
        if value is not None:
            merged[key] = value
    return merged


def image_config_for(raw: Mapping[str, Any], model: str) -> Json:
    config = size_to_image_config(_string(raw, "size"), model)
    quality = _choice(raw, "quality", tuple(QUALITY_TO_IMAGE_SIZE))
    tier = QUALITY_TO_IMAGE_SIZE.get(quality or "auto")
    if "imageSize" not in config and tier is not None and takes_image_size(model):
        config["imageSize"] = tier
    config.update(_explicit_image_config(raw))
    check_image_config(model, config)
    return config


def parse_images_request(raw: Any) -> ImagesRequest:
    """JSON body (generations) or the text fields of a multipart form (edits: all strings)."""
    if not isinstance(raw, dict):
        raise InvalidRequestError("the request body must be a JSON object", param="body")
    prompt = raw.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise InvalidRequestError(
            "'prompt' is required and must be a non-empty string", param="prompt"
        )
    if raw.get("stream") in (True, "true", "True"):
        raise InvalidRequestError(
            "streamed image generation is not supported; leave 'stream' out", param="stream"
        )
    model, note = resolve_image_model(raw.get("model"))
    fmt = _choice(raw, "output_format", tuple(OUTPUT_FORMATS))
    return ImagesRequest(
        model=model,
        prompt=prompt,
        n=_integer(raw, "n", 1, MAX_N) or 1,
        image_config=image_config_for(raw, model),
        response_format=_choice(raw, "response_format", RESPONSE_FORMATS) or "b64_json",
        output_format="jpeg" if fmt == "jpg" else fmt,
        output_compression=_integer(raw, "output_compression", 0, 100),
        notes=(note,) if note else (),
    )


def to_gemini_images_body(
    request: ImagesRequest, images: Sequence[InlineImage] = (), mask: InlineImage | None = None
) -> Json:
    """The prompt, then the input images in upload order, then the mask behind its instruction."""
    parts: list[Json] = [{"text": request.prompt}]
    parts.extend(_inline(image) for image in images)
    if mask is not None:
        parts.append({"text": MASK_INSTRUCTION})
        parts.append(_inline(mask))
    config: Json = {"responseModalities": ["TEXT", "IMAGE"]}
    if request.image_config:
        config["imageConfig"] = dict(request.image_config)
    return {"contents": [{"role": "user", "parts": parts}], "generationConfig": config}


def _inline(image: InlineImage) -> Json:
    return {"inlineData": {"mimeType": image.mime_type, "data": image.data}}

"""OpenAI Images API (`/v1/images/generations`, `/v1/images/edits`) ↔ Gemini image models.

Gemini has no images endpoint: an image model answers `generateContent` with one image per call,
so `n` images are `n` calls (serving/images.py fans them out). The pure part is here: parameters
→ one Gemini body; a reply → images or a refusal; the replies → the OpenAI `ImagesResponse`.

`size` → `imageConfig` (the table is in README "Images API"): the aspect ratio is the one the
model supports nearest to W/H on a log scale (OpenAI's named sizes: SIZE_TO_IMAGE_CONFIG);
imageSize is the smallest tier whose longer side reaches the requested one (≤1024 → 1K,
≤2048 → 2K, else 4K; 3.1 Flash Image: ≤512 → "512"). 2.x image models render at ~1024 px and
take no imageSize. `auto` or no size leaves both to Gemini (1:1, or the input's ratio on edits).
`quality` picks imageSize only when `size` did not: low/standard → 1K, medium/high/hd → 2K,
xhigh/max → 4K. Explicit `aspect_ratio` / `image_size` (top level, `image_config`, or
`google.image_config`) win over both.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from gateway.errors import GatewayError, InvalidRequestError
from gateway.translate.request.generation_config import (
    ASPECT_RATIOS,
    ASPECT_RATIOS_31_FLASH,
    camelize,
    check_image_config,
    is_image_model,
)
from gateway.translate.response.checked import candidates_of, checked_parts
from gateway.translate.response.finish import (
    GEMINI_FINISH_TO_OPENAI,
    explain_block,
    explain_finish,
)

Json = dict[str, Any]

DEFAULT_IMAGE_MODEL: Final = "gemini-3-pro-image-preview"
GEMINI_IMAGE_MODELS: Final = (
    "gemini-3-pro-image-preview",
    "gemini-3.1-flash-image-preview",
    "gemini-2.5-flash-image",
)
# OpenAI's own image model ids: existing code passes them, and a base_url swap is all it should
# need, so they mean the default Gemini image model (logged as a note).
OPENAI_IMAGE_MODEL_PREFIXES: Final = ("dall-e-", "gpt-image-", "chatgpt-image")

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
OUTPUT_FORMATS: Final[dict[str, str]] = {
    "png": "image/png",
    "jpeg": "image/jpeg",
    "jpg": "image/jpeg",
    "webp": "image/webp",
}
RESPONSE_FORMATS: Final = ("b64_json", "url")
MAX_N: Final = 10
MAX_SIDE: Final = 16384
MASK_INSTRUCTION: Final = (
    "The next image is a mask for the first image. Edit only the region where the mask is "
    "transparent (if it has no transparency: where it is white) and keep everything else "
    "exactly as it is. Do not draw the mask itself."
)
CONTENT_POLICY: Final = "content_policy_violation"
NO_IMAGE: Final = "no_image"
MAX_QUOTED_TEXT: Final = 500

_MODEL_ID: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_WXH: Final = re.compile(r"^(\d{1,6})x(\d{1,6})$")


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


@dataclass(frozen=True, slots=True)
class ImageReply:
    """One Gemini call that produced at least one image."""

    images: tuple[InlineImage, ...]
    text: str | None
    usage: Json  # Gemini usageMetadata


@dataclass(frozen=True, slots=True)
class OutputImage:
    b64_json: str | None
    url: str | None
    revised_prompt: str | None
    format: str | None


# -- request ------------------------------------------------------------------------------------
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
        + ", ".join(GEMINI_IMAGE_MODELS)
        + f"); leave 'model' out for {DEFAULT_IMAGE_MODEL}",
        param="model",
        code="model_not_supported",
    )


def aspect_ratios_for(model: str) -> frozenset[str]:
    return ASPECT_RATIOS_31_FLASH if "3.1-flash-image" in model else ASPECT_RATIOS


def takes_image_size(model: str) -> bool:
    return not model.startswith("gemini-2")


def _ratio_log(ratio: str) -> float:
    width, _, height = ratio.partition(":")
    return math.log(int(width) / int(height))


def nearest_aspect_ratio(width: int, height: int, model: str) -> str:
    target = math.log(width / height)
    return min(sorted(aspect_ratios_for(model)), key=lambda r: abs(_ratio_log(r) - target))


def image_size_for(longer_side: int, model: str) -> str | None:
    if not takes_image_size(model):
        return None
    if longer_side <= 512 and "3.1-flash-image" in model:
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


# -- response -----------------------------------------------------------------------------------
def read_image_reply(reply: Json) -> ImageReply:
    """The final (non-thought) images of the first candidate, or the refusal as a 400."""
    feedback = reply.get("promptFeedback") or {}
    if feedback.get("blockReason"):
        message = explain_block(str(feedback["blockReason"]), feedback.get("blockReasonMessage"))
        raise InvalidRequestError(message, code=CONTENT_POLICY)
    candidates = candidates_of(reply)
    if not candidates:
        raise InvalidRequestError("Gemini returned no candidates and no image", code=NO_IMAGE)
    candidate = candidates[0]
    images: list[InlineImage] = []
    texts: list[str] = []
    for part in checked_parts(candidate):
        if part.get("thought"):
            continue
        blob = part.get("inlineData") or part.get("inline_data")
        if isinstance(blob, dict):
            mime = str(blob.get("mimeType") or blob.get("mime_type") or "")
            if mime.startswith("image/") and blob.get("data"):
                images.append(InlineImage(mime, str(blob["data"])))
        elif isinstance(part.get("text"), str):
            texts.append(part["text"])
    text = "".join(texts).strip() or None
    if not images:
        raise _refusal(candidate.get("finishReason"), candidate.get("finishMessage"), text)
    return ImageReply(tuple(images), text, reply.get("usageMetadata") or {})


def _refusal(reason: str | None, finish_message: str | None, text: str | None) -> GatewayError:
    safety = GEMINI_FINISH_TO_OPENAI.get(reason or "") == "content_filter"
    message = explain_finish(reason, finish_message) or (
        f"Gemini returned no image (finishReason {reason or 'missing'})."
    )
    if text:
        quoted = text if len(text) <= MAX_QUOTED_TEXT else text[:MAX_QUOTED_TEXT] + "…"
        message += f" The model said: {quoted}"
    return InvalidRequestError(message, code=CONTENT_POLICY if safety else NO_IMAGE)


def _modality_tokens(details: Any, modality: str) -> int:
    rows = details if isinstance(details, list) else []
    return sum(int(d.get("tokenCount") or 0) for d in rows if d.get("modality") == modality)


def to_images_usage(metas: Sequence[Json]) -> Json:
    """Summed over the calls; output includes thinking tokens (as chat's completion_tokens)."""
    text_in = image_in = output = image_out = 0
    for meta in metas:
        prompt = int(meta.get("promptTokenCount") or 0)
        images = min(prompt, _modality_tokens(meta.get("promptTokensDetails"), "IMAGE"))
        image_in += images
        text_in += prompt - images
        out = int(meta.get("candidatesTokenCount") or 0) + int(meta.get("thoughtsTokenCount") or 0)
        output += out
        image_out += min(out, _modality_tokens(meta.get("candidatesTokensDetails"), "IMAGE"))
    return {
        "input_tokens": text_in + image_in,
        "input_tokens_details": {"text_tokens": text_in, "image_tokens": image_in},
        "output_tokens": output,
        "output_tokens_details": {"text_tokens": output - image_out, "image_tokens": image_out},
        "total_tokens": text_in + image_in + output,
    }


def format_of(mime_type: str) -> str | None:
    """OpenAI's `output_format` name for a MIME type, None for types it has no name for."""
    return {"image/png": "png", "image/jpeg": "jpeg", "image/webp": "webp"}.get(mime_type)


def to_openai_images_response(
    created: int, items: Sequence[OutputImage], usage: Json, size: str | None
) -> Json:
    data: list[Json] = []
    for item in items:
        entry: Json = {"url": item.url} if item.url is not None else {"b64_json": item.b64_json}
        if item.revised_prompt:
            entry["revised_prompt"] = item.revised_prompt
        data.append(entry)
    out: Json = {"created": created, "data": data, "usage": usage}
    formats = {item.format for item in items}
    if len(formats) == 1 and None not in formats:
        out["output_format"] = formats.pop()
    if size is not None:
        out["size"] = size
    return out

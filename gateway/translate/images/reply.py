"""Gemini image replies → OpenAI's `ImagesResponse`: the images of each call or the refusal
as a 400, the usage summed over the calls."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from gateway.errors import GatewayError, InvalidRequestError
from gateway.translate.images.request import InlineImage
from gateway.translate.response.checked import candidates_of, checked_parts
from gateway.translate.response.finish import (
    GEMINI_FINISH_TO_OPENAI,
    explain_block,
    explain_finish,
)

Json = dict[str, Any]

CONTENT_POLICY: Final = "content_policy_violation"
NO_IMAGE: Final = "no_image"
MAX_QUOTED_TEXT: Final = 500


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

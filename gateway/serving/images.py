"""One OpenAI images call on a Gemini image model, step by step: uploads sniffed and inlined →
one Gemini body → `n` upstream calls in parallel (Gemini makes one image per call) → format
conversion, hosting → the OpenAI ImagesResponse.

With n > 1, the images of the calls that succeeded are returned when at least one did (the
others are logged as a note); when none did, the first call's error is the answer.
"""

from __future__ import annotations

import base64
import io
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from types import ModuleType
from typing import Any, Final

import anyio
import anyio.to_thread
import orjson

from gateway.errors import GatewayError, InvalidRequestError
from gateway.media.sniff import GEMINI_IMAGE_MIME_TYPES, SNIFF_BYTES, sniff_image_mime
from gateway.serving.context import CallContext, Services
from gateway.serving.resolve import state_failed
from gateway.state.store import StoreError
from gateway.translate.data_urls import fingerprint
from gateway.translate.images.reply import (
    ImageReply,
    OutputImage,
    format_of,
    read_image_reply,
    to_images_usage,
    to_openai_images_response,
)
from gateway.translate.images.request import (
    OUTPUT_FORMATS,
    ImagesRequest,
    InlineImage,
    to_gemini_images_body,
)
from gateway.translate.request import image_limit_for
from gateway.translate.turn_view import hosted_name

log = logging.getLogger("gateway.serving")

MAX_PARALLEL_CALLS: Final = 4
"""Upstream calls in flight for one request: n=10 should not take 10 of a key's rate slots."""


@dataclass(frozen=True, slots=True)
class Upload:
    """One uploaded file of an edit, with the form field it came in (named in errors)."""

    field: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Finished:
    """One image after conversion: what the response shows of it."""

    image: InlineImage
    size: tuple[int, int] | None


def pillow() -> ModuleType | None:
    """Pillow is optional (the `images` extra): without it images keep Gemini's format."""
    try:
        from PIL import Image
    except ImportError:
        return None
    return Image


def inline_upload(upload: Upload) -> InlineImage:
    mime = sniff_image_mime(upload.data[:SNIFF_BYTES])
    if mime is None:
        raise InvalidRequestError(
            f"'{upload.field}' is not an image (expected PNG, JPEG, WebP, HEIC or HEIF bytes)",
            param=upload.field,
            code="invalid_image",
        )
    if mime not in GEMINI_IMAGE_MIME_TYPES:
        raise InvalidRequestError(
            f"'{upload.field}' is {mime}, which Gemini does not take: convert it to PNG, "
            "JPEG or WebP",
            param=upload.field,
            code="invalid_image_format",
        )
    return InlineImage(mime, base64.b64encode(upload.data).decode("ascii"))


def check_image_count(request: ImagesRequest, count: int, limit: int) -> None:
    if count > limit:
        raise InvalidRequestError(
            f"{request.model} accepts at most {limit} reference images in one request (the "
            f"mask counts as one); this request has {count}",
            param="image",
            code="too_many_images",
        )


async def prepare_inputs(
    request: ImagesRequest, uploads: Sequence[Upload], mask: Upload | None, services: Services
) -> tuple[tuple[InlineImage, ...], InlineImage | None]:
    limit = image_limit_for(request.model, services.settings.image_limits)
    check_image_count(request, len(uploads) + (mask is not None), limit)
    every = [*uploads, *([mask] if mask is not None else [])]
    inlined = await anyio.to_thread.run_sync(lambda: [inline_upload(u) for u in every])
    if mask is not None:
        return tuple(inlined[:-1]), inlined[-1]
    return tuple(inlined), None


async def fan_out(
    request: ImagesRequest, body: bytes, call: CallContext, services: Services
) -> list[ImageReply | GatewayError]:
    """`n` calls of the same body, at most MAX_PARALLEL_CALLS at a time, results in call order."""
    results: list[ImageReply | GatewayError] = [
        GatewayError("the call did not run") for _ in range(request.n)
    ]
    limiter = anyio.CapacityLimiter(MAX_PARALLEL_CALLS)

    async def one(index: int) -> None:
        async with limiter:
            started = time.perf_counter()
            try:
                reply = await services.upstream.generate(
                    request.model, body, call.upstream_key, call.stats
                )
                results[index] = read_image_reply(reply)
            except GatewayError as exc:
                results[index] = exc
            finally:
                services.metrics.upstream_latency.observe(time.perf_counter() - started)

    started = time.perf_counter()
    async with anyio.create_task_group() as tg:
        for index in range(request.n):
            tg.start_soon(one, index)
    call.stats.upstream_ms = (time.perf_counter() - started) * 1000
    return results


def convert(image: InlineImage, request: ImagesRequest, pil: ModuleType | None) -> Finished:
    """To the asked `output_format` when Pillow is there and Gemini's differs; reads the size."""
    if pil is None:
        return Finished(image, None)
    raw = base64.b64decode(image.data)
    wanted = OUTPUT_FORMATS.get(request.output_format or "")
    try:
        with pil.open(io.BytesIO(raw)) as picture:
            size = (int(picture.width), int(picture.height))
            if wanted is None or wanted == image.mime_type:
                return Finished(image, size)
            if wanted == "image/jpeg" and picture.mode not in ("RGB", "L"):
                picture = picture.convert("RGB")
            options: dict[str, Any] = {}
            if request.output_compression is not None and wanted != "image/png":
                options["quality"] = request.output_compression
            out = io.BytesIO()
            picture.save(out, format=wanted.split("/")[1].upper(), **options)
    except (OSError, ValueError) as exc:  # Pillow cannot read it: pass Gemini's bytes on
        log.warning("could not convert a generated image: %s", exc)
        return Finished(image, None)
    return Finished(InlineImage(wanted, base64.b64encode(out.getvalue()).decode("ascii")), size)


def common_size(finished: Sequence[Finished]) -> str | None:
    sizes = {f.size for f in finished}
    if len(sizes) != 1 or None in sizes:
        return None
    width, height = sizes.pop() or (0, 0)
    return f"{width}x{height}"


async def complete_images(
    request: ImagesRequest,
    uploads: Sequence[Upload],
    mask: Upload | None,
    call: CallContext,
    services: Services,
) -> dict[str, Any]:
    call.model = request.model
    call.notes.extend(request.notes)
    if request.response_format == "url" and services.hosted is None:
        raise InvalidRequestError(
            "response_format 'url' needs the gateway to host images: set GATEWAY_PUBLIC_URL "
            "(or use the default response_format 'b64_json')",
            param="response_format",
        )
    images, mask_image = await prepare_inputs(request, uploads, mask, services)
    fitted, adapted = services.upstream.fit(to_gemini_images_body(request, images, mask_image))
    call.notes.extend(adapted)
    body = orjson.dumps(fitted)
    results = await fan_out(request, body, call, services)
    replies = [r for r in results if isinstance(r, ImageReply)]
    if not replies:
        raise next(r for r in results if isinstance(r, GatewayError))
    if len(replies) < len(results):
        call.notes.append(f"images_failed:{len(results) - len(replies)}")
    pil = pillow()
    finished = await anyio.to_thread.run_sync(
        lambda: [[convert(i, request, pil) for i in r.images] for r in replies]
    )
    items = await output_items(request, replies, finished, services)
    usage = to_images_usage([r.usage for r in replies])
    size = common_size([f for group in finished for f in group])
    return to_openai_images_response(call.created, items, usage, size)


async def output_items(
    request: ImagesRequest,
    replies: Sequence[ImageReply],
    finished: Sequence[Sequence[Finished]],
    services: Services,
) -> list[OutputImage]:
    items: list[OutputImage] = []
    hosted: list[tuple[str, str, str]] = []
    for reply, group in zip(replies, finished, strict=True):
        for done in group:
            image = done.image
            url = None
            if request.response_format == "url" and services.hosted is not None:
                name = hosted_name(image.mime_type, fingerprint(image.data))
                hosted.append((name, image.mime_type, image.data))
                url = f"{services.hosted.public_url}/v1/files/{name}"
            b64 = None if url is not None else image.data
            items.append(OutputImage(b64, url, reply.text, format_of(image.mime_type)))
    if hosted and services.hosted is not None:
        try:
            await services.hosted.put_many(tuple(hosted))
        except StoreError as exc:
            # URLs nobody could resolve are worse than bytes: answer inline instead.
            state_failed("hosted_put", services, exc)
            data = {f"{services.hosted.public_url}/v1/files/{n}": d for n, _, d in hosted}
            items = [
                replace(item, b64_json=data[item.url], url=None) if item.url in data else item
                for item in items
            ]
    return items

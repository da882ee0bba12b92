"""POST /v1/images/generations (JSON) and /v1/images/edits (multipart/form-data, as the OpenAI
SDK sends it: `image` once or `image[]` repeated, optional `mask`, the rest as text fields)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any, Final

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message

from gateway.errors import (
    InvalidRequestError,
    RequestTooLargeError,
    UnsupportedMediaTypeError,
)
from gateway.routes.chat import call_context
from gateway.routes.common import json_response, media_type, read_json, unless_disconnected
from gateway.serving.context import Services
from gateway.serving.images import Upload, complete_images
from gateway.translate.images.request import parse_images_request

MAX_FORM_FILES: Final = 64  # above every model's reference limit, so ours is the one that speaks
MAX_FORM_FIELDS: Final = 64
MAX_FIELD_BYTES: Final = 1024 * 1024  # one text field (the prompt); files are bounded by the body
_IMAGE_FIELD: Final = re.compile(r"^image(\[\d*\])?$")


async def respond(request: Request, work: Callable[[], Awaitable[dict[str, Any]]]) -> Response:
    """Stops the (slow, paid) upstream calls when the client leaves, as chat does."""
    result = await unless_disconnected(request.receive, work)
    if result is None:
        return Response(status_code=499)
    return json_response(result)


async def images_generations(request: Request) -> Response:
    services: Services = request.app.state.services
    call = call_context(request, services)
    request.scope.setdefault("state", {})["call"] = call
    raw = await read_json(request, services.settings.max_body_bytes, services.large_bodies)
    params = parse_images_request(raw)
    return await respond(request, lambda: complete_images(params, (), None, call, services))


def bounded(request: Request, limit: int) -> Request:
    """The same request, but reading more than `limit` body bytes is a 413."""
    too_large = RequestTooLargeError(f"request body exceeds the {limit // (1024 * 1024)} MiB limit")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large
    received = 0

    async def receive() -> Message:
        nonlocal received
        message = await request.receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise too_large
        return message

    return Request(request.scope, receive)


async def read_edit_form(
    request: Request, limit: int
) -> tuple[dict[str, str], list[Upload], Upload | None]:
    media = media_type(request)
    if media != "multipart/form-data":
        raise UnsupportedMediaTypeError(
            "/v1/images/edits takes multipart/form-data (what the OpenAI SDK's images.edit "
            f"sends), got {media[:100] or 'no content type'!r}"
        )
    try:
        form = await bounded(request, limit).form(
            max_files=MAX_FORM_FILES,
            max_fields=MAX_FORM_FIELDS,
            max_part_size=min(MAX_FIELD_BYTES, limit),
        )
    except HTTPException as exc:  # Starlette's multipart limits and syntax errors
        raise InvalidRequestError(f"unreadable multipart body: {exc.detail}", param="body") from exc
    fields: dict[str, str] = {}
    uploads: list[Upload] = []
    mask: Upload | None = None
    try:
        for key, value in form.multi_items():
            is_image = _IMAGE_FIELD.match(key) is not None
            if isinstance(value, UploadFile):
                if is_image:
                    uploads.append(Upload(key, await value.read()))
                elif key == "mask":
                    mask = Upload(key, await value.read())
            elif is_image or key == "mask":
                raise InvalidRequestError(f"'{key}' must be an uploaded file", param=key)
            else:
                fields[key] = value
    finally:
        await form.close()
    return fields, uploads, mask


async def images_edits(request: Request) -> Response:
    services: Services = request.app.state.services
    call = call_context(request, services)
    request.scope.setdefault("state", {})["call"] = call
    fields, uploads, mask = await read_edit_form(request, services.settings.max_body_bytes)
    params = parse_images_request(fields)
    if not uploads:
        raise InvalidRequestError(
            "'image' is required: upload one or more image files", param="image"
        )
    return await respond(request, lambda: complete_images(params, uploads, mask, call, services))

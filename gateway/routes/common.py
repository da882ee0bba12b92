"""HTTP edge helpers: read a JSON body under limits, write JSON and error envelopes."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from gateway.errors import (
    GatewayError,
    InvalidRequestError,
    RequestTooLargeError,
    UnsupportedMediaTypeError,
    to_envelope,
)


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data), status, headers=headers, media_type="application/json")


def error_response(err: GatewayError) -> Response:
    return json_response(to_envelope(err), err.status, err.headers())


def _too_large(limit: int) -> RequestTooLargeError:
    return RequestTooLargeError(f"request body exceeds the {limit // (1024 * 1024)} MiB limit")


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: Request, limit: int) -> Any:
    content_type = request.headers.get("content-type", "application/json").lower()
    if "json" not in content_type and "text/plain" not in content_type:
        raise UnsupportedMediaTypeError(
            f"expected an application/json body, got {content_type.split(';')[0]!r}"
        )
    body = await read_body(request, limit)
    if not body:
        raise InvalidRequestError("the request body is empty; send a JSON object", param="body")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequestError(
            f"the request body is not valid JSON ({exc.msg} at position {exc.pos})",
            param="body",
            code="invalid_json",
        ) from exc

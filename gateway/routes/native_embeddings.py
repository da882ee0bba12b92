"""Gemini's embedding methods on the native surface (design.md contract: native Gemini routes):

    POST /{v1beta,v1}/models/{model}:embedContent | :batchEmbedContents

what google-genai's `models.embed_content` and the AI SDK's `embed` / `embedMany` call. Keys,
errors and the relay are the other native routes' (routes/native.py); each method is a route of
its own, so its requests are counted under its own route label.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.routes.common import UTF8_BOM, parse_json_body, read_parsed, unless_disconnected
from gateway.routes.native import (
    CLIENT_CLOSED,
    ChunksResponse,
    google_errors,
    native_call_context,
)
from gateway.serving.context import Services
from gateway.serving.native_embeddings import native_embed
from gateway.translate.embeddings.native import check_native_embed


def _parsed(raw: bytes) -> tuple[Any, bytes]:
    """The parsed body and the bytes AI Studio is sent (a leading BOM dropped)."""
    if raw.startswith(UTF8_BOM):
        raw = raw[len(UTF8_BOM) :]
    return parse_json_body(raw), raw


async def _embed(request: Request, method: str) -> Response:
    services: Services = request.app.state.services
    call = native_call_context(request, services)
    model = str(request.path_params["model_id"])
    call.model = model
    data, raw = await read_parsed(
        request, services.settings.max_body_bytes, services.large_bodies, _parsed
    )
    checked = check_native_embed(data, model, method)
    del data
    answer = await unless_disconnected(
        request.receive, lambda: native_embed(checked, raw, call, services)
    )
    if answer is None:
        return Response(status_code=CLIENT_CLOSED)
    return ChunksResponse(answer, {})


@google_errors
async def embed_content(request: Request) -> Response:
    return await _embed(request, "embedContent")


@google_errors
async def batch_embed_contents(request: Request) -> Response:
    return await _embed(request, "batchEmbedContents")


def routes() -> list[Route]:
    """Listed before the generic `{model}:{method}` route, which would answer 404."""
    return [
        Route(f"/{version}/models/{{model_id}}:{name}", handler, methods=["POST"])
        for version in ("v1beta", "v1")
        for name, handler in (
            ("embedContent", embed_content),
            ("batchEmbedContents", batch_embed_contents),
        )
    ]

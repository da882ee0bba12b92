"""POST /v1/chat/completions: read, authorise, call serving, write JSON or SSE."""

from __future__ import annotations

import time
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from gateway.auth import upstream_key_for
from gateway.errors import GatewayError
from gateway.routes.common import json_response, read_json
from gateway.serving.chat import complete_chat
from gateway.serving.chat_stream import ChatStream
from gateway.serving.context import CallContext, Services

SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}


def call_context(request: Request, services: Services) -> CallContext:
    key = upstream_key_for(services.settings, request.headers)
    return CallContext(
        request_id=request.scope.get("state", {}).get("request_id", ""),
        upstream_key=key,
        created=int(time.time()),
    )


async def until_disconnected(request: Request, scope: anyio.CancelScope) -> None:
    """Unary calls are not cancelled by Starlette when the client leaves: do it ourselves,
    so a slow (and paid) image generation stops when nobody waits for it."""
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            scope.cancel()
            return


async def run_unary(request: Request, raw: Any, call: CallContext, services: Services) -> Response:
    result: dict[str, Any] | None = None
    error: GatewayError | None = None
    async with anyio.create_task_group() as tg:
        tg.start_soon(until_disconnected, request, tg.cancel_scope)
        try:
            result = await complete_chat(raw, call, services)
        except GatewayError as exc:  # raised bare, not wrapped in the task group's ExceptionGroup
            error = exc
        finally:
            tg.cancel_scope.cancel()
    if error is not None:
        raise error
    if result is None:  # the client went away; nobody reads this
        return Response(status_code=499)
    return json_response(result)


async def chat_completions(request: Request) -> Response:
    services: Services = request.app.state.services
    call = call_context(request, services)
    raw = await read_json(request, services.settings.max_body_bytes)
    request.scope.setdefault("state", {})["call"] = call
    if isinstance(raw, dict) and raw.get("stream") is True:
        stream = ChatStream(call, services)
        await stream.start(raw)
        return StreamingResponse(stream.body(), media_type="text/event-stream", headers=SSE_HEADERS)
    return await run_unary(request, raw, call, services)

"""POST /v1/chat/completions: read, authorise, call serving, write JSON or SSE."""

from __future__ import annotations

import logging
import time

from starlette.requests import Request
from starlette.responses import Response

from gateway.auth import scope_credential, upstream_key_for
from gateway.lifted_json import Spans
from gateway.logs import log_body
from gateway.routes.common import (
    EventStreamResponse,
    json_response,
    read_json,
    started_unless_disconnected,
    unless_disconnected,
)
from gateway.serving.budget import history_headers
from gateway.serving.chat import complete_chat
from gateway.serving.chat_stream import ChatStream
from gateway.serving.context import CallContext, OwnedBody, Services
from gateway.serving.fidelity import fidelity_headers
from gateway.state.scope import scope_for

SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}
CLIENT_CLOSED = 499  # nginx's status for "the client went away first"; nobody reads it
body_log = logging.getLogger("gateway.bodies")


def call_context(request: Request, services: Services) -> CallContext:
    key = upstream_key_for(services.settings, request.headers)
    return CallContext(
        request_id=request.scope.get("state", {}).get("request_id", ""),
        upstream_key=key,
        created=int(time.time()),
        scope=scope_for(scope_credential(services.settings, request.headers)),
    )


async def run_unary(
    request: Request, owned: OwnedBody, call: CallContext, services: Services
) -> Response:
    result = await unless_disconnected(
        request.receive, lambda: complete_chat(owned, call, services)
    )
    if result is None:  # the client went away; nobody reads this
        return Response(status_code=CLIENT_CLOSED)
    if services.settings.log_bodies:
        log_body(body_log, "response", result)
    return json_response(result, headers={**history_headers(call), **fidelity_headers(call.notes)})


async def run_stream(
    request: Request, owned: OwnedBody, call: CallContext, services: Services
) -> Response:
    stream = ChatStream(call, services)
    if not await started_unless_disconnected(request.receive, stream, owned):
        return Response(status_code=CLIENT_CLOSED)
    headers = {**SSE_HEADERS, **history_headers(call), **fidelity_headers(call.notes)}
    return EventStreamResponse(stream.body(), headers)


async def chat_completions(request: Request) -> Response:
    services: Services = request.app.state.services
    call = call_context(request, services)
    spans: Spans = {}
    raw = await read_json(request, services.settings.max_body_bytes, services.large_bodies, spans)
    request.scope.setdefault("state", {})["call"] = call
    if services.settings.log_bodies:
        log_body(body_log, "request", raw)
    streaming = isinstance(raw, dict) and raw.get("stream") is True
    owned = OwnedBody(raw, spans)
    del raw, spans  # from here on only `owned` holds the body, until prepare takes it
    if streaming:
        return await run_stream(request, owned, call, services)
    return await run_unary(request, owned, call, services)

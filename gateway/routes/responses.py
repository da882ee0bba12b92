"""/v1/responses: create (JSON or the Responses event stream), retrieve, delete, input_items,
input_tokens (a count of what a create would send), cancel (there is nothing to cancel)."""

from __future__ import annotations

from typing import Any, Final

from starlette.requests import Request
from starlette.responses import Response

from gateway.errors import InvalidRequestError
from gateway.lifted_json import Spans
from gateway.logs import log_body
from gateway.routes.chat import CLIENT_CLOSED, SSE_HEADERS, body_log, call_context
from gateway.routes.common import (
    EventStreamResponse,
    json_response,
    read_json,
    started_unless_disconnected,
    unless_disconnected,
)
from gateway.serving.context import OwnedBody, Services
from gateway.serving.input_tokens import count_input_tokens
from gateway.serving.responses import complete_responses, not_found
from gateway.serving.responses_stream import ResponsesStream

MAX_LIST_LIMIT: Final = 100


def _scope(request: Request, services: Services) -> str:
    call = call_context(request, services)
    request.scope.setdefault("state", {})["call"] = call
    return call.scope


async def create_response(request: Request) -> Response:
    services: Services = request.app.state.services
    call = call_context(request, services)
    request.scope.setdefault("state", {})["call"] = call
    scope = call.scope
    spans: Spans = {}
    raw = await read_json(request, services.settings.max_body_bytes, services.large_bodies, spans)
    if services.settings.log_bodies:
        log_body(body_log, "request", raw)
    streaming = isinstance(raw, dict) and raw.get("stream") is True
    owned = OwnedBody(raw, spans)
    del raw, spans
    if not streaming:
        result = await unless_disconnected(
            request.receive, lambda: complete_responses(owned, call, services, scope)
        )
        if result is None:
            return Response(status_code=CLIENT_CLOSED)
        return json_response(result)
    stream = ResponsesStream(call, services, scope)
    if not await started_unless_disconnected(request.receive, stream, owned):
        return Response(status_code=CLIENT_CLOSED)
    return EventStreamResponse(stream.body(), dict(SSE_HEADERS))


async def input_tokens(request: Request) -> Response:
    services: Services = request.app.state.services
    call = call_context(request, services)
    request.scope.setdefault("state", {})["call"] = call
    spans: Spans = {}
    raw = await read_json(request, services.settings.max_body_bytes, services.large_bodies, spans)
    if isinstance(raw, dict) and raw.get("stream") is True:
        raise InvalidRequestError("input_tokens counts; it does not stream", param="stream")
    owned = OwnedBody(raw, spans)
    del raw, spans
    result = await unless_disconnected(
        request.receive, lambda: count_input_tokens(owned, call, services, call.scope)
    )
    if result is None:
        return Response(status_code=CLIENT_CLOSED)
    return json_response(result)


async def cancel_response(request: Request) -> Response:
    """OpenAI cancels only background responses; this gateway runs none (a create with
    `background: true` is refused), so a stored response is already finished."""
    await _stored(request)  # 404 for an id the caller does not own
    raise InvalidRequestError(
        "Only responses created with background=true can be cancelled; this gateway runs "
        "no background responses."
    )


async def _stored(request: Request) -> tuple[Any, str, str]:
    services: Services = request.app.state.services
    scope = _scope(request, services)
    response_id = request.path_params["response_id"]
    store = services.responses
    found = await store.get(scope, response_id) if store is not None else None
    if found is None:
        raise not_found(response_id)
    return found, scope, response_id


async def get_response(request: Request) -> Response:
    found, _, _ = await _stored(request)
    return json_response(found.response)


async def delete_response(request: Request) -> Response:
    services: Services = request.app.state.services
    scope = _scope(request, services)
    response_id = request.path_params["response_id"]
    store = services.responses
    if store is None or not await store.delete(scope, response_id):
        raise not_found(response_id)
    return json_response({"id": response_id, "object": "response.deleted", "deleted": True})


def list_options(query: Any) -> tuple[str, int]:
    """OpenAI's list parameters: `order` (asc|desc, default desc) and `limit` (1-100, 20)."""
    order = query.get("order", "desc")
    if order not in {"asc", "desc"}:
        raise InvalidRequestError("'order' must be 'asc' or 'desc'", param="order")
    raw_limit = query.get("limit", "20")
    # ASCII digits only: str.isdigit() also takes '²', which int() refuses (a 500)
    digits = raw_limit.isascii() and raw_limit.isdigit()
    if not digits or not 1 <= int(raw_limit) <= MAX_LIST_LIMIT:
        raise InvalidRequestError(
            f"'limit' must be an integer from 1 to {MAX_LIST_LIMIT}", param="limit"
        )
    return order, int(raw_limit)


def page(items: list[Any], query: Any) -> dict[str, Any]:
    """A cursor page of `items` (`after` an item id), as OpenAI lists."""
    order, limit = list_options(query)
    ordered = list(reversed(items)) if order == "desc" else list(items)
    after = query.get("after")
    if after:
        ids = [item.get("id") for item in ordered]
        if after not in ids:
            raise InvalidRequestError(f"no item with id {after!r} in this list", param="after")
        ordered = ordered[ids.index(after) + 1 :]
    data = ordered[:limit]
    return {
        "object": "list",
        "data": data,
        "first_id": data[0].get("id") if data else None,
        "last_id": data[-1].get("id") if data else None,
        "has_more": len(ordered) > len(data),
    }


async def list_input_items(request: Request) -> Response:
    found, _, _ = await _stored(request)
    return json_response(page(found.input, request.query_params))

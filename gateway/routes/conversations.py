"""/v1/conversations: create, retrieve, update (metadata), delete; items create, list (cursor
paging), retrieve, delete — OpenAI's shapes, scoped to the caller's credential."""

from __future__ import annotations

import time
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from gateway.errors import GatewayError, InvalidRequestError, NotFoundError
from gateway.routes.chat import call_context
from gateway.routes.common import json_response, read_json
from gateway.routes.responses import list_options
from gateway.serving.context import Services
from gateway.serving.responses import conversation_store
from gateway.state.conversations import ConversationStore
from gateway.translate.responses.parse import conversation_items

Json = dict[str, Any]
MAX_METADATA = 16


def _setup(request: Request) -> tuple[ConversationStore, str]:
    services: Services = request.app.state.services
    call = call_context(request, services)
    request.scope.setdefault("state", {})["call"] = call
    store = conversation_store(services)
    if store is None:
        raise GatewayError("conversations are not available on this gateway")
    return store, call.scope


def _not_found(conv_id: str) -> NotFoundError:
    return NotFoundError(f"Conversation with id '{conv_id}' not found.", param="conversation_id")


def _metadata(body: Json) -> Json:
    metadata = body.get("metadata")
    if metadata is None:
        return {}
    if (
        not isinstance(metadata, dict)
        or len(metadata) > MAX_METADATA
        or not all(isinstance(v, str) for v in metadata.values())
    ):
        raise InvalidRequestError(
            f"'metadata' must be an object of at most {MAX_METADATA} string values",
            param="metadata",
        )
    return metadata


async def _body(request: Request) -> Json:
    services: Services = request.app.state.services
    raw = await read_json(request, services.settings.max_body_bytes, services.large_bodies)
    if not isinstance(raw, dict):
        raise InvalidRequestError("the request body must be a JSON object", param="body")
    return raw


async def create_conversation(request: Request) -> Response:
    store, scope = _setup(request)
    body = await _body(request)
    conv_id = f"conv_{uuid.uuid4().hex}"
    items = conversation_items(body.get("items"), "items", conv_id.removeprefix("conv_"))
    conversation = {
        "id": conv_id,
        "object": "conversation",
        "created_at": int(time.time()),
        "metadata": _metadata(body),
    }
    await store.create(scope, conversation, items)
    return json_response(conversation)


async def get_conversation(request: Request) -> Response:
    store, scope = _setup(request)
    conv_id = request.path_params["conversation_id"]
    found = await store.get(scope, conv_id)
    if found is None:
        raise _not_found(conv_id)
    return json_response(found)


async def update_conversation(request: Request) -> Response:
    store, scope = _setup(request)
    conv_id = request.path_params["conversation_id"]
    body = await _body(request)
    if "metadata" not in body:
        raise InvalidRequestError("'metadata' is required", param="metadata")
    found = await store.update(scope, conv_id, _metadata(body))
    if found is None:
        raise _not_found(conv_id)
    return json_response(found)


async def delete_conversation(request: Request) -> Response:
    store, scope = _setup(request)
    conv_id = request.path_params["conversation_id"]
    if not await store.delete(scope, conv_id):
        raise _not_found(conv_id)
    return json_response({"id": conv_id, "object": "conversation.deleted", "deleted": True})


def _list(items: list[Json]) -> Json:
    return {
        "object": "list",
        "data": items,
        "first_id": items[0]["id"] if items else "",
        "last_id": items[-1]["id"] if items else "",
        "has_more": False,
    }


async def create_items(request: Request) -> Response:
    store, scope = _setup(request)
    conv_id = request.path_params["conversation_id"]
    body = await _body(request)
    if not isinstance(body.get("items"), list) or not body["items"]:
        raise InvalidRequestError("'items' must be a non-empty list", param="items")
    items = conversation_items(body["items"], "items", uuid.uuid4().hex)
    if not await store.append(scope, conv_id, items):
        raise _not_found(conv_id)
    return json_response(_list(items))


async def list_items(request: Request) -> Response:
    store, scope = _setup(request)
    conv_id = request.path_params["conversation_id"]
    order, limit = list_options(request.query_params)
    after = request.query_params.get("after") or None
    found = await store.page(scope, conv_id, after=after, limit=limit, descending=order == "desc")
    if found is None:
        raise _not_found(conv_id)
    items, more = found
    listed = _list(items)
    listed["has_more"] = more
    return json_response(listed)


async def get_item(request: Request) -> Response:
    store, scope = _setup(request)
    conv_id, item_id = request.path_params["conversation_id"], request.path_params["item_id"]
    found = await store.item(scope, conv_id, item_id)
    if found is None:
        raise NotFoundError(f"Item with id '{item_id}' not found.", param="item_id")
    return json_response(found)


async def delete_item(request: Request) -> Response:
    store, scope = _setup(request)
    conv_id, item_id = request.path_params["conversation_id"], request.path_params["item_id"]
    found = await store.delete_item(scope, conv_id, item_id)
    if found is None:
        raise NotFoundError(f"Item with id '{item_id}' not found.", param="item_id")
    return json_response(found)

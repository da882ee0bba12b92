"""Every route the gateway serves, in one table: which path and method reach which handler.

Order matters where paths overlap: the native `/v1/models/{model}:{method}` POST sits beside the
OpenAI-shaped `GET /v1/models/{id}`; both model GET routes take any character in the id
(routes/convertors.py), so an odd id reaches its route's own 404 rather than a 405.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from gateway.config import Settings
from gateway.routes import convertors, native, native_embeddings
from gateway.routes.chat import chat_completions
from gateway.routes.conversations import (
    create_conversation,
    create_items,
    delete_conversation,
    delete_item,
    get_conversation,
    get_item,
    list_items,
    update_conversation,
)
from gateway.routes.embeddings import embeddings
from gateway.routes.files import get_file
from gateway.routes.health import healthz, metrics, readyz
from gateway.routes.images import images_edits, images_generations
from gateway.routes.models import get_model, list_models
from gateway.routes.openapi import openapi_document
from gateway.routes.playground import Playground
from gateway.routes.responses import (
    cancel_response,
    create_response,
    delete_response,
    get_response,
    input_tokens,
    list_input_items,
)


def route_table(settings: Settings) -> list[BaseRoute]:
    """The API, health and OpenAPI routes; `/metrics` and the playground when enabled."""
    routes: list[BaseRoute] = [
        Route("/v1/chat/completions", chat_completions, methods=["POST"]),
        Route("/v1/responses", create_response, methods=["POST"]),
        Route("/v1/responses/input_tokens", input_tokens, methods=["POST"]),
        Route("/v1/responses/{response_id}", get_response, methods=["GET"]),
        Route("/v1/responses/{response_id}", delete_response, methods=["DELETE"]),
        Route("/v1/responses/{response_id}/input_items", list_input_items, methods=["GET"]),
        Route("/v1/responses/{response_id}/cancel", cancel_response, methods=["POST"]),
        Route("/v1/conversations", create_conversation, methods=["POST"]),
        Route("/v1/conversations/{conversation_id}", get_conversation, methods=["GET"]),
        Route("/v1/conversations/{conversation_id}", update_conversation, methods=["POST"]),
        Route("/v1/conversations/{conversation_id}", delete_conversation, methods=["DELETE"]),
        Route("/v1/conversations/{conversation_id}/items", create_items, methods=["POST"]),
        Route("/v1/conversations/{conversation_id}/items", list_items, methods=["GET"]),
        Route("/v1/conversations/{conversation_id}/items/{item_id}", get_item, methods=["GET"]),
        Route(
            "/v1/conversations/{conversation_id}/items/{item_id}", delete_item, methods=["DELETE"]
        ),
        Route("/v1/embeddings", embeddings, methods=["POST"]),
        Route("/v1/images/generations", images_generations, methods=["POST"]),
        Route("/v1/images/edits", images_edits, methods=["POST"]),
        *native_embeddings.routes(),
        Route("/v1beta/models", native.list_models, methods=["GET"]),
        Route("/v1beta/models/{model_id}", native.model_call, methods=["POST"]),
        Route(
            f"/v1beta/models/{{model_id:{convertors.ANYPATH}}}", native.get_model, methods=["GET"]
        ),
        Route("/v1/models/{model_id}", native.model_call, methods=["POST"]),
        Route("/v1/models", list_models, methods=["GET"]),
        Route(f"/v1/models/{{model_id:{convertors.ANYPATH}}}", get_model, methods=["GET"]),
        Route("/v1/files/{name}", get_file, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/openapi.json", openapi_document, methods=["GET"]),
    ]
    if settings.metrics:
        routes.append(Route("/metrics", metrics, methods=["GET"]))
    if settings.playground:
        routes.extend(Playground.load(settings.public_url).routes())
    return routes

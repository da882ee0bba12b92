"""GET /v1/models and /v1/models/{id}, translated from Gemini's models list (or, for Google's
own clients, Gemini's shape: routes/native.py)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from gateway.auth import upstream_key_for
from gateway.errors import InvalidRequestError
from gateway.routes import native
from gateway.routes.common import json_response
from gateway.serving.context import Services
from gateway.translate.models import to_openai_model, to_openai_model_list

MAX_PAGES = 10


async def list_models(request: Request) -> Response:
    if native.wants_native(request):
        return await native.list_models(request)
    services: Services = request.app.state.services
    key = upstream_key_for(services.settings, request.headers)
    models: list[dict[str, Any]] = []
    token = ""
    for _ in range(MAX_PAGES):
        path = services.upstream.models_path(page_size="1000", page_token=token)
        page = await services.upstream.get_json(path, key)
        models.extend(m for m in page.get("models") or [] if isinstance(m, dict))
        token = str(page.get("nextPageToken") or "")
        if not token:
            break
    return json_response(to_openai_model_list(models))


async def get_model(request: Request) -> Response:
    if native.wants_native(request):
        return await native.get_model(request)
    services: Services = request.app.state.services
    key = upstream_key_for(services.settings, request.headers)
    model_id = str(request.path_params["model_id"]).removeprefix("models/")
    if not model_id or "/" in model_id or ":" in model_id or ".." in model_id:
        raise InvalidRequestError("invalid model id", param="model")
    model = await services.upstream.get_json(services.upstream.models_path(model_id), key)
    return json_response(to_openai_model(model))

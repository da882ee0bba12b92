"""POST /v1/embeddings: read, authorise, check, call serving, write JSON."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import Response

from gateway.logs import log_body
from gateway.routes.chat import call_context
from gateway.routes.common import read_json
from gateway.routes.images import respond
from gateway.serving.context import Services
from gateway.serving.embeddings import complete_embeddings
from gateway.translate.embeddings.request import parse_embeddings_request

body_log = logging.getLogger("gateway.bodies")


async def embeddings(request: Request) -> Response:
    services: Services = request.app.state.services
    call = call_context(request, services)
    request.scope.setdefault("state", {})["call"] = call
    raw = await read_json(request, services.settings.max_body_bytes, services.large_bodies)
    if services.settings.log_bodies:
        log_body(body_log, "request", raw)
    params = parse_embeddings_request(raw, services.settings.embeddings_max_inputs)
    return await respond(request, lambda: complete_embeddings(params, call, services))

"""Liveness, readiness and metrics: always open (no client key), never showing a secret."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from gateway.routes.common import json_response
from gateway.serving.context import Services


async def healthz(request: Request) -> Response:
    return json_response({"status": "ok"})


async def readyz(request: Request) -> Response:
    services: Services | None = getattr(request.app.state, "services", None)
    checks = {
        "upstream_client": services is not None and not services.upstream.is_closed,
        "state_store": services is not None and await services.turns.ready(),
    }
    ready = all(checks.values())
    return json_response(
        {"status": "ready" if ready else "not ready", **checks}, 200 if ready else 503
    )


async def metrics(request: Request) -> Response:
    services: Services = request.app.state.services
    return Response(services.metrics.render(), media_type="text/plain; version=0.0.4")

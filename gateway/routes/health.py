"""Liveness, readiness and metrics, never showing a secret. Liveness and readiness are always
open (probes carry no key); metrics need a client key when the gateway has client keys
(Prometheus sends one with `authorization: credentials`): per-model traffic and error counts
are for the operator, not for every caller who can reach the port."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from gateway.auth import upstream_key_for
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
    if not checks["upstream_client"]:
        return json_response({"status": "not ready", **checks}, 503)
    # A state store that cannot answer leaves requests served statelessly (fidelity only from
    # what clients carry): degraded, not down, so a load balancer keeps sending traffic.
    return json_response({"status": "ready" if checks["state_store"] else "degraded", **checks})


async def metrics(request: Request) -> Response:
    services: Services = request.app.state.services
    if services.settings.client_keys:
        upstream_key_for(services.settings, request.headers)  # refuses a caller without one
    return Response(services.metrics.render(), media_type="text/plain; version=0.0.4")

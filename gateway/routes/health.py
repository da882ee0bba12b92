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
    """Liveness: the process answers. Touches nothing else (no network, no store), so a slow
    Gemini or Redis never gets a healthy process restarted."""
    return json_response({"status": "ok"})


async def readyz(request: Request) -> Response:
    """Readiness: can this replica serve? Cached, bounded probes of the upstream and the state
    store (serving/readiness.py has the semantics); 503 before start-up has finished and from
    the moment a graceful shutdown begins (a load balancer stops sending new requests while
    the ones in flight finish)."""
    services: Services | None = getattr(request.app.state, "services", None)
    if services is None or services.readiness is None:
        return json_response(
            {"status": "not ready", "upstream_client": False, "state_store": False}, 503
        )
    if services.drain.deadline is not None:  # draining: take no new work, whatever the probes say
        return json_response(
            {"status": "shutting down", "upstream_client": True, "state_store": True}, 503
        )
    report = await services.readiness.report()
    return json_response(report.body(), report.http_status(services.settings.ready_require_state))


async def metrics(request: Request) -> Response:
    services: Services = request.app.state.services
    if services.settings.client_keys:
        upstream_key_for(services.settings, request.headers)  # refuses a caller without one
    return Response(services.metrics.render(), media_type="text/plain; version=0.0.4")

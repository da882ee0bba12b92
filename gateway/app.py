"""build_app(settings) → the Starlette app. The lifespan owns the upstream client, the turn
store and the image fetcher; a lean ASGI middleware adds request ids, access logs and metrics."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.config import Settings
from gateway.errors import GatewayError, MethodNotAllowedError, NotFoundError
from gateway.media.fetch import FetchPolicy, ImageFetcher
from gateway.metrics import Metrics
from gateway.routes.chat import chat_completions
from gateway.routes.common import error_response
from gateway.routes.files import get_file
from gateway.routes.health import healthz, metrics, readyz
from gateway.routes.models import get_model, list_models
from gateway.serving.context import Services
from gateway.state.hosted_images import HostedImages
from gateway.state.store import open_store
from gateway.upstream.client import GeminiClient

log = logging.getLogger("gateway.access")
_SAFE_REQUEST_ID = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


class RequestContextMiddleware:
    """Request id in and out, one access-log line per request, request metrics."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        incoming = headers.get(b"x-request-id", b"").decode("latin-1")
        ok = 0 < len(incoming) <= 128 and set(incoming) <= _SAFE_REQUEST_ID
        request_id = incoming if ok else f"req_{uuid.uuid4().hex}"
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 0
        first_byte = 0.0
        sent = 0

        async def send_wrapper(message: Message) -> None:
            nonlocal status, first_byte, sent
            if message["type"] == "http.response.start":
                status = message["status"]
                first_byte = time.perf_counter() - started
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        self.metrics.in_flight.inc()
        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            self.metrics.in_flight.dec()
            self._log(scope, request_id, status, started, first_byte, sent)

    def _log(
        self, scope: Scope, request_id: str, status: int, started: float, ttfb: float, sent: int
    ) -> None:
        path = scope.get("path", "")
        call = scope.get("state", {}).get("call")
        model = getattr(call, "model", "") or ""
        route = path if path.startswith("/v1/") and not path.startswith("/v1/files/") else path[:9]
        self.metrics.requests.labels(route, model, str(status)).inc()
        if ttfb:
            self.metrics.ttfb.observe(ttfb)
        stats = getattr(call, "stats", None)
        if stats is not None and stats.retries:
            self.metrics.retries.inc(stats.retries)
        log.info(
            "request",
            extra={
                "request_id": request_id,
                "method": scope.get("method"),
                "path": path,
                "status": status,
                "model": model,
                "ms": round((time.perf_counter() - started) * 1000, 2),
                "ttfb_ms": round(ttfb * 1000, 2),
                "upstream_ms": round(getattr(stats, "upstream_ms", 0.0), 2),
                "retries": getattr(stats, "retries", 0),
                "notes": list(getattr(call, "notes", []) or []),
                "bytes_out": sent,
            },
        )


async def _gateway_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, GatewayError)
    return error_response(exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        return error_response(MethodNotAllowedError(f"method {request.method} is not allowed here"))
    if exc.status_code == 404:
        return error_response(NotFoundError(f"no route for {request.url.path}"))
    return error_response(GatewayError(str(exc.detail), status_code=exc.status_code))


async def _server_error(request: Request, exc: Exception) -> Response:
    log.error(
        "unhandled error",
        exc_info=exc,
        extra={"request_id": request.scope.get("state", {}).get("request_id")},
    )
    return error_response(GatewayError("internal error in the gateway"))


def fetch_policy(settings: Settings) -> FetchPolicy:
    return FetchPolicy(
        enabled=settings.fetch_images,
        allow_http=settings.fetch_allow_http,
        allowed_hosts=frozenset(settings.fetch_allowed_hosts),
        max_bytes=settings.fetch_max_bytes,
        total_timeout=settings.fetch_timeout,
    )


def build_app(
    settings: Settings, upstream_transport: httpx.AsyncBaseTransport | None = None
) -> Starlette:
    metrics_ = Metrics()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        upstream = GeminiClient(settings, upstream_transport)
        turns = open_store(
            settings.state,
            max_bytes=settings.state_max_bytes,
            max_age_seconds=settings.state_max_age,
        )
        fetcher = ImageFetcher(fetch_policy(settings)) if settings.fetch_images else None
        hosted = HostedImages(turns, settings.public_url) if settings.public_url else None
        app.state.services = Services(settings, upstream, turns, fetcher, hosted, metrics_)
        try:
            yield {}
        finally:
            await upstream.aclose()
            if fetcher is not None:
                await fetcher.aclose()
            await turns.aclose()

    routes = [
        Route("/v1/chat/completions", chat_completions, methods=["POST"]),
        Route("/v1/models", list_models, methods=["GET"]),
        Route("/v1/models/{model_id:path}", get_model, methods=["GET"]),
        Route("/v1/files/{name}", get_file, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
    ]
    if settings.metrics:
        routes.append(Route("/metrics", metrics, methods=["GET"]))
    middleware = [Middleware(RequestContextMiddleware, metrics=metrics_)]
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=["authorization", "content-type", "x-request-id"],
            )
        )
    app = Starlette(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={
            GatewayError: _gateway_error,
            HTTPException: _http_error,
            Exception: _server_error,
        },
    )
    app.state.settings = settings
    app.state.metrics = metrics_
    return app

"""build_app(settings) → the Starlette app. The lifespan owns the upstream client, the turn
store and the image fetcher; a lean ASGI middleware adds request ids, access logs and metrics."""

from __future__ import annotations

import asyncio
import gc
import logging
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway import heap
from gateway.config import Settings
from gateway.errors import (
    GatewayError,
    MethodNotAllowedError,
    NotFoundError,
    StateUnavailableError,
    UpstreamError,
)
from gateway.logs import add_secrets, request_id_var
from gateway.media.fetch import FetchPolicy, ImageFetcher
from gateway.metrics import Metrics
from gateway.routes import convertors, native
from gateway.routes.common import error_response
from gateway.routes.table import route_table
from gateway.serving.body_deadline import BodyDeadline
from gateway.serving.body_gate import LargeBodyGate
from gateway.serving.context import Services
from gateway.serving.drain import DrainGuard
from gateway.serving.readiness import Readiness
from gateway.state.hosted_images import HostedImages
from gateway.state.ignored import IgnoredRecords
from gateway.state.open_state import StateOptions, open_state
from gateway.state.responses import ResponseStore
from gateway.state.store import StoreError
from gateway.upstream.client import GeminiClient

log = logging.getLogger("gateway.access")
_SAFE_REQUEST_ID = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
# After this much traffic (client bodies and Gemini's answers: a 502 for an oversized answer sends
# little but read much), and once no request has started for IDLE_TRIM_SECONDS, garbage in
# reference cycles is collected and freed memory goes back to the OS: otherwise multi-MB image
# buffers wait for a rare full collection, and glibc keeps the freed ones in its heap.
TRIM_AFTER_BYTES = 16 * 1024 * 1024
IDLE_TRIM_SECONDS = 1.0


class RequestContextMiddleware:
    """Request id in and out, one access-log line per request, request metrics, and the
    last-resort 500 envelope (inside this middleware, so it carries the request id too)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        self._active = 0
        self._last_start = 0.0  # time.monotonic() of the latest request, for the idle trim
        self._untrimmed = 0  # bytes moved since the last trim
        self._trim_pending = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = ""
        for name, value in scope.get("headers") or ():
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
        ok = 0 < len(incoming) <= 128 and set(incoming) <= _SAFE_REQUEST_ID
        request_id = incoming if ok else f"req_{uuid.uuid4().hex}"
        scope.setdefault("state", {})["request_id"] = request_id
        token = request_id_var.set(request_id)
        traffic = _Traffic(time.perf_counter())

        async def receive_wrapper() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                traffic.bytes_in += len(message.get("body", b""))
            return message

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                traffic.status = message["status"]
                traffic.ttfb = time.perf_counter() - traffic.started
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            elif message["type"] == "http.response.body":
                traffic.bytes_out += len(message.get("body", b""))
            await send(message)

        self.metrics.in_flight.inc()
        self._active += 1
        self._last_start = time.monotonic()
        try:
            await self.app(scope, receive_wrapper, send_wrapper)
        except Exception as exc:
            log.error("unhandled error", exc_info=exc, extra={"request_id": request_id})
            if traffic.status:
                raise  # the response is under way: abort it rather than end it as if complete
            await error_response(GatewayError("internal error in the gateway"))(
                scope, receive, send_wrapper
            )
        finally:
            self.metrics.in_flight.dec()
            self._active -= 1
            self._log(scope, request_id, traffic)
            request_id_var.reset(token)
            upstream = getattr(getattr(scope["state"].get("call"), "stats", None), "received", 0)
            self._untrimmed += traffic.bytes_in + traffic.bytes_out + upstream
            if self._untrimmed >= TRIM_AFTER_BYTES and not self._trim_pending:
                self._trim_pending = True
                asyncio.get_running_loop().call_later(IDLE_TRIM_SECONDS, self._trim_when_idle)

    def _trim_when_idle(self) -> None:
        """Runs on the loop; trims only once nothing ran for IDLE_TRIM_SECONDS, so a trim (a
        few ms on a large heap) never delays a request under load."""
        wait = self._last_start + IDLE_TRIM_SECONDS - time.monotonic()
        if self._active or wait > 0:
            delay = IDLE_TRIM_SECONDS if self._active else wait
            asyncio.get_running_loop().call_later(delay, self._trim_when_idle)
            return
        self._trim_pending = False
        self._untrimmed = 0
        gc.collect()
        heap.trim()

    def _log(self, scope: Scope, request_id: str, traffic: _Traffic) -> None:
        path = scope.get("path", "")
        call = scope.get("state", {}).get("call")
        model = getattr(call, "model", "") or ""
        route = convertors.route_label(getattr(scope.get("route"), "path", None) or "unmatched")
        self.metrics.requests.labels(
            route, self.metrics.model_label(model), str(traffic.status)
        ).inc()
        if traffic.ttfb:
            self.metrics.ttfb.observe(traffic.ttfb)
        stats = getattr(call, "stats", None)
        if stats is not None and stats.retries:
            self.metrics.retries.inc(stats.retries)
        if stats is not None and stats.usage:
            self.metrics.usage(model, stats.usage)
        log.info(
            "request",
            extra={
                "request_id": request_id,
                "method": scope.get("method"),
                "path": path,
                "route": route,
                "status": traffic.status,
                "model": model,
                "ms": round((time.perf_counter() - traffic.started) * 1000, 2),
                "ttfb_ms": round(traffic.ttfb * 1000, 2),
                "upstream_ms": round(getattr(stats, "upstream_ms", 0.0), 2),
                "attempts": getattr(stats, "attempts", 0),
                "retries": getattr(stats, "retries", 0),
                "notes": list(getattr(call, "notes", []) or []),
                "bytes_in": traffic.bytes_in,
                "bytes_out": traffic.bytes_out,
                "client": (scope.get("client") or ("",))[0],
            },
        )


@dataclass
class _Traffic:
    started: float
    status: int = 0
    ttfb: float = 0.0
    bytes_in: int = 0
    bytes_out: int = 0


async def _gateway_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, GatewayError)
    metrics_: Metrics = request.app.state.metrics
    metrics_.error(exc.code, upstream=isinstance(exc, UpstreamError))
    return error_response(exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    path = str(request.scope.get("path", ""))
    render = native.google_error_response if native.is_native_path(path) else error_response
    if exc.status_code == 405:
        return render(MethodNotAllowedError(f"method {request.method} is not allowed here"))
    if exc.status_code == 404:
        hint = (
            f" (did you mean {path.rstrip('/')}?)" if len(path) > 1 and path.endswith("/") else ""
        )
        return render(NotFoundError(f"no route for {path[:256]}{hint[:270]}"))
    return render(GatewayError(str(exc.detail), status_code=exc.status_code))


async def _state_error(request: Request, exc: Exception) -> Response:
    """The last net under state-store failures a route did not degrade itself: a 503 the
    client may retry, counted, never a 500."""
    metrics_: Metrics = request.app.state.metrics
    metrics_.state_unavailable.labels("route").inc()
    metrics_.error("state_unavailable", upstream=False)
    return error_response(StateUnavailableError("the state store is unavailable; retry"))


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


def state_options(settings: Settings) -> StateOptions:
    return StateOptions(
        url=settings.state,
        max_bytes=settings.state_max_bytes,
        max_age_seconds=settings.state_max_age,
        prefix=settings.state_prefix,
        pool_size=settings.state_pool_size,
        timeout=settings.state_timeout,
        max_value_bytes=settings.state_max_value_bytes,
        local_cache_bytes=settings.state_local_cache_bytes,
        responses_max_bytes=settings.responses_max_bytes,
        responses_max_age_seconds=settings.responses_max_age,
    )


async def envelope_secret(responses: ResponseStore, settings: Settings) -> bytes:
    """A state store that is down at startup must not keep the gateway down: envelopes made
    meanwhile are signed by a key of this process only (set GATEWAY_RESPONSES_SECRET to share
    one key between replicas whatever happens)."""
    try:
        return await responses.secret(settings.responses_secret)
    except StoreError:
        log.warning("state store unavailable at startup: reasoning envelopes use a process key")
        return secrets.token_bytes(32)


def build_app(
    settings: Settings,
    upstream_transport: httpx.AsyncBaseTransport | None = None,
    *,
    auth_transport: httpx.AsyncBaseTransport | None = None,
    token_clock: Callable[[], float] = time.monotonic,
) -> Starlette:
    """`auth_transport` / `token_clock`: Vertex AI's Google auth calls and token timing (the
    CLI routes auth to the in-process emulator; tests inject a clock)."""
    metrics_ = Metrics()
    add_secrets(*settings.api_keys, *settings.client_keys, settings.responses_secret)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        upstream = GeminiClient(
            settings, upstream_transport, auth_transport=auth_transport, clock=token_clock
        )
        try:
            await upstream.start()
        except BaseException:
            await upstream.aclose()
            raise
        state = open_state(state_options(settings))
        turns = state.turns
        fetcher = ImageFetcher(fetch_policy(settings)) if settings.fetch_images else None
        hosted = HostedImages(turns, settings.public_url) if settings.public_url else None
        readiness = Readiness(upstream, turns, settings)
        ignored = IgnoredRecords(metrics_.record_ignored)
        responses = ResponseStore(state.responses, ignored)
        app.state.services = Services(
            settings,
            upstream,
            turns,
            fetcher,
            hosted,
            metrics_,
            LargeBodyGate(settings.max_concurrent_large, park_seconds=settings.body_timeout),
            responses=responses,
            envelope_secret=await envelope_secret(responses, settings),
            records=state.records,
            readiness=readiness,
            ignored=ignored,
        )
        try:
            yield {}
        finally:
            await readiness.aclose()
            await upstream.aclose()
            if fetcher is not None:
                await fetcher.aclose()
            await state.aclose()

    routes = route_table(settings)
    middleware = [
        Middleware(RequestContextMiddleware, metrics=metrics_),
        Middleware(BodyDeadline, seconds=settings.body_timeout),
        Middleware(DrainGuard),
    ]
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
                allow_headers=["authorization", "content-type", "x-request-id"],
                expose_headers=["x-request-id", "x-gateway-history", "x-gateway-fidelity"],
            )
        )
    app = Starlette(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={
            GatewayError: _gateway_error,
            HTTPException: _http_error,
            StoreError: _state_error,
            Exception: _server_error,
        },
    )
    # Starlette's trailing-slash redirect builds its Location from the Host header: a client
    # could make the gateway redirect to any host. A 404 that names the right path instead.
    app.router.redirect_slashes = False
    app.state.settings = settings
    app.state.metrics = metrics_
    return app

"""Gemini's own REST surface on the gateway (design.md contract: native Gemini routes):

    POST /{v1beta,v1}/models/{model}:generateContent | :streamGenerateContent | :countTokens
    GET  /v1beta/models, /v1beta/models/{model}    (and /v1/models[/{model}] for Google clients)

Keys as Google's clients send them; errors in Google's shape; bodies relayed as sent, with the
two documented repairs (serving/native.py); answers as Gemini sent them.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl, urlencode

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from gateway.auth import NATIVE, key_for, native_presented_key
from gateway.errors import GatewayError, InvalidRequestError, NotFoundError
from gateway.routes.common import (
    MAX_JSON_DEPTH,
    UTF8_BOM,
    EventStreamResponse,
    nesting_exceeds,
    read_parsed,
    unless_disconnected,
)
from gateway.serving.context import CallContext, Services
from gateway.serving.native import METHODS, Answer, native_body, relay_unary
from gateway.serving.native_stream import NativeStream
from gateway.translate.native import skeleton
from gateway.translate.native.errors import google_envelope
from gateway.translate.native.repairs import Repairs, repair

log = logging.getLogger("gateway.native")
CLIENT_CLOSED = 499
SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}
Handler = Callable[[Request], Awaitable[Response]]


def google_error_response(err: GatewayError) -> Response:
    return Response(
        orjson.dumps(google_envelope(err)),
        err.status,
        headers=err.headers(),
        media_type="application/json; charset=UTF-8",
    )


def google_errors(handler: Handler) -> Handler:
    """Every error of a native route in Google's shape, the gateway's own included."""

    @functools.wraps(handler)
    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except GatewayError as err:
            request.app.state.metrics.error(err.code, upstream=err.upstream_body is not None)
            return google_error_response(err)
        except Exception as exc:  # a bug: still Google's shape (the app's handler is OpenAI's)
            log.error("unhandled error on a native route", exc_info=exc)
            bug = GatewayError("internal error in the gateway")
            request.app.state.metrics.error(bug.code, upstream=False)
            return google_error_response(bug)

    return wrapped


class ChunksResponse(Response):
    """A unary answer sent as the chunks it arrived in: no join, no copy."""

    def __init__(self, answer: Answer, headers: dict[str, str]) -> None:
        self.chunks = answer.chunks
        self.status_code = 200
        self.background = None
        self.media_type = None
        length = sum(len(chunk) for chunk in answer.chunks)
        self.init_headers(
            {**headers, "content-type": answer.content_type, "content-length": str(length)}
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        for chunk in self.chunks:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def native_call_context(request: Request, services: Services) -> CallContext:
    """Authorises the caller; the key leaves the query string before anything can log it."""
    query = parse_qsl(request.scope.get("query_string", b"").decode("latin-1"), True)
    query_key = next((v for k, v in query if k == "key"), None)
    if query_key is not None:
        kept = [(k, v) for k, v in query if k != "key"]
        request.scope["query_string"] = urlencode(kept).encode("latin-1")
        if hasattr(request, "_query_params"):  # Starlette caches the parsed query: drop it
            del request._query_params
    key = key_for(services.settings, native_presented_key(request.headers, query_key), NATIVE)
    call = CallContext(
        request_id=request.scope.get("state", {}).get("request_id", ""),
        upstream_key=key,
        created=int(time.time()),
    )
    request.scope.setdefault("state", {})["call"] = call
    return call


def parse_native(raw: bytes, method: str) -> tuple[skeleton.Skeleton, Repairs, bytes]:
    """The body's structure (its long strings left in `raw`), repaired; runs where the body
    was read, so a large body is parsed while it holds its place under the gate."""
    if raw.startswith(UTF8_BOM):
        raw = raw[len(UTF8_BOM) :]
    if not raw or raw.isspace():
        raise InvalidRequestError("the request body is empty; send a JSON object", param="body")
    try:
        parsed = skeleton.parse(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequestError(
            f"Invalid JSON payload received. {exc.msg} at position {exc.pos}.", param="body"
        ) from exc
    if not isinstance(parsed.data, dict):
        raise InvalidRequestError("Invalid JSON payload received. Expected an object.")
    if nesting_exceeds(parsed.data, MAX_JSON_DEPTH):
        raise InvalidRequestError(
            f"the request body nests objects/arrays deeper than {MAX_JSON_DEPTH} levels"
        )
    if skeleton.keys_have_holes(parsed):
        parsed = skeleton.Skeleton(skeleton.filled(parsed))
    return parsed, repair(parsed.data, METHODS[method]), raw


@google_errors
async def model_call(request: Request) -> Response:
    """POST .../models/{model}:{method}: the model id and method split at the last colon."""
    services: Services = request.app.state.services
    call = native_call_context(request, services)
    model, _, method = str(request.path_params["model_id"]).rpartition(":")
    if method not in METHODS or not model:
        raise NotFoundError(f"Method not found: {request.url.path.rsplit('/', 1)[-1][:80]}")
    call.model = model.removeprefix("models/")
    path = services.upstream.native_path(call.model, method)
    parsed, repairs, raw = await read_parsed(
        request,
        services.settings.max_body_bytes,
        services.large_bodies,
        lambda body: parse_native(body, method),
    )
    prepared = await native_body(parsed, repairs, raw, method, request.headers, call, services)
    del parsed, raw
    if method == "streamGenerateContent":
        array = request.query_params.get("alt") != "sse"
        stream = NativeStream(call, services, path, prepared.body, array=array)
        return await _stream(request, stream, prepared.headers)
    answer = await unless_disconnected(
        request.receive, lambda: relay_unary("POST", path, prepared.body, call, services)
    )
    if answer is None:
        return Response(status_code=CLIENT_CLOSED)
    return ChunksResponse(answer, prepared.headers)


async def _stream(request: Request, stream: NativeStream, headers: dict[str, str]) -> Response:
    started = False
    try:
        started = bool(await unless_disconnected(request.receive, _started(stream)))
    finally:
        if not started:
            await stream.aclose()
    if not started:
        return Response(status_code=CLIENT_CLOSED)
    response = EventStreamResponse(stream.body(), {**SSE_HEADERS, **headers})
    response.headers["content-type"] = stream.media_type
    return response


def _started(stream: NativeStream) -> Callable[[], Awaitable[bool]]:
    async def start() -> bool:
        await stream.start()
        return True

    return start


@google_errors
async def list_models(request: Request) -> Response:
    """GET .../models: Gemini's list (a page of it), as Gemini sent it."""
    services: Services = request.app.state.services
    call = native_call_context(request, services)
    params = request.query_params
    path = services.upstream.models_path(
        page_size=params.get("pageSize", "")[:16], page_token=params.get("pageToken", "")[:512]
    )
    return ChunksResponse(await relay_unary("GET", path, None, call, services), {})


@google_errors
async def get_model(request: Request) -> Response:
    services: Services = request.app.state.services
    call = native_call_context(request, services)
    model = str(request.path_params["model_id"]).removeprefix("models/")
    if not model or "/" in model or ":" in model or ".." in model:
        raise NotFoundError(f"model {model[:64]!r} is not a valid Gemini model id")
    call.model = model
    path = services.upstream.models_path(model)
    return ChunksResponse(await relay_unary("GET", path, None, call, services), {})


def wants_native(request: Request) -> bool:
    """`GET /v1/models[/{id}]` answers in Gemini's shape for Google's clients: a request with
    `x-goog-api-key`, or a `key` / `pageSize` / `pageToken` query (design.md contract)."""
    if "x-goog-api-key" in request.headers:
        return True
    return any(name in request.query_params for name in ("key", "pageSize", "pageToken"))


def is_native_path(path: str) -> bool:
    return path.startswith("/v1beta/") or (path.startswith("/v1/models/") and ":" in path)

"""The emulator's ASGI app: Gemini's REST surface (`/{version}/models...`) plus `/_emulator/*`
control routes. One catch-all route, because `models/{id}:{method}` does not fit path params."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
from typing import Any, Final

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.emulator.conversation import read_conversation
from gateway.emulator.embeddings import EMBED_METHODS, answer_embeddings, check_embedding_model
from gateway.emulator.errors import (
    GeminiError,
    api_key_invalid,
    invalid_argument,
    model_not_found,
    unregistered_caller,
)
from gateway.emulator.faults import (
    Fault,
    error_response,
    fault_error_response,
    json_response,
    parse_fault,
    shape_stream,
    shape_unary,
)
from gateway.emulator.fields import field, objects
from gateway.emulator.history import inspect_history
from gateway.emulator.models import CATALOGUE, ModelInfo, find_model, models_page
from gateway.emulator.options import parse_generation_config, parse_tools
from gateway.emulator.render import issued_turns, stream_chunks, unary_body
from gateway.emulator.scenarios import Reply, compose_reply
from gateway.emulator.scenarios import Request as AnswerRequest
from gateway.emulator.signatures import Signer
from gateway.emulator.state import DEFAULT_MAX_RECORDED, EmulatorState, RecordedRequest
from gateway.emulator.streaming import SSE_MEDIA_TYPE, EventStream, encode_events
from gateway.emulator.tokens import (
    count_tokens_response,
    prompt_tokens,
    vertex_count_tokens_response,
)
from gateway.emulator.validate import check_body, parse_json_error
from gateway.emulator.vertex import (
    VERTEX_SECRET_SUFFIX,
    TokenBook,
    VertexCall,
    add_vertex_fields,
    authenticate,
    check_location,
    check_vertex_body,
    match_vertex,
    metadata,
    token_endpoint,
    vertex_resource,
)
from gateway.emulator.vertex_embeddings import VERTEX_EMBED_METHODS, answer_vertex_embeddings

__all__ = ["DEFAULT_SECRET", "EmulatorState", "RecordedRequest", "build_emulator_app"]

DEFAULT_SECRET: Final = b"gemini-gateway-emulator-secret"
INVALID_KEY: Final = "invalid-key"
GENERATE_METHODS: Final = frozenset({"generateContent", "streamGenerateContent"})
_PATH: Final = re.compile(
    r"^/(?P<version>v\d+[a-z0-9]*)/models(?:/(?P<model>[^:/]+)(?::(?P<method>[A-Za-z]+))?)?/?$"
)


def build_emulator_app(
    secret: bytes = DEFAULT_SECRET,
    signature_bytes: int | None = None,
    *,
    max_recorded: int = DEFAULT_MAX_RECORDED,
) -> Starlette:
    """A fresh emulator; its `EmulatorState` is `app.state.emulator`.

    `signature_bytes` pads issued signatures to that many base64 characters (perf tests);
    `max_recorded` bounds `state.requests` / `state.issued` (bodies can be megabytes)."""
    app = Starlette(
        routes=[
            Route("/_emulator/faults", _control_faults, methods=["POST"]),
            Route("/_emulator/reset", _control_reset, methods=["POST"]),
            Route("/_emulator/stats", _control_stats, methods=["GET"]),
            Route("/token", token_endpoint, methods=["POST"]),
            Route("/", metadata, methods=["GET"]),
            Route("/computeMetadata/{path:path}", metadata, methods=["GET", "POST"]),
            Route("/{path:path}", _gemini, methods=["GET", "POST"]),
        ]
    )
    vertex_signer = Signer(secret + VERTEX_SECRET_SUFFIX, signature_bytes)
    app.state.emulator = EmulatorState(
        Signer(secret, signature_bytes), max_recorded, vertex_signer=vertex_signer
    )
    app.state.vertex_tokens = TokenBook()
    return app


def _state(request: Request) -> EmulatorState:
    state: EmulatorState = request.app.state.emulator
    return state


async def _control_faults(request: Request) -> Response:
    try:
        params = orjson.loads(await request.body())
        if not isinstance(params, dict) or not isinstance(params.get("kind"), str):
            raise ValueError('expected {"kind": "...", ...params, "count": 1}')
        kind = params.pop("kind")
        _state(request).queue_fault(kind, **params)
    except (orjson.JSONDecodeError, TypeError, ValueError) as error:
        return error_response(invalid_argument(str(error)))
    return json_response({"queued": kind, "pendingFaults": len(_state(request).faults)})


async def _control_reset(request: Request) -> Response:
    _state(request).reset()
    return json_response({"reset": True})


async def _control_stats(request: Request) -> Response:
    book: TokenBook = request.app.state.vertex_tokens
    return json_response({**_state(request).stats(), "tokens": dict(book.fetches)})


def _parse_json(raw: bytes) -> object:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None


async def _gemini(request: Request) -> Response:
    vertex = match_vertex(request.url.path)
    if vertex is not None:
        return await _vertex(request, vertex)
    state = _state(request)
    match = _PATH.match(request.url.path)
    raw = await request.body() if request.method == "POST" else b""
    parsed = _parse_json(raw) if raw.strip() else {}
    model_id = match["model"] if match else None
    method = match["method"] if match else None
    if match and method is None:
        method = "models.get" if model_id else "models.list"
    record = RecordedRequest(
        path=request.url.path,
        model=model_id,
        method=method,
        query=dict(request.query_params),
        headers=dict(request.headers),
        body=parsed if isinstance(parsed, dict) else {},
        http_method=request.method,
    )
    state.record(record)
    try:
        reads = method in ("models.get", "models.list")
        if match is None or reads != (request.method == "GET"):
            raise GeminiError(404, "Method not found.")
        _authenticate(record)
        if method == "models.list":
            return json_response(
                models_page(record.query.get("pageSize"), record.query.get("pageToken"))
            )
        model = find_model(str(model_id))
        if model is None:
            method_name = "generateContent" if method == "models.get" else str(method)
            raise model_not_found(str(model_id), match["version"], method_name)
        if method == "models.get":
            return json_response(model.resource())
        if method == "countTokens":
            return json_response(count_tokens_response(_require_json(parsed)))
        if method in EMBED_METHODS or method in GENERATE_METHODS:
            check_embedding_model(model, str(method), match["version"])
        if method in EMBED_METHODS:
            return answer_embeddings(state, model, str(method), parsed)
        if method not in GENERATE_METHODS:
            raise GeminiError(404, f"Method not found: models.{method}.")
        return await _generate(state, record, model, raw, parsed)
    except GeminiError as error:
        return error_response(error)


async def _vertex(request: Request, call: VertexCall) -> Response:
    """Vertex AI paths (emulator/vertex.py): the same answers, Vertex's auth and strictness."""
    state = _state(request)
    raw = await request.body() if request.method == "POST" else b""
    parsed = _parse_json(raw) if raw.strip() else {}
    method = call.method or ("models.get" if call.model else "models.list")
    record = RecordedRequest(
        path=request.url.path,
        model=call.model,
        method=method,
        query=dict(request.query_params),
        headers=dict(request.headers),
        body=parsed if isinstance(parsed, dict) else {},
        http_method=request.method,
        backend="vertex",
    )
    state.record(record)
    try:
        if (method in ("models.get", "models.list")) != (request.method == "GET"):
            raise GeminiError(404, "Method not found.")
        authenticate(call, record.headers, request.app.state.vertex_tokens)
        if method == "models.list":
            listed = [vertex_resource(m.resource()) for m in CATALOGUE.values()]
            return json_response({"publisherModels": listed})
        model = find_model(str(call.model))
        check_location(call)
        if model is None:
            raise GeminiError(404, f"Publisher Model `{call.model}` was not found.")
        if method == "models.get":
            return json_response(vertex_resource(model.resource()))
        parsed = check_vertex_body(_require_json(parsed))
        if method == "countTokens":
            return json_response(vertex_count_tokens_response(parsed))
        if method in VERTEX_EMBED_METHODS or method in GENERATE_METHODS:
            check_embedding_model(model, method, call.version, VERTEX_EMBED_METHODS)
        if method in VERTEX_EMBED_METHODS:
            return answer_vertex_embeddings(state, model, method, parsed)
        if method not in GENERATE_METHODS:
            raise GeminiError(404, f"Method not found: {method}.")
        return await _generate(state, record, model, raw, parsed, vertex=True)
    except GeminiError as error:
        return error_response(error)


def _authenticate(record: RecordedRequest) -> None:
    """Header or `key=` query parameter, like Google; the key itself is never echoed."""
    key = record.headers.get("x-goog-api-key") or record.query.get("key")
    if not key:
        raise unregistered_caller()
    if key == INVALID_KEY:
        raise api_key_invalid()


def _require_json(parsed: object) -> object:
    if parsed is None:
        raise parse_json_error()
    return parsed


async def _generate(
    state: EmulatorState,
    record: RecordedRequest,
    model: ModelInfo,
    raw: bytes,
    parsed: object,
    *,
    vertex: bool = False,
) -> Response:
    """A queued fault first (outages ignore the body), then the body and history checks, then
    the answer, shaped by any fault (queued, or `#fault=` in the prompt)."""
    streaming = record.method == "streamGenerateContent"
    fault = state.faults.pop()
    if fault is not None and fault.is_error:
        return fault_error_response(fault, model.id)
    body = check_body(_require_json(parsed))
    options = parse_generation_config(field(body, "generationConfig"), model)
    signer = state.vertex_signer if vertex else state.signer
    report = inspect_history(objects(body, "contents"), model, signer, state.issued_macs)
    record.signature_checks = report.checks
    if report.error is not None:
        raise report.error
    conversation = read_conversation(body)
    directives = conversation.directives
    if fault is None and directives.fault is not None:
        fault = _directive_fault(directives.fault)
        if fault.is_error:
            return fault_error_response(fault, model.id)
    answer = AnswerRequest(model, options, parse_tools(body), conversation, signer)
    reply = compose_reply(answer, directives)
    rid = _response_id(model.id, raw)
    prompt = prompt_tokens(body)
    if streaming:
        sse = record.query.get("alt") == "sse"
        return _stream(state, reply, fault, model, rid, prompt, sse=sse, vertex=vertex)
    return await _unary(state, reply, fault, model, rid, prompt, vertex=vertex)


def _directive_fault(spec: str) -> Fault:
    try:
        return parse_fault(spec)
    except ValueError as error:
        raise invalid_argument(f"Emulator directive #fault: {error}") from error


def _response_id(model_id: str, raw: bytes) -> str:
    """Deterministic, like everything else here: the same request gets the same id."""
    digest = hashlib.sha256(model_id.encode() + b"\0" + raw).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode("ascii")


async def _unary(
    state: EmulatorState,
    reply: Reply,
    fault: Fault | None,
    model: ModelInfo,
    rid: str,
    prompt: tuple[int, list[dict[str, Any]]],
    *,
    vertex: bool = False,
) -> Response:
    if fault is not None and fault.kind in ("delay", "slow_first", "hang"):
        await asyncio.sleep(fault.seconds)
        if fault.kind == "hang":
            return error_response(GeminiError(504))
    payload = unary_body(reply, prompt, model.id, rid)
    data, media_type = shape_unary(add_vertex_fields(payload) if vertex else payload, fault)
    if fault is None or fault.delivers_turn:
        state.remember(issued_turns(reply), vertex=vertex)
    return Response(data, media_type=media_type)


def _stream(
    state: EmulatorState,
    reply: Reply,
    fault: Fault | None,
    model: ModelInfo,
    rid: str,
    prompt: tuple[int, list[dict[str, Any]]],
    *,
    sse: bool,
    vertex: bool = False,
) -> Response:
    media_type = SSE_MEDIA_TYPE if sse else "application/json; charset=UTF-8"
    chunks = stream_chunks(reply, prompt, model, rid)
    if vertex:
        chunks = [add_vertex_fields(chunk) for chunk in chunks]
    plan = shape_stream(chunks, fault, media_type)
    if fault is None or fault.delivers_turn:
        state.remember(issued_turns(reply), vertex=vertex)
    return EventStream(
        encode_events(plan, sse=sse),
        media_type=plan.media_type,
        start_delay=plan.start_delay,
        first_delay=plan.first_delay,
        stall_after_first=plan.stall_after_first,
        on_cancel=state.note_cancelled,
    )

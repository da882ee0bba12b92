"""The only code that talks to Gemini: URLs, the key header, deadlines and retries over a
`Wire` (wire.py), whose faults arrive already mapped to GatewayErrors. Streams are decoded
incrementally, never buffered."""

from __future__ import annotations

import asyncio
import logging
import random
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote, urlencode

import orjson

from gateway import lifted_json
from gateway.config import Settings
from gateway.errors import GatewayError, NotFoundError, UpstreamError
from gateway.logs import log_body
from gateway.translate.backend_body import for_backend
from gateway.translate.response.upstream_errors import to_gateway_error
from gateway.upstream.backend import Backend, open_backend
from gateway.upstream.body import Body, as_bytes
from gateway.upstream.capped import chunks_capped, read_capped, too_large
from gateway.upstream.decode import MAX_EVENT_BYTES, SSEDecoder
from gateway.upstream.failure import deadline_error, log_attempt, log_call
from gateway.upstream.keys import KeyRing
from gateway.upstream.retry import backoff, should_retry
from gateway.upstream.wire import WireResponse, open_wire

if TYPE_CHECKING:
    import httpx

body_log = logging.getLogger("gateway.bodies")
MAX_ERROR_BODY = 64 * 1024
MAX_JSON_BODY = MAX_EVENT_BYTES  # GATEWAY_UPSTREAM_MAX_BYTES's default (readers without settings)
T = TypeVar("T")
MODEL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


@dataclass
class CallStats:
    """Filled in during one call, read by the access log and metrics."""

    attempts: int = 0
    retries: int = 0
    upstream_ms: float = 0.0
    received: int = 0  # bytes of Gemini's answers read: a large read is worth a memory trim
    # usageMetadata per answer (a stream's latest: running totals); counted when the request ends
    usage: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    warned: bool = False  # the request's one upstream-failure warning is logged (failure.py)


class GeminiClient:
    """`auth_transport`: where Google auth calls go (None: real sockets; the CLI hands the
    in-process emulator's). `clock` times access tokens (tests inject one)."""

    def __init__(
        self,
        settings: Settings,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        auth_transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.wire = open_wire(settings, transport)
        self.backend: Backend = open_backend(settings, auth_transport, clock)
        self.keys = KeyRing(settings.api_keys)
        self._rng = random.Random()

    @property
    def is_closed(self) -> bool:
        return self.wire.is_closed

    async def start(self) -> None:
        """Credentials discovery (Vertex): once, before the first request."""
        await self.backend.start()

    async def aclose(self) -> None:
        await self.wire.aclose()
        await self.backend.aclose()

    def fit(self, body: dict[str, Any]) -> tuple[dict[str, Any], tuple[str, ...]]:
        """A translated body fitted to this backend (translate/backend_body.py), with notes:
        every surface calls this before encoding its body."""
        return for_backend(body, self.backend.vertex)

    def _url(self, path: str) -> str:
        return self.backend.url(path)

    def _model_path(self, model: str, method: str) -> str:
        """The model id goes into the URL path, so it must be a plain id: no `/`, `?`, `#`,
        `..` or control characters that would send the call (and the key) somewhere else.
        Vertex has no `tunedModels/` collection (its tuned models are endpoints)."""
        collection, _, name = model.rpartition("/")
        allowed = ("",) if self.backend.vertex else ("", "tunedModels")
        if collection not in allowed or not MODEL_ID.fullmatch(name):
            raise NotFoundError(
                f"model {model[:64]!r} is not a valid Gemini model id",
                param="model",
                code="model_not_found",
            )
        return f"{collection or 'models'}/{name}:{method}"

    async def _error(self, response: WireResponse) -> GatewayError:
        body = b""
        try:
            async for chunk in response.chunks():
                body += chunk
                if len(body) > MAX_ERROR_BODY:
                    break
        except UpstreamError:
            pass  # a cut error body still has a status worth reporting
        err = to_gateway_error(response.status, body, response.header("retry-after"))
        err.upstream_body = body
        return err

    async def _open(
        self, method: str, path: str, key: str | None, body: Body | None, stats: CallStats
    ) -> WireResponse:
        """Send with retries; returns a streaming response with a 2xx status.

        Only this phase retries: nothing has reached the client yet. The caller bounds it
        with the total deadline."""
        if body is not None and self.settings.log_bodies:
            log_body(body_log, "upstream_request", as_bytes(body))
        attempt, url = 0, self._url(path)
        while True:
            use_key = key if key is not None else (self.keys.pick() or "")
            stats.attempts += 1
            log_call(method, url, attempt)
            err: GatewayError
            try:
                headers = await self.backend.headers(use_key)
                response = await self.wire.send(method, url, headers, body)
            except UpstreamError as exc:
                err = exc
            else:
                if response.status < 300:
                    return response
                try:
                    err = self.backend.explain(await self._error(response), path)
                finally:
                    await response.close()
            if use_key and use_key in err.message:  # Gemini's own texts may echo the key
                err.message = err.message.replace(use_key, "[redacted]")
                err.args = (err.message,)
            if use_key and err.upstream_body and use_key.encode() in err.upstream_body:
                err.upstream_body = err.upstream_body.replace(use_key.encode(), b"[redacted]")
            if err.status == 429 and key is None and err.retry_after:
                self.keys.rest(use_key, err.retry_after)
            wait = backoff(attempt, err.retry_after, self._rng)
            retry = (
                attempt < self.settings.max_retries
                and should_retry(err)
                and wait <= self.settings.retry_max_wait
            )
            stats.warned = log_attempt(err, url, attempt, retry, wait, stats.warned)
            if not retry:
                raise err
            attempt += 1
            stats.retries += 1
            await asyncio.sleep(wait)

    async def _read_json(
        self, method: str, path: str, key: str | None, body: Body | None, stats: CallStats
    ) -> dict[str, Any]:
        raw = await self._read_body(method, path, key, body, stats)
        try:
            data = lifted_json.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise UpstreamError("Gemini answered with a body that is not valid JSON") from exc
        if not isinstance(data, dict):
            raise UpstreamError("Gemini answered with an unexpected JSON shape")
        return data

    async def _bounded(
        self,
        method: str,
        path: str,
        key: str | None,
        body: Body | None,
        stats: CallStats,
        read: Callable[[WireResponse, int, CallStats, str], Awaitable[T]],
    ) -> tuple[WireResponse, T]:
        """Opens one unary call and reads it with `read`, both under the total deadline (504)."""
        try:
            async with asyncio.timeout(self.settings.total_timeout):
                response = await self._open(method, path, key, body, stats)
                try:
                    limit, url = self.settings.upstream_max_bytes, self._url(path)
                    return response, await read(response, limit, stats, url)
                finally:
                    await response.close()
        except TimeoutError as exc:
            raise deadline_error(self._url(path), stats.warned) from exc

    async def _read_body(
        self, method: str, path: str, key: str | None, body: Body | None, stats: CallStats
    ) -> bytes:
        """One unary call, open and body, under the total deadline."""
        _, raw = await self._bounded(method, path, key, body, stats, read_capped)
        if body is not None and self.settings.log_bodies:
            log_body(body_log, "upstream_response", raw)
        return raw

    async def generate(
        self, model: str, body: Body, key: str | None, stats: CallStats | None = None
    ) -> dict[str, Any]:
        path = self._model_path(model, "generateContent")
        stats = stats or CallStats()
        reply = await self._read_json("POST", path, key, body, stats)
        stats.usage.append(reply.get("usageMetadata") or {})
        return reply

    async def embed(
        self,
        model: str,
        method: str,
        body: Body,
        key: str | None,
        stats: CallStats | None = None,
    ) -> bytes:
        """One embedding call (`batchEmbedContents`, or `predict` for Vertex's older models):
        same URL builder, auth, retries and deadline as `generate`. The body comes back as
        bytes: its vectors are read straight from them (translate/embeddings/raw_reply.py).
        `prettyPrint=false` (a Google system parameter, README "Embeddings") asks for compact
        JSON: Gemini indents each value on its own line by default, 1.7 × the bytes."""
        path = self._model_path(model, method) + "?prettyPrint=false"
        return await self._read_body("POST", path, key, body, stats or CallStats())

    async def count_tokens(
        self, model: str, body: Body, key: str | None, stats: CallStats | None = None
    ) -> dict[str, Any]:
        """`countTokens` for a body the gateway built (the Responses `input_tokens` route);
        native clients' countTokens goes through `relay_unary` untouched instead."""
        path = self._model_path(model, "countTokens")
        return await self._read_json("POST", path, key, body, stats or CallStats())

    @asynccontextmanager
    async def stream(
        self, model: str, body: Body, key: str | None, stats: CallStats | None = None
    ) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        """Opens the stream (errors before the first event raise here, with their status).

        The total deadline bounds the opening; afterwards the read timeout bounds each silence."""
        stats = stats or CallStats()
        path = self._model_path(model, "streamGenerateContent") + "?alt=sse"
        try:
            async with asyncio.timeout(self.settings.total_timeout):
                response = await self._open("POST", path, key, body, stats)
        except TimeoutError as exc:
            raise deadline_error(self._url(path), stats.warned) from exc
        try:
            yield self._events(response, stats)
        finally:
            await response.close()

    async def _events(
        self, response: WireResponse, stats: CallStats
    ) -> AsyncIterator[dict[str, Any]]:
        """The body's format is sniffed, not trusted from the content type: proxies relabel.
        Events are decoded as they arrive; one event (or a whole non-SSE body) may not exceed
        `upstream_max_bytes`."""
        limit = self.settings.upstream_max_bytes
        slot = len(stats.usage)
        stats.usage.append({})
        chunks = response.chunks()
        head = b""
        async for chunk in chunks:
            stats.received += len(chunk)
            head += chunk
            if head.strip() or len(head) > MAX_ERROR_BODY:
                break
        lead = head.lstrip()[:1]
        if lead == b"<":
            content_type = response.header("content-type") or ""
            raise UpstreamError(
                f"Gemini answered a stream with an HTML page ({content_type or 'no type'})"
            )
        if lead in (b"[", b"{"):
            for event in await self._json_events(head, chunks, limit, stats):
                yield self._event(event, stats, slot)
            return
        decoder = SSEDecoder(limit)
        for event in decoder.feed(head):
            yield self._event(event, stats, slot)
        async for chunk in chunks:
            stats.received += len(chunk)
            for event in decoder.feed(chunk):
                yield self._event(event, stats, slot)
        for event in decoder.close():
            yield self._event(event, stats, slot)

    def _event(self, event: Any, stats: CallStats, slot: int) -> dict[str, Any]:
        checked = _checked(event)
        usage = checked.get("usageMetadata")
        if isinstance(usage, dict):
            stats.usage[slot] = usage
        if self.settings.log_bodies:
            log_body(body_log, "upstream_event", checked)
        return checked

    @staticmethod
    async def _json_events(
        head: bytes, chunks: AsyncIterator[bytes], limit: int, stats: CallStats
    ) -> list[Any]:
        """A proxy or the non-SSE form: one JSON array (or object) for the whole stream."""
        raw = bytearray(head)
        async for chunk in chunks:
            stats.received += len(chunk)
            raw += chunk
            if len(raw) > limit:
                raise too_large(limit)
        try:
            data = lifted_json.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise UpstreamError("Gemini answered a stream with a body that is not JSON") from exc
        return data if isinstance(data, list) else [data]

    # -- the native routes' raw relay: the same opening, retries and deadlines, bytes as sent --

    def native_path(self, model: str, method: str) -> str:
        """The upstream path of a native model call (`:streamGenerateContent` always as SSE:
        the gateway relays events one by one, whatever framing its client asked for)."""
        path = self._model_path(model, method)
        return path + "?alt=sse" if method == "streamGenerateContent" else path

    @staticmethod
    def models_path(model: str | None = None, page_size: str = "", page_token: str = "") -> str:
        """`models` (a page of the list) or `models/{model}`; an id no model can have (a
        newline, a space) is a 404 here rather than a question to Gemini."""
        if model is not None:
            if not MODEL_ID.fullmatch(model):
                raise NotFoundError(
                    f"model {model[:64]!r} is not a valid Gemini model id",
                    param="model",
                    code="model_not_found",
                )
            return f"models/{quote(model, safe='')}"
        query = urlencode(
            [(k, v) for k, v in (("pageSize", page_size), ("pageToken", page_token)) if v]
        )
        return "models" + (f"?{query}" if query else "")

    async def relay_unary(
        self, method: str, path: str, body: Body | None, key: str | None, stats: CallStats
    ) -> tuple[list[bytes], str]:
        """A whole answer as the chunks it arrived in (never joined: the route sends them on
        as they are) and its content type, opening and body under the total deadline."""
        response, chunks = await self._bounded(method, path, key, body, stats, chunks_capped)
        content_type = response.header("content-type") or "application/json; charset=UTF-8"
        if method == "GET" and self.backend.vertex:  # Vertex's model shapes, as AI Studio's
            try:
                data = lifted_json.loads(b"".join(chunks))
            except orjson.JSONDecodeError as exc:
                raise UpstreamError("Vertex AI answered with a body that is not JSON") from exc
            if isinstance(data, dict):
                return [orjson.dumps(self.backend.fit_response(data))], content_type
        return chunks, content_type

    @asynccontextmanager
    async def relay_stream(
        self, path: str, body: Body, key: str | None, stats: CallStats
    ) -> AsyncIterator[WireResponse]:
        """An open 2xx stream whose raw body the caller reads; as `stream`, the total deadline
        bounds the opening and the read timeout each silence after it."""
        try:
            async with asyncio.timeout(self.settings.total_timeout):
                response = await self._open("POST", path, key, body, stats)
        except TimeoutError as exc:
            raise deadline_error(self._url(path), stats.warned) from exc
        try:
            yield response
        finally:
            await response.close()

    async def get_json(self, path: str, key: str | None) -> dict[str, Any]:
        """Model lists and resources, in AI Studio's shape whichever the backend."""
        return self.backend.fit_response(await self._read_json("GET", path, key, None, CallStats()))

    async def post_json(self, path: str, body: bytes, key: str | None) -> dict[str, Any]:
        return await self._read_json("POST", path, key, body, CallStats())


def _checked(event: Any) -> dict[str, Any]:
    if not isinstance(event, dict):
        raise UpstreamError("Gemini sent a stream event with an unexpected shape")
    if isinstance(event.get("error"), dict):
        error = event["error"]
        code = error.get("code")
        status = code if isinstance(code, int) and 400 <= code <= 599 else 502
        raise to_gateway_error(status, orjson.dumps({"error": error}), None)
    return event

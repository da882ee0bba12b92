"""The only code that talks to Gemini: URLs, the key header, timeouts, retries, and httpx
errors mapped once to GatewayErrors. Streams are decoded incrementally, never buffered."""

from __future__ import annotations

import logging
import random
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx
import orjson

from gateway.config import Settings
from gateway.errors import (
    GatewayError,
    NotFoundError,
    UpstreamConnectError,
    UpstreamError,
    UpstreamTimeoutError,
)
from gateway.logs import log_body
from gateway.translate.response.upstream_errors import to_gateway_error
from gateway.upstream.decode import MAX_EVENT_BYTES, SSEDecoder
from gateway.upstream.keys import KeyRing
from gateway.upstream.retry import backoff, should_retry

log = logging.getLogger("gateway.upstream")
body_log = logging.getLogger("gateway.bodies")
MAX_ERROR_BODY = 64 * 1024
MAX_JSON_BODY = MAX_EVENT_BYTES
MODEL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


@dataclass
class CallStats:
    """Filled in during one call, read by the access log and metrics."""

    attempts: int = 0
    retries: int = 0
    upstream_ms: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


def _map_transport_error(exc: httpx.HTTPError) -> GatewayError:
    if isinstance(exc, httpx.TimeoutException):
        return UpstreamTimeoutError("Gemini did not answer in time")
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        return UpstreamConnectError("could not connect to the Gemini upstream")
    return UpstreamError(f"the connection to Gemini failed ({type(exc).__name__})")


def _deadline_error() -> UpstreamTimeoutError:
    return UpstreamTimeoutError("Gemini did not answer within the total deadline")


MAX_CACHED_URLS = 1024


def _tune_read_size(size: int = 256 * 1024) -> None:
    """httpcore reads responses 64 KiB at a time; an image answer is megabytes, and each read is
    a trip through the event loop (measured: ~15% of CPU on a 3 MB answer). The attribute is
    httpcore's own knob; if a release drops it, reads simply stay at the default."""
    from httpcore._async import http11

    if isinstance(getattr(http11.AsyncHTTP11Connection, "READ_NUM_BYTES", None), int):
        http11.AsyncHTTP11Connection.READ_NUM_BYTES = size


class GeminiClient:
    def __init__(
        self, settings: Settings, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.settings = settings
        self._urls: dict[str, httpx.URL] = {}
        _tune_read_size()
        self.keys = KeyRing(settings.api_keys)
        self._rng = random.Random()
        timeout = httpx.Timeout(
            connect=settings.connect_timeout,
            read=settings.read_timeout,
            write=settings.read_timeout,
            pool=settings.connect_timeout,
        )
        limits = httpx.Limits(
            max_connections=settings.max_connections,
            max_keepalive_connections=settings.max_connections,
        )
        self.http = httpx.AsyncClient(
            base_url=settings.base_url.rstrip("/"),
            timeout=timeout,
            limits=limits,
            transport=transport,
            trust_env=False,
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    def _url(self, path: str) -> httpx.URL:
        """Absolute URLs, parsed once per path: httpx's URL parsing was a visible share of the
        per-request cost on small chats (paths are few: one per model and method)."""
        url = self._urls.get(path)
        if url is None:
            if len(self._urls) >= MAX_CACHED_URLS:
                self._urls.clear()
            url = self._urls[path] = self.http.base_url.join(
                f"{self.http.base_url.raw_path.decode().rstrip('/')}/"
                f"{self.settings.api_version}/{path}"
            )
        return url

    @staticmethod
    def _model_path(model: str, method: str) -> str:
        """The model id goes into the URL path, so it must be a plain id: no `/`, `?`, `#`,
        `..` or control characters that would send the call (and the key) somewhere else."""
        collection, _, name = model.rpartition("/")
        if collection not in ("", "tunedModels") or not MODEL_ID.fullmatch(name):
            raise NotFoundError(
                f"model {model[:64]!r} is not a valid Gemini model id",
                param="model",
                code="model_not_found",
            )
        return f"{collection or 'models'}/{name}:{method}"

    def _headers(self, key: str) -> dict[str, str]:
        return {
            "x-goog-api-key": key,
            "content-type": "application/json",
            "x-goog-api-client": "gemini-gateway/0.1",
        }

    async def _error(self, response: httpx.Response) -> GatewayError:
        body = b""
        try:
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_ERROR_BODY:
                    break
        except httpx.HTTPError:
            pass  # a cut error body still has a status worth reporting
        return to_gateway_error(response.status_code, body, response.headers.get("retry-after"))

    async def _open(
        self, method: str, path: str, key: str | None, body: bytes | None, stats: CallStats
    ) -> httpx.Response:
        """Send with retries; returns a streaming response with a 2xx status.

        Only this phase retries: nothing has reached the client yet. The caller bounds it
        with the total deadline."""
        if body is not None and self.settings.log_bodies:
            log_body(body_log, "upstream_request", body)
        attempt = 0
        while True:
            use_key = key if key is not None else (self.keys.pick() or "")
            stats.attempts += 1
            request = self.http.build_request(
                method, self._url(path), content=body, headers=self._headers(use_key)
            )
            try:
                response = await self.http.send(request, stream=True)
            except httpx.HTTPError as exc:
                err = _map_transport_error(exc)
            else:
                if response.status_code < 300:
                    return response
                try:
                    err = await self._error(response)
                finally:
                    await release(response)
            if use_key and use_key in err.message:  # Gemini's own texts may echo the key
                err.message = err.message.replace(use_key, "[redacted]")
                err.args = (err.message,)
            if err.status == 429 and key is None and err.retry_after:
                self.keys.rest(use_key, err.retry_after)
            wait = backoff(attempt, err.retry_after, self._rng)
            if (
                attempt >= self.settings.max_retries
                or not should_retry(err)
                or wait > self.settings.retry_max_wait
            ):
                raise err
            attempt += 1
            stats.retries += 1
            log.info("retrying Gemini call after %s (%.2fs)", err.code, wait)
            await anyio.sleep(wait)

    async def _read_json(
        self, method: str, path: str, key: str | None, body: bytes | None, stats: CallStats
    ) -> dict[str, Any]:
        """One unary call, open and body, under the total deadline."""
        try:
            with anyio.fail_after(self.settings.total_timeout):
                response = await self._open(method, path, key, body, stats)
                try:
                    raw = await _read_capped(response, MAX_JSON_BODY)
                finally:
                    await release(response)
        except httpx.HTTPError as exc:
            raise _map_transport_error(exc) from exc
        except TimeoutError as exc:
            raise _deadline_error() from exc
        if body is not None and self.settings.log_bodies:
            log_body(body_log, "upstream_response", raw)
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise UpstreamError("Gemini answered with a body that is not valid JSON") from exc
        if not isinstance(data, dict):
            raise UpstreamError("Gemini answered with an unexpected JSON shape")
        return data

    async def generate(
        self, model: str, body: bytes, key: str | None, stats: CallStats | None = None
    ) -> dict[str, Any]:
        path = self._model_path(model, "generateContent")
        return await self._read_json("POST", path, key, body, stats or CallStats())

    @asynccontextmanager
    async def stream(
        self, model: str, body: bytes, key: str | None, stats: CallStats | None = None
    ) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        """Opens the stream (errors before the first event raise here, with their status).

        The total deadline bounds the opening; afterwards the read timeout bounds each silence."""
        stats = stats or CallStats()
        path = self._model_path(model, "streamGenerateContent") + "?alt=sse"
        try:
            with anyio.fail_after(self.settings.total_timeout):
                response = await self._open("POST", path, key, body, stats)
        except TimeoutError as exc:
            raise _deadline_error() from exc
        try:
            yield self._events(response)
        finally:
            await release(response)

    async def _events(self, response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
        """The body's format is sniffed, not trusted from the content type: proxies relabel."""
        chunks = response.aiter_bytes()
        head = b""
        try:
            async for chunk in chunks:
                head += chunk
                if head.strip() or len(head) > MAX_ERROR_BODY:
                    break
            lead = head.lstrip()[:1]
            if lead in (b"[", b"{"):
                events = await self._json_events(head, chunks)
            elif lead == b"<":
                content_type = response.headers.get("content-type", "")
                raise UpstreamError(
                    f"Gemini answered a stream with an HTML page ({content_type or 'no type'})"
                )
            else:
                decoder = SSEDecoder()
                for event in decoder.feed(head):
                    yield self._event(event)
                async for chunk in chunks:
                    for event in decoder.feed(chunk):
                        yield self._event(event)
                for event in decoder.close():
                    yield self._event(event)
                return
        except httpx.HTTPError as exc:
            raise _map_transport_error(exc) from exc
        for event in events:
            yield self._event(event)

    def _event(self, event: Any) -> dict[str, Any]:
        checked = _checked(event)
        if self.settings.log_bodies:
            log_body(body_log, "upstream_event", checked)
        return checked

    @staticmethod
    async def _json_events(head: bytes, chunks: AsyncIterator[bytes]) -> list[Any]:
        """A proxy or the non-SSE form: one JSON array (or object) for the whole stream."""
        raw = bytearray(head)
        async for chunk in chunks:
            raw += chunk
            if len(raw) > MAX_JSON_BODY:
                raise UpstreamError("Gemini's stream body exceeds the size limit")
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise UpstreamError("Gemini answered a stream with a body that is not JSON") from exc
        return data if isinstance(data, list) else [data]

    async def get_json(self, path: str, key: str | None) -> dict[str, Any]:
        return await self._read_json("GET", path, key, None, CallStats())

    async def post_json(self, path: str, body: bytes, key: str | None) -> dict[str, Any]:
        return await self._read_json("POST", path, key, body, CallStats())


async def _read_capped(response: httpx.Response, limit: int) -> bytearray:
    """orjson reads a bytearray as is: no final copy of a multi-MB answer."""
    raw = bytearray()
    async for chunk in response.aiter_bytes():
        raw += chunk
        if len(raw) > limit:
            raise UpstreamError("Gemini's answer exceeds the size limit")
    return raw


async def release(response: httpx.Response) -> None:
    """Close, and break httpx's response ↔ stream reference cycle: otherwise the request body
    (megabytes of images) waits for a full GC pass instead of going with the last reference."""
    await response.aclose()
    response.stream = httpx.ByteStream(b"")


def _checked(event: Any) -> dict[str, Any]:
    if not isinstance(event, dict):
        raise UpstreamError("Gemini sent a stream event with an unexpected shape")
    if isinstance(event.get("error"), dict):
        error = event["error"]
        code = error.get("code")
        status = code if isinstance(code, int) and 400 <= code <= 599 else 502
        raise to_gateway_error(status, orjson.dumps({"error": error}), None)
    return event

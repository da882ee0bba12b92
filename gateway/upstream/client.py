"""The only code that talks to Gemini: URLs, the key header, timeouts, retries, and httpx
errors mapped once to GatewayErrors. Streams are decoded incrementally, never buffered."""

from __future__ import annotations

import logging
import random
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
    UpstreamConnectError,
    UpstreamError,
    UpstreamTimeoutError,
)
from gateway.translate.response.upstream_errors import to_gateway_error
from gateway.upstream.decode import SSEDecoder
from gateway.upstream.keys import KeyRing
from gateway.upstream.retry import backoff, should_retry

log = logging.getLogger("gateway.upstream")
MAX_ERROR_BODY = 64 * 1024


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


class GeminiClient:
    def __init__(
        self, settings: Settings, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.settings = settings
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

    def _url(self, path: str) -> str:
        return f"/{self.settings.api_version}/{path}"

    def _headers(self, key: str) -> dict[str, str]:
        return {
            "x-goog-api-key": key,
            "content-type": "application/json",
            "x-goog-api-client": "gemini-gateway/0.1",
        }

    async def _error(self, response: httpx.Response) -> GatewayError:
        body = b""
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > MAX_ERROR_BODY:
                break
        return to_gateway_error(response.status_code, body, response.headers.get("retry-after"))

    async def _open(
        self, method: str, path: str, key: str | None, body: bytes | None, stats: CallStats
    ) -> httpx.Response:
        """Send with retries; returns a streaming response with a 2xx status."""
        attempt = 0
        with anyio.fail_after(self.settings.total_timeout):
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
                        await response.aclose()
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

    async def generate(
        self, model: str, body: bytes, key: str | None, stats: CallStats | None = None
    ) -> dict[str, Any]:
        stats = stats or CallStats()
        path = f"models/{model}:generateContent"
        try:
            response = await self._open("POST", path, key, body, stats)
            try:
                raw = await response.aread()
            finally:
                await response.aclose()
        except httpx.HTTPError as exc:
            raise _map_transport_error(exc) from exc
        except TimeoutError as exc:
            raise UpstreamTimeoutError("Gemini did not answer within the total deadline") from exc
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise UpstreamError("Gemini answered with a body that is not valid JSON") from exc
        if not isinstance(data, dict):
            raise UpstreamError("Gemini answered with an unexpected JSON shape")
        return data

    @asynccontextmanager
    async def stream(
        self, model: str, body: bytes, key: str | None, stats: CallStats | None = None
    ) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        """Opens the stream (errors before the first event raise here, with their status)."""
        stats = stats or CallStats()
        path = f"models/{model}:streamGenerateContent?alt=sse"
        try:
            response = await self._open("POST", path, key, body, stats)
        except TimeoutError as exc:
            raise UpstreamTimeoutError("Gemini did not answer within the total deadline") from exc
        try:
            yield self._events(response)
        finally:
            await response.aclose()

    async def _events(self, response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
        content_type = response.headers.get("content-type", "")
        if "event-stream" not in content_type:
            async for event in self._json_events(response):
                yield event
            return
        decoder = SSEDecoder()
        try:
            async for chunk in response.aiter_bytes():
                for event in decoder.feed(chunk):
                    yield _checked(event)
            for event in decoder.close():
                yield _checked(event)
        except httpx.HTTPError as exc:
            raise _map_transport_error(exc) from exc

    async def _json_events(self, response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
        """A proxy or the non-SSE form: one JSON array (or object) for the whole stream."""
        try:
            raw = await response.aread()
        except httpx.HTTPError as exc:
            raise _map_transport_error(exc) from exc
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise UpstreamError("Gemini answered a stream with a body that is not JSON") from exc
        for event in data if isinstance(data, list) else [data]:
            yield _checked(event)

    async def get_json(self, path: str, key: str | None) -> dict[str, Any]:
        stats = CallStats()
        try:
            response = await self._open("GET", path, key, None, stats)
            try:
                raw = await response.aread()
            finally:
                await response.aclose()
        except httpx.HTTPError as exc:
            raise _map_transport_error(exc) from exc
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise UpstreamError("Gemini answered with a body that is not valid JSON") from exc
        return data if isinstance(data, dict) else {}

    async def post_json(self, path: str, body: bytes, key: str | None) -> dict[str, Any]:
        stats = CallStats()
        try:
            response = await self._open("POST", path, key, body, stats)
            try:
                raw = await response.aread()
            finally:
                await response.aclose()
        except httpx.HTTPError as exc:
            raise _map_transport_error(exc) from exc
        data = orjson.loads(raw)
        return data if isinstance(data, dict) else {}


def _checked(event: Any) -> dict[str, Any]:
    if not isinstance(event, dict):
        raise UpstreamError("Gemini sent a stream event with an unexpected shape")
    if isinstance(event.get("error"), dict):
        error = event["error"]
        status = int(error.get("code") or 502)
        raise to_gateway_error(status, orjson.dumps({"error": error}), None)
    return event

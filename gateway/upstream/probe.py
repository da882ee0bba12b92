"""One bounded look at the configured upstream, for /readyz: can this gateway reach Gemini (AI
Studio, Vertex AI, the emulator or a relay at GOOGLE_GEMINI_BASE_URL) with what it would send?

It goes through the gateway's own stack (the client's wire, the backend's URL and auth headers,
the Vertex token source), so it fails where real calls would: a refused port, DNS, TLS, a
black hole, an expired key. One attempt, no retries: readiness is polled again soon anyway.

- With credentials (server keys, or Vertex's access token): `GET models?pageSize=1`. 2xx is
  ready; 401/403 (and Gemini's 400 API_KEY_INVALID) is "upstream refused the configured key";
  5xx is not ready; any other answer (429 quota, a relay without a model list) proves the host
  reachable and the key not refused, so it is ready.
- Pass-through (no server key: each caller brings its own): the same request with no key; any
  answer below 500 proves the host reachable.
Keys and tokens appear in no result: only the host, a kind, a status and fixed words."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from gateway.config import DEFAULT_BASE_URL
from gateway.errors import UpstreamError, UpstreamTimeoutError
from gateway.translate.response.upstream_errors import to_gateway_error
from gateway.upstream.client import GeminiClient
from gateway.upstream.failure import failure_code, upstream_host
from gateway.upstream.wire import WireResponse

PROBE_PATH = "models?pageSize=1"
MAX_PROBE_BODY = 64 * 1024  # read (and dropped) so a keep-alive connection goes back to the pool
KEY_HEADER = "x-goog-api-key"


@dataclass(frozen=True, slots=True)
class UpstreamCheck:
    """`kind`: ok, refused, reset, dns, tls, timeout, unauthorized (the key or credentials were
    refused), credentials (no Vertex access token), upstream_error (a 5xx), closed, error."""

    ok: bool
    host: str
    kind: str = "ok"
    reason: str = ""
    status: int | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ok": self.ok, "kind": self.kind, "host": self.host}
        if self.status is not None:
            out["status"] = self.status
        if self.reason:
            out["reason"] = self.reason
        return out


def probe_host(client: GeminiClient) -> str:
    """`host:port` of the probe's URL; `emulator` for `serve --emulator`, whose in-process
    emulator answers for Google's host name (showing that name would send an operator looking
    for a network path that does not exist)."""
    if client.settings.upstream == "emulator" and client.settings.base_url == DEFAULT_BASE_URL:
        return "emulator"
    return upstream_host(client.backend.url(PROBE_PATH))


def sends_token(client: GeminiClient) -> bool:
    """Vertex with Application Default Credentials: an access token on every call, no key."""
    return client.backend.vertex and not client.settings.vertex_express


def sends_credentials(client: GeminiClient) -> bool:
    """Server keys, or an access token: what the gateway itself vouches for on each call."""
    return bool(client.keys) or sends_token(client)


async def probe_upstream(client: GeminiClient, bound: float) -> UpstreamCheck:
    """Answers within `bound` seconds whatever the upstream does (a black hole: "timeout")."""
    host = probe_host(client)
    if client.is_closed:
        return UpstreamCheck(False, host, "closed", "the upstream client is closed")
    try:
        async with asyncio.timeout(bound):
            return await _probe(client, host)
    except TimeoutError:
        return UpstreamCheck(False, host, "timeout", f"no answer within {bound:g} s")
    except (RuntimeError, ValueError, OSError) as exc:  # readiness answers; it does not 500
        return UpstreamCheck(False, host, "error", f"the probe failed ({type(exc).__name__})")


async def _probe(client: GeminiClient, host: str) -> UpstreamCheck:
    credentialed = sends_credentials(client)
    key = client.keys.pick() or ""
    try:
        headers = await client.backend.headers(key)
    except UpstreamError:  # Vertex: the token source could not refresh
        return UpstreamCheck(False, host, "credentials", "no upstream access token could be had")
    if not credentialed:
        headers.pop(KEY_HEADER, None)
    try:
        response = await client.wire.send("GET", client.backend.url(PROBE_PATH), headers, None)
    except UpstreamError as exc:
        kind = "timeout" if isinstance(exc, UpstreamTimeoutError) else failure_code(exc)
        return UpstreamCheck(False, host, kind, f"could not reach the upstream ({kind})")
    try:
        body = await _head(response)
    finally:
        await response.close()
    return _judge(response.status, body, host, credentialed, _credential_name(client))


def _credential_name(client: GeminiClient) -> str:
    return "key" if client.keys and not sends_token(client) else "credentials"


def _judge(status: int, body: bytes, host: str, credentialed: bool, what: str) -> UpstreamCheck:
    if status >= 500:
        return UpstreamCheck(False, host, "upstream_error", f"upstream answered {status}", status)
    if status < 300 or not credentialed:
        return UpstreamCheck(True, host, status=status)
    # 401/403 whatever the body (a proxy's page too); a 400 only when Gemini says API_KEY_INVALID
    if status in (401, 403) or to_gateway_error(status, body, None).status in (401, 403):
        reason = f"upstream refused the configured {what}"
        return UpstreamCheck(False, host, "unauthorized", reason, status)
    return UpstreamCheck(True, host, status=status)


async def _head(response: WireResponse) -> bytes:
    """At most MAX_PROBE_BODY bytes of the answer (an error body says why a key was refused)."""
    body = b""
    try:
        async for chunk in response.chunks():
            body += chunk
            if len(body) > MAX_PROBE_BODY:
                break
    except UpstreamError:
        pass  # the status already arrived; a cut body changes nothing about reachability
    return body

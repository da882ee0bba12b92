"""One native Gemini call (`/v1beta/models/{model}:{method}`): the body is read for its structure
only, repaired when it must be (translate/native/repairs.py), and relayed; the answer goes back
as Gemini sent it. The streaming twin is native_stream.py.

What is relayed untouched: a body that needs no repair and no opt-in step goes upstream as the
very bytes the client sent; a repaired body is the client's JSON with the repairs made, its long
strings (images, signatures) still the request's own bytes. Answers are never parsed: a unary
answer is sent on as the chunks it arrived in (only its tail is read, for `usageMetadata`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from gateway.errors import UpstreamError
from gateway.serving.context import CallContext, Services
from gateway.serving.native_options import apply_options
from gateway.translate.native import skeleton
from gateway.translate.native.repairs import Repairs
from gateway.translate.native.usage import tail_of, usage_in_tail
from gateway.upstream.body import Body, Pieces

log = logging.getLogger("gateway.serving")

# The request message each method's body is (translate/native/schema.py).
METHODS: dict[str, str] = {
    "generateContent": "GenerateContentRequest",
    "streamGenerateContent": "GenerateContentRequest",
    "countTokens": "CountTokensRequest",
}
REPAIRS_HEADER = "x-gateway-repairs"


@dataclass(slots=True)
class NativeBody:
    """What goes upstream, and what the response headers say was done to it."""

    body: Body
    repairs: Repairs = field(default_factory=Repairs)
    headers: dict[str, str] = field(default_factory=dict)


async def native_body(
    parsed: skeleton.Skeleton,
    repairs: Repairs,
    raw: bytes,
    method: str,
    headers: Mapping[str, str],
    call: CallContext,
    services: Services,
) -> NativeBody:
    """The body to send: `raw` itself unless a repair, an opt-in step or the backend (Vertex
    AI: roles filled, function ids dropped; translate/backend_body.py) changed it."""
    said: dict[str, str] = {}
    for kind, count in repairs.items():
        services.metrics.native_repairs.labels(kind).inc()
        call.notes.append(f"native_repair:{kind}={count}")
    if repairs:
        said[REPAIRS_HEADER] = repairs.header()
    changed, options_said = await apply_options(parsed, method, headers, call, services)
    said.update(options_said)
    if services.upstream.backend.vertex:  # an AI-Studio-shaped body made fit for Vertex
        parsed.data, adapted = services.upstream.fit(parsed.data)
        changed = changed or bool(adapted)
        call.notes.extend(adapted)
    if not repairs and not changed:
        return NativeBody(raw, repairs, said)
    return NativeBody(as_body(skeleton.encode(parsed)), repairs, said)


def as_body(encoded: skeleton.Encoded) -> Body:
    if isinstance(encoded, bytes):
        return encoded
    return Pieces(encoded, sum(len(part) for part in encoded))


@dataclass(frozen=True, slots=True)
class Answer:
    """A unary answer as Gemini sent it: its chunks (not joined) and content type."""

    chunks: list[bytes]
    content_type: str


async def relay_unary(
    method: str, path: str, body: Body | None, call: CallContext, services: Services
) -> Answer:
    started = time.perf_counter()
    chunks, content_type = await services.upstream.relay_unary(
        method, path, body, call.upstream_key, call.stats
    )
    call.stats.upstream_ms = (time.perf_counter() - started) * 1000
    services.metrics.upstream_latency.observe(call.stats.upstream_ms / 1000)
    # The answer is relayed unparsed; its two ends still show a body that is not one JSON
    # object (an HTML error page, a cut or garbled answer), which must not go out as a 200.
    # (strip() of a chunk with nothing to strip is the chunk itself: no copy.)
    lead = next((c.lstrip()[:1] for c in chunks if c.strip()), b"")
    last = next((c.rstrip()[-1:] for c in reversed(chunks) if c.strip()), b"")
    if lead != b"{" or last != b"}":
        what = "an HTML page" if lead == b"<" else "a body that is not a whole JSON object"
        raise UpstreamError(f"Gemini answered with {what}")
    if path.endswith(":generateContent"):  # counted by the access log's token metrics
        call.stats.usage.append(usage_in_tail(tail_of(chunks)) or {})
    return Answer(chunks, content_type)

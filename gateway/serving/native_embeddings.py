"""One native embedding call (`:embedContent`, `:batchEmbedContents`), once checked
(translate/embeddings/native.py).

AI Studio serves these methods itself: the client's bytes go up as sent and Gemini's answer
comes back as the chunks it arrived in (the relay every native call uses, serving/native.py),
asked for without Gemini's indentation (1.7 × the bytes of a vector otherwise).
Vertex AI serves other calls for the same models: the request goes the way /v1/embeddings
sends it there (the same `GeminiClient.embed`: URL, credentials, retries, deadline) and the
answer is rewritten in the Gemini API's shape.

Metrics as /v1/embeddings counts them: inputs and tokens by model, the tokens Gemini's count
when it gives one (Vertex does), else the gateway's estimate (noted `embedding_tokens:estimated`).
AI Studio's answer is not parsed for a count: it sends none for these methods.
"""

from __future__ import annotations

import time

import orjson

from gateway.serving.context import CallContext, Services
from gateway.serving.native import Answer, relay_unary
from gateway.translate.embeddings.native import NativeEmbed, from_vertex, to_vertex

JSON_TYPE = "application/json; charset=UTF-8"
COMPACT = "?prettyPrint=false"  # a Google system parameter (README "Embeddings")


async def native_embed(
    request: NativeEmbed, raw: bytes, call: CallContext, services: Services
) -> Answer:
    """Gemini's answer to the call; upstream errors raise with their status and body."""
    call.model = request.model
    if services.upstream.backend.vertex:
        answer, tokens = await _on_vertex(request, call, services)
    else:
        # Compact JSON, as /v1/embeddings asks for: Gemini indents every value by default.
        path = services.upstream.native_path(request.model, request.method) + COMPACT
        answer, tokens = await relay_unary("POST", path, raw, call, services), None
    if tokens is None:
        tokens = request.estimated_tokens()
        call.notes.append("embedding_tokens:estimated")
    label = services.metrics.model_label(request.model)
    services.metrics.embedding_inputs.labels(label).inc(request.inputs)
    services.metrics.embedding_tokens.labels(label).inc(tokens)
    return answer


async def _on_vertex(
    request: NativeEmbed, call: CallContext, services: Services
) -> tuple[Answer, int | None]:
    wire, body = to_vertex(request)
    call.notes.append(f"vertex_embed:{wire.method}")
    started = time.perf_counter()
    try:
        raw = await services.upstream.embed(
            request.model, wire.method, orjson.dumps(body), call.upstream_key, call.stats
        )
    finally:
        call.stats.upstream_ms = (time.perf_counter() - started) * 1000
        services.metrics.upstream_latency.observe(call.stats.upstream_ms / 1000)
    answer, tokens = from_vertex(request, wire, raw)
    return Answer([orjson.dumps(answer)], JSON_TYPE), tokens

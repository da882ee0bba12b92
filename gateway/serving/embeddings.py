"""One OpenAI embeddings call: the checked request → Gemini calls of at most 100 inputs
(`batchEmbedContents`, or `predict` for Vertex's older models: translate/embeddings/wire.py),
MAX_PARALLEL_BATCHES at a time → the vectors in input order → the OpenAI list.

One failing batch fails the request with its error (status kept, as on chat): the others are
cancelled, since a partial list of vectors is of no use to the caller."""

from __future__ import annotations

import time
from typing import Any, Final

import anyio
import orjson

from gateway.errors import GatewayError
from gateway.serving.context import CallContext, Services
from gateway.translate.embeddings.raw_reply import Texts
from gateway.translate.embeddings.request import EmbeddingsRequest, batches
from gateway.translate.embeddings.response import Vector, prompt_tokens, to_openai_embeddings
from gateway.translate.embeddings.wire import read_reply, wire_for

Json = dict[str, Any]

MAX_PARALLEL_BATCHES: Final = 4
"""Batch calls in flight for one request: 2,048 inputs should not take 21 of a key's slots."""


async def run_batches(
    request: EmbeddingsRequest, call: CallContext, services: Services
) -> tuple[list[Vector], list[int | None], Texts]:
    """(vectors in input order, each call's token count, the vectors' JSON texts); raises the
    first batch error."""
    ranges = batches(request)
    wire = wire_for(request.model, services.upstream.backend.vertex)
    vectors: list[Vector] = [[] for _ in request.inputs]
    counts: list[int | None] = [None for _ in ranges]
    texts: Texts = {}
    failures: list[GatewayError] = []
    limiter = anyio.CapacityLimiter(MAX_PARALLEL_BATCHES)

    async def one(index: int, start: int, stop: int, cancel: anyio.CancelScope) -> None:
        body = orjson.dumps(wire.body(request, request.inputs[start:stop]))
        async with limiter:
            started = time.perf_counter()
            try:
                reply = await services.upstream.embed(
                    request.model, wire.method, body, call.upstream_key, call.stats
                )
                vectors[start:stop], counts[index], found = read_reply(
                    wire, reply, stop - start, keep_texts=request.encoding == "float"
                )
                texts.update(found)
            except GatewayError as exc:
                failures.append(exc)
                cancel.cancel()
            finally:
                services.metrics.upstream_latency.observe(time.perf_counter() - started)

    started = time.perf_counter()
    async with anyio.create_task_group() as tg:
        for index, (start, stop) in enumerate(ranges):
            tg.start_soon(one, index, start, stop, tg.cancel_scope)
    call.stats.upstream_ms = (time.perf_counter() - started) * 1000
    if failures:
        raise failures[0]
    return vectors, counts, texts


async def complete_embeddings(
    request: EmbeddingsRequest, call: CallContext, services: Services
) -> Json:
    call.model = request.model
    call.notes.extend(request.notes)
    vectors, counts, texts = await run_batches(request, call, services)
    tokens, counted = prompt_tokens(counts, request)
    if not counted:
        call.notes.append("embedding_tokens:estimated")
    services.metrics.embedding_inputs.labels(services.metrics.model_label(request.model)).inc(
        len(request.inputs)
    )
    services.metrics.embedding_tokens.labels(services.metrics.model_label(request.model)).inc(
        tokens
    )
    return to_openai_embeddings(request, vectors, tokens, texts)

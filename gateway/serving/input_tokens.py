"""`POST /v1/responses/input_tokens`: how many input tokens a Responses request would use.

The request goes through the Responses call's own preparation (`prepare_responses`: stored
chain, conversation, instructions, tools, images, the turn cache), so the count is of the very
Gemini body a `POST /v1/responses` would send; then Gemini's countTokens counts it. Nothing is
stored and no turn is remembered.
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from gateway.serving.context import CallContext, OwnedBody, Services
from gateway.serving.responses import prepare_responses
from gateway.translate.responses.input_tokens import count_tokens_body, input_tokens_reply
from gateway.upstream.body import as_bytes


async def count_input_tokens(
    owned: OwnedBody, call: CallContext, services: Services, scope: str
) -> dict[str, Any]:
    rc = await prepare_responses(owned, call, services, scope)
    model = rc.prepared.model
    generate_body = orjson.loads(as_bytes(rc.prepared.body))
    body = count_tokens_body(generate_body, model, vertex=services.upstream.backend.vertex)
    started = time.perf_counter()
    count = await services.upstream.count_tokens(
        model, orjson.dumps(body), call.upstream_key, call.stats
    )
    call.stats.upstream_ms = (time.perf_counter() - started) * 1000
    services.metrics.upstream_latency.observe(call.stats.upstream_ms / 1000)
    return input_tokens_reply(count)

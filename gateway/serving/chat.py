"""One chat completion, step by step: parse → resolve → to_gemini → upstream → to_openai →
remember. The streaming twin is in chat_stream.py and shares `prepare`."""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any

import orjson

from gateway.errors import InvalidRequestError
from gateway.lifted_json import Spans
from gateway.serving import splice
from gateway.serving.budget import budget_policy, fit_history
from gateway.serving.context import CallContext, OwnedBody, Services
from gateway.serving.offload import is_large, run_pure
from gateway.serving.resolve import remember, report, resolve
from gateway.translate.parse import ChatRequest, parse_chat_request
from gateway.translate.request import inputs_needed, to_gemini_request
from gateway.translate.response.completion import to_openai_completion
from gateway.translate.response.context import ResponseContext
from gateway.translate.turn_view import ViewOptions
from gateway.upstream.body import Body

log = logging.getLogger("gateway.serving")


@dataclass(frozen=True, slots=True)
class Prepared:
    """What the call still needs once the Gemini body is encoded (not the request itself)."""

    model: str
    include_usage: bool
    body: Body
    options: ViewOptions
    prefix: str


def view_options(chat: ChatRequest, services: Services) -> ViewOptions:
    """Deployment defaults, overridable per request under `google` (README: image options)."""
    settings = services.settings
    markdown = chat.google.get("image_markdown", settings.image_markdown)
    thought_images = chat.google.get("include_thought_images", settings.thought_images)
    hosted = services.hosted.public_url if services.hosted else None
    if chat.google.get("hosted_images") is False:
        hosted = None
    return ViewOptions(
        image_markdown=bool(markdown),
        thought_images=bool(thought_images),
        hosted_base=hosted,
        backend=services.upstream.backend.tag,
    )


async def prepare(owned: OwnedBody, call: CallContext, services: Services) -> Prepared:
    raw = owned.take()
    large = is_large(raw.get("messages") if isinstance(raw, dict) else None)
    chat = await run_pure(large, parse_chat_request, raw)
    del raw
    return await prepare_chat(
        chat, owned.take_spans(), call, services, view_options(chat, services)
    )


async def prepare_chat(
    chat: ChatRequest, spans: Spans, call: CallContext, services: Services, options: ViewOptions
) -> Prepared:
    """From a parsed chat request (the Responses API builds one too) to the encoded body."""
    large = is_large(chat.messages)
    policy = budget_policy(chat, services)
    # Payloads are read before the body is written only by the history budget.
    splices = splice.from_spans(spans, stand_ins=policy is None)
    call.model = chat.model
    needs = inputs_needed(chat, options)
    resolved = await resolve(needs, services, options, splices.payloads, call.scope)
    gemini = await run_pure(
        large, to_gemini_request, chat, resolved, options, services.settings.image_limits
    )
    call.notes.extend(gemini.notes)
    report(gemini.notes, services, call.request_id)
    body = await fit_history(gemini.body, chat.model, policy, call, services)
    body, adapted = services.upstream.fit(body)
    call.notes.extend(adapted)
    prefix = chat.prefixes[-1]
    try:
        encoded = splice.encode(body, splices.sources)
    except orjson.JSONEncodeError as exc:  # e.g. a tool result nested deeper than JSON allows
        raise InvalidRequestError(
            f"the request cannot be sent to Gemini: {exc}", param="messages"
        ) from exc
    return Prepared(chat.model, chat.include_usage, encoded, options, prefix)


def response_context(
    prepared: Prepared, reply_id: str | None, call: CallContext
) -> ResponseContext:
    completion_id = f"chatcmpl-{reply_id or uuid.uuid4().hex}"
    return ResponseContext(
        completion_id=completion_id,
        created=call.created,
        model=prepared.model,
        view=prepared.options,
        include_usage=prepared.include_usage,
        prefix_digest=prepared.prefix,
    )


async def complete_chat(owned: OwnedBody, call: CallContext, services: Services) -> dict[str, Any]:
    prepared = await prepare(owned, call, services)
    started = time.perf_counter()
    reply = await services.upstream.generate(
        prepared.model, prepared.body, call.upstream_key, call.stats
    )
    call.stats.upstream_ms = (time.perf_counter() - started) * 1000
    services.metrics.upstream_latency.observe(call.stats.upstream_ms / 1000)
    ctx = response_context(prepared, reply.get("responseId"), call)
    completion, memo = to_openai_completion(reply, ctx)
    await remember(memo, prepared.prefix, prepared.model, services, call.scope)
    return completion

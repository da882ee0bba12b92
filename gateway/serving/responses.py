"""One Responses API call, step by step: parse → earlier items (the stored chain) → a chat
request (translate/responses) → the chat path's prepare (resolve, to Gemini, encode) →
upstream → output items → remember the turn (turn cache) → store the response.
The streaming twin is responses_stream.py and shares `prepare_responses` and `finish_call`."""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any

from gateway.errors import InvalidRequestError, NotFoundError
from gateway.serving.chat import Prepared, prepare_chat
from gateway.serving.context import CallContext, OwnedBody, Services
from gateway.serving.resolve import remember, report
from gateway.state.conversations import ConversationStore
from gateway.state.responses import StoredResponse
from gateway.translate.response.context import memo_from_views
from gateway.translate.responses import Keys, remap_error, to_chat_request
from gateway.translate.responses.output import OutputBuilder, OutputContext
from gateway.translate.responses.params import echo_fields
from gateway.translate.responses.parse import (
    ResponsesRequest,
    parse_responses_request,
    with_ids,
)
from gateway.translate.responses.reply import to_responses_response
from gateway.translate.turn_view import ViewOptions

log = logging.getLogger("gateway.serving")
Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ResponsesCall:
    """What the call needs once the Gemini body is encoded."""

    request: ResponsesRequest
    prepared: Prepared
    ctx: OutputContext
    echo: Json
    scope: str
    created_at: int


def backend_of(services: Services) -> str:
    """Signatures are bound to the backend (and Vertex project) that issued them (design.md)."""
    return services.upstream.backend.tag or services.settings.upstream


def conversation_store(services: Services) -> ConversationStore | None:
    if services.records is None or services.responses is None:
        return None
    ttl = services.settings.responses_max_age
    return ConversationStore(services.records, services.responses, ttl)


def not_found(response_id: str, param: str | None = None) -> NotFoundError:
    code = "previous_response_not_found" if param == "previous_response_id" else "not_found"
    return NotFoundError(f"Response with id '{response_id}' not found.", param=param, code=code)


async def _history(
    request: ResponsesRequest, scope: str, services: Services
) -> tuple[list[tuple[Json, str]], dict[str, Json]]:
    """The stored chain's items (oldest first) and the stored images the input names by id."""
    store = services.responses
    history: list[tuple[Json, str]] = []
    if request.previous_response_id:
        chain = await store.chain(scope, request.previous_response_id) if store else None
        if chain is None:
            raise not_found(request.previous_response_id, "previous_response_id")
        for stored in chain:
            history.extend((item, "previous_response_id") for item in stored.input)
            history.extend((item, "previous_response_id") for item in stored.response["output"])
    if request.conversation:
        conversations = conversation_store(services)
        found = await conversations.items(scope, request.conversation) if conversations else None
        if found is None:
            raise NotFoundError(
                f"Conversation with id '{request.conversation}' not found.", param="conversation"
            )
        history.extend((item, "conversation") for item in found)
    wanted = [
        str(item["id"])
        for item in request.input
        if item.get("type") == "item_reference"
        or (item.get("type") == "image_generation_call" and not item.get("result"))
    ]
    references: dict[str, Json] = {}
    if wanted and store is not None:
        for item_id, image in (await store.images(scope, wanted)).items():
            references[item_id] = {"type": "image_generation_call", "id": item_id, **image}
    return history, references


async def prepare_responses(
    owned: OwnedBody, call: CallContext, services: Services, scope: str
) -> ResponsesCall:
    request = parse_responses_request(owned.take())
    call.model = request.model
    history, references = await _history(request, scope, services)
    hosted = services.hosted.public_url if services.hosted else None
    backend = backend_of(services)
    keys = Keys(services.envelope_secret, backend, hosted, services.upstream.backend.tag)
    translated = to_chat_request(request, history, keys, references)
    call.notes.extend(translated.notes)
    report(translated.notes, services, call.request_id)
    ignored = [n for n in translated.notes if n.startswith("responses_ignored")]
    if ignored:
        log.info("responses items ignored", extra={"request_id": call.request_id, "notes": ignored})
    tag = services.upstream.backend.tag
    options = ViewOptions(image_markdown=False, hosted_base=hosted, backend=tag)
    try:
        prepared = await prepare_chat(translated.chat, owned.take_spans(), call, services, options)
    except InvalidRequestError as err:
        raise remap_error(err, translated) from None
    ctx = OutputContext(
        response_id=f"resp_{uuid.uuid4().hex}",
        model=request.model,
        backend=backend,
        secret=services.envelope_secret,
        partial_images=translated.params.partial_images,
    )
    return ResponsesCall(request, prepared, ctx, echo_fields(request), scope, call.created)


async def finish_call(
    rc: ResponsesCall, response: Json, builder: OutputBuilder, services: Services
) -> None:
    """Remember the turn for clients that drop the reasoning item; store the response."""
    memo = memo_from_views({0: builder.view})
    await remember(memo, rc.prepared.prefix, rc.prepared.model, services, rc.scope)
    seed = rc.ctx.response_id.removeprefix("resp_")
    inputs = with_ids(rc.request.input, seed)
    if rc.request.store and services.responses is not None:
        await services.responses.put(rc.scope, StoredResponse(response, inputs))
    conversations = conversation_store(services)
    if rc.request.conversation and conversations is not None:
        # what this turn added, in order: the new input items, then the output items
        await conversations.append(
            rc.scope, rc.request.conversation, [*inputs, *response["output"]]
        )


async def complete_responses(
    owned: OwnedBody, call: CallContext, services: Services, scope: str
) -> Json:
    rc = await prepare_responses(owned, call, services, scope)
    started = time.perf_counter()
    reply = await services.upstream.generate(
        rc.prepared.model, rc.prepared.body, call.upstream_key, call.stats
    )
    call.stats.upstream_ms = (time.perf_counter() - started) * 1000
    services.metrics.upstream_latency.observe(call.stats.upstream_ms / 1000)
    response, builder = to_responses_response(
        reply, rc.ctx, rc.echo, rc.created_at, int(time.time())
    )
    await finish_call(rc, response, builder, services)
    return response

"""The I/O steps around the pure translation: fetch image URLs, read hosted images and
remembered turns before it; remember turns and host images after it."""

from __future__ import annotations

import logging

from gateway.errors import InvalidImageUrlError, StateUnavailableError
from gateway.protocol.stand_in import Payload
from gateway.protocol.turn_record import TurnRecord
from gateway.serving.context import Services
from gateway.state.scope import ScopedStore
from gateway.state.store import StoreError
from gateway.translate.request import Needs, Resolved
from gateway.translate.response.context import Memo
from gateway.translate.turn_keys import turn_keys
from gateway.translate.turn_view import ViewOptions

log = logging.getLogger("gateway.serving")


async def resolve(
    needs: Needs,
    services: Services,
    options: ViewOptions,
    payloads: dict[int, tuple[str, Payload]] | None,
    scope: str,
) -> Resolved:
    """Remembered turns are read only from the caller's `scope`; hosted image bytes from any
    (their URLs are capabilities), so a foreign hosted image arrives without its turn."""
    images: dict[str, tuple[str, str]] = {}
    for url, param in needs.hosted_urls:
        name = services.hosted.name_of(url) if services.hosted else None
        found = await hosted_image(services, name, param) if name else None
        if found is None:
            raise InvalidImageUrlError(
                "this gateway-hosted image is unknown or has expired; send the image again",
                param=param,
            )
        images[url] = found
    for url, param in needs.fetch_urls:
        if services.fetcher is None:
            raise InvalidImageUrlError(
                "image URL fetching is disabled on this gateway; send a data: URL", param=param
            )
        fetched = await services.fetcher.fetch(url, param=param)
        services.metrics.image_fetches.labels("ok").inc()
        images[url] = (fetched.mime_type, fetched.data_b64)
    turns: dict[str, TurnRecord] = {}
    if needs.turn_keys:
        try:
            found_turns = await ScopedStore(services.turns, scope).get_many(needs.turn_keys)
        except StoreError as exc:
            state_failed("turn_get", services, exc)
            found_turns = {}  # stateless: the client's own carriers, then the fallbacks
        for key, value in found_turns.items():
            record = TurnRecord.read(value)
            if isinstance(record, TurnRecord):
                turns[key] = record
            else:  # newer than this release, or unreadable: a miss (protocol/schema.py)
                services.ignored("turn_record", record)
        hits, misses = len(turns), len(needs.turn_keys) - len(turns)
        services.metrics.turn_cache.labels("hit").inc(hits)
        services.metrics.turn_cache.labels("miss").inc(misses)
        log.debug("turn cache lookup", extra={"turn_cache_hits": hits, "turn_cache_misses": misses})
    return Resolved(
        images=images,
        turns=turns,
        hosted_base=options.hosted_base,
        payloads=payloads or {},
        backend=services.upstream.backend.tag,
    )


async def remember(memo: Memo, prefix: str, model: str, services: Services, scope: str) -> None:
    """Store each choice's turn under every key a client may bring back (turn_keys.py), inside
    the caller's `scope` (state/scope.py). A store that is down loses these turns (counted);
    the response is already the client's."""
    if services.hosted is not None:
        try:
            await services.hosted.put_many(memo.hosted)
        except StoreError as exc:
            state_failed("hosted_put", services, exc)
    items: dict[str, bytes] = {}
    for turn in memo.turns:
        if not turn.replay_parts:
            continue
        record = TurnRecord.of_turn(
            turn.replay_parts,
            turn.content,
            turn.content_pieces,
            turn.tool_call_ids,
            model,
            backend=services.upstream.backend.tag or "",
        ).encode()
        images = [
            str(p["inlineData"].get("data", ""))
            for p in turn.replay_parts
            if isinstance(p.get("inlineData"), dict)
        ]
        for key in turn_keys(prefix, turn.content, turn.tool_call_ids, images):
            items[key] = record
    if items:
        try:
            await ScopedStore(services.turns, scope).put_many(items)
        except StoreError as exc:
            state_failed("turn_put", services, exc)


async def hosted_image(services: Services, name: str, param: str | None) -> tuple[str, str] | None:
    """A hosted image's (mime, base64), None when unknown; the store being down is a 503 the
    client may retry (chat, Responses and the native routes alike), never a 500."""
    if services.hosted is None:
        return None
    try:
        return await services.hosted.get_b64(name)
    except StoreError as exc:
        state_failed("hosted_get", services, exc)
        raise StateUnavailableError(
            "this gateway-hosted image cannot be read while the state store is"
            " unavailable; retry, or send the image itself",
            param=param,
        ) from exc


def state_failed(op: str, services: Services, exc: StoreError) -> None:
    """Count a state operation served without the store; the store logs each outage once."""
    services.metrics.state_unavailable.labels(op).inc()
    log.debug("state store operation failed", extra={"op": op, "error": str(exc)})


def report(notes: tuple[str, ...] | list[str], services: Services, request_id: str) -> None:
    for note in notes:
        services.metrics.note(note)
    degraded = [n for n in notes if n.startswith(("signature_fallback", "signature_dropped"))]
    if degraded:
        log.warning(
            "signature fallback used",
            extra={"request_id": request_id, "fallbacks": degraded},
        )

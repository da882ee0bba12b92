"""Assistant message → Gemini model turn. The fidelity invariant lives here: same parts, same
order, same bytes, same signatures — whichever way the client sent the message back.

Three sources, best first:
1. our carrier (`extra_content.google.parts` + `images[]` + `tool_calls[]`), used when what it
   renders equals the message's visible content (no server state needed);
2. a remembered turn from the turn cache whose rendering equals the visible content;
3. a rebuild from what is visible (text, markdown/`image_url` images, `images[]`, tool calls),
   with every signature that can still be matched to an unchanged part re-attached.
The client's edit always wins: a signature stays only on a part that is still the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import orjson

from gateway.errors import InvalidRequestError
from gateway.protocol.turn_record import TurnRecord
from gateway.translate.data_urls import parse_data_url
from gateway.translate.request.origin import (
    message_origin,
    record_origin,
    signatures_in,
    strip_signatures,
)
from gateway.translate.request.parts import image_url_part
from gateway.translate.request.resolved import Resolved
from gateway.translate.request.visible import (
    image_item_url,
    part_identity,
    visible_items,
    visible_parts,
)
from gateway.translate.signatures import (
    SIG,
    LooseSignatures,
    google_extra,
    google_signature,
    loose_signatures,
)
from gateway.translate.turn_keys import turn_keys, visible_text
from gateway.translate.turn_view import TurnView, ViewOptions

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ModelTurn:
    parts: list[Json]
    known: list[bool]  # per part: do we know whether Gemini signed it?
    source: str  # "carrier" | "cache" | "rebuilt"
    dropped: int = 0  # signatures minted by another backend, left out (origin.py)


def _foreign(turn: ModelTurn) -> ModelTurn:
    parts, known, dropped = strip_signatures(turn.parts, turn.known)
    return ModelTurn(parts, known, turn.source, dropped)


def carrier_of(message: Json) -> list[Any] | None:
    google = google_extra(message)
    parts = google.get("parts") if google is not None else None
    return parts if isinstance(parts, list) else None


def _tool_call_args(call: Json, param: str) -> Json:
    raw = (call.get("function") or {}).get("arguments")
    if isinstance(raw, dict):
        return raw
    if raw is None or raw == "":
        return {}
    try:
        args = orjson.loads(raw)
        orjson.dumps(args)  # nesting orjson can read but not write (depth > 255) is refused here
    except (orjson.JSONDecodeError, orjson.JSONEncodeError):
        args = None
    if not isinstance(args, dict):
        raise InvalidRequestError(
            "tool call arguments must be a JSON object encoded as a string",
            param=f"{param}.function.arguments",
        )
    return args


def _function_call(call: Json, param: str, native_id: bool, sig: str | None) -> Json:
    body: Json = {"name": call["function"]["name"], "args": _tool_call_args(call, param)}
    if native_id:
        body["id"] = call["id"]
    part: Json = {"functionCall": body}
    if sig is not None:
        part[SIG] = sig
    return part


# -- 1. our carrier --------------------------------------------------------------------------


def _from_carrier(
    message: Json, carrier: list[Any], param: str, resolved: Resolved, options: ViewOptions
) -> ModelTurn | None:
    images = message.get("images") or []
    calls = message.get("tool_calls") or []
    parts: list[Json] = []
    view = TurnView(replace(options, image_markdown=True))
    for desc in carrier:
        if not isinstance(desc, dict):
            return None
        if "note" in desc:
            view.content.append(str(desc["note"]))
            view.last_visible = "text"
            continue
        part = _carrier_part(desc, images, calls, param, resolved)
        if part is None:
            return None
        parts.append(part)
        view.add(part)
    visible = visible_text(message.get("content"))
    if view.content_text != visible and not _matches_without_images(parts, carrier, visible):
        return None
    return ModelTurn(parts, [True] * len(parts), "carrier")


def _matches_without_images(parts: list[Json], carrier: list[Any], visible: str) -> bool:
    """The same turn rendered with the markdown mirror off (per-request or per-deployment)."""
    view = TurnView(ViewOptions(image_markdown=False))
    notes = iter(d["note"] for d in carrier if isinstance(d, dict) and "note" in d)
    for part in parts:
        view.add(part)
    return view.content_text + "".join(notes) == visible


def _carrier_part(
    desc: Json, images: list[Any], calls: list[Any], param: str, resolved: Resolved
) -> Json | None:
    if "text" in desc:
        part: Json = {"text": str(desc["text"])}
        if desc.get("thought_signature"):
            part[SIG] = desc["thought_signature"]
        return part
    if "thought" in desc:
        part = {"text": str(desc["thought"]), "thought": True}
        if desc.get("thought_signature"):
            part[SIG] = desc["thought_signature"]
        return part
    if "image" in desc:
        i = desc["image"]
        if not isinstance(i, int) or not 0 <= i < len(images):
            return None
        url = image_item_url(images[i])
        if url is None:
            return None
        part = image_url_part(url, f"{param}.images[{i}].image_url.url", resolved)
        sig = google_signature(images[i])
        return {**part, SIG: sig} if sig else part
    if "tool_call" in desc:
        i = desc["tool_call"]
        if not isinstance(i, int) or not 0 <= i < len(calls):
            return None
        call = calls[i]
        return _function_call(
            call, f"{param}.tool_calls[{i}]", bool(desc.get("native_id")), google_signature(call)
        )
    if "part" in desc and isinstance(desc["part"], dict):
        return dict(desc["part"])
    return None


# -- 2. the turn cache -------------------------------------------------------------------------


def _from_record(message: Json, record: TurnRecord, param: str, visible: str) -> ModelTurn | None:
    if not record.shows(visible):
        return None
    parts = [dict(p) for p in record.parts]
    calls = {c["id"]: (k, c) for k, c in enumerate(message.get("tool_calls") or [])}
    recorded_ids = list(record.tool_call_ids)
    if sorted(calls) != sorted(recorded_ids):
        return None
    fc_positions = [i for i, p in enumerate(parts) if "functionCall" in p]
    for position, call_id in zip(fc_positions, recorded_ids, strict=False):
        k, call = calls[call_id]
        args = _tool_call_args(call, f"{param}.tool_calls[{k}]")
        original = parts[position]
        if args != original["functionCall"].get("args", {}) or (
            call["function"]["name"] != original["functionCall"].get("name")
        ):
            parts[position] = _function_call(
                call, f"{param}.tool_calls[{k}]", "id" in original["functionCall"], None
            )
    return ModelTurn(parts, [True] * len(parts), "cache")


# -- 3. rebuild from what is visible --------------------------------------------------------------


def _known_signatures(turns: Sequence[Sequence[Json]]) -> dict[str, str | None]:
    """Part identity → signature, over the parts of every remembered turn that matched a key."""
    known: dict[str, str | None] = {}
    for parts in turns:
        for part in parts:
            identity = part_identity(part)
            if identity is not None:
                known.setdefault(identity, part.get(SIG))
    return known


def _rebuild(
    message: Json,
    param: str,
    resolved: Resolved,
    known_parts: Sequence[Sequence[Json]],
    trusted: bool = True,
) -> ModelTurn:
    """`known_parts`: the parts of every remembered turn (and carrier text) that may say which
    signature signs what. `trusted`: the message's own signatures come from this backend (else
    none is used)."""
    loose = loose_signatures(message) if trusted else LooseSignatures()
    known = _known_signatures(known_parts)
    # A signature known to sign some other part (the text before the client edited it) must
    # not be moved onto a changed part: Gemini rejects that as "Corrupted thought signature".
    owner = {sig: identity for identity, sig in known.items() if sig}

    def usable(sig: str | None, identity: str | None) -> str | None:
        return sig if sig and owner.get(sig, identity) == identity else None

    parts: list[Json] = []
    flags: list[bool] = []
    first_text = True
    for part, loose_sig in visible_parts(message, param, resolved, loose):
        identity = part_identity(part)
        if identity in known:
            sig, found = known[identity], True
        else:
            if "text" in part and first_text:
                loose_sig = loose_sig or loose.first_text()
            sig = usable(loose_sig, identity)
            found = sig is not None
        if "text" in part:
            first_text = False
        parts.append({**part, SIG: sig} if sig else part)
        flags.append(found)
    for k, call in enumerate(message.get("tool_calls") or []):
        part = _function_call(call, f"{param}.tool_calls[{k}]", False, None)
        identity = part_identity(part)
        if identity in known:
            sig = known[identity]
        else:
            sig = usable(loose.by_call_id.get(call["id"]), identity)
        if sig:
            part[SIG] = sig
        parts.append(part)
        flags.append(identity in known or sig is not None)
    return ModelTurn(parts, flags, "rebuilt")


def _carrier_texts(carrier: list[Any] | None) -> list[Json]:
    """The signed texts our carrier says the turn had: evidence of what each signature signs."""
    return [
        {"text": str(d["text"]), SIG: d["thought_signature"]}
        for d in carrier or []
        if isinstance(d, dict) and "text" in d and isinstance(d.get("thought_signature"), str)
    ]


# -- entry points ---------------------------------------------------------------------------------


def _image_keys(message: Json, hosted_base: str | None) -> tuple[list[str], list[str]]:
    """(base64 data, fingerprints) of every image the message shows (`images[]`, markdown,
    `image_url` parts), to look the turn up by image when its text was edited or dropped.
    A hosted link names its image by fingerprint (turn_view.hosted_name), so it needs no data."""
    urls = [image_item_url(item) or "" for item in message.get("images") or []]
    for _, item in visible_items(message.get("content"), "", hosted_base):
        if item.get("type") == "image_url":
            urls.append(image_item_url(item) or "")
    hosted = f"{hosted_base}/v1/files/" if hosted_base else None
    data: list[str] = []
    fingerprints: list[str] = []
    for url in dict.fromkeys(urls):
        parsed = parse_data_url(url)
        if parsed is not None:
            data.append(parsed.data)
        elif hosted and url.startswith(hosted):
            fingerprints.append(url[len(hosted) :].split(".", 1)[0])
    return data, fingerprints


def keys_for_assistant(message: Json, prefix: str, options: ViewOptions) -> list[str]:
    """Cache keys worth reading for this message; none when our carrier already covers it."""
    carrier = carrier_of(message)
    if carrier is not None:
        try:
            if _from_carrier(message, carrier, "", Resolved(), options) is not None:
                return []
        except InvalidRequestError:
            pass  # hosted image URLs need resolving first: look the turn up as well
    call_ids = [c["id"] for c in message.get("tool_calls") or [] if isinstance(c, dict)]
    visible = visible_text(message.get("content"))
    return turn_keys(prefix, visible, call_ids, *_image_keys(message, options.hosted_base))


def to_gemini_model_turn(
    message: Json, param: str, prefix: str, resolved: Resolved, options: ViewOptions
) -> ModelTurn:
    resolved = resolved.without_payloads()  # images here are compared by their text
    trusted = message_origin(message) == resolved.backend
    carrier = carrier_of(message)
    if carrier is not None:
        turn = _from_carrier(message, carrier, param, resolved, options)
        if turn is not None:
            return turn if trusted else _foreign(turn)
    call_ids = [c["id"] for c in message.get("tool_calls") or [] if isinstance(c, dict)]
    visible = visible_text(message.get("content"))
    records = [
        resolved.turns[key]
        for key in turn_keys(prefix, visible, call_ids, *_image_keys(message, resolved.hosted_base))
        if key in resolved.turns
    ]
    for record in records:
        turn = _from_record(message, record, param, visible)
        if turn is not None:
            return turn if record_origin(record) == resolved.backend else _foreign(turn)
    own = [r.parts for r in records if record_origin(r) == resolved.backend]
    evidence = _carrier_texts(carrier) if trusted else []
    turn = _rebuild(message, param, resolved, [*own, evidence], trusted)
    others = signatures_in(r.parts for r in records if record_origin(r) != resolved.backend)
    if not trusted:
        others |= set(loose_signatures(message).all())
    return replace(turn, dropped=len(others - signatures_in([turn.parts])))

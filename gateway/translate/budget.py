"""The history budget (issue #5): estimate a Gemini request's input tokens and fit its history
under the model's input limit by dropping the oldest turns and/or shrinking older images.

Pure, in two passes around the one impure step (the resizing, media/downsample.py, run by
serving/budget.py): `first_pass` applies the turn window and picks the older images to shrink,
oldest first and only as many as needed (with trimming too, it first drops the turns that would
not fit even with every older image shrunk: shrinking costs less context than dropping a turn);
`second_pass` puts the shrunk images in and trims until the estimate fits.

The estimate of what a request costs is token_estimate.py's.

A "turn" is what a user sees as one: a user message and everything up to the next (the reply,
tool calls and their results). Trimming drops whole turns from the front, so a functionCall never
loses its functionResponse and the contents never start with a model turn; the newest turn is
always kept, with every signature of every kept turn.

A shrunk image is no longer the part Gemini signed, so its signature cannot be replayed
("Corrupted thought signature."): on Gemini 3, which validates image parts strictly, the
documented dummy replaces it (a signature fallback); elsewhere it is dropped. The newest images
(the newest turn's and the newest model turn with images) are never shrunk.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Final

from gateway.errors import InvalidRequestError
from gateway.translate.families import family_of
from gateway.translate.signatures import SIG, with_dummy_signature
from gateway.translate.token_estimate import (
    TILE,
    content_tokens,
    estimate_tokens,
    fixed_tokens,
    image_cap,
    image_size,
    image_tokens,
    inline_image,
    input_limit,
)

Json = dict[str, Any]

MODES: Final = frozenset({"off", "trim", "downsample", "trim+downsample"})


# -- policy ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HistoryPolicy:
    trim: bool
    downsample: bool
    keep_turns: int = 0  # earlier turns kept whole; older ones are dropped (or, without
    # trimming, have their images shrunk). 0: no window, only what the limit requires
    max_tokens: int = 0  # 0: the model's input limit


def _count(value: Any, param: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidRequestError(f"'{param}' must be a non-negative integer", param=param)
    return value


def history_policy(
    google: Mapping[str, Any], mode: str, keep_turns: int, max_tokens: int
) -> HistoryPolicy | None:
    """Deployment defaults, overridden per request by `google.history_*`; None when off."""
    asked: Any = google.get("history_budget", mode)
    if not isinstance(asked, str) or asked not in MODES:
        raise InvalidRequestError(
            f"'google.history_budget' must be one of {sorted(MODES)}",
            param="google.history_budget",
        )
    keep = _count(google.get("history_keep_turns", keep_turns), "google.history_keep_turns")
    limit = _count(google.get("history_max_tokens", max_tokens), "google.history_max_tokens")
    if asked == "off":
        return None
    return HistoryPolicy("trim" in asked, "downsample" in asked, keep, limit)


# -- turns -------------------------------------------------------------------------------------


def turn_starts(contents: list[Json]) -> list[int]:
    """Where each user-visible turn starts: a user content that answers no function call."""
    starts = [0]
    for i, content in enumerate(contents[1:], 1):
        parts = content.get("parts") or []
        answers = any("functionResponse" in p or "function_response" in p for p in parts)
        if content.get("role", "user") == "user" and not answers:
            starts.append(i)
    return starts


def _newest_image_turn(contents: list[Json], before: int) -> int | None:
    for i in range(before - 1, -1, -1):
        parts = contents[i].get("parts") or []
        if contents[i].get("role") == "model" and any(inline_image(p) for p in parts):
            return i
    return None


# -- the two passes ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImageRef:
    content: int
    part: int
    mime_type: str
    data: str
    size: tuple[int, int]
    target: tuple[int, int]


@dataclass(frozen=True, slots=True)
class Shrunk:
    mime_type: str
    data: str
    size: tuple[int, int]


@dataclass(frozen=True, slots=True)
class FirstPass:
    body: Json
    limit: int
    tokens_before: int
    trimmed: int
    to_shrink: tuple[ImageRef, ...]


@dataclass(frozen=True, slots=True)
class BudgetOutcome:
    body: Json
    limit: int
    tokens_before: int
    tokens_after: int
    trimmed: int
    downsampled: int
    notes: tuple[str, ...]

    @property
    def over_budget(self) -> bool:
        return self.tokens_after > self.limit


def shrunk_size(width: int, height: int) -> tuple[int, int] | None:
    """Half the size, or less so the longer side fits one 768 px tile; None when an image
    already fits one tile (shrinking it would save no tokens)."""
    longest = max(width, height)
    if longest <= TILE:
        return None
    scale = min(0.5, TILE / longest)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _shrinkable(contents: list[Json], end: int, newest: int | None) -> list[ImageRef]:
    """Images before `end` worth shrinking, oldest first, skipping the `newest` model turn."""
    found: list[ImageRef] = []
    for i, content in enumerate(contents[:end]):
        for j, part in enumerate(content.get("parts") or []):
            inline = inline_image(part) if i != newest else None
            data = str(inline.get("data") or "") if inline else ""
            size = image_size(data) if inline else None
            target = shrunk_size(*size) if size else None
            if inline is not None and size is not None and target is not None:
                mime = str(inline.get("mimeType") or inline.get("mime_type"))
                found.append(ImageRef(i, j, mime, data, size, target))
    return found


def _turns_to_drop(tokens: list[int], starts: list[int], total: int, limit: int) -> int:
    """How many of the oldest turns must go for `total` to fit; never the newest one."""
    dropped = 0
    while total > limit and dropped + 1 < len(starts):
        total -= sum(tokens[starts[dropped] : starts[dropped + 1]])
        dropped += 1
    return dropped


def first_pass(body: Json, model: str, policy: HistoryPolicy, can_shrink: bool) -> FirstPass:
    """Apply the `keep_turns` window; with shrinking, also drop the turns that would not fit
    even with every older image shrunk, then pick images (oldest first) until the estimate fits."""
    limit = policy.max_tokens or input_limit(model)
    cap = image_cap(model, body)
    before = estimate_tokens(body, model)
    starts = turn_starts(body.get("contents") or [])
    outside = max(0, len(starts) - 1 - policy.keep_turns) if policy.keep_turns else 0
    trimmed = outside if policy.trim else 0
    if trimmed:
        body = {**body, "contents": body["contents"][starts[trimmed] :]}
    if not (policy.downsample and can_shrink):
        return FirstPass(body, limit, before, trimmed, ())
    contents: list[Json] = body["contents"]
    starts = turn_starts(contents)
    tokens = [content_tokens(c, cap) for c in contents]
    found = _shrinkable(contents, starts[-1], _newest_image_turn(contents, starts[-1]))
    saved = [image_tokens(*ref.size, cap) - image_tokens(*ref.target, cap) for ref in found]
    best = [*tokens]
    for ref, saving in zip(found, saved, strict=True):
        best[ref.content] -= saving
    fixed = fixed_tokens(body, cap)
    more = _turns_to_drop(best, starts, fixed + sum(best), limit) if policy.trim else 0
    if more:
        cut = starts[more]
        body = {**body, "contents": contents[cut:]}
        found = [replace(ref, content=ref.content - cut) for ref in found if ref.content >= cut]
        saved = saved[len(saved) - len(found) :]
        tokens = tokens[cut:]
    window_start = starts[outside] if outside and not policy.trim else 0
    total = fixed + sum(tokens)
    picked: list[ImageRef] = []
    for ref, saving in zip(found, saved, strict=True):
        if ref.content >= window_start and total <= limit:
            break
        picked.append(ref)
        total -= saving
    return FirstPass(body, limit, before, trimmed + more, tuple(picked))


def _with_shrunk(
    contents: list[Json], shrunk: Mapping[tuple[int, int], Shrunk], model: str
) -> tuple[list[Json], set[tuple[int, int]]]:
    """Shrunk images in place (copying only the contents touched), and where a dummy went."""
    contents = list(contents)
    dummies: set[tuple[int, int]] = set()
    for (i, j), image in sorted(shrunk.items()):
        content = contents[i] = {**contents[i], "parts": list(contents[i]["parts"])}
        part = {k: v for k, v in content["parts"][j].items() if k != "inline_data"}
        part["inlineData"] = {"mimeType": image.mime_type, "data": image.data}
        signed = [part.pop(key, None) for key in (SIG, "thought_signature")] != [None, None]
        if signed and family_of(model).strict_signatures:
            part = with_dummy_signature(part)
            dummies.add((i, j))
        content["parts"][j] = part
    return contents, dummies


def second_pass(
    first: FirstPass, shrunk: Mapping[tuple[int, int], Shrunk], model: str, policy: HistoryPolicy
) -> BudgetOutcome:
    """Shrunk images in, then (with trimming on) drop the oldest turns until the estimate fits
    (only when an image could not be shrunk after all); the newest turn always stays."""
    cap = image_cap(model, first.body)
    contents, dummies = _with_shrunk(first.body.get("contents") or [], shrunk, model)
    tokens = [content_tokens(c, cap) for c in contents]
    total = fixed_tokens(first.body, cap) + sum(tokens)
    starts = turn_starts(contents)
    dropped = _turns_to_drop(tokens, starts, total, first.limit) if policy.trim else 0
    cut = starts[dropped]
    kept = [key for key in shrunk if key[0] >= cut]
    return BudgetOutcome(
        body={**first.body, "contents": contents[cut:]} if shrunk or dropped else first.body,
        limit=first.limit,
        tokens_before=first.tokens_before,
        tokens_after=total - sum(tokens[:cut]),
        trimmed=first.trimmed + dropped,
        downsampled=len(kept),
        notes=("signature_fallback:downsampled_image",) * len(dummies.intersection(kept)),
    )

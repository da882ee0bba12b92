"""The history budget (issue #5): estimate a Gemini request's input tokens and fit its history
under the model's input limit by dropping the oldest turns and/or shrinking older images.

Pure, in two passes around the one impure step (the resizing, media/downsample.py, run by
serving/budget.py): `first_pass` applies the turn window and picks the older images to shrink,
oldest first and only as many as needed (with trimming too, it first drops the turns that would
not fit even with every older image shrunk: shrinking costs less context than dropping a turn);
`second_pass` puts the shrunk images in and trims until the estimate fits.

The estimate (no tokenizer offline; simple and on the generous side): text and structured parts
ceil(chars / 4), signatures not counted (opaque); an image by Gemini 2.x's tile rule (258 tokens
when both sides are <= 384 px, else 258 per 768x768 tile), on Gemini 3 capped at the
media-resolution budget (1120 high, the image default; 560 medium; 280 low). Sizes come from the
image header; an unreadable size, other media or a fileData part count as 1024x1024.

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

import base64
import binascii
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Final

import orjson

from gateway.errors import InvalidRequestError
from gateway.translate.signatures import DUMMY_SIGNATURE

Json = dict[str, Any]

MODES: Final = frozenset({"off", "trim", "downsample", "trim+downsample"})

# Input token limits by model-name prefix, first match wins (gemini-api.md §5).
INPUT_TOKEN_LIMITS: Final[tuple[tuple[str, int], ...]] = (
    ("gemini-3-pro-image", 65_536),
    ("gemini-3.1-flash-image", 65_536),  # not in the reference; assumed equal to 3 Pro Image
    ("gemini-2.5-flash-image", 32_768),
    ("", 1_048_576),
)
TILE: Final = 768
TILE_TOKENS: Final = 258
SMALL_SIDE: Final = 384
UNKNOWN_SIZE: Final = (1024, 1024)
GEMINI3_IMAGE_CAPS: Final[dict[str, int]] = {
    "MEDIA_RESOLUTION_LOW": 280,
    "MEDIA_RESOLUTION_MEDIUM": 560,
    "MEDIA_RESOLUTION_HIGH": 1120,
}
GEMINI3_DEFAULT_CAP: Final = 1120
SIG: Final = "thoughtSignature"
_URLSAFE: Final = str.maketrans("-_", "+/")
_JPEG_HEAD: Final = 64 * 1024


def input_limit(model: str) -> int:
    return next(limit for prefix, limit in INPUT_TOKEN_LIMITS if model.startswith(prefix))


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


# -- image sizes and the estimate ------------------------------------------------------------


def _head(data: str, chars: int) -> bytes:
    piece = data[: chars - chars % 4].translate(_URLSAFE)
    try:
        return base64.b64decode(piece + "=" * (-len(piece) % 4))
    except (binascii.Error, ValueError):
        return b""


def _jpeg_size(raw: bytes) -> tuple[int, int] | None:
    i = 2
    while i + 9 <= len(raw):  # each step moves forward by at least 2
        if raw[i] != 0xFF:
            return None
        marker = raw[i + 1]
        if marker == 0xFF:
            i += 1
            continue
        if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            return int.from_bytes(raw[i + 7 : i + 9]), int.from_bytes(raw[i + 5 : i + 7])
        i += 2 + int.from_bytes(raw[i + 2 : i + 4])
    return None


def _webp_size(raw: bytes) -> tuple[int, int] | None:
    kind = raw[12:16]
    if kind == b"VP8X" and len(raw) >= 30:
        return 1 + int.from_bytes(raw[24:27], "little"), 1 + int.from_bytes(raw[27:30], "little")
    if kind == b"VP8L" and len(raw) >= 25:
        bits = int.from_bytes(raw[21:25], "little")
        return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
    if kind == b"VP8 " and len(raw) >= 30:
        return (
            int.from_bytes(raw[26:28], "little") & 0x3FFF,
            int.from_bytes(raw[28:30], "little") & 0x3FFF,
        )
    return None


def image_size(data: str) -> tuple[int, int] | None:
    """(width, height) from a PNG, JPEG or WebP header in base64; None for anything else."""
    raw = _head(data, 64)
    if raw.startswith(b"\x89PNG\r\n\x1a\n") and raw[12:16] == b"IHDR" and len(raw) >= 24:
        return int.from_bytes(raw[16:20]), int.from_bytes(raw[20:24])
    if raw[:4] == b"RIFF" and raw[8:12] == b"WEBP":
        return _webp_size(raw)
    if raw.startswith(b"\xff\xd8"):
        return _jpeg_size(_head(data, _JPEG_HEAD)) or _jpeg_size(_head(data, len(data)))
    return None


def image_cap(model: str, body: Mapping[str, Any]) -> int | None:
    if not model.startswith("gemini-3"):
        return None
    config = body.get("generationConfig") or {}
    level = str(config.get("mediaResolution") or "").upper() if isinstance(config, dict) else ""
    return GEMINI3_IMAGE_CAPS.get(level, GEMINI3_DEFAULT_CAP)


def image_tokens(width: int, height: int, cap: int | None) -> int:
    if width <= SMALL_SIDE and height <= SMALL_SIDE:
        tokens = TILE_TOKENS
    else:
        tokens = math.ceil(width / TILE) * math.ceil(height / TILE) * TILE_TOKENS
    return tokens if cap is None else min(tokens, cap)


def inline_image(part: Mapping[str, Any]) -> Mapping[str, Any] | None:
    inline = part.get("inlineData") or part.get("inline_data")
    if not isinstance(inline, dict):
        return None
    mime = str(inline.get("mimeType") or inline.get("mime_type") or "")
    return inline if mime.startswith("image/") else None


def part_tokens(part: Mapping[str, Any], cap: int | None) -> int:
    text = part.get("text")
    if isinstance(text, str):
        return math.ceil(len(text) / 4)
    inline = inline_image(part)
    if inline is not None:
        size = image_size(str(inline.get("data") or "")) or UNKNOWN_SIZE
        return image_tokens(*size, cap)
    if any(k in part for k in ("inlineData", "inline_data", "fileData", "file_data")):
        return image_tokens(*UNKNOWN_SIZE, cap)
    rest = {k: v for k, v in part.items() if k not in (SIG, "thought_signature")}
    return math.ceil(len(orjson.dumps(rest)) / 4)


def content_tokens(content: Mapping[str, Any], cap: int | None) -> int:
    parts = content.get("parts") or []
    return sum(part_tokens(p, cap) for p in parts if isinstance(p, dict))


def fixed_tokens(body: Mapping[str, Any], cap: int | None) -> int:
    """What trimming cannot touch: the system instruction and the tool declarations."""
    system = body.get("systemInstruction")
    total = content_tokens(system, cap) if isinstance(system, dict) else 0
    extras = [body[name] for name in ("tools", "toolConfig") if body.get(name)]
    return total + sum(math.ceil(len(orjson.dumps(extra)) / 4) for extra in extras)


def estimate_tokens(body: Mapping[str, Any], model: str) -> int:
    cap = image_cap(model, body)
    contents = body.get("contents") or []
    return fixed_tokens(body, cap) + sum(content_tokens(c, cap) for c in contents)


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
        if signed and model.startswith("gemini-3"):
            part[SIG] = DUMMY_SIGNATURE
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

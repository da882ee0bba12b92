"""Which backend minted the signatures an assistant message brings back (design.md: signatures
are bound to the backend that issued them; Gemini answers 400 "Corrupted thought signature" to
one minted elsewhere).

Responses from Vertex AI tag their carriers with `extra_content.google.backend`
(`vertex:{project}`), on the message and on each signed tool call and image; the turn cache
records the same tag. No tag means AI Studio: every signature minted before Vertex support was
AI Studio's, and AI Studio responses stay exactly as they were.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Final

from gateway.protocol.turn_record import TurnRecord
from gateway.translate.signatures import DUMMY_SIGNATURE, SIG, google_extra

Json = dict[str, Any]
BACKEND: Final = "backend"


def _tag(item: Any) -> str | None:
    google = google_extra(item)
    tag = google.get(BACKEND) if google is not None else None
    return tag if isinstance(tag, str) else None


def _items(message: Json) -> Iterator[Any]:
    yield message
    yield from message.get("tool_calls") or []
    yield from message.get("images") or []
    content = message.get("content")
    if isinstance(content, list):
        yield from content


def message_origin(message: Json) -> str:
    """The message's tag, or the first tag one of its signed items carries; "" (AI Studio)."""
    return next((tag for tag in map(_tag, _items(message)) if tag is not None), "")


def record_origin(record: TurnRecord) -> str:
    return record.backend


def strip_signatures(
    parts: Sequence[Json], known: Sequence[bool]
) -> tuple[list[Json], list[bool], int]:
    """Parts without their (foreign) signatures; such a part is no longer known to be signed,
    so the documented fallback (contents.py) applies where Gemini needs a signature."""
    out: list[Json] = []
    flags: list[bool] = []
    dropped = 0
    for part, flag in zip(parts, known, strict=True):
        sig = part.get(SIG)
        if sig is None or sig == DUMMY_SIGNATURE:
            out.append(part)
            flags.append(flag)
            continue
        out.append({k: v for k, v in part.items() if k != SIG})
        flags.append(False)
        dropped += 1
    return out, flags, dropped


def signatures_in(turns: Iterable[Sequence[Json]]) -> set[str]:
    """The real signatures (not the documented bypass value) the turns' parts carry."""
    return {
        p[SIG]
        for parts in turns
        for p in parts
        if isinstance(p.get(SIG), str) and p[SIG] != DUMMY_SIGNATURE
    }

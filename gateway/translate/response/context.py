"""Plain values a response translation needs from outside (ids, clock, options) and what it
hands back to be remembered: translate/ itself never reads a clock or a store."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gateway.translate.data_urls import fingerprint
from gateway.translate.turn_view import TurnView, ViewOptions


@dataclass(frozen=True, slots=True)
class ResponseContext:
    completion_id: str
    created: int
    model: str
    view: ViewOptions = field(default_factory=ViewOptions)
    include_usage: bool = False
    prefix_digest: str = ""  # digest of the request's messages, for the turn cache keys


@dataclass(frozen=True, slots=True)
class TurnMemo:
    """One choice's model turn, as it must be replayed, and what the client was shown."""

    choice_index: int
    replay_parts: tuple[dict[str, Any], ...]
    content: str
    tool_call_ids: tuple[str, ...]
    content_pieces: tuple[str | dict[str, int], ...] = ()  # content, images as part refs


@dataclass(frozen=True, slots=True)
class Memo:
    turns: tuple[TurnMemo, ...] = ()
    hosted: tuple[tuple[str, str, str], ...] = ()  # (name, mime, base64)
    notes: tuple[str, ...] = ()


def new_view(ctx: ResponseContext, candidate_index: int) -> TurnView:
    seed = fingerprint(f"{ctx.completion_id}/{candidate_index}")[:12]
    return TurnView(ctx.view, call_id_seed=seed)


def memo_from_views(views: dict[int, TurnView], notes: tuple[str, ...] = ()) -> Memo:
    turns = []
    hosted: dict[str, tuple[str, str]] = {}
    for index, view in sorted(views.items()):
        turns.append(
            TurnMemo(
                choice_index=index,
                replay_parts=tuple(view.replay_parts),
                content=view.content_text,
                tool_call_ids=tuple(str(call["id"]) for call in view.tool_calls),
                content_pieces=tuple(view.content_pieces()),
            )
        )
        hosted.update(view.hosted)
    return Memo(
        turns=tuple(turns),
        hosted=tuple((name, mime, data) for name, (mime, data) in hosted.items()),
        notes=notes,
    )

"""Conversations that outlive the gateway process: history saved with `json.dumps` and loaded
back, and a gateway restart between turns. Messages that carry our own `extra_content` need no
server state at all; content-only clients need a turn cache that survives the restart (SQLite),
and with the in-memory cache they degrade visibly (dummy signatures, counted) but never fail."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import emulator_stack
from tests.e2e.fidelity_helpers import (
    DUMMY,
    EDIT_PROMPTS,
    IMAGE_MODELS,
    Pattern,
    Session,
    assert_degraded_without_corruption,
    assert_faithful,
    band_count,
    content_only,
    fallbacks,
    json_saved,
    metrics,
    model_turns,
    signature_count,
    stream_by_hand,
    turn_sources,
)

pytestmark = pytest.mark.anyio

MODEL = IMAGE_MODELS[0]


async def first_turn(pattern: Pattern, **settings: Any) -> tuple[str, list[dict[str, Any]]]:
    """Turn 1 on one gateway process; returns the saved history and what Gemini issued."""
    async with emulator_stack(**settings) as first:
        history: list[Any] = [pattern.user(EDIT_PROMPTS[0])]
        turn = await pattern.reply(Session(first), MODEL, history)
        history += [turn.message, pattern.user(EDIT_PROMPTS[1])]
        return json.dumps(history), list(first.emulator.issued)


async def test_saved_model_dumps_keep_full_fidelity_on_a_fresh_gateway():
    """model_dump → json.dumps → json.loads → a gateway that never saw turn 1: nothing lost."""
    pattern = Pattern("json_saved", json_saved)
    saved, issued = await first_turn(pattern)
    async with emulator_stack() as second:
        turn = await pattern.reply(Session(second), MODEL, json.loads(saved))
        assert_faithful(second.emulator, issued)
        assert turn.png is not None and band_count(turn.png) == 1
        assert turn_sources(await metrics(second)) == {}


@pytest.mark.parametrize(
    "pattern",
    [Pattern("content_only", content_only), Pattern("stream_by_hand", stream_by_hand)],
    ids=lambda p: p.name,
)
async def test_content_only_history_survives_a_restart_with_sqlite_state(
    tmp_path: Path, pattern: Pattern
):
    db = f"sqlite:///{tmp_path}/state.db"
    saved, issued = await first_turn(pattern, state=db)
    async with emulator_stack(state=db) as second:
        session = Session(second)
        history = json.loads(saved)
        turn2 = await pattern.reply(session, MODEL, history)
        assert_faithful(second.emulator, issued)
        history += [turn2.message, pattern.user(EDIT_PROMPTS[2])]
        turn3 = await pattern.reply(session, MODEL, history)
        assert_faithful(second.emulator, issued + second.emulator.issued)
        assert [band_count(t.png) for t in (turn2, turn3) if t.png] == [1, 2]
        samples = await metrics(second)
        assert turn_sources(samples) == {"cache": 3.0}
        assert fallbacks(samples) == {}


async def test_a_restart_with_memory_state_degrades_visibly_without_a_400():
    pattern = Pattern("content_only", content_only)
    saved, issued = await first_turn(pattern)
    async with emulator_stack() as second:
        turn = await pattern.reply(Session(second), MODEL, json.loads(saved))
        verdicts = assert_degraded_without_corruption(second.emulator)
        assert verdicts == ["dummy", "dummy"]
        body = second.emulator.requests[-1].body
        assert signature_count(body, DUMMY) == 2
        # The image itself is not lost: it came back from the markdown mirror.
        (replayed,) = model_turns(body)
        assert replayed[1]["inlineData"] == issued[0]["parts"][1]["inlineData"]
        assert turn.png is not None and band_count(turn.png) == 1
        samples = await metrics(second)
        assert turn_sources(samples) == {"rebuilt": 1.0}
        assert fallbacks(samples) == {"text": 1.0, "image": 1.0}
        assert 'gateway_signature_fallbacks_total{kind="image"}' in samples

"""The fidelity invariant, end to end: a 3-turn image-edit conversation through the real OpenAI
SDK and LangChain clients, every way they put an assistant message back into their history.
After each call the emulator must have received exactly the model turns it issued (every
signature verified `ok`, no dummy) and each edit must show the earlier images (one band each)."""

from __future__ import annotations

import pytest

from tests.conftest import Stack, emulator_stack
from tests.e2e.fidelity_helpers import (
    CACHE_PATTERNS,
    CARRIER_PATTERNS,
    EDIT_PROMPTS,
    IMAGE_MODELS,
    Pattern,
    Session,
    Turn,
    assert_degraded_without_corruption,
    band_count,
    converse,
    fallbacks,
    metrics,
    model_turns,
    replayable,
    sdk_object,
    turn_sources,
)

pytestmark = pytest.mark.anyio

IMAGE_TURN = [["text", "thoughtSignature"], ["inlineData", "thoughtSignature"]]


def assert_edits_carried_the_images(stack: Stack, turns: list[Turn]) -> None:
    requests = stack.emulator.requests
    assert len(requests) == len(turns)
    # The last request replays every earlier turn: an image plus its signed caption.
    last = model_turns(requests[-1].body)
    assert [[sorted(p) for p in parts] for parts in last] == [IMAGE_TURN] * (len(turns) - 1)
    pngs = [turn.png for turn in turns if turn.png is not None]
    assert len(pngs) == len(turns)
    # Each edit shows one band per earlier image the model received: it saw the history.
    assert [band_count(png) for png in pngs] == list(range(len(turns)))
    assert len(set(pngs)) == len(turns)


@pytest.mark.parametrize("model", IMAGE_MODELS)
@pytest.mark.parametrize("pattern", CARRIER_PATTERNS, ids=lambda p: p.name)
async def test_clients_that_send_the_message_back_need_no_server_state(
    pattern: Pattern, model: str
):
    async with emulator_stack(state_max_bytes=1) as stack:  # the turn cache keeps nothing
        turns = await converse(Session(stack), pattern, model, EDIT_PROMPTS)
        assert_edits_carried_the_images(stack, turns)
        assert turn_sources(await metrics(stack)) == {}


@pytest.mark.parametrize("model", IMAGE_MODELS)
@pytest.mark.parametrize("pattern", CACHE_PATTERNS, ids=lambda p: p.name)
async def test_content_only_clients_are_restored_from_the_turn_cache(
    stack: Stack, pattern: Pattern, model: str
):
    turns = await converse(Session(stack), pattern, model, EDIT_PROMPTS)
    assert_edits_carried_the_images(stack, turns)
    samples = await metrics(stack)
    assert turn_sources(samples) == {"cache": 3.0}  # one turn in request 2, two in request 3
    assert fallbacks(samples) == {}


@pytest.mark.parametrize("pattern", CACHE_PATTERNS, ids=lambda p: p.name)
async def test_content_only_clients_without_the_cache_degrade_visibly(pattern: Pattern):
    """No cache entry: the image still comes back (from the markdown mirror), the signatures
    cannot, so the required ones get the documented dummy, counted in /metrics; no 400."""
    async with emulator_stack(state_max_bytes=1) as stack:
        turns = await converse(
            Session(stack), pattern, IMAGE_MODELS[0], EDIT_PROMPTS[:2], check=False
        )
        assert assert_degraded_without_corruption(stack.emulator) == ["dummy", "dummy"]
        sent = model_turns(stack.emulator.requests[-1].body)
        issued = stack.emulator.issued[0]["parts"]
        assert [{k: v for k, v in p.items() if k != "thoughtSignature"} for p in sent[0]] == [
            {k: v for k, v in p.items() if k != "thoughtSignature"} for p in issued
        ]
        assert [band_count(t.png) for t in turns if t.png] == [0, 1]
        samples = await metrics(stack)
        assert turn_sources(samples) == {"rebuilt": 1.0}
        assert fallbacks(samples) == {"text": 1.0, "image": 1.0}


async def test_thought_parts_are_not_replayed_but_everything_else_is(stack: Stack):
    """With thought summaries on, Gemini 3 image models also return an interim (draft) image;
    both are unsigned `thought: true` parts, shown as reasoning, never sent back."""
    thoughts = {"extra_body": {"google": {"thinking_config": {"include_thoughts": True}}}}
    pattern = Pattern("sdk_object", sdk_object)
    turns = await converse(Session(stack), pattern, IMAGE_MODELS[0], EDIT_PROMPTS, **thoughts)

    first_issued = stack.emulator.issued[0]["parts"]
    assert [p.get("thought", False) for p in first_issued] == [True, True, False, False]
    replayed = model_turns(stack.emulator.requests[-1].body)[0]
    assert replayed == replayable(first_issued)
    assert len(replayed) == 2
    assert turns[0].message.model_extra["reasoning_content"]
    assert_edits_carried_the_images(stack, turns)

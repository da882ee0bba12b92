"""LiteLLM as a client (issue 13): it keeps every field it does not know under
`provider_specific_fields` and sends it back there, so our `extra_content.google` (the first
text's signature, the turn's layout, each tool call's signature) comes back as
`provider_specific_fields.extra_content.google`. Read there, it restores the turn byte-exact
with no server state at all; before, the text's signature became the dummy."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import emulator_stack
from tests.e2e.fidelity_helpers import (
    DUMMY,
    IMAGE_MODELS,
    SIG,
    TOOL_MODEL,
    TOOLS,
    Pattern,
    Session,
    Turn,
    assert_faithful,
    converse,
    model_dump_exclude_none,
    model_turns,
    signature_count,
    tool_call_ids,
)

pytestmark = pytest.mark.anyio


def as_litellm_keeps_it(item: dict[str, Any]) -> dict[str, Any]:
    """`extra_content` moved under `provider_specific_fields`, as LiteLLM's Message does."""
    kept = dict(item)
    extra = kept.pop("extra_content", None)
    if extra is not None:
        kept["provider_specific_fields"] = {"extra_content": extra}
    if "tool_calls" in kept:
        kept["tool_calls"] = [as_litellm_keeps_it(call) for call in kept["tool_calls"]]
    if "images" in kept:
        kept["images"] = [as_litellm_keeps_it(image) for image in kept["images"]]
    return kept


async def litellm(session: Session, model: str, history: list[Any], **kw: Any) -> Turn:
    turn = await model_dump_exclude_none(session, model, history, **kw)
    return Turn(as_litellm_keeps_it(turn.message), turn.png)


LITELLM = Pattern("litellm", litellm)


async def test_a_text_turns_signature_comes_back_from_provider_specific_fields() -> None:
    async with emulator_stack(state_max_bytes=1) as stack:  # nothing remembered
        await converse(Session(stack), LITELLM, TOOL_MODEL, ("hello", "and again", "once more"))
        body = stack.emulator.requests[-1].body
        assert signature_count(body, DUMMY) == 0
        assert all(SIG in turn[0] for turn in model_turns(body))


async def test_image_turns_come_back_from_provider_specific_fields() -> None:
    async with emulator_stack(state_max_bytes=1) as stack:
        prompts = ("a red fox in the snow", "make it night time", "add a full moon")
        await converse(Session(stack), LITELLM, IMAGE_MODELS[0], prompts)
        assert signature_count(stack.emulator.requests[-1].body, DUMMY) == 0


async def test_tool_call_signatures_come_back_from_provider_specific_fields() -> None:
    async with emulator_stack(state_max_bytes=1) as stack:
        session = Session(stack)
        history: list[Any] = [LITELLM.user("weather in Paris and the time in Rome?")]
        calls = await litellm(session, TOOL_MODEL, history, tools=TOOLS)
        ids = tool_call_ids(calls.message)
        history += [calls.message, *(LITELLM.tool_result(i, '{"ok": true}') for i in ids)]
        await litellm(session, TOOL_MODEL, history, tools=TOOLS)
        assert_faithful(stack.emulator)
        assert signature_count(stack.emulator.requests[-1].body, DUMMY) == 0

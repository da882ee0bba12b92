"""The fidelity invariant on Vertex AI, for every client pattern: a 3-turn image edit on
gemini-3-pro-image-preview and a Gemini 3 tool loop replay every signature byte-exact with no
Vertex 400 (roles everywhere, no function ids). And signatures are bound to their backend: a
conversation started on AI Studio and continued on Vertex (or back) has the foreign signatures
dropped and counted, the documented fallback used, and no "Corrupted thought signature"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Stack, emulator_stack
from tests.e2e.fidelity_helpers import (
    ALL_PATTERNS,
    CARRIER_PATTERNS,
    DUMMY,
    EDIT_PROMPTS,
    SIG,
    Pattern,
    Session,
    assert_degraded_without_corruption,
    assert_faithful,
    band_count,
    converse,
    metrics,
    model_turns,
)
from tests.e2e.test_fidelity_tools import tool_loop
from tests.validators import validate_gemini_request

pytestmark = pytest.mark.anyio
MODEL = "gemini-3-pro-image-preview"
TAG = "vertex:emulator-project"
PATTERNS = [pytest.param(p, id=p.name) for p in ALL_PATTERNS]
SOME = [p for p in ALL_PATTERNS if p.name in ("model_dump", "stream_state", "content_only")]


def dropped(samples: dict[str, float]) -> float:
    return samples.get('gateway_signature_dropped_total{reason="backend"}', 0.0)


def assert_vertex_clean(stack: Stack) -> None:
    """Every upstream request went to a Vertex path and is a body Vertex accepts."""
    for request in stack.emulator.requests:
        assert request.backend == "vertex" and "/publishers/google/models/" in request.path
        validate_gemini_request(request.body)
        for content in request.body["contents"]:
            for part in content["parts"]:
                for key in ("functionCall", "functionResponse"):
                    assert "id" not in part.get(key, {})


@pytest.mark.parametrize("pattern", PATTERNS)
async def test_a_three_turn_image_edit_on_vertex_is_byte_exact(pattern: Pattern):
    async with emulator_stack(use_vertexai=True) as stack:
        turns = await converse(Session(stack), pattern, MODEL, EDIT_PROMPTS)
        assert [band_count(t.png) for t in turns if t.png] == [0, 1, 2]
        assert_faithful(stack.emulator)  # every signature verified `ok` by the Vertex signer
        assert_vertex_clean(stack)
        assert dropped(await metrics(stack)) == 0
        assert stack.emulator_app.state.vertex_tokens.fetches["metadata"] == 1


@pytest.mark.parametrize("pattern", PATTERNS)
async def test_a_gemini_3_tool_loop_on_vertex_is_byte_exact(pattern: Pattern):
    async with emulator_stack(use_vertexai=True) as stack:
        turns = await tool_loop(stack, pattern, "use get_weather and get_time for Paris")
        assert any(SIG in part for parts in turns for part in parts)
        assert_vertex_clean(stack)
        assert dropped(await metrics(stack)) == 0


async def test_vertex_responses_tag_their_signature_carriers():
    async with emulator_stack(use_vertexai=True) as stack:
        reply = await stack.openai().chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "a red fox"}]
        )
        message = reply.choices[0].message.model_dump()
        assert message["extra_content"]["google"]["backend"] == TAG
        (image,) = message["images"]
        assert image["extra_content"]["google"] == {
            "thought_signature": image["extra_content"]["google"]["thought_signature"],
            "backend": TAG,
        }
    async with emulator_stack() as stack:  # AI Studio responses are unchanged: no tag
        reply = await stack.openai().chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "a red fox"}]
        )
        assert "backend" not in reply.choices[0].message.model_dump()["extra_content"]["google"]


async def _switch(
    pattern: Pattern, tmp_path: Path, first: dict[str, Any], then: dict[str, Any]
) -> tuple[Stack, list[Any]]:
    """Turn 1 on one backend, turns 2 and 3 on the other; one shared turn store (a team
    redeploying the gateway from AI Studio to Vertex keeps its state)."""
    state = {"state": f"sqlite:///{tmp_path / 'turns.db'}"}
    async with emulator_stack(**state, **first) as before:
        history: list[Any] = [pattern.user(EDIT_PROMPTS[0])]
        turn = await pattern.reply(Session(before), MODEL, history)
        history.append(turn.message)
    async with emulator_stack(**state, **then) as after:
        session = Session(after)
        history.append(pattern.user(EDIT_PROMPTS[1]))
        second = await pattern.reply(session, MODEL, history)
        (parts,) = model_turns(after.emulator.requests[-1].body)
        assert [p.get(SIG) for p in parts] == [DUMMY, DUMMY]  # the fallback, not the foreign one
        assert assert_degraded_without_corruption(after.emulator) == ["dummy", "dummy"]
        assert dropped(await metrics(after)) == 2
        history += [second.message, pattern.user(EDIT_PROMPTS[2])]
        third = await pattern.reply(session, MODEL, history)
        # the turn this backend minted goes back byte-exact; the foreign one stays degraded
        replayed = model_turns(after.emulator.requests[-1].body)
        assert replayed[1] == after.emulator.issued[0]["parts"]
        assert after.emulator.requests[-1].verdicts == ["dummy", "dummy", "ok", "ok"]
        assert band_count(third.png or b"") == 2
        return after, history


@pytest.mark.parametrize("pattern", [pytest.param(p, id=p.name) for p in SOME])
async def test_ai_studio_signatures_replayed_to_vertex_are_dropped_and_counted(
    pattern: Pattern, tmp_path: Path
):
    after, _ = await _switch(pattern, tmp_path, {}, {"use_vertexai": True})
    assert_vertex_clean(after)


@pytest.mark.parametrize("pattern", [pytest.param(p, id=p.name) for p in SOME])
async def test_vertex_signatures_replayed_to_ai_studio_are_dropped_too(
    pattern: Pattern, tmp_path: Path
):
    after, _ = await _switch(pattern, tmp_path, {"use_vertexai": True}, {})
    assert {r.backend for r in after.emulator.requests} == {"ai-studio"}


async def test_a_tool_call_signed_on_ai_studio_gets_the_dummy_on_vertex(tmp_path: Path):
    """Gemini 3 needs the current turn's first call signed: the foreign signature is replaced
    by the documented bypass value, never sent (Vertex would answer 400)."""
    pattern = CARRIER_PATTERNS[1]  # model_dump
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
            },
        }
    ]
    state = {"state": f"sqlite:///{tmp_path / 'turns.db'}"}
    history: list[Any] = [pattern.user("use get_weather for Paris")]
    async with emulator_stack(**state) as studio:
        calls = await pattern.reply(Session(studio), "gemini-3-pro-preview", history, tools=tools)
    call_id = calls.message["tool_calls"][0]["id"]
    history += [calls.message, pattern.tool_result(call_id, '{"temp": 20}')]
    async with emulator_stack(**state, use_vertexai=True) as vertex:
        await pattern.reply(Session(vertex), "gemini-3-pro-preview", history, tools=tools)
        ((call,),) = model_turns(vertex.emulator.requests[-1].body)
        assert call[SIG] == DUMMY and "id" not in call["functionCall"]
        assert vertex.emulator.requests[-1].verdicts == ["dummy"]
        assert dropped(await metrics(vertex)) == 1
        assert_vertex_clean(vertex)


async def test_the_responses_api_on_vertex_replays_byte_exact():
    """/v1/responses on Vertex, history by previous_response_id and by store=False replay."""
    import base64

    async with emulator_stack(use_vertexai=True) as stack:
        client = stack.openai()
        previous = None
        for prompt in EDIT_PROMPTS:
            response = await client.responses.create(
                model=MODEL,
                input=prompt,
                tools=[{"type": "image_generation"}],
                previous_response_id=previous,
            )
            assert_faithful(stack.emulator)
            previous = response.id
        image = next(o for o in response.output if o.type == "image_generation_call")
        assert band_count(base64.b64decode(image.result or "")) == 2
        history: list[Any] = []
        for prompt in EDIT_PROMPTS[:2]:
            history.append({"role": "user", "content": prompt})
            replayed = await client.responses.create(
                model=MODEL, input=history, tools=[{"type": "image_generation"}], store=False
            )
            assert_faithful(stack.emulator)
            history.extend(item.model_dump() for item in replayed.output)
        assert_vertex_clean(stack)
        assert dropped(await metrics(stack)) == 0


async def test_a_responses_envelope_from_ai_studio_is_not_replayed_to_vertex():
    async with emulator_stack() as studio:
        first = await studio.openai().responses.create(
            model=MODEL, input=EDIT_PROMPTS[0], tools=[{"type": "image_generation"}], store=False
        )
    history = [
        {"role": "user", "content": EDIT_PROMPTS[0]},
        *(item.model_dump() for item in first.output),
        {"role": "user", "content": EDIT_PROMPTS[1]},
    ]
    async with emulator_stack(use_vertexai=True) as vertex:
        await vertex.openai().responses.create(
            model=MODEL, input=history, tools=[{"type": "image_generation"}], store=False
        )
        assert_degraded_without_corruption(vertex.emulator)
        assert_vertex_clean(vertex)

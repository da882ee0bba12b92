"""`#directives` in the last user text: blocked prompts, empty candidates, safety, MAX_TOKENS."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.anyio

IMAGE = "gemini-3.1-flash-image-preview"


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "parts": [{"text": text}]}


async def test_blocked_prompt_has_no_candidates(emu: Any) -> None:
    data = await emu.ok(IMAGE, {"contents": [user("bad idea #blocked")]})
    assert "candidates" not in data
    assert data["promptFeedback"] == {"blockReason": "PROHIBITED_CONTENT"}
    assert data["usageMetadata"]["totalTokenCount"] == data["usageMetadata"]["promptTokenCount"]
    chunks = await emu.chunks(IMAGE, {"contents": [user("bad idea #blocked")]})
    assert len(chunks) == 1 and chunks[0]["promptFeedback"]["blockReason"] == "PROHIBITED_CONTENT"
    assert emu.state.issued == []


@pytest.mark.parametrize(
    ("directive", "reason"),
    [("#no_image", "NO_IMAGE"), ("#image_safety", "IMAGE_SAFETY"), ("#safety", "SAFETY")],
)
async def test_empty_content_refusals(emu: Any, directive: str, reason: str) -> None:
    data = await emu.ok(IMAGE, {"contents": [user(f"draw {directive}")]})
    (candidate,) = data["candidates"]
    assert candidate["content"] == {}
    assert candidate["finishReason"] == reason
    chunks = await emu.chunks(IMAGE, {"contents": [user(f"draw {directive}")]})
    assert [c["candidates"][0]["finishReason"] for c in chunks] == [reason]
    assert emu.state.issued == []


async def test_safety_carries_a_blocked_rating(emu: Any) -> None:
    data = await emu.ok("gemini-2.5-flash", {"contents": [user("#safety")]})
    ratings = data["candidates"][0]["safetyRatings"]
    assert any(r.get("blocked") for r in ratings)


async def test_max_tokens_directive(emu: Any) -> None:
    data = await emu.ok(
        "gemini-3-pro-preview", {"contents": [user("a long answer please #max_tokens")]}
    )
    candidate = data["candidates"][0]
    assert candidate["finishReason"] == "MAX_TOKENS"
    assert "Echo: a long answer please #max_tokens".startswith(
        candidate["content"]["parts"][0]["text"]
    )
    image = await emu.ok(IMAGE, {"contents": [user("draw #max_tokens")]})
    assert [sorted(p) for p in image["candidates"][0]["content"]["parts"]] == [
        ["text", "thoughtSignature"]
    ]


async def test_directives_only_apply_to_the_turn_that_carries_them(emu: Any) -> None:
    await emu.ok(IMAGE, {"contents": [user("first #no_image")]})
    contents = [
        user("first #no_image"),
        {
            "role": "model",
            "parts": [{"text": "sorry", "thoughtSignature": "skip_thought_signature_validator"}],
        },
        user("now draw"),
    ]
    data = await emu.ok(IMAGE, {"contents": contents})
    assert data["candidates"][0]["finishReason"] == "STOP"
    assert any("inlineData" in p for p in data["candidates"][0]["content"]["parts"])

"""Images large enough to be spliced (serving/splice.py) keep full fidelity when a client sends
an image turn back: sent once, with their own signature, whatever the history budget."""

from __future__ import annotations

import io
import os
from typing import Any

import pytest
from PIL import Image

import gateway.emulator.scenarios as scenarios

pytestmark = pytest.mark.anyio
MODEL = "gemini-3-pro-image-preview"


@pytest.fixture
def large_images(monkeypatch: pytest.MonkeyPatch) -> None:
    """The emulator draws noise: ~58 KB of PNG, ~77 KB of base64 (small ones are never cut)."""

    def noise(width: int, height: int, **_: Any) -> bytes:
        out = io.BytesIO()
        Image.frombytes("RGB", (140, 140), os.urandom(140 * 140 * 3)).save(out, format="PNG")
        return out.getvalue()

    monkeypatch.setattr(scenarios, "render_image", noise)


def sent_model_parts(stack: Any) -> list[tuple[str, str]]:
    parts = stack.upstream_bodies()[-1]["contents"][1]["parts"]
    return [
        ("image" if "inlineData" in p else "text", p.get("thoughtSignature", ""))
        for p in parts
        if not p.get("thought")
    ]


@pytest.mark.parametrize("budget", [None, "trim"])
@pytest.mark.parametrize("how", ["as received", "caption edited", "caption edited, no mirror"])
async def test_an_image_turn_sent_back_keeps_one_image_with_its_signature(
    stack, large_images, budget, how
):
    google: dict[str, Any] = {"history_budget": budget} if budget else {}
    if how.endswith("no mirror"):
        google["image_markdown"] = False
    client = stack.openai()
    messages: list[dict[str, Any]] = [{"role": "user", "content": "a red fox"}]
    first = await client.chat.completions.create(
        model=MODEL, messages=messages, extra_body={"google": google}
    )
    reply = first.choices[0].message.model_dump(exclude_none=True)
    assert len(reply["images"][0]["image_url"]["url"]) > 64 * 1024
    if how != "as received":
        reply.pop("extra_content", None)  # no carrier: rebuilt from content and images[]
        reply["content"] = "An edited caption " + (reply.get("content") or "")
    messages += [reply, {"role": "user", "content": "make it blue"}]
    await client.chat.completions.create(
        model=MODEL, messages=messages, extra_body={"google": google}
    )
    original = stack.upstream_bodies()
    images = [sig for kind, sig in sent_model_parts(stack) if kind == "image"]
    assert len(images) == 1, sent_model_parts(stack)
    assert images[0] and not images[0].startswith("skip_thought"), original[-1]["contents"][1]

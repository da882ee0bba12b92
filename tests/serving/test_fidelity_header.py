"""`x-gateway-fidelity` tells the client which signature fallbacks its request needed."""

from __future__ import annotations

import pytest

from gateway.serving.fidelity import fidelity_headers
from tests.conftest import client_for, emulator_stack

MODEL = "gemini-3-pro-image-preview"


def test_fallbacks_are_counted_by_kind():
    notes = ["history:trimmed", "signature_fallback:image", "signature_fallback:text"]
    notes.append("signature_fallback:image")
    assert fidelity_headers(notes) == {"x-gateway-fidelity": "image=2, text=1"}


def test_no_fallback_no_header():
    assert fidelity_headers(["history:trimmed"]) == {}


@pytest.mark.anyio
@pytest.mark.parametrize("stream", [False, True])
async def test_a_turn_the_gateway_never_saw_is_reported(stream):
    unknown = {"role": "assistant", "content": "A fox, drawn elsewhere."}
    async with emulator_stack() as stack, client_for(stack.app) as client:
        first = {"model": MODEL, "messages": [{"role": "user", "content": "Draw a fox"}]}
        reply = (await client.post("/v1/chat/completions", json=first)).json()
        faithful = [*first["messages"], reply["choices"][0]["message"]]
        faithful.append({"role": "user", "content": "Make it night"})
        kept = await client.post(
            "/v1/chat/completions", json={"model": MODEL, "messages": faithful, "stream": stream}
        )
        lost = await client.post(
            "/v1/chat/completions",
            json={
                "model": MODEL,
                "stream": stream,
                "messages": [first["messages"][0], unknown, faithful[-1]],
            },
        )
    assert kept.status_code == lost.status_code == 200
    assert "x-gateway-fidelity" not in kept.headers
    assert lost.headers["x-gateway-fidelity"] == "text=1"

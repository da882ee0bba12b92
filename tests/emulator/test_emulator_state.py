"""EmulatorState bookkeeping and the small pure helpers it relies on."""

from __future__ import annotations

import base64
import itertools
from typing import Any

import httpx
import pytest

from gateway.emulator.app import build_emulator_app
from gateway.emulator.fields import decode_base64, is_base64
from gateway.emulator.render import split_text


@pytest.mark.parametrize("raw", [b"", b"\x00", b"\xfb\xff", b"\xfb\xff\xfe", bytes(range(256))])
def test_base64_spellings_all_decode(raw: bytes) -> None:
    standard = base64.b64encode(raw).decode()
    url_safe = base64.urlsafe_b64encode(raw).decode()
    for spelling in {standard, standard.rstrip("="), url_safe, url_safe.rstrip("=")}:
        assert is_base64(spelling)
        assert decode_base64(spelling) == raw


def test_is_base64_agrees_with_decode() -> None:
    for n in range(6):
        for chars in itertools.product("AB+_=@ ", repeat=n):
            text = "".join(chars)
            assert is_base64(text) == (decode_base64(text) is not None), text


@pytest.mark.parametrize(
    "text", ["", "ab", "Echo: hi", "one two three four five six seven", "日本語のテキスト🙂"]
)
def test_split_text_rejoins(text: str) -> None:
    pieces = split_text(text)
    assert "".join(pieces) == text
    assert len(pieces) <= 4


@pytest.mark.anyio
async def test_recording_is_bounded_and_reset_clears_everything() -> None:
    app = build_emulator_app(max_recorded=3)
    state = app.state.emulator
    transport = httpx.ASGITransport(app=app)
    body: dict[str, Any] = {"contents": [{"role": "user", "parts": [{"text": "x"}]}]}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://e", headers={"x-goog-api-key": "k"}
    ) as client:
        for _ in range(5):
            await client.post("/v1beta/models/gemini-3-pro-preview:generateContent", json=body)
    assert len(state.requests) == 3 and len(state.issued) == 3
    assert state.verdicts == [[], [], []]
    state.queue_fault("status:500", count=2)
    assert len(state.faults) == 2
    state.reset()
    assert (state.requests, state.issued, state.cancelled, len(state.faults)) == ([], [], 0, 0)


def test_queue_fault_rejects_unknown_kinds() -> None:
    state = build_emulator_app().state.emulator
    with pytest.raises(ValueError, match="unknown fault"):
        state.queue_fault("meltdown")
    with pytest.raises(ValueError, match="4xx/5xx"):
        state.queue_fault("status:200")

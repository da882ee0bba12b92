"""A bug on a native route still answers in Google's shape (500 INTERNAL), not the OpenAI
envelope the app's last-resort handler writes, and says nothing of its cause."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.routes import native
from tests.conftest import emulator_stack

pytestmark = pytest.mark.anyio


async def test_an_unexpected_failure_is_a_google_500(monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(native, "relay_unary", broken)
    async with emulator_stack() as stack, stack.http() as http:
        response = await http.post(
            "/v1beta/models/gemini-2.5-flash:generateContent",
            json={"contents": [{"role": "user", "parts": [{"text": "hi"}]}]},
        )
    assert response.status_code == 500
    assert response.json() == {
        "error": {"code": 500, "message": "internal error in the gateway", "status": "INTERNAL"}
    }
    assert "secret" not in response.text

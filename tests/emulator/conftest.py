"""Fixtures for the emulator tests: an app, an httpx client over ASGITransport, and small helpers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest

from gateway.emulator.app import EmulatorState, build_emulator_app

API_KEY = "test-key"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def parse_sse(body: bytes) -> list[dict[str, Any]]:
    """Strict SSE parse: CRLF CRLF framing, one `data: ` line per event, nothing else."""
    assert body.endswith(b"\r\n\r\n"), body[-20:]
    events = body[: -len(b"\r\n\r\n")].split(b"\r\n\r\n")
    out = []
    for event in events:
        assert event.startswith(b"data: "), event[:40]
        assert b"\n" not in event
        out.append(orjson.loads(event[len(b"data: ") :]))
    return out


class Emu:
    """Talks to one emulator app the way the gateway will: JSON over httpx's ASGI transport."""

    parse_sse = staticmethod(parse_sse)

    def __init__(self, client: httpx.AsyncClient, state: EmulatorState) -> None:
        self.client = client
        self.state = state

    async def generate(self, model: str, body: dict[str, Any], **kw: Any) -> httpx.Response:
        return await self.client.post(f"/v1beta/models/{model}:generateContent", json=body, **kw)

    async def stream(self, model: str, body: dict[str, Any], *, sse: bool = True) -> httpx.Response:
        suffix = "?alt=sse" if sse else ""
        return await self.client.post(
            f"/v1beta/models/{model}:streamGenerateContent{suffix}", json=body
        )

    async def chunks(self, model: str, body: dict[str, Any]) -> list[dict[str, Any]]:
        response = await self.stream(model, body)
        assert response.status_code == 200, response.text
        return parse_sse(response.content)

    async def ok(self, model: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await self.generate(model, body)
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data

    async def error(self, model: str, body: dict[str, Any], status: int = 400) -> str:
        response = await self.generate(model, body)
        assert response.status_code == status, response.text
        error = response.json()["error"]
        assert error["code"] == status
        message: str = error["message"]
        return message


@pytest.fixture
def app() -> Any:
    return build_emulator_app()


@pytest.fixture
async def emu(app: Any) -> AsyncIterator[Emu]:
    transport = httpx.ASGITransport(app=app)
    headers = {"x-goog-api-key": API_KEY}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://emulator", headers=headers
    ) as client:
        yield Emu(client, app.state.emulator)

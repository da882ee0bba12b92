"""Shared fixtures: settings and app factories, an in-process OpenAI client, the samples dir."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.app import build_app
from gateway.config import Settings

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT.parent / "shared" / "reference" / "gemini-samples"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("GEMINI_", "GATEWAY_", "GOOGLE_")) or name.lower().endswith("_proxy"):
            monkeypatch.delenv(name, raising=False)


@pytest.fixture
def samples_dir() -> Path:
    if not SAMPLES.is_dir():
        pytest.fail(f"the shared Gemini samples are missing: {SAMPLES}")
    return SAMPLES


def make_settings(**overrides: Any) -> Settings:
    base: dict[str, Any] = {"upstream": "emulator", "keepalive_interval": 5.0}
    base.update(overrides)
    return Settings(**base)


@asynccontextmanager
async def running_app(
    settings: Settings, transport: httpx.AsyncBaseTransport
) -> AsyncIterator[Any]:
    app = build_app(settings, upstream_transport=transport)
    async with app.router.lifespan_context(app):
        yield app


def client_for(app: Any, **kwargs: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway", timeout=30, **kwargs
    )


AppFactory = Callable[..., Any]

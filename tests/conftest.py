"""Shared fixtures: settings and app factories, an in-process OpenAI client, the captured
Gemini samples (tests/fixtures/gemini-samples/)."""

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
SAMPLES = ROOT / "tests" / "fixtures" / "gemini-samples"  # captured payloads, see its README


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
    return SAMPLES


def make_settings(**overrides: Any) -> Settings:
    base: dict[str, Any] = {"upstream": "emulator", "keepalive_interval": 5.0}
    base.update(overrides)
    return Settings(**base)


@asynccontextmanager
async def running_app(
    settings: Settings, transport: httpx.AsyncBaseTransport | None
) -> AsyncIterator[Any]:
    app = build_app(settings, upstream_transport=transport, auth_transport=transport)
    async with app.router.lifespan_context(app):
        yield app


def client_for(app: Any, **kwargs: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway", timeout=30, **kwargs
    )


AppFactory = Callable[..., Any]


class Stack:
    """The gateway app on the emulator, both in-process, plus clients bound to them."""

    def __init__(self, app: Any, emulator_app: Any) -> None:
        self.app = app
        self.emulator_app = emulator_app
        self.emulator = emulator_app.state.emulator

    def http(self, **kwargs: Any) -> httpx.AsyncClient:
        return client_for(self.app, **kwargs)

    def openai(self, api_key: str = "test-key", **kwargs: Any) -> Any:
        import openai

        return openai.AsyncOpenAI(
            base_url="http://gateway/v1",
            api_key=api_key,
            http_client=client_for(self.app),
            max_retries=0,
            **kwargs,
        )

    def langchain(self, model: str, **kwargs: Any) -> Any:
        from langchain_openai import ChatOpenAI

        return ChatOpenAI(
            model=model,
            base_url="http://gateway/v1",
            api_key="test-key",
            http_async_client=client_for(self.app),
            max_retries=0,
            **kwargs,
        )

    def upstream_bodies(self) -> list[dict[str, Any]]:
        return [r.body for r in self.emulator.requests]


# Which upstream wire `emulator_stack` builds: "asgi" (the httpx test wire, the emulator
# in-process) or "aiohttp" (the production wire over a real socket to the emulator served on
# 127.0.0.1). tests/e2e/conftest.py runs the fidelity and streaming suites over both.
UPSTREAM_WIRES = ("asgi", "aiohttp")
upstream_wire = "asgi"


@asynccontextmanager
async def emulator_stack(**overrides: Any) -> AsyncIterator[Stack]:
    from gateway.emulator.app import build_emulator_app
    from tests.hardening.loopback import serve

    emulator_app = build_emulator_app()
    if upstream_wire == "aiohttp":
        with serve(emulator_app) as base:
            settings = make_settings(**{"base_url": base, **overrides})
            async with running_app(settings, None) as app:
                yield Stack(app, emulator_app)
        return
    transport = httpx.ASGITransport(app=emulator_app)
    async with running_app(make_settings(**overrides), transport) as app:
        yield Stack(app, emulator_app)


@pytest.fixture
async def stack() -> AsyncIterator[Stack]:
    async with emulator_stack() as s:
        yield s


# -- golden files (tests/golden.py) ------------------------------------------------------------
# pytest_addoption only works in the rootdir conftest, so the option lives here.


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite expected golden files from the current output (then review the diff)",
    )


# -- a real Redis (tests/redis_server.py) ------------------------------------------------------


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from redis_server import RedisServer, require_redis_binary

    server = RedisServer(require_redis_binary(), tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: Any) -> str:
    """An empty Redis for this test (the session's server, flushed)."""
    if redis_server.proc is None:  # a test stopped it and failed before starting it again
        redis_server.start()
    redis_server.flush()
    return str(redis_server.url)

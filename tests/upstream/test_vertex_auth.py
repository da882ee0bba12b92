"""Vertex AI auth, end to end on real loopback sockets: google-auth gets tokens from the
emulator's OAuth token endpoint (a service account JSON generated here, with a fresh RSA key)
or from its metadata server (GCE_METADATA_HOST), and the gateway calls the emulator's Vertex
paths with `Authorization: Bearer <token>`. 50 concurrent requests cause one token fetch;
passing the refresh point (an injected clock, no sleeping) causes exactly one more."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from gateway.app import build_app
from gateway.emulator.app import build_emulator_app
from gateway.logs import redact
from tests.conftest import client_for, make_settings
from tests.hardening.loopback import eventually, serve

pytestmark = pytest.mark.anyio
LIFETIME = 3600.0
MARGIN = 225.0


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def emulator() -> Iterator[tuple[str, Any]]:
    app = build_emulator_app()
    with serve(app) as base:
        yield base, app


def service_account_file(tmp_path: Path, token_uri: str) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    info = {
        "type": "service_account",
        "project_id": "sa-project",
        "private_key_id": "k1",
        "private_key": pem,
        "client_email": "gateway@sa-project.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": token_uri,
    }
    path = tmp_path / "sa.json"
    path.write_bytes(orjson.dumps(info))
    return path


@asynccontextmanager
async def gateway(clock: FakeClock, **settings: Any) -> AsyncIterator[Any]:
    """The gateway on real sockets (aiohttp) to the loopback emulator, called in-process."""
    app = build_app(
        make_settings(upstream="gemini", use_vertexai=True, **settings), token_clock=clock
    )
    async with app.router.lifespan_context(app):
        yield app


async def chat_many(app: Any, n: int) -> list[int]:
    async with client_for(app) as http:
        body = {"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "hi"}]}
        replies = await asyncio.gather(
            *(http.post("/v1/chat/completions", json=body) for _ in range(n))
        )
    return [r.status_code for r in replies]


def bearer_tokens(emulator_app: Any) -> list[str]:
    return [r.headers.get("authorization", "") for r in emulator_app.state.emulator.requests]


async def prove_single_flight_and_early_refresh(
    app: Any, emulator_app: Any, source: str, clock: FakeClock
) -> None:
    fetches = emulator_app.state.vertex_tokens.fetches
    assert await chat_many(app, 50) == [200] * 50
    assert fetches[source] == 1
    tokens = set(bearer_tokens(emulator_app))
    assert len(tokens) == 1 and tokens.pop().startswith("Bearer ya29.emulator-")
    first = bearer_tokens(emulator_app)[0]

    clock.now += LIFETIME - MARGIN - 5  # just before the refresh point: no fetch
    assert await chat_many(app, 5) == [200] * 5
    assert fetches[source] == 1

    clock.now += 10  # past it: the valid token keeps serving while one refresh runs
    assert await chat_many(app, 50) == [200] * 50
    tokens = app.state.services.upstream.backend.tokens
    assert await eventually(lambda: tokens.refreshes == 2)  # fetched, and in use from now on
    assert fetches[source] == 2
    assert await chat_many(app, 5) == [200] * 5
    assert fetches[source] == 2
    assert bearer_tokens(emulator_app)[-1] != first
    # the tokens never reach a log line, by value or by shape
    token = bearer_tokens(emulator_app)[-1].removeprefix("Bearer ")
    assert token not in redact(f"calling with {token} and Authorization: Bearer {token}")


async def test_a_service_account_file_gets_tokens_from_its_token_uri(emulator, tmp_path):
    base, emulator_app = emulator
    path = service_account_file(tmp_path, f"{base}/token")
    clock = FakeClock()
    async with gateway(clock, vertex_credentials=str(path), vertex_base_url=base) as app:
        await prove_single_flight_and_early_refresh(app, emulator_app, "token_uri", clock)
        request = emulator_app.state.emulator.requests[0]
        assert request.path == (
            "/v1beta1/projects/sa-project/locations/global/publishers/google/models/"
            "gemini-2.5-flash:generateContent"
        )
        assert "x-goog-api-key" not in request.headers
        assert emulator_app.state.vertex_tokens.fetches["metadata"] == 0


async def test_the_metadata_server_path_works_the_same(emulator, tmp_path, monkeypatch):
    base, emulator_app = emulator
    host = base.removeprefix("http://")
    from google.auth.compute_engine import _metadata

    monkeypatch.setenv("GCE_METADATA_HOST", host)
    monkeypatch.setenv("GCE_METADATA_IP", host)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path))  # no gcloud user credentials
    monkeypatch.setattr(_metadata, "_GCE_METADATA_HOST", host)  # google-auth reads it at import
    clock = FakeClock()
    async with gateway(clock, vertex_base_url=base) as app:
        await prove_single_flight_and_early_refresh(app, emulator_app, "metadata", clock)
        assert (
            "/projects/emulator-project/locations/global/"
            in emulator_app.state.emulator.requests[0].path
        )
        assert emulator_app.state.vertex_tokens.fetches["token_uri"] == 0


async def test_express_mode_on_real_sockets_sends_the_key(emulator):
    base, emulator_app = emulator
    async with gateway(FakeClock(), vertex_base_url=base, api_keys=("express-key",)) as app:
        assert await chat_many(app, 3) == [200] * 3
    for request in emulator_app.state.emulator.requests:
        assert request.path.startswith("/v1beta1/publishers/google/models/")
        assert request.headers["x-goog-api-key"] == "express-key"
        assert "authorization" not in request.headers
    assert emulator_app.state.vertex_tokens.fetches == {"token_uri": 0, "metadata": 0}


async def test_no_credentials_anywhere_fails_at_startup_with_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path))
    monkeypatch.setenv("NO_GCE_CHECK", "true")
    from google.auth.compute_engine import _metadata

    monkeypatch.setattr(_metadata, "_NO_GCE_CHECK", True)
    app = build_app(make_settings(upstream="gemini", use_vertexai=True))
    with pytest.raises(Exception, match="credentials"):
        async with app.router.lifespan_context(app):
            pass


async def test_a_quota_project_is_sent_as_x_goog_user_project(emulator, tmp_path):
    base, emulator_app = emulator
    path = service_account_file(tmp_path, f"{base}/token")
    settings = {"vertex_credentials": str(path), "vertex_base_url": base}
    async with gateway(FakeClock(), vertex_quota_project="billing-project", **settings) as app:
        assert await chat_many(app, 1) == [200]
    (request,) = emulator_app.state.emulator.requests
    assert request.headers["x-goog-user-project"] == "billing-project"

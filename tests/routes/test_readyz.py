"""/readyz against real upstreams and stores (routes/health.py, serving/readiness.py,
upstream/probe.py): the emulator, a closed loopback port, a server that never answers, an
upstream that refuses the key, a real Redis stopped mid-test; and the probe count of a storm,
counted at the upstream."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from starlette.types import Receive, Scope, Send

from tests.conftest import client_for, emulator_stack, make_settings, running_app
from tests.hardening.loopback import closed_port

pytestmark = pytest.mark.anyio

SERVER_KEY = "AIzaSy-readyz-server-key-0123456789"


def model_lists(stack: Any) -> list[Any]:
    return [r for r in stack.emulator.requests if r.method == "models.list"]


async def test_ready_on_the_emulator_lists_one_model_with_the_server_key() -> None:
    async with emulator_stack(api_keys=(SERVER_KEY,)) as stack, stack.http() as http:
        reply = await http.get("/readyz")
    assert reply.status_code == 200
    body = reply.json()
    assert (body["status"], body["upstream_client"], body["state_store"]) == ("ready", True, True)
    assert body["checks"]["upstream"] == {
        "ok": True,
        "kind": "ok",
        "host": "emulator",  # in-process, answering for Google's host name
        "status": 200,
    }
    assert body["checks"]["state_store"] == {"ok": True, "kind": "ok", "backend": "memory"}
    (probe,) = model_lists(stack)
    assert probe.query == {"pageSize": "1"} and probe.http_method == "GET"
    assert probe.headers["x-goog-api-key"] == SERVER_KEY
    assert SERVER_KEY not in reply.text


async def test_pass_through_probes_without_a_key_and_any_answer_means_reachable() -> None:
    """No server key: the emulator answers 403 (unregistered caller), as Google does; the host
    answered, so the gateway is ready, and no key (not even an empty header) was sent."""
    async with emulator_stack() as stack, stack.http() as http:
        reply = await http.get("/readyz")
    assert reply.status_code == 200 and reply.json()["status"] == "ready"
    assert reply.json()["checks"]["upstream"]["status"] == 403
    (probe,) = model_lists(stack)
    assert "x-goog-api-key" not in probe.headers and "key" not in probe.query


async def test_vertex_with_adc_probes_with_the_gateways_token() -> None:
    async with emulator_stack(use_vertexai=True) as stack, stack.http() as http:
        reply = await http.get("/readyz")
    assert reply.status_code == 200, reply.text
    (probe,) = model_lists(stack)
    assert probe.path.endswith("/publishers/google/models") and probe.query == {"pageSize": "1"}
    assert probe.headers["authorization"].startswith("Bearer ya29.")
    assert "ya29." not in reply.text


async def test_a_closed_port_is_not_ready_with_kind_refused_and_the_host(
    caplog: pytest.LogCaptureFixture,
) -> None:
    port = closed_port()
    settings = make_settings(
        upstream="gemini", base_url=f"http://127.0.0.1:{port}", ready_cache_seconds=0
    )
    caplog.set_level(logging.INFO, logger="gateway.ready")
    async with running_app(settings, None) as app, client_for(app) as http:
        reply = await http.get("/readyz")
        again = await http.get("/readyz")  # probed again (no cache), logged once: no change
        health = await http.get("/healthz")
    assert reply.status_code == 503
    body = reply.json()
    assert (body["status"], body["upstream_client"], body["state_store"]) == (
        "not ready",
        False,
        True,
    )
    upstream = body["checks"]["upstream"]
    assert (upstream["ok"], upstream["kind"], upstream["host"]) == (
        False,
        "refused",
        f"127.0.0.1:{port}",
    )
    assert again.json() == body
    assert health.status_code == 200  # liveness never looks at the upstream
    (changed,) = [r for r in caplog.records if r.name == "gateway.ready"]
    assert changed.levelno == logging.WARNING
    assert (changed.upstream_kind, changed.upstream_host) == ("refused", f"127.0.0.1:{port}")  # type: ignore[attr-defined]


class Silent:
    """A loopback server that accepts connections, reads, and never answers (a black hole
    that completes the TCP handshake: the hard case for a bound)."""

    def __init__(self) -> None:
        self.connections = 0
        self.server: asyncio.Server | None = None
        self.writers: list[asyncio.StreamWriter] = []

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.writers.append(writer)
        try:
            while await reader.read(65536):
                pass
        finally:
            writer.close()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[str]:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            self.server.close()
            for writer in self.writers:
                writer.close()
            await self.server.wait_closed()


async def test_an_upstream_that_never_answers_is_not_ready_with_kind_timeout() -> None:
    silent = Silent()
    async with silent.running() as base:
        settings = make_settings(
            upstream="gemini", base_url=base, api_keys=(SERVER_KEY,), ready_timeout=0.2
        )
        async with running_app(settings, None) as app, client_for(app) as http:
            reply = await http.get("/readyz")
    assert reply.status_code == 503
    upstream = reply.json()["checks"]["upstream"]
    assert (upstream["kind"], upstream["ok"]) == ("timeout", False)
    assert reply.json()["status"] == "not ready"
    assert silent.connections == 1  # the probe did reach it: the bound, not a refusal, ended it


class Refusing:
    """An upstream that answers every call with `status` and a Google error body that echoes
    the key it was sent (some relays do): the probe must not pass either on."""

    def __init__(self, status: int, page: bytes = b"") -> None:
        self.status = status
        self.page = page  # when set, answered instead of Google's JSON (a proxy's own page)
        self.hits = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        self.hits += 1
        headers = dict(scope["headers"])
        key = headers.get(b"x-goog-api-key", b"").decode()
        error = {
            "code": self.status,
            "message": f"API key {key} is not valid",
            "status": {401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED"}.get(
                self.status, "UNAVAILABLE"
            ),
        }
        body = self.page or orjson.dumps({"error": error})
        start = {"type": "http.response.start", "status": self.status}
        await send({**start, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})


@pytest.mark.parametrize("status", [401, 403])
async def test_a_refused_key_is_not_ready_and_the_key_is_nowhere(
    status: int, caplog: pytest.LogCaptureFixture
) -> None:
    upstream = Refusing(status)
    settings = make_settings(upstream="gemini", api_keys=(SERVER_KEY,))
    async with running_app(settings, httpx.ASGITransport(app=upstream)) as app:
        async with client_for(app) as http:
            reply = await http.get("/readyz")
    assert reply.status_code == 503 and upstream.hits == 1
    check = reply.json()["checks"]["upstream"]
    assert check["kind"] == "unauthorized" and check["status"] == status
    assert check["reason"] == "upstream refused the configured key"
    assert SERVER_KEY not in reply.text and SERVER_KEY not in caplog.text


@pytest.mark.parametrize("status", [401, 403])
async def test_a_refusal_that_is_not_google_json_is_still_a_refused_key(status: int) -> None:
    """A 401/403 page from a proxy or relay in front of Gemini: every request would fail (a
    502 naming the page), so the replica is not ready; it was, since only a JSON body counted."""
    upstream = Refusing(status, page=b"<html><body>403 Forbidden</body></html>")
    settings = make_settings(upstream="gemini", api_keys=(SERVER_KEY,))
    async with running_app(settings, httpx.ASGITransport(app=upstream)) as app:
        async with client_for(app) as http:
            reply = await http.get("/readyz")
    assert reply.status_code == 503
    check = reply.json()["checks"]["upstream"]
    assert check["kind"] == "unauthorized" and check["status"] == status


async def test_gemini_invalid_key_answer_counts_as_a_refused_key() -> None:
    """Gemini answers a bad key with 400 API_KEY_INVALID (the emulator does the same)."""
    async with emulator_stack(api_keys=("invalid-key",)) as stack, stack.http() as http:
        reply = await http.get("/readyz")
    assert reply.status_code == 503
    assert reply.json()["checks"]["upstream"]["kind"] == "unauthorized"
    assert "invalid-key" not in reply.text


async def test_an_upstream_5xx_is_not_ready_even_in_pass_through() -> None:
    upstream = Refusing(503)
    settings = make_settings(upstream="gemini")
    async with running_app(settings, httpx.ASGITransport(app=upstream)) as app:
        async with client_for(app) as http:
            reply = await http.get("/readyz")
    assert reply.status_code == 503
    check = reply.json()["checks"]["upstream"]
    assert (check["kind"], check["status"]) == ("upstream_error", 503)


async def test_a_probe_storm_makes_one_upstream_call_per_cache_period() -> None:
    async with emulator_stack(api_keys=(SERVER_KEY,), ready_cache_seconds=60) as stack:
        async with stack.http() as http:
            storm = await asyncio.gather(*(http.get("/readyz") for _ in range(40)))
            after = [await http.get("/readyz") for _ in range(5)]
    assert {r.status_code for r in [*storm, *after]} == {200}
    assert len(model_lists(stack)) == 1


async def test_without_a_cache_each_probe_calls_but_concurrent_callers_share_one() -> None:
    """Cache off: sequential probes each reach the upstream (the count is real); callers
    arriving while one probe is in flight share it (single-flight)."""
    async with emulator_stack(api_keys=(SERVER_KEY,), ready_cache_seconds=0) as stack:
        async with stack.http() as http:
            for _ in range(3):
                assert (await http.get("/readyz")).status_code == 200
        assert len(model_lists(stack)) == 3
        readiness = stack.app.state.services.readiness
        reports = await asyncio.gather(*(readiness.report() for _ in range(25)))
    assert len(model_lists(stack)) == 4
    assert all(r is reports[0] for r in reports)


@pytest.mark.slow
async def test_redis_stopped_is_degraded_while_chat_still_answers(tmp_path: Path) -> None:
    from redis_server import RedisServer, require_redis_binary

    redis = RedisServer(require_redis_binary(), tmp_path / "redis")
    redis.start()
    try:
        overrides = {"state": redis.url, "state_timeout": 0.5, "ready_cache_seconds": 0}
        async with emulator_stack(**overrides) as stack, stack.http() as http:
            assert (await http.get("/readyz")).status_code == 200
            redis.stop()
            reply = await http.get("/readyz")
            chat = await stack.openai().chat.completions.create(
                model="gemini-2.5-flash", messages=[{"role": "user", "content": "still here?"}]
            )
            redis.start()
            back = await _ready_again(http)
    finally:
        redis.stop()
    assert reply.status_code == 503
    body = reply.json()
    assert (body["status"], body["upstream_client"], body["state_store"]) == (
        "degraded",
        True,
        False,
    )
    assert body["checks"]["state_store"] == {"ok": False, "kind": "unreachable", "backend": "redis"}
    assert "statelessly" in body["note"]
    assert chat.choices[0].message.content
    assert back.status_code == 200 and back.json()["status"] == "ready"


async def _ready_again(http: httpx.AsyncClient) -> httpx.Response:
    """Redis is retried at most once a second after an outage (state/redis_link.py): bounded."""
    for _ in range(100):
        reply = await http.get("/readyz")
        if reply.status_code == 200:
            return reply
        await asyncio.sleep(0.05)
    return reply


@pytest.mark.slow
async def test_operators_may_keep_routing_through_a_state_outage(tmp_path: Path) -> None:
    from redis_server import RedisServer, require_redis_binary

    redis = RedisServer(require_redis_binary(), tmp_path / "redis")
    redis.start()
    try:
        overrides = {"state": redis.url, "state_timeout": 0.5, "ready_require_state": False}
        async with emulator_stack(**overrides) as stack, stack.http() as http:
            redis.stop()
            reply = await http.get("/readyz")
    finally:
        redis.stop()
    assert reply.status_code == 200 and reply.json()["status"] == "degraded"


@pytest.mark.slow
async def test_tls_to_a_plain_http_upstream_is_not_ready_with_kind_tls() -> None:
    from gateway.emulator.app import build_emulator_app
    from tests.hardening.loopback import serve

    with serve(build_emulator_app()) as base:
        https = base.replace("http://", "https://")
        settings = make_settings(upstream="gemini", base_url=https, api_keys=(SERVER_KEY,))
        async with running_app(settings, None) as app, client_for(app) as http:
            reply = await http.get("/readyz")
    assert reply.status_code == 503
    assert reply.json()["checks"]["upstream"]["kind"] == "tls"


async def test_a_sqlite_store_answers_its_ping(tmp_path: Path) -> None:
    async with emulator_stack(state=f"sqlite:///{tmp_path}/state.db") as stack:
        async with stack.http() as http:
            reply = await http.get("/readyz")
    assert reply.status_code == 200
    assert reply.json()["checks"]["state_store"] == {"ok": True, "kind": "ok", "backend": "sqlite"}


async def test_a_graceful_shutdown_turns_readiness_off_before_the_deadline() -> None:
    """From SIGTERM on (the CLI begins the drain), /readyz says 503 so a load balancer sends no
    new requests, while requests in flight and new ones still on open connections are served."""
    async with emulator_stack() as stack, stack.http() as http:
        assert (await http.get("/readyz")).status_code == 200
        stack.app.state.services.drain.begin(60.0)
        reply = await http.get("/readyz")
        assert reply.status_code == 503
        assert reply.json()["status"] == "shutting down"
        assert (await http.get("/healthz")).status_code == 200  # alive until it exits
        chat = await http.post(
            "/v1/chat/completions",
            json={"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "hi"}]},
        )
        assert chat.status_code == 200


async def test_serve_emulator_names_the_emulator_not_googles_host() -> None:
    """`serve --emulator` answers in-process for Google's host name; readiness says so."""
    from gateway.cli import emulator_transport

    transport = emulator_transport()
    settings = make_settings(upstream="emulator")
    async with running_app(settings, transport) as app, client_for(app) as http:
        reply = await http.get("/readyz")
    assert reply.status_code == 200
    assert reply.json()["checks"]["upstream"]["host"] == "emulator"

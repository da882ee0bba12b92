"""Safe defaults and observability: loopback bind, the public-bind warning, CORS off unless
configured, the access-log line, /metrics, /readyz, request ids, and the last-resort 500."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from gateway.app import build_app
from gateway.cli import _uvicorn_options, _warn_unsafe
from gateway.config import Settings, load_settings
from gateway.logs import RequestIdFilter
from gateway.metrics import MAX_LABEL_VALUES, BoundedLabel
from tests.conftest import client_for, emulator_stack, make_settings
from tests.hardening.faults import assert_ends_with_error, chat, chat_body, envelope

pytestmark = pytest.mark.anyio


def access_lines(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "gateway.access" and r.msg == "request"]


# -- safe defaults -------------------------------------------------------------------------------


def test_binds_loopback_by_default():
    assert Settings().host == "127.0.0.1"
    assert load_settings(environ={}).host == "127.0.0.1"


@pytest.mark.parametrize(
    ("host", "server_keys", "client_keys", "warned"),
    [
        ("0.0.0.0", ("AIzaX",), (), True),
        ("::", ("AIzaX",), (), True),
        ("192.168.1.10", ("AIzaX",), (), True),
        ("gateway.example.com", ("AIzaX",), (), True),
        ("127.0.0.1", ("AIzaX",), (), False),
        ("::1", ("AIzaX",), (), False),
        ("localhost", ("AIzaX",), (), False),
        ("0.0.0.0", ("AIzaX",), ("sk-client",), False),
        ("0.0.0.0", (), (), False),  # pass-through: callers spend their own keys
    ],
)
def test_public_bind_with_a_server_key_and_no_client_keys_warns(
    caplog, host, server_keys, client_keys, warned
):
    caplog.set_level(logging.WARNING, logger="gateway")
    _warn_unsafe(Settings(host=host, api_keys=server_keys, client_keys=client_keys))
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert bool(warnings) is warned
    for record in warnings:
        assert "GATEWAY_API_KEYS" in record.getMessage()
        assert "AIzaX" not in record.getMessage()


def test_drain_window_bounds_uvicorn_shutdown():
    assert _uvicorn_options(Settings(drain_seconds=7))["timeout_graceful_shutdown"] == 7
    assert _uvicorn_options(Settings())["timeout_graceful_shutdown"] == 25


async def test_cors_is_off_unless_configured():
    preflight = {"origin": "https://app.example", "access-control-request-method": "POST"}
    async with emulator_stack() as stack, stack.http() as http:
        options = await http.options("/v1/chat/completions", headers=preflight)
        get = await http.get("/healthz", headers={"origin": "https://app.example"})
    for response in (options, get):
        assert not [h for h in response.headers if h.startswith("access-control-")]
    settings = load_settings(environ={"GATEWAY_CORS_ORIGINS": "https://app.example"})
    assert settings.cors_origins == ("https://app.example",)
    async with emulator_stack(cors_origins=settings.cors_origins) as stack, stack.http() as http:
        options = await http.options("/v1/chat/completions", headers=preflight)
        get = await http.get("/healthz", headers={"origin": "https://app.example"})
        other = await http.get("/healthz", headers={"origin": "https://evil.example"})
    assert options.status_code == 200
    assert options.headers["access-control-allow-origin"] == "https://app.example"
    assert get.headers["access-control-allow-origin"] == "https://app.example"
    assert "access-control-allow-origin" not in other.headers


# -- request ids and the access log --------------------------------------------------------------


async def test_request_id_is_accepted_returned_and_logged(caplog):
    caplog.set_level(logging.INFO, logger="gateway.access")
    async with emulator_stack() as stack, stack.http() as http:
        kept = await http.post(
            "/v1/chat/completions", json=chat_body(), headers={"x-request-id": "client-id_1.2"}
        )
        replaced = await http.get("/healthz", headers={"x-request-id": "bad id\twith spaces"})
        fresh = await http.get("/healthz")
    assert kept.headers["x-request-id"] == "client-id_1.2"
    assert replaced.headers["x-request-id"].startswith("req_")
    assert fresh.headers["x-request-id"].startswith("req_")
    assert fresh.headers["x-request-id"] != replaced.headers["x-request-id"]
    ids = [r.request_id for r in access_lines(caplog)]
    assert ids == ["client-id_1.2", replaced.headers["x-request-id"], fresh.headers["x-request-id"]]


async def test_access_log_line_has_the_fields_operators_need(caplog):
    caplog.set_level(logging.INFO, logger="gateway.access")
    body = chat_body("count my bytes")
    async with emulator_stack() as stack, stack.http() as http:
        stack.emulator.queue_fault("status", code=503)
        response = await http.post("/v1/chat/completions", json=body)
        sent = len(response.request.content)
    (line,) = access_lines(caplog)
    assert line.status == 200 and line.method == "POST"
    assert line.route == "/v1/chat/completions" and line.path == "/v1/chat/completions"
    assert line.model == "gemini-2.5-flash"
    assert (line.retries, line.attempts) == (1, 2)
    assert line.upstream_ms > 0 and line.ttfb_ms > 0 and line.ms >= line.ttfb_ms
    assert line.bytes_in == sent
    assert line.bytes_out == len(response.content)
    assert line.notes == []


async def test_stream_access_line_counts_streamed_bytes_and_upstream_wait(caplog):
    caplog.set_level(logging.INFO, logger="gateway.access")
    async with emulator_stack() as stack, stack.http() as http:
        response = await http.post("/v1/chat/completions", json=chat_body(stream=True))
    (line,) = access_lines(caplog)
    assert line.status == 200
    assert line.bytes_out == len(response.content)
    assert line.upstream_ms > 0


def tool_call(call_id: str) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": "get_time", "arguments": "{}"}}


TOOLS = [{"type": "function", "function": {"name": "get_time", "parameters": {"type": "object"}}}]


async def test_signature_fallbacks_show_in_the_log_line_and_metrics(caplog):
    """A Gemini 3 tool call the gateway never saw, sent back without its signature."""
    caplog.set_level(logging.INFO, logger="gateway")
    body = {
        "model": "gemini-3-pro-preview",
        "tools": TOOLS,
        "messages": [
            {"role": "user", "content": "time?"},
            {"role": "assistant", "content": None, "tool_calls": [tool_call("unseen-1")]},
            {"role": "tool", "tool_call_id": "unseen-1", "content": "12:00"},
        ],
    }
    async with emulator_stack() as stack, stack.http() as http:
        response = await http.post("/v1/chat/completions", json=body)
        metrics = (await http.get("/metrics")).text
    assert response.status_code == 200
    (line,) = [r for r in access_lines(caplog) if r.path == "/v1/chat/completions"]
    assert "signature_fallback:function_call" in line.notes
    assert 'gateway_signature_fallbacks_total{kind="function_call"} 1.0' in metrics
    assert any(r.msg == "signature fallback used" for r in caplog.records)


async def test_log_lines_carry_the_request_id_of_their_request(caplog):
    caplog.set_level(logging.INFO, logger="gateway")
    caplog.handler.addFilter(RequestIdFilter())
    async with emulator_stack() as stack, stack.http() as http:
        stack.emulator.queue_fault("status", code=503)
        response = await http.post(
            "/v1/chat/completions", json=chat_body(), headers={"x-request-id": "trace-me"}
        )
    retry = next(r for r in caplog.records if r.name == "gateway.upstream")
    assert response.headers["x-request-id"] == "trace-me"
    assert retry.request_id == "trace-me"


# -- metrics and readiness -----------------------------------------------------------------------


async def test_metrics_cover_requests_latency_ttfb_retries_cache_and_in_flight():
    async with emulator_stack() as stack, stack.http() as http:
        stack.emulator.queue_fault("status", code=500)
        first = await http.post("/v1/chat/completions", json=chat_body("remember me"))
        message = first.json()["choices"][0]["message"]
        follow = {
            "model": "gemini-2.5-flash",
            "messages": [
                {"role": "user", "content": "remember me"},
                {"role": "assistant", "content": message["content"]},
                {"role": "user", "content": "again"},
            ],
        }
        await http.post("/v1/chat/completions", json=follow)
        await http.post("/v1/chat/completions", json=chat_body(stream=True))
        stack.emulator.queue_fault("no_finish")
        await http.post("/v1/chat/completions", json=chat_body(stream=True))
        await http.get("/v1/models/nope")
        text = (await http.get("/metrics")).text
    expected = [
        'gateway_requests_total{model="gemini-2.5-flash",route="/v1/chat/completions",status="200"} 4.0',
        'gateway_requests_total{model="",route="/v1/models/{model_id:path}",status="404"} 1.0',
        "gateway_upstream_latency_seconds_count 4.0",
        "gateway_time_to_first_byte_seconds_count 5.0",
        "gateway_upstream_retries_total 1.0",
        "gateway_in_flight_requests 1.0",  # the /metrics request itself
        'gateway_turn_cache_lookups_total{result="hit"}',
        'gateway_errors_total{code="upstream_incomplete"} 1.0',
        'gateway_upstream_errors_total{code="upstream_incomplete"} 1.0',
        'gateway_errors_total{code="model_not_found"} 1.0',
    ]
    for line in expected:
        assert line in text, line


async def test_metric_labels_stay_bounded_under_random_models_and_paths():
    async with emulator_stack() as stack, stack.http() as http:
        for i in range(MAX_LABEL_VALUES + 20):
            await http.post("/v1/chat/completions", json=chat_body(model=f"gemini-fake-{i}"))
            await http.get(f"/random/path/{i}")
        text = (await http.get("/metrics")).text
    models = {
        line.split('model="')[1].split('"')[0]
        for line in text.splitlines()
        if line.startswith("gateway_requests_total{")
    }
    routes = {
        line.split('route="')[1].split('"')[0]
        for line in text.splitlines()
        if line.startswith("gateway_requests_total{")
    }
    assert len(models) <= MAX_LABEL_VALUES + 1 and "other" in models
    assert "/random/path/1" not in text and "unmatched" in routes


def test_bounded_label_keeps_known_values_after_the_cap():
    label = BoundedLabel(cap=2)
    assert [label("a"), label("b"), label("c"), label("a")] == ["a", "b", "other", "a"]
    assert label("x" * 500) == "other"


async def test_readyz_is_200_when_ready_and_503_before_start():
    async with emulator_stack() as stack, stack.http() as http:
        ready = await http.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert (body["status"], body["upstream_client"], body["state_store"]) == ("ready", True, True)
    assert body["checks"]["upstream"]["ok"] and body["checks"]["state_store"]["ok"]
    app = build_app(make_settings())  # no lifespan has run: nothing is ready yet
    async with client_for(app) as http:
        early = await http.get("/readyz")
    assert early.status_code == 503 and early.json()["status"] == "not ready"


async def test_metrics_need_a_client_key_when_the_gateway_has_client_keys():
    """Per-model traffic and error counts are the operator's: with GATEWAY_API_KEYS set,
    /metrics asks for one of them (Prometheus sends it as a bearer); probes stay open."""
    keys = {"client_keys": ("sk-ops",), "api_keys": ("server",)}
    async with emulator_stack(**keys) as stack, stack.http() as http:
        anonymous = await http.get("/metrics")
        scraped = await http.get("/metrics", headers={"authorization": "Bearer sk-ops"})
        health = await http.get("/healthz")
    assert anonymous.status_code == 401 and "gateway_" not in anonymous.text
    assert scraped.status_code == 200 and "gateway_" in scraped.text
    assert health.status_code == 200


async def test_metrics_can_be_turned_off():
    async with emulator_stack(metrics=False) as stack, stack.http() as http:
        assert (await http.get("/metrics")).status_code == 404


# -- the last resort ------------------------------------------------------------------------------


async def test_an_unexpected_exception_is_a_500_envelope_with_the_request_id(caplog, monkeypatch):
    import gateway.routes.chat

    async def broken(*args: Any) -> Any:
        raise RuntimeError("a bug with AIzaSECRETLOOKINGKEY12345 in it")

    monkeypatch.setattr(gateway.routes.chat, "complete_chat", broken)
    caplog.set_level(logging.INFO, logger="gateway.access")
    async with emulator_stack() as stack, stack.http() as http:
        response = await http.post(
            "/v1/chat/completions", json=chat_body(), headers={"x-request-id": "bug-1"}
        )
    assert response.status_code == 500
    assert envelope(response.json())["type"] == "server_error"
    assert "AIza" not in response.text and "RuntimeError" not in response.text
    assert response.headers["x-request-id"] == "bug-1"
    assert any(r.msg == "unhandled error" and r.request_id == "bug-1" for r in caplog.records)
    assert [r.status for r in access_lines(caplog)] == [500]


async def test_a_bug_after_the_first_byte_still_ends_the_stream_in_band(monkeypatch):
    from gateway.translate.response import stream as stream_module

    def broken(self: Any, event: Any) -> Any:
        raise KeyError("a translation bug")

    async with emulator_stack() as stack, stack.http() as http:
        monkeypatch.setattr(stream_module.ChunkTranslator, "feed", broken)
        reply = await chat(http, stream=True)
    assert reply.status == 200
    error = assert_ends_with_error(reply, None)
    assert error["type"] == "server_error" and "translation bug" not in error["message"]

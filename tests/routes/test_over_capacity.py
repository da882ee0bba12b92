"""Beyond GATEWAY_MAX_CONCURRENCY a request is refused before the app runs; the refusal must
still be an error the client's SDK understands: OpenAI's envelope on OpenAI routes, Google's on
the native routes, with `retry-after`. Over a real socket, through the protocol the CLI serves
with, held at the cap by connections that stay open."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import openai
import orjson
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from gateway.app import build_app
from gateway.cli import http_protocol
from tests.conftest import make_settings
from tests.hardening.loopback import serve

CAP = 2
BOUND = 10.0  # socket reads fail instead of hanging


@contextmanager
def at_capacity() -> Iterator[str]:
    """A gateway capped at CAP with every connection it allows taken; yields its URL. uvicorn
    counts the arriving connection too, so CAP - 1 open ones already fill it."""
    settings = make_settings(max_concurrency=CAP)
    with serve(
        build_app(settings),
        http=http_protocol(settings.header_timeout),
        limit_concurrency=settings.max_concurrency,
    ) as url:
        host, port = url.removeprefix("http://").split(":")
        held = [socket.create_connection((host, int(port)), timeout=BOUND) for _ in range(CAP - 1)]
        try:
            for sock in held:  # each answered once: the server has seen it and keeps it open
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                assert sock.recv(4096).startswith(b"HTTP/1.1 200 ")
            yield url
        finally:
            for sock in held:
                sock.close()


def test_an_openai_route_refuses_in_openai_s_envelope_with_retry_after() -> None:
    with at_capacity() as url:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="k", max_retries=0, timeout=BOUND)
        with pytest.raises(openai.APIStatusError) as caught:
            client.chat.completions.create(
                model="gemini-2.5-flash", messages=[{"role": "user", "content": "hi"}]
            )
    err = caught.value
    assert err.status_code == 503
    assert err.response.headers["content-type"].startswith("application/json")
    assert int(err.response.headers["retry-after"]) >= 1
    assert err.code == "server_busy" and err.type == "server_error"
    assert "GATEWAY_MAX_CONCURRENCY" in err.message
    body = orjson.loads(err.response.content)
    assert set(body["error"]) == {"message", "type", "param", "code"}


def test_a_native_route_refuses_in_google_s_shape_with_retry_after() -> None:
    with at_capacity() as url:
        options = types.HttpOptions(base_url=url, api_version="v1beta", timeout=int(BOUND * 1000))
        client = genai.Client(api_key="k", http_options=options)
        with pytest.raises(genai_errors.ServerError) as caught:
            client.models.generate_content(model="gemini-2.5-flash", contents="hi")
    err = caught.value
    assert err.code == 503 and err.status == "UNAVAILABLE"
    assert "GATEWAY_MAX_CONCURRENCY" in (err.message or "")
    response = err.response
    assert int(response.headers["retry-after"]) >= 1
    assert orjson.loads(response.content) == {
        "error": {"code": 503, "message": err.message, "status": "UNAVAILABLE"}
    }


def test_liveness_and_metrics_answer_beyond_the_cap_and_readiness_does_not() -> None:
    """A 503 on /healthz when merely busy would make an orchestrator restart a saturated pod
    (README: "200 while the process answers"); /metrics matters most exactly then."""
    with at_capacity() as url, httpx.Client(base_url=url, timeout=BOUND) as client:
        assert client.get("/healthz").status_code == 200
        metrics = client.get("/metrics")
        assert metrics.status_code == 200 and "gateway_requests_total" in metrics.text
        busy = client.get("/readyz")
        assert busy.status_code == 503 and busy.json()["error"]["code"] == "server_busy"
        chat = client.post("/v1/chat/completions", json={"model": "m", "messages": []})
        assert chat.status_code == 503 and chat.json()["error"]["code"] == "server_busy"

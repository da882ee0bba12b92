"""Slow and idle clients on real loopback sockets (the black-box probes): trickled headers, a
connection that never speaks, a body that stalls, a chunked body announcing 2^64 bytes, an
unread body after the answer, and the concurrency cap. None may hold a connection for good."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from gateway.app import build_app
from gateway.cli import _uvicorn_options, http_protocol
from gateway.config import Settings, load_settings
from tests.conftest import make_settings
from tests.hardening.loopback import serve

BOUND = 10.0  # no probe below may take longer than this: a hang fails instead of waiting


@contextmanager
def gateway(**overrides: object) -> Iterator[tuple[str, int]]:
    settings = make_settings(**overrides)
    with serve(
        build_app(settings),
        http=http_protocol(settings.header_timeout),
        timeout_keep_alive=settings.idle_timeout,
        limit_concurrency=settings.max_concurrency,
    ) as url:
        host, port = url.removeprefix("http://").split(":")
        yield host, int(port)


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes; fails past BOUND."""
    sock.settimeout(BOUND)
    answer = b""
    deadline = time.monotonic() + BOUND
    while time.monotonic() < deadline:
        piece = sock.recv(65536)
        if not piece:
            return answer
        answer += piece
    raise AssertionError(f"the server kept the connection open: {answer[:200]!r}")


def test_headers_trickled_a_byte_at_a_time_get_a_408_and_the_connection_closes():
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200 + b"\r\n\r\n"
    with gateway(header_timeout=0.5) as address, socket.create_connection(address) as sock:
        sent = 0
        try:
            for byte in request:  # 200 bytes at 20 ms: 4 s, far past the 0.5 s allowed
                sock.sendall(bytes([byte]))
                sent += 1
                time.sleep(0.02)
        except OSError:
            pass  # closed under us: what should happen
        answer = read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b'"code":"request_timeout"' in answer
    assert sent < len(request)


def test_a_connection_that_never_sends_a_request_is_closed():
    with gateway(header_timeout=0.3) as address, socket.create_connection(address) as sock:
        answer = read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 408 ")


def test_an_idle_keep_alive_connection_is_closed_after_the_idle_timeout():
    with gateway(idle_timeout=1) as address, socket.create_connection(address) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 200 ") and answer.endswith(b'{"status":"ok"}')


@pytest.mark.parametrize(
    "head",
    [
        b"Content-Length: 1000000\r\n\r\n" + b'{"model": "gemini-2.5-flash", "messages": [',
        b"Transfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n" + b'{"model": ',
    ],
    ids=["stalled-body", "chunked-2^64"],
)
def test_a_body_that_stops_arriving_is_a_408_and_the_connection_closes(head):
    request = b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    with gateway(body_timeout=0.5) as address, socket.create_connection(address) as sock:
        sock.sendall(request + head)
        answer = read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b'"code":"request_timeout"' in answer


def test_an_answer_that_leaves_the_body_unread_closes_the_connection():
    """A 401 goes out before the body is read: the rest of the body is not drained (a trickle
    would hold the connection), the connection closes instead."""
    request = (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n{"
    )
    keys = {"client_keys": ("sk-client",), "api_keys": ("server",)}
    with gateway(**keys) as address, socket.create_connection(address) as sock:
        sock.sendall(request)
        answer = read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 401 ")


def test_beyond_the_concurrency_cap_requests_get_a_503():
    with gateway(max_concurrency=2) as address:
        held = [socket.create_connection(address) for _ in range(2)]
        try:
            for sock in held:
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                sock.recv(4096)
            with socket.create_connection(address) as extra:  # (/healthz is served beyond it)
                extra.sendall(b"GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n")
                answer = read_until_closed(extra)
        finally:
            for sock in held:
                sock.close()
    assert answer.startswith(b"HTTP/1.1 503 ")


def test_the_limits_are_configurable_and_reach_uvicorn():
    settings = load_settings(
        environ={
            "GATEWAY_HEADER_TIMEOUT": "3",
            "GATEWAY_BODY_TIMEOUT": "4",
            "GATEWAY_IDLE_TIMEOUT": "6",
            "GATEWAY_MAX_CONCURRENCY": "50",
        }
    )
    options = _uvicorn_options(settings)
    assert options["timeout_keep_alive"] == 6 and options["limit_concurrency"] == 50
    assert options["http"].header_timeout == 3.0 and settings.body_timeout == 4.0
    defaults = _uvicorn_options(Settings())
    assert defaults["timeout_keep_alive"] == 10 and defaults["limit_concurrency"] == 1024
    assert defaults["http"].header_timeout == 10.0 and Settings().body_timeout == 30.0
    with pytest.raises(ValueError, match="GATEWAY_BODY_TIMEOUT"):
        load_settings(environ={"GATEWAY_BODY_TIMEOUT": "0"})

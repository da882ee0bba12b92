"""SIGTERM on the real CLI (§6 G1, the cheap half): uvicorn stops taking connections, a stream
that finishes inside the drain window (GATEWAY_DRAIN_SECONDS → timeout_graceful_shutdown) ends
cleanly with [DONE], and the process exits without a traceback.

A stream still running when the window is about to close ends in-band: a final
`server_shutting_down` error event and [DONE], a second before uvicorn cuts what is left."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from tests.hardening.faults import chat_body
from tests.hardening.loopback import closed_port

pytestmark = pytest.mark.slow


def wait_healthy(base: str, process: subprocess.Popen[bytes]) -> None:
    for _ in range(200):  # bounded: ~10 s
        if process.poll() is not None:
            pytest.fail(
                f"the gateway exited early: {process.stderr.read() if process.stderr else ''}"
            )
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    pytest.fail("the gateway did not become healthy")


def refused(base: str) -> bool:
    for _ in range(100):  # bounded: ~2 s
        try:
            httpx.get(f"{base}/healthz", timeout=0.5)
        except httpx.ConnectError:
            return True
        except httpx.TransportError:
            pass
        time.sleep(0.02)
    return False


@contextmanager
def served_cli(
    drain_seconds: int, keepalive: float = 0.2
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """The real CLI on the emulator on a loopback port, killed at the end if still alive."""
    port = closed_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GEMINI_", "GATEWAY_"))}
    env.update(
        GATEWAY_DRAIN_SECONDS=str(drain_seconds),
        GATEWAY_KEEPALIVE_INTERVAL=str(keepalive),
        GATEWAY_LOG_LEVEL="warning",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "serve", "--emulator", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, process)
        yield base, process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def stream_through_sigterm(
    base: str, process: subprocess.Popen[bytes], prompt: str, running: bytes = b": keep-alive"
) -> tuple[httpx.Response, bytes]:
    """Open a stream, send SIGTERM once `running` shows it is under way, read to the end."""
    with (
        httpx.Client(base_url=base, timeout=20) as http,
        http.stream(
            "POST", "/v1/chat/completions", json=chat_body(prompt, stream=True)
        ) as response,
    ):
        received = b""
        chunks = response.iter_raw()
        for chunk in chunks:
            received += chunk
            if running in received:
                break
        process.send_signal(signal.SIGTERM)
        assert refused(base), "new connections are refused while the stream drains"
        for chunk in chunks:
            received += chunk
    return response, received


def test_sigterm_lets_a_stream_inside_the_drain_window_finish():
    with served_cli(drain_seconds=10) as (base, process):
        response, received = stream_through_sigterm(
            base, process, "#fault=slow_first:1500 finish me"
        )
        assert response.status_code == 200
        assert received.endswith(b"data: [DONE]\n\n")
        assert b"finish me" in received and b'"error"' not in received
        # uvicorn re-raises the captured SIGTERM once drained, so "killed by SIGTERM" is clean
        assert process.wait(timeout=20) in (0, -signal.SIGTERM)
        assert b"Traceback" not in (process.stderr.read() if process.stderr else b"")


def test_sigterm_ends_a_stream_that_outlives_the_drain_window_in_band():
    with served_cli(drain_seconds=3) as (base, process):
        response, received = stream_through_sigterm(base, process, "#fault=hang never finishes")
        assert response.status_code == 200
        assert b'"code":"server_shutting_down"' in received
        assert received.endswith(b"data: [DONE]\n\n")
        assert process.wait(timeout=20) in (0, -signal.SIGTERM)


def test_a_stream_waiting_out_a_long_keep_alive_interval_is_woken_by_the_drain_deadline():
    """The keep-alive interval (15 s by default) outlasted the drain: the writer slept through
    the deadline and uvicorn cut the stream (a CancelledError traceback, no [DONE])."""
    with served_cli(drain_seconds=3, keepalive=5) as (base, process):
        # SIGTERM right after the first keep-alive: the next is 5 s away, the deadline 2 s
        response, received = stream_through_sigterm(base, process, "#fault=hang nothing comes")
        assert response.status_code == 200
        assert b'"code":"server_shutting_down"' in received
        assert received.endswith(b"data: [DONE]\n\n")
        assert process.wait(timeout=20) in (0, -signal.SIGTERM)
        assert b"CancelledError" not in (process.stderr.read() if process.stderr else b"")


@pytest.mark.parametrize(
    ("prompt", "stream"),
    [("#fault=slow_first:30000 no first event yet", True), ("#fault=delay:30000 slow", False)],
    ids=["stream-before-its-first-event", "unary"],
)
def test_a_request_not_yet_answered_at_the_deadline_gets_a_json_503(prompt, stream):
    """Before, uvicorn's cut gave these a plain-text 500; now a 503 envelope clients retry."""
    with served_cli(drain_seconds=3, keepalive=60) as (base, process):
        with httpx.Client(base_url=base, timeout=20) as http:
            outcome: list[httpx.Response] = []
            sender = threading.Thread(
                target=lambda: outcome.append(
                    http.post("/v1/chat/completions", json=chat_body(prompt, stream=stream))
                )
            )
            sender.start()
            time.sleep(1.0)  # the request is in flight (the emulator holds it for 30 s)
            process.send_signal(signal.SIGTERM)
            sender.join(20)
        (response,) = outcome
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/json"
        assert response.json()["error"]["code"] == "server_shutting_down"
        assert process.wait(timeout=20) in (0, -signal.SIGTERM)

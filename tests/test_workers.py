"""`gemini-gateway serve --workers N`: N processes on one port. Memory state refuses (each
process would remember alone); with Redis, content-only conversations keep every signature
whichever worker serves each turn; SIGTERM drains the workers like a single process."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.cli import check_workers
from tests.conftest import make_settings
from tests.e2e.fidelity_helpers import EDIT_PROMPTS, IMAGE_MODELS, Pattern, Session, content_only
from tests.e2e.fidelity_helpers import converse as converse_checked
from tests.e2e.replicas import GatewayProcess, Replicas, emulator_server
from tests.hardening.test_graceful_shutdown import stream_through_sigterm


def test_memory_state_with_several_workers_is_refused() -> None:
    with pytest.raises(ValueError, match=r"sqlite.*redis"):
        check_workers(make_settings(workers=2))
    with pytest.raises(ValueError, match="at least 1"):
        check_workers(make_settings(workers=0, state="redis://127.0.0.1:6379/0"))
    with pytest.raises(ValueError, match=r"sqlite.*redis"):
        check_workers(make_settings(workers=2, state="sqlite:///:memory:"))
    check_workers(make_settings(workers=2, state="sqlite:///state/turns.db"))
    check_workers(make_settings(workers=4, state="rediss://:pw@cache.internal:6380/1"))
    check_workers(make_settings(workers=1))


def test_the_cli_refuses_memory_with_two_workers_before_binding() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "serve", "--emulator", "--workers", "2"],
        capture_output=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "GATEWAY_STATE": "memory"},
    )
    assert done.returncode == 2
    assert b"sqlite" in done.stderr and b"redis" in done.stderr
    assert b"Traceback" not in done.stderr


class OnePort(Replicas):
    """Every request on a new connection, so the kernel hands them to either worker."""

    def http(self, **kwargs: Any) -> httpx.AsyncClient:
        gateway = self.gateways[0]
        return httpx.AsyncClient(
            base_url=gateway.url,
            timeout=60,
            limits=httpx.Limits(max_keepalive_connections=0),
            **kwargs,
        )

    def openai(self, api_key: str = "test-key", **kwargs: Any) -> Any:
        import openai

        return openai.AsyncOpenAI(
            base_url=f"{self.gateways[0].url}/v1",
            api_key=api_key,
            http_client=self.http(),
            max_retries=0,
            **kwargs,
        )


@pytest.mark.slow
@pytest.mark.anyio
async def test_two_workers_on_redis_keep_every_signature(redis_url: str) -> None:
    with emulator_server() as (url, emulator):
        gateway = GatewayProcess(url, {"GATEWAY_STATE": redis_url}, ["--workers", "2"]).start()
        try:
            stack = OnePort(emulator, [gateway])
            session = Session(stack)
            pattern = Pattern("content_only", content_only)
            for _ in range(3):  # 9 requests, each checked byte for byte by the emulator
                await converse_checked(session, pattern, IMAGE_MODELS[0], EDIT_PROMPTS)
        finally:
            gateway.stop()


@pytest.mark.slow
def test_sigterm_drains_every_worker(tmp_path: Path) -> None:
    with emulator_server() as (url, _):
        gateway = GatewayProcess(
            url,
            {"GATEWAY_STATE": f"sqlite:///{tmp_path / 'state.db'}", "GATEWAY_DRAIN_SECONDS": "10"},
            ["--workers", "2"],
        ).start()
        process = gateway.proc
        assert process is not None
        try:
            response, received = stream_through_sigterm(
                gateway.url, process, "#fault=slow_first:1500 finish me"
            )
            assert response.status_code == 200
            assert received.endswith(b"data: [DONE]\n\n")
            assert b"finish me" in received and b'"error"' not in received
            assert process.wait(timeout=30) in (0, -signal.SIGTERM)
            assert b"Traceback" not in (process.stderr.read() if process.stderr else b"")
        finally:
            gateway.stop()


def test_each_worker_gets_its_own_listening_socket_on_one_port() -> None:
    """SO_REUSEPORT: the kernel spreads connections over the workers' sockets evenly."""
    from gateway.workers import bind

    sockets = bind("127.0.0.1", 0, 3)
    try:
        assert len(sockets) == 3
        assert len({s.getsockname() for s in sockets}) == 1
    finally:
        for sock in sockets:
            sock.close()

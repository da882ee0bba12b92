"""Real gateway processes (the CLI, as operators run it) on loopback ports, sharing one Redis
and one emulator, and a round-robin "load balancer" so a client's turns alternate between them.

The emulator runs in the test process (uvicorn in a thread), so a test can read what it was
sent and check every signature the gateways replayed (fidelity_helpers.assert_faithful)."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any

import httpx
import pytest

from tests.hardening.loopback import closed_port, serve

SECRET_KEY = "emulator-key-not-a-secret"


class GatewayProcess:
    def __init__(self, emulator_url: str, env: dict[str, str], args: Sequence[str] = ()) -> None:
        self.port = closed_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("GEMINI_", "GATEWAY_", "GOOGLE_"))
        }
        self.env.update(
            GOOGLE_GEMINI_BASE_URL=emulator_url,
            GEMINI_API_KEY=SECRET_KEY,
            GATEWAY_LOG_LEVEL="warning",
            GATEWAY_KEEPALIVE_INTERVAL="0.2",
            **env,
        )
        self.args = list(args)
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> GatewayProcess:
        cmd = [sys.executable, "-m", "gateway", "serve", "--port", str(self.port), *self.args]
        self.proc = subprocess.Popen(
            cmd, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        for _ in range(300):  # bounded: ~15 s (spawned workers import everything)
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                pytest.fail(f"the gateway exited early ({self.proc.returncode}): {err}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.stop()
        pytest.fail("the gateway did not become healthy")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        if proc.stderr is not None:
            proc.stderr.close()

    def metrics(self) -> dict[str, float]:
        text = httpx.get(f"{self.url}/metrics", timeout=5).text
        samples: dict[str, float] = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                series, _, value = line.rpartition(" ")
                samples[series] = float(value)
        return samples


class RoundRobin(httpx.AsyncBaseTransport):
    """A load balancer in a transport: each request goes to the next gateway in turn."""

    def __init__(self, gateways: Sequence[GatewayProcess]) -> None:
        self._gateways = itertools.cycle(gateways)
        self._inner = httpx.AsyncHTTPTransport()
        self.served: list[int] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        target = next(self._gateways)
        self.served.append(target.port)
        request.url = request.url.copy_with(host="127.0.0.1", port=target.port)
        request.headers["host"] = f"127.0.0.1:{target.port}"
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


class Replicas:
    """Quacks like tests.conftest.Stack for fidelity_helpers.converse, but every request goes
    through the round robin to real processes."""

    def __init__(self, emulator: Any, gateways: Sequence[GatewayProcess]) -> None:
        self.emulator = emulator
        self.gateways = list(gateways)
        self.balancer = RoundRobin(self.gateways)

    def http(self, **kwargs: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=self.balancer, base_url="http://balancer", timeout=60, **kwargs
        )

    def openai(self, api_key: str = "test-key", **kwargs: Any) -> Any:
        import openai

        return openai.AsyncOpenAI(
            base_url="http://balancer/v1",
            api_key=api_key,
            http_client=self.http(),
            max_retries=0,
            **kwargs,
        )

    def langchain(self, model: str, **kwargs: Any) -> Any:
        from langchain_openai import ChatOpenAI

        return ChatOpenAI(
            model=model,
            base_url="http://balancer/v1",
            api_key="test-key",
            http_async_client=self.http(),
            max_retries=0,
            **kwargs,
        )


@contextmanager
def emulator_server() -> Iterator[tuple[str, Any]]:
    from gateway.emulator.app import build_emulator_app

    app = build_emulator_app()
    with serve(app) as url:
        yield url, app.state.emulator


@contextmanager
def replicas(redis_url: str, count: int = 2, **env: str) -> Iterator[Replicas]:
    with emulator_server() as (url, emulator), ExitStack() as stack:
        gateways = []
        for _ in range(count):
            gateway = GatewayProcess(url, {"GATEWAY_STATE": redis_url, **env})
            stack.callback(gateway.stop)
            gateways.append(gateway.start())
        yield Replicas(emulator, gateways)

"""The README quick start for real: `gemini-gateway serve --emulator` in a subprocess on a
loopback port, then the README's OpenAI SDK sample against it."""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import openai
import pytest

from gateway.cli import main


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GEMINI_", "GATEWAY_"))}
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "serve", "--emulator", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):  # bounded: up to ~10 s
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("the gateway did not become healthy")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_readme_sample_text_and_image(served):
    client = openai.OpenAI(base_url=f"{served}/v1", api_key="anything", max_retries=0)
    text = client.chat.completions.create(
        model="gemini-2.5-flash", messages=[{"role": "user", "content": "Say hello"}]
    )
    assert text.choices[0].message.content
    reply = client.chat.completions.create(
        model="gemini-3-pro-image-preview",
        messages=[{"role": "user", "content": "Draw a red fox in the snow"}],
    )
    message = reply.choices[0].message
    url = message.images[0]["image_url"]["url"]
    assert base64.b64decode(url.split(",", 1)[1]).startswith(b"\x89PNG")
    follow_up = client.chat.completions.create(
        model="gemini-3-pro-image-preview",
        messages=[
            {"role": "user", "content": "Draw a red fox in the snow"},
            message,
            {"role": "user", "content": "Make it night time"},
        ],
    )
    assert follow_up.choices[0].message.images[0]["image_url"]["url"] != url


def test_streaming_over_a_real_socket_ends_with_done(served):
    with httpx.stream(
        "POST",
        f"{served}/v1/chat/completions",
        json={
            "model": "gemini-3-pro-preview",
            "stream": True,
            "messages": [{"role": "user", "content": "count to three"}],
        },
        timeout=30,
    ) as response:
        lines = [line for line in response.iter_lines() if line]
    assert response.status_code == 200
    assert lines[-1] == "data: [DONE]"
    assert response.headers["content-type"].startswith("text/event-stream")


def test_bad_config_exits_with_status_2(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("[server]\nnot_an_option = 1\n")
    assert main(["serve", "--config", str(bad)]) == 2
    assert "not_an_option" in capsys.readouterr().err


@pytest.mark.anyio
async def test_the_served_emulator_keeps_no_request_bodies():
    """`serve --emulator` under load grew from 44 MB to ~500 MB and stayed: the emulator kept
    its last 200 requests, image bodies and all, for tests that cannot reach it through the
    gateway. The CLI's emulator records nothing; memory stays flat however many images pass."""
    from gateway.app import build_app
    from gateway.cli import emulator_transport
    from tests.conftest import make_settings

    transport = emulator_transport()
    emulator = transport.app.state.emulator  # type: ignore[attr-defined]
    image = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(200_000)).decode()
    message = {
        "role": "user",
        "content": [
            {"type": "text", "text": "describe"},
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{image}"}},
        ],
    }
    app = build_app(make_settings(), upstream_transport=transport)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as http,
    ):
        for _ in range(3):
            answer = await http.post(
                "/v1/chat/completions",
                json={"model": "gemini-2.5-flash", "messages": [message]},
            )
            assert answer.status_code == 200
    assert emulator.requests == [] and emulator.issued == []


def test_proxy_flags_reach_uvicorn_and_the_level_settings(monkeypatch):
    from gateway import cli

    seen = {}

    class Recorder:
        def __init__(self, config, app):
            seen["config"] = config
            seen["app"] = app

        def run(self):
            return None

    monkeypatch.setattr(cli, "server", Recorder)  # the server the CLI builds
    monkeypatch.setattr(cli, "configure_logging", lambda level: seen.setdefault("level", level))
    argv = ["serve", "--emulator", "--log-level", "debug", "--proxy-headers"]
    argv += ["--forwarded-allow-ips", "10.0.0.1", "--root-path", "/gemini"]
    assert cli.main(argv) == 0
    config = seen["config"]
    assert config.proxy_headers is True
    assert config.forwarded_allow_ips == "10.0.0.1"
    assert config.root_path == "/gemini"
    assert seen["level"] == "debug"

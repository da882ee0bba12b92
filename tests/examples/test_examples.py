"""The runnable examples against a real gateway on a loopback port (uvicorn in a thread, the
emulator behind it): each writes one PNG per turn, every edit shows the earlier images, and the
emulator verified every thought signature it got back."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from PIL import Image

from examples import chat_loop, openai_messages, rest_contents
from gateway.app import build_app
from gateway.emulator.app import EmulatorState, build_emulator_app
from tests.conftest import make_settings
from tests.e2e.fidelity_helpers import assert_faithful, band_count

pytestmark = pytest.mark.slow

HEALTH_POLLS = 200


@dataclass
class LiveGateway:
    url: str
    emulator: EmulatorState


@pytest.fixture(scope="module", params=["inline", "hosted"])
def gateway(request: pytest.FixtureRequest) -> Iterator[LiveGateway]:
    """The gateway as `./scripts/serve` runs it, and with hosted images (GATEWAY_PUBLIC_URL):
    then images come back as URLs the examples must fetch."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    hosted = {"public_url": f"http://127.0.0.1:{port}"} if request.param == "hosted" else {}
    emulator_app = build_emulator_app()
    app = build_app(
        make_settings(**hosted), upstream_transport=httpx.ASGITransport(app=emulator_app)
    )
    config = uvicorn.Config(app, lifespan="on", log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        _wait_healthy(f"http://127.0.0.1:{port}/healthz", thread)
        yield LiveGateway(f"http://127.0.0.1:{port}/v1", emulator_app.state.emulator)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


def _wait_healthy(url: str, thread: threading.Thread) -> None:
    event = threading.Event()
    for _ in range(HEALTH_POLLS):
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if not thread.is_alive():
            break
        event.wait(0.05)
    pytest.fail(f"the gateway did not become healthy at {url}")


EXAMPLES: dict[str, Callable[[str, Path], list[Path]]] = {
    "chat_loop": chat_loop.main,
    "openai_messages": openai_messages.main,
    "rest_contents": rest_contents.main,
}


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_example_generates_then_edits_twice(gateway: LiveGateway, tmp_path: Path, name: str):
    gateway.emulator.reset()
    written = EXAMPLES[name](gateway.url, tmp_path / "out")

    assert [p.suffix for p in written] == [".png"] * 3
    assert all(p.parent == tmp_path / "out" for p in written)
    pngs = [p.read_bytes() for p in written]
    for png in pngs:
        with Image.open(io.BytesIO(png)) as image:
            image.verify()
            assert image.format == "PNG"
    assert len(set(pngs)) == 3
    # One band per earlier image the model received: each edit saw the whole history.
    assert [band_count(png) for png in pngs] == [0, 1, 2]
    requests: list[Any] = gateway.emulator.requests
    assert len(requests) == 3
    assert [r.verdicts for r in requests] == [[], ["ok"] * 2, ["ok"] * 4]
    assert_faithful(gateway.emulator)


def test_an_example_runs_as_a_script(gateway: LiveGateway, tmp_path: Path):
    """`GATEWAY_URL=... python examples/<name>.py OUT_DIR`, as the docstrings say (one script:
    their `__main__` blocks are the same, and the one without the OpenAI SDK starts fastest)."""
    gateway.emulator.reset()
    script = Path(__file__).resolve().parents[2] / "examples" / "rest_contents.py"
    env = {**os.environ, "GATEWAY_URL": gateway.url}
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    written = sorted(tmp_path.glob("*.png"))
    assert len(written) == 3
    assert all(str(p) in done.stdout for p in written)
    assert len(gateway.emulator.requests) == 3

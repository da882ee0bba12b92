"""The native-route examples against the gateway and the emulator on loopback sockets: the seed's
raw REST (header key and `?key=`, its round-2 body with the lone signature part) and Scenario 3
through google-genai (history saved as JSON, restored in a new client). The emulator verifies
every signature it gets back; the upstream only ever sees the server's key."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from examples import native_rest, native_sdk_history
from tests.e2e.fidelity_helpers import band_count
from tests.e2e.native_stack import CLIENT_KEY, SERVER_KEY, NativeStack, native_stack

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def stack() -> Iterator[NativeStack]:
    with native_stack() as running:
        yield running


@pytest.fixture(autouse=True)
def key_and_reset(stack: NativeStack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", CLIENT_KEY)
    stack.emulator.reset()


def pngs(paths: list[Path]) -> list[bytes]:
    out = []
    for path in paths:
        data = path.read_bytes()
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
            assert image.format == "PNG"
        out.append(data)
    return out


def test_seed_rest_examples_as_written(stack: NativeStack, tmp_path: Path) -> None:
    written = native_rest.main(stack.url, tmp_path)
    assert [p.name for p in written] == [
        "native-chat-turn-1.png",
        "native-chat-turn-2.png",
        "native-chat-turn-3.png",
        "native-curl-round-1.png",
        "native-curl-round-2.png",
    ]
    images = pngs(written)
    # One band per earlier image the model received: each edit saw the whole history.
    assert [band_count(png) for png in images] == [0, 1, 2, 0, 1]
    requests = stack.emulator.requests
    assert [r.verdicts for r in requests] == [[], ["ok"] * 2, ["ok"] * 4, [], ["ok"]]
    # The class sends the header; the curl rounds the query key: neither reaches Gemini.
    assert {r.headers["x-goog-api-key"] for r in requests} == {SERVER_KEY}
    assert all(r.query == {} for r in requests)
    # Round 2 as Gemini received it: the lone signature part attached to the image part.
    model_turn = requests[-1].body["contents"][1]
    assert len(model_turn["parts"]) == 1
    assert set(model_turn["parts"][0]) == {"inlineData", "thoughtSignature"}


def test_curl_round_two_reports_its_repairs(stack: NativeStack, tmp_path: Path) -> None:
    _, repairs = native_rest.curl_rounds(stack.url, CLIENT_KEY, tmp_path)
    assert repairs == "snake_case=3;lone_signature=1"


@pytest.mark.parametrize("version", ["v1beta", "v1"])
def test_scenario_3_restores_history_in_a_new_client(
    stack: NativeStack, tmp_path: Path, version: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_GENAI_API_VERSION", version)
    written = native_sdk_history.main(stack.url, tmp_path)
    assert [p.name for p in written] == [
        "sdk-turn-1.png",
        "sdk-turn-2.png",
        "sdk-turn-3-restored.png",
    ]
    assert [band_count(png) for png in pngs(written)] == [0, 1, 2]
    assert (tmp_path / "session.json").is_file()
    requests = stack.emulator.requests
    assert [r.verdicts for r in requests] == [[], ["ok"] * 2, ["ok"] * 4]
    assert {r.headers["x-goog-api-key"] for r in requests} == {SERVER_KEY}


def test_native_rest_runs_as_a_script(stack: NativeStack, tmp_path: Path) -> None:
    script = Path(__file__).resolve().parents[2] / "examples" / "native_rest.py"
    env = {**os.environ, "GATEWAY_URL": stack.url, "GEMINI_API_KEY": CLIENT_KEY}
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "repaired: snake_case=3;lone_signature=1" in done.stdout
    assert len(sorted(tmp_path.glob("*.png"))) == 5

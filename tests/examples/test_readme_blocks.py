"""Every Python block in the README runs verbatim against a real gateway on the emulator: each
block on its own (a reader copies one), in a scratch directory, with only the README's address
(http://127.0.0.1:8080) pointed at the test server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gateway.app import build_app
from gateway.emulator.app import build_emulator_app
from tests.conftest import ROOT, make_settings
from tests.hardening.loopback import serve

pytestmark = pytest.mark.slow
README_ADDRESS = "http://127.0.0.1:8080"
BLOCKS = re.findall(r"^```python\n(.*?)^```$", (ROOT / "README.md").read_text(), re.S | re.M)


def block_id(code: str) -> str:
    first = next(
        line for line in code.splitlines() if line and not line.startswith(("from", "import"))
    )
    return re.sub(r"\W+", "-", first)[:40].strip("-")


@pytest.fixture(scope="module")
def gateway_url() -> Iterator[str]:
    emulator = build_emulator_app()
    app = build_app(make_settings(), upstream_transport=httpx.ASGITransport(app=emulator))
    with serve(app) as url:
        yield url


def test_the_readme_has_python_blocks():
    assert len(BLOCKS) >= 5


@pytest.mark.parametrize("code", BLOCKS, ids=[block_id(b) for b in BLOCKS])
def test_readme_block_runs(code: str, gateway_url: str, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert README_ADDRESS in code, "a block that talks to the gateway names its address"
    namespace: dict[str, object] = {"__name__": "readme_block"}
    exec(compile(code.replace(README_ADDRESS, gateway_url), "README.md", "exec"), namespace)

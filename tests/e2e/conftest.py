"""The fidelity and streaming suites run over both upstream wires: the httpx test wire into
the in-process emulator, and the production aiohttp wire over a real loopback socket to the
emulator served on 127.0.0.1 (tests/conftest.py `emulator_stack`), so a wire bug cannot hide
behind the test wire. The other end-to-end suites use the test wire only."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

import tests.conftest as shared

OVER_BOTH_WIRES = {
    "test_fidelity",
    "test_fidelity_edits",
    "test_fidelity_restart",
    "test_fidelity_tools",
    "test_responses_fidelity",
    "test_smoke",
    "test_tools_openai",
}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.module.__name__.rpartition(".")[2] in OVER_BOTH_WIRES:
        metafunc.parametrize("upstream_wire", shared.UPSTREAM_WIRES, indirect=True)


@pytest.fixture(autouse=True)
def upstream_wire(request: pytest.FixtureRequest) -> Iterator[str]:
    wire: str = getattr(request, "param", "asgi")
    shared.upstream_wire = wire
    try:
        yield wire
    finally:
        shared.upstream_wire = "asgi"


@pytest.fixture
async def stack(upstream_wire: str) -> AsyncIterator[shared.Stack]:
    """The root `stack`, built after the wire is chosen."""
    async with shared.emulator_stack() as built:
        yield built

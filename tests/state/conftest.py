"""Fixtures shared by the turn-store tests: a hand-driven clock and a store per backend."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

# `.venv/bin/pytest` does not put the repo root on sys.path and the package is not installed
# in the venv; without this, `import gateway` fails. Harmless once it is installed.
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from turnstore_helpers import FakeClock, StoreFactory  # noqa: E402

from gateway.state.memory import MemoryTurnStore  # noqa: E402 (after the sys.path fix)
from gateway.state.sqlite import SqliteTurnStore  # noqa: E402 (after the sys.path fix)
from gateway.state.store import TurnStore  # noqa: E402 (after the sys.path fix)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["memory", "sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def make_store(backend: str, tmp_path: Path, clock: FakeClock) -> AsyncIterator[StoreFactory]:
    """Build stores of the parametrised backend (same sqlite file each time) and close them."""
    opened: list[TurnStore] = []

    def factory(*, max_bytes: int = 1 << 30, max_age_seconds: float = 3600.0) -> TurnStore:
        store: TurnStore
        if backend == "memory":
            store = MemoryTurnStore(
                max_bytes=max_bytes, max_age_seconds=max_age_seconds, clock=clock
            )
        else:
            store = SqliteTurnStore(
                str(tmp_path / "turns.db"),
                max_bytes=max_bytes,
                max_age_seconds=max_age_seconds,
                clock=clock,
            )
        opened.append(store)
        return store

    yield factory
    for store in opened:
        await store.aclose()

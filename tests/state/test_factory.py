"""`open_store` turns the config URL into a backend, or says clearly what it accepts."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.state.factory import open_store
from gateway.state.memory import MemoryTurnStore
from gateway.state.sqlite import SqliteTurnStore
from gateway.state.store import TurnStore

pytestmark = pytest.mark.anyio


def _open(url: str) -> TurnStore:
    return open_store(url, max_bytes=1 << 20, max_age_seconds=60.0)


async def test_memory() -> None:
    store = _open("memory")
    assert isinstance(store, MemoryTurnStore)
    await store.aclose()


async def test_sqlite_in_memory() -> None:
    store = _open("sqlite:///:memory:")
    assert isinstance(store, SqliteTurnStore)
    await store.put_many({"k": b"v"})
    assert await store.get("k") == b"v"
    await store.aclose()


async def test_sqlite_relative_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = _open("sqlite:///state/turns.db")
    await store.put_many({"k": b"v"})
    await store.aclose()
    assert (tmp_path / "state" / "turns.db").is_file()


async def test_sqlite_absolute_path(tmp_path: Path) -> None:
    path = tmp_path / "abs" / "turns.db"
    assert path.is_absolute()
    store = _open(f"sqlite:///{path}")  # i.e. sqlite:////tmp/...
    await store.aclose()
    assert path.is_file()


async def test_clock_is_passed_through() -> None:
    now = [0.0]
    store = open_store("memory", max_bytes=100, max_age_seconds=10, clock=lambda: now[0])
    await store.put_many({"k": b"v"})
    now[0] = 11.0
    assert await store.get("k") is None
    await store.aclose()


@pytest.mark.parametrize(
    "url",
    ["", "redis://localhost:6379", "Memory", "memory://", "sqlite://", "sqlite:///", "turns.db"],
)
def test_unsupported_url(url: str) -> None:
    with pytest.raises(ValueError, match=r"turn store URL .*sqlite:///"):
        _open(url)


@pytest.mark.parametrize("url", ["memory", "sqlite:///:memory:"])
@pytest.mark.parametrize(
    ("max_bytes", "max_age", "field"),
    [(0, 60.0, "max_bytes"), (-1, 60.0, "max_bytes"), (100, 0.0, "max_age_seconds")],
)
def test_bad_limits(url: str, max_bytes: int, max_age: float, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        open_store(url, max_bytes=max_bytes, max_age_seconds=max_age)

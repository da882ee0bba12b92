"""What only the SQLite backend promises: restarts keep conversations, and the on-disk shape."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest
from turnstore_helpers import FakeClock

from gateway.state.sqlite import SqliteTurnStore
from gateway.state.store import StoreError

pytestmark = pytest.mark.anyio


def _open(path: Path, clock: FakeClock, **limits: float) -> SqliteTurnStore:
    return SqliteTurnStore(
        str(path),
        max_bytes=int(limits.get("max_bytes", 1 << 30)),
        max_age_seconds=limits.get("max_age_seconds", 3600.0),
        clock=clock,
    )


async def test_survives_close_and_reopen(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "nested" / "dirs" / "turns.db"  # parents are created
    signature = os.urandom(600_000)
    store = _open(path, clock)
    await store.put_many({"prefix": signature, "text": signature, "call_abc": b"{}"})
    await store.aclose()

    reopened = _open(path, clock)
    try:
        got = await reopened.get_many(["prefix", "text", "call_abc"])
        assert got == {"prefix": signature, "text": signature, "call_abc": b"{}"}
        stats = await reopened.stats()
        assert (stats.entries, stats.values, stats.bytes) == (3, 2, 600_002)
        assert (stats.hits, stats.misses) == (3, 0)  # counters are per process
    finally:
        await reopened.aclose()


async def test_ages_persist_across_restart(tmp_path: Path, clock: FakeClock) -> None:
    store = _open(tmp_path / "t.db", clock, max_age_seconds=60)
    await store.put_many({"k": b"v"})
    await store.aclose()
    clock.advance(61)
    reopened = _open(tmp_path / "t.db", clock, max_age_seconds=60)
    try:
        assert await reopened.get("k") is None
        assert (await reopened.stats()).evictions == 1
    finally:
        await reopened.aclose()


async def test_batched_hits_still_drive_lru_after_restart(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "t.db"
    store = _open(path, clock)
    await store.put_many({"a": b"a" * 100})
    clock.advance(1)
    await store.put_many({"b": b"b" * 100})
    clock.advance(1)
    assert await store.get("a") == b"a" * 100  # touch recorded lazily, flushed on close
    await store.aclose()

    clock.advance(1)
    small = _open(path, clock, max_bytes=200)
    try:
        await small.put_many({"c": b"c" * 100})
        assert await small.get_many(["a", "b", "c"]) == {"a": b"a" * 100, "c": b"c" * 100}
    finally:
        await small.aclose()


async def test_on_disk_schema_and_wal(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "t.db"
    store = _open(path, clock)
    shared = b"turn" * 10
    await store.put_many({"k1": shared, "k2": shared})
    await store.aclose()

    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        blob_cols = {row[1] for row in conn.execute("PRAGMA table_info(blobs)")}
        assert blob_cols == {"hash", "data", "size", "created", "last_used"}
        key_cols = {row[1] for row in conn.execute("PRAGMA table_info(keys)")}
        assert key_cols == {"key", "hash", "created"}
        assert conn.execute("SELECT COUNT(*), SUM(size) FROM blobs").fetchone() == (1, 40)
        assert conn.execute("SELECT COUNT(DISTINCT hash) FROM keys").fetchone() == (1,)
    finally:
        conn.close()


async def test_database_files_are_owner_only_whatever_the_umask(
    tmp_path: Path, clock: FakeClock
) -> None:
    """Conversations and images are private: the file and its WAL are 0600 even under 022."""
    path = tmp_path / "t.db"
    old = os.umask(0o022)
    try:
        store = _open(path, clock)
        await store.put_many({"k": b"turn"})
        files = [path, Path(f"{path}-wal")]
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in files}
        await store.aclose()
    finally:
        os.umask(old)
    assert modes == {"t.db": 0o600, "t.db-wal": 0o600}


async def test_many_keys_are_batched(tmp_path: Path, clock: FakeClock) -> None:
    store = _open(tmp_path / "t.db", clock)
    try:
        items = {f"call_{i}": str(i).encode() for i in range(1_200)}
        await store.put_many(items)
        keys = [*items, "absent"]
        assert await store.get_many(keys) == items
        stats = await store.stats()
        assert (stats.entries, stats.hits, stats.misses) == (1_200, 1_200, 1)
    finally:
        await store.aclose()


async def test_in_memory_database(clock: FakeClock) -> None:
    store = SqliteTurnStore(":memory:", max_bytes=1_000, max_age_seconds=10, clock=clock)
    try:
        await store.put_many({"k": b"v"})
        assert await store.get("k") == b"v"
        assert await store.ready() is True
    finally:
        await store.aclose()


def test_unopenable_path_fails_at_startup(tmp_path: Path) -> None:
    (tmp_path / "a-directory.db").mkdir()
    with pytest.raises(StoreError, match="cannot open"):
        SqliteTurnStore(str(tmp_path / "a-directory.db"), max_bytes=10, max_age_seconds=10)


async def test_two_gateway_workers_share_one_file(tmp_path: Path, clock: FakeClock) -> None:
    first = _open(tmp_path / "t.db", clock)
    second = _open(tmp_path / "t.db", clock)
    try:
        await first.put_many({"turn": b"from worker 1"})
        assert await second.get("turn") == b"from worker 1"
        await second.put_many({"turn": b"from worker 2"})
        assert await first.get("turn") == b"from worker 2"
        assert (await first.stats()).values == 1  # the overwritten value was freed
    finally:
        await first.aclose()
        await second.aclose()

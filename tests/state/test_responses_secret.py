"""The reasoning-envelope key made on fresh shared state: workers starting together agree.

Each "worker" is its own store on the same real backend (a SQLite file, a redis-server), as
`serve --workers N` opens them. A gate holds every worker's first store call until all of them
have made it, so their reads are sure to interleave the way simultaneous starts do: with a
get-then-put each worker would read nothing and keep the key it made itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import anyio
import pytest

from gateway.state.open_state import StateOptions, open_state
from gateway.state.responses import SECRET_KEY, ResponseStore
from gateway.state.store import StoreStats, TurnStore

pytestmark = pytest.mark.anyio

WORKERS = 4


class Gate:
    """Opens once `parties` callers are waiting at it."""

    def __init__(self, parties: int) -> None:
        self.parties = parties
        self.opened = anyio.Event()

    async def wait(self) -> None:
        self.parties -= 1
        if self.parties <= 0:
            self.opened.set()
        with anyio.fail_after(10):  # a bound, not a measurement: a broken gate must not hang
            await self.opened.wait()


class Gated:
    """A real store whose first call waits at the gate (every call after it goes straight)."""

    def __init__(self, store: TurnStore, gate: Gate) -> None:
        self.store = store
        self.gate: Gate | None = gate

    async def _pass(self) -> None:
        gate, self.gate = self.gate, None
        if gate is not None:
            await gate.wait()

    async def get(self, key: str) -> bytes | None:
        await self._pass()
        return await self.store.get(key)

    async def get_many(self, keys: Sequence[str]) -> dict[str, bytes]:
        await self._pass()
        return await self.store.get_many(keys)

    async def put_many(self, items: Mapping[str, bytes]) -> None:
        await self._pass()
        await self.store.put_many(items)

    async def put_if_absent(self, key: str, value: bytes, *, forever: bool = False) -> bytes:
        await self._pass()
        return await self.store.put_if_absent(key, value, forever=forever)

    async def stats(self) -> StoreStats:
        return await self.store.stats()

    async def ready(self) -> bool:
        return await self.store.ready()

    async def aclose(self) -> None:
        await self.store.aclose()


Opener = Callable[[], TurnStore]


@pytest.fixture(params=["sqlite", "redis"])
async def open_worker_store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Opener]:
    """A fresh responses store per call, all on one backend (as each worker opens its own)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'state.db'}"
    else:
        url = str(request.getfixturevalue("redis_url"))
    opened: list[Any] = []

    def factory() -> TurnStore:
        state = open_state(StateOptions(url=url))
        opened.append(state)
        return state.responses

    yield factory
    for state in opened:
        await state.aclose()


async def test_workers_starting_together_share_one_envelope_key(
    open_worker_store: Opener,
) -> None:
    gate = Gate(WORKERS)
    keys: list[bytes] = []

    async def start_worker() -> None:
        store = Gated(open_worker_store(), gate)
        keys.append(await ResponseStore(store).secret(""))

    async with anyio.create_task_group() as tg:
        for _ in range(WORKERS):
            tg.start_soon(start_worker)

    assert len(keys) == WORKERS
    assert len(set(keys)) == 1, "each worker made its own envelope key"
    assert len(keys[0]) == 32
    # A worker started later reads the same key back, and so does the store itself.
    assert await ResponseStore(open_worker_store()).secret("") == keys[0]
    assert await open_worker_store().get(SECRET_KEY) == keys[0]


async def test_a_configured_key_is_used_and_nothing_is_stored(open_worker_store: Opener) -> None:
    store = open_worker_store()
    assert await ResponseStore(store).secret("operator-key") == b"operator-key"
    assert await store.get(SECRET_KEY) is None


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_the_sqlite_envelope_key_outlives_the_age_limit_and_the_lru(tmp_path: Path) -> None:
    """Aged out or evicted (it is read once, at start: the least recently used value once the
    store fills), the next worker to start made another key while the running ones kept the
    old: envelopes signed on one stopped opening on the other."""
    clock = Clock()
    options = StateOptions(
        url=f"sqlite:///{tmp_path / 'state.db'}",
        responses_max_age_seconds=3600,
        responses_max_bytes=8192,
    )
    first = open_state(options, clock=clock)
    try:
        key = await ResponseStore(first.responses).secret("")
        clock.now += 7200  # past the responses' age limit
        await first.responses.put_many({f"r:{i}": bytes([i]) * 2000 for i in range(12)})
    finally:
        await first.aclose()
    later = open_state(options, clock=clock)  # a worker (re)started afterwards
    try:
        assert await ResponseStore(later.responses).secret("") == key
    finally:
        await later.aclose()


async def test_the_redis_envelope_key_has_no_ttl(redis_url: str) -> None:
    import redis

    state = open_state(StateOptions(url=redis_url, responses_max_age_seconds=3600))
    try:
        key = await ResponseStore(state.responses).secret("")
    finally:
        await state.aclose()
    raw = redis.Redis.from_url(redis_url)
    try:
        stored = raw.keys("*secret*")
        assert stored and all(raw.ttl(k) == -1 for k in stored)
        pointer = raw.get(stored[0])
        assert pointer is not None and raw.ttl(b"gw:resp:v:" + pointer) == -1
        assert raw.get(b"gw:resp:v:" + pointer) == key
    finally:
        raw.close()

"""Semantics every TurnStore backend must share (run against memory and sqlite)."""

from __future__ import annotations

import os

import anyio
import pytest
from turnstore_helpers import FakeClock, StoreFactory

from gateway.state.store import StoreClosedError, StoreStats, TurnStore

pytestmark = pytest.mark.anyio


async def test_is_a_turn_store(make_store: StoreFactory) -> None:
    assert isinstance(make_store(), TurnStore)


async def test_get_put_and_get_many(make_store: StoreFactory) -> None:
    store = make_store()
    await store.put_many({"a": b"alpha", "b": b"beta"})
    assert await store.get("a") == b"alpha"
    assert await store.get("b") == b"beta"
    assert await store.get("nope") is None
    assert await store.get_many(["a", "nope", "b", "a"]) == {"a": b"alpha", "b": b"beta"}
    assert await store.get_many([]) == {}
    await store.put_many({})


async def test_overwriting_a_key_repoints_it_and_frees_the_orphan(make_store: StoreFactory) -> None:
    store = make_store()
    await store.put_many({"k": b"x" * 100})
    await store.put_many({"k": b"y" * 40})
    assert await store.get("k") == b"y" * 40
    stats = await store.stats()
    assert (stats.entries, stats.values, stats.bytes, stats.evictions) == (1, 1, 40, 0)


async def test_shared_value_is_stored_once(make_store: StoreFactory, backend: str) -> None:
    store = make_store()
    value = os.urandom(10_000)
    # The same object under several keys is one stored value in both backends. SQLite also
    # dedupes equal copies (content addressed); memory dedupes by identity, never hashing.
    await store.put_many({"prefix-hash": value, "text-hash": value, "image-hash": bytes(value)})
    await store.put_many({"call_1": bytes(bytearray(value))})
    stats = await store.stats()
    assert stats.entries == 4
    # (bytes(value) is the very same object; bytes(bytearray(value)) is a real copy)
    copies = 1 if backend == "sqlite" else 2
    assert stats.values == copies
    assert stats.bytes == 10_000 * copies
    got = await store.get_many(["prefix-hash", "text-hash", "image-hash", "call_1"])
    assert set(got.values()) == {value}


async def test_lru_eviction_by_bytes(make_store: StoreFactory, clock: FakeClock) -> None:
    store = make_store(max_bytes=300)
    for key in "abc":
        await store.put_many({key: key.encode() * 100})
        clock.advance(1)
    assert await store.get("a") == b"a" * 100  # a is now the most recently used
    clock.advance(1)
    await store.put_many({"d": b"d" * 100})
    assert await store.get("b") is None
    assert await store.get_many(["a", "c", "d"]) == {
        "a": b"a" * 100,
        "c": b"c" * 100,
        "d": b"d" * 100,
    }
    clock.advance(1)
    await store.put_many({"e": b"e" * 150})  # needs two victims: a (oldest use) then c
    assert await store.get_many(["a", "c", "d", "e"]) == {"d": b"d" * 100, "e": b"e" * 150}
    stats = await store.stats()
    assert (stats.bytes, stats.values, stats.evictions) == (250, 2, 3)


async def test_evicting_a_shared_value_drops_every_key(
    make_store: StoreFactory, clock: FakeClock
) -> None:
    store = make_store(max_bytes=100)
    shared = b"s" * 60
    await store.put_many({"k1": shared, "k2": shared, "k3": shared})
    clock.advance(1)
    await store.put_many({"other": b"o" * 60})
    assert await store.get_many(["k1", "k2", "k3", "other"]) == {"other": b"o" * 60}
    stats = await store.stats()
    assert (stats.entries, stats.values, stats.bytes, stats.evictions) == (1, 1, 60, 1)


async def test_age_expiry(make_store: StoreFactory, clock: FakeClock) -> None:
    store = make_store(max_age_seconds=60)
    await store.put_many({"old": b"1"})
    clock.advance(30)
    await store.put_many({"young": b"2"})
    clock.advance(30)
    assert await store.get("old") == b"1"  # exactly max_age old: still valid
    clock.advance(1)
    assert await store.get("old") is None
    assert await store.get("young") == b"2"
    stats = await store.stats()
    assert (stats.entries, stats.values, stats.bytes) == (1, 1, 1)
    assert stats.evictions == 1
    clock.advance(60)
    assert await store.get_many(["old", "young"]) == {}
    assert (await store.stats()).entries == 0


async def test_put_refreshes_age_and_shared_value_outlives_an_expired_key(
    make_store: StoreFactory, clock: FakeClock
) -> None:
    store = make_store(max_age_seconds=60)
    value = b"v" * 10
    await store.put_many({"turn1": value, "kept": b"k"})
    clock.advance(50)
    await store.put_many({"turn2": value, "kept": b"k"})  # re-put refreshes "kept"
    clock.advance(20)
    assert await store.get_many(["turn1", "turn2", "kept"]) == {"turn2": value, "kept": b"k"}
    stats = await store.stats()
    assert (stats.entries, stats.values, stats.bytes, stats.evictions) == (2, 2, 11, 0)


async def test_oversize_value_is_not_stored(make_store: StoreFactory) -> None:
    store = make_store(max_bytes=100)
    await store.put_many({"k": b"small"})
    big = b"B" * 101
    await store.put_many({"k": big, "k2": big, "fits": b"f" * 100})
    # The oversize value is refused once, and "k" no longer answers with the stale turn.
    assert await store.get_many(["k", "k2", "fits"]) == {"fits": b"f" * 100}
    stats = await store.stats()
    assert (stats.entries, stats.values, stats.bytes, stats.evictions) == (1, 1, 100, 1)


async def test_stats_counters(make_store: StoreFactory) -> None:
    store = make_store()
    assert await store.stats() == StoreStats(
        entries=0, bytes=0, hits=0, misses=0, evictions=0, values=0
    )
    await store.put_many({"a": b"12", "b": b"345"})
    await store.get("a")
    await store.get("zz")
    await store.get_many(["a", "b", "c", "d"])
    assert await store.stats() == StoreStats(
        entries=2, bytes=5, hits=3, misses=3, evictions=0, values=2
    )


async def test_concurrent_puts_from_50_tasks(make_store: StoreFactory) -> None:
    store = make_store(max_bytes=10_000_000)
    common = os.urandom(50_000)
    values = {i: os.urandom(1_000 + i) for i in range(50)}
    seen: dict[int, dict[str, bytes]] = {}

    async def turn(i: int) -> None:
        await store.put_many({f"text-{i}": values[i], f"call-{i}": values[i], f"img-{i}": common})
        seen[i] = await store.get_many([f"text-{i}", f"call-{i}", f"img-{i}"])

    async with anyio.create_task_group() as tg:
        for i in range(50):
            tg.start_soon(turn, i)

    for i in range(50):
        assert seen[i] == {f"text-{i}": values[i], f"call-{i}": values[i], f"img-{i}": common}
    stats = await store.stats()
    assert stats.entries == 150
    assert stats.values == 51
    assert stats.bytes == len(common) + sum(len(v) for v in values.values())
    assert stats.evictions == 0


async def test_one_megabyte_value_round_trips_byte_exact(make_store: StoreFactory) -> None:
    store = make_store()
    value = os.urandom(1 << 20)
    # Two keys: over the memory backend's inline-hash threshold, so hashing goes off-loop.
    await store.put_many({"sig": value, "sig-alias": value})
    got = await store.get_many(["sig", "sig-alias"])
    assert got["sig"] == value
    assert got["sig-alias"] == value
    assert (await store.stats()).bytes == 1 << 20


async def test_closed_store(make_store: StoreFactory) -> None:
    store = make_store()
    assert await store.ready() is True
    await store.aclose()
    await store.aclose()  # idempotent
    assert await store.ready() is False
    with pytest.raises(StoreClosedError):
        await store.get("a")
    with pytest.raises(StoreClosedError):
        await store.put_many({"a": b"1"})


async def test_cancelled_put_leaves_the_store_usable(make_store: StoreFactory) -> None:
    store = make_store()
    big = os.urandom(2 << 20)
    with anyio.move_on_after(0):
        await store.put_many({"a": big, "a2": big})
    await store.put_many({"b": b"2"})
    got = await store.get_many(["a", "a2", "b"])
    assert got["b"] == b"2"
    assert got.get("a", big) == big  # either fully stored or absent, never torn


async def test_put_if_absent_keeps_the_first_value(make_store: StoreFactory) -> None:
    store = make_store()
    assert await store.put_if_absent("k", b"first") == b"first"
    assert await store.put_if_absent("k", b"second") == b"first"
    assert await store.get("k") == b"first"
    await store.put_many({"k": b"replaced"})  # a plain put still overwrites
    assert await store.put_if_absent("k", b"third") == b"replaced"


async def test_put_if_absent_treats_an_expired_key_as_absent(
    make_store: StoreFactory, clock: FakeClock
) -> None:
    store = make_store(max_age_seconds=60)
    await store.put_if_absent("k", b"old")
    clock.advance(61)
    assert await store.put_if_absent("k", b"new") == b"new"
    assert await store.get("k") == b"new"


async def test_put_if_absent_refuses_an_oversize_value(make_store: StoreFactory) -> None:
    store = make_store(max_bytes=10)
    assert await store.put_if_absent("k", b"x" * 11) == b"x" * 11
    assert await store.get("k") is None
    assert (await store.stats()).evictions == 1

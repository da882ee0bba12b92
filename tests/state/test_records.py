"""The record store contract (state/records.py), the same for memory, SQLite and a real Redis."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from gateway.state.open_state import StateOptions, open_state
from gateway.state.records import ItemPage, RecordStore

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["memory", "sqlite", "redis"])
async def records(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[RecordStore]:
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
    elif request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'state.db'}"
    else:
        url = "memory"
    state = open_state(StateOptions(url=url))
    yield state.records
    await state.aclose()


async def test_put_get_replace_delete(records: RecordStore) -> None:
    assert isinstance(records, RecordStore)
    assert await records.get_record("s", "response", "resp_1") is None
    await records.put_record("s", "response", "resp_1", b"one", ttl=60)
    await records.put_record("s", "response", "resp_2", b"two", ttl=60)
    assert await records.get_record("s", "response", "resp_1") == b"one"
    await records.put_record("s", "response", "resp_1", b"uno", ttl=60)
    assert await records.get_records("s", "response", ["resp_1", "resp_2", "nope"]) == {
        "resp_1": b"uno",
        "resp_2": b"two",
    }
    assert await records.delete_record("s", "response", "resp_1") is True
    assert await records.delete_record("s", "response", "resp_1") is False
    assert await records.get_record("s", "response", "resp_1") is None


async def test_scopes_and_kinds_never_see_each_other(records: RecordStore) -> None:
    await records.put_record("alice", "response", "x", b"a", ttl=60)
    assert await records.get_record("bob", "response", "x") is None
    assert await records.get_record("alice", "conversation", "x") is None
    assert await records.append_items("bob", "response", "x", [("i", b"v")], ttl=60) is False
    assert await records.list_items("bob", "response", "x") is None
    assert await records.delete_record("bob", "response", "x") is False
    assert await records.get_record("alice", "response", "x") == b"a"


async def test_items_keep_first_append_order_and_replace_in_place(records: RecordStore) -> None:
    await records.put_record("s", "conversation", "c", b"meta", ttl=60)
    assert await records.append_items("s", "conversation", "c", [("a", b"1"), ("b", b"2")], 60)
    assert await records.append_items("s", "conversation", "c", [("c", b"3"), ("a", b"1!")], 60)
    page = await records.list_items("s", "conversation", "c")
    assert page == ItemPage([("a", b"1!"), ("b", b"2"), ("c", b"3")], False)
    assert await records.get_item("s", "conversation", "c", "b") == b"2"
    assert await records.get_item("s", "conversation", "c", "zz") is None
    # Metadata replaced; the items stay.
    await records.put_record("s", "conversation", "c", b"meta2", ttl=60)
    assert await records.get_record("s", "conversation", "c") == b"meta2"
    assert (
        len((await records.list_items("s", "conversation", "c") or ItemPage([], False)).items) == 3
    )


async def test_cursor_paging_both_ways(records: RecordStore) -> None:
    await records.put_record("s", "conversation", "c", b"m", ttl=60)
    ids = [f"item_{k}" for k in range(7)]
    await records.append_items("s", "conversation", "c", [(i, i.encode()) for i in ids], 60)
    seen: list[str] = []
    after = None
    while True:
        page = await records.list_items("s", "conversation", "c", after=after, limit=3)
        assert page is not None
        seen += [i for i, _ in page.items]
        if not page.has_more:
            break
        after = page.items[-1][0]
    assert seen == ids
    down = await records.list_items("s", "conversation", "c", limit=2, descending=True)
    assert down == ItemPage([("item_6", b"item_6"), ("item_5", b"item_5")], True)
    rest = await records.list_items("s", "conversation", "c", after="item_2", descending=True)
    assert rest == ItemPage([("item_1", b"item_1"), ("item_0", b"item_0")], False)
    assert await records.list_items("s", "conversation", "c", after="nope") == ItemPage([], False)
    exact = await records.list_items("s", "conversation", "c", after="item_3", limit=3)
    assert exact is not None and [i for i, _ in exact.items] == ids[4:] and not exact.has_more


async def test_delete_item_and_record_with_items(records: RecordStore) -> None:
    await records.put_record("s", "conversation", "c", b"m", ttl=60)
    await records.append_items(
        "s", "conversation", "c", [("a", b"1"), ("b", b"2"), ("c", b"3")], 60
    )
    assert await records.delete_item("s", "conversation", "c", "b") is True
    assert await records.delete_item("s", "conversation", "c", "b") is False
    page = await records.list_items("s", "conversation", "c")
    assert page == ItemPage([("a", b"1"), ("c", b"3")], False)
    await records.append_items("s", "conversation", "c", [("d", b"4")], 60)
    page = await records.list_items("s", "conversation", "c")
    assert page is not None and [i for i, _ in page.items] == ["a", "c", "d"]
    assert await records.delete_record("s", "conversation", "c") is True
    assert await records.list_items("s", "conversation", "c") is None
    assert await records.get_item("s", "conversation", "c", "a") is None
    # A record created again under the same id starts with no items.
    await records.put_record("s", "conversation", "c", b"new", ttl=60)
    assert await records.list_items("s", "conversation", "c") == ItemPage([], False)


async def test_ttl_expires_record_and_items(records: RecordStore) -> None:
    await records.put_record("s", "response", "short", b"v", ttl=0.3)
    await records.append_items("s", "response", "short", [("i", b"1")], ttl=0.3)
    await records.put_record("s", "response", "long", b"v", ttl=60)
    deadline = time.monotonic() + 10
    while await records.get_record("s", "response", "short") is not None:
        assert time.monotonic() < deadline, "a record outlived its TTL by 10 s"
        await anyio.sleep(0.1)
    assert await records.list_items("s", "response", "short") is None
    assert await records.get_item("s", "response", "short", "i") is None
    assert await records.get_record("s", "response", "long") == b"v"


async def test_binary_values_round_trip_byte_exact(records: RecordStore) -> None:
    blob = bytes(range(256)) * 4096  # 1 MiB, every byte value
    await records.put_record("s", "response", "big", blob, ttl=60)
    await records.append_items("s", "response", "big", [("raw", blob)], ttl=60)
    assert await records.get_record("s", "response", "big") == blob
    assert await records.get_item("s", "response", "big", "raw") == blob


async def test_concurrent_appends_lose_nothing(records: RecordStore) -> None:
    await records.put_record("s", "conversation", "c", b"m", ttl=60)

    async def add(k: int) -> None:
        await records.append_items("s", "conversation", "c", [(f"i{k}", b"x")], 60)

    async with anyio.create_task_group() as tg:
        for k in range(40):
            tg.start_soon(add, k)
    page = await records.list_items("s", "conversation", "c", limit=100)
    assert page is not None and sorted(i for i, _ in page.items) == sorted(
        f"i{k}" for k in range(40)
    )


async def test_bad_arguments_are_refused(records: RecordStore) -> None:
    with pytest.raises(ValueError, match="ttl"):
        await records.put_record("s", "response", "r", b"v", ttl=0)
    with pytest.raises(ValueError, match="limit"):
        await records.list_items("s", "response", "r", limit=0)

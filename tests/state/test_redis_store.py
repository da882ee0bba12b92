"""The Redis backend against a real redis-server: layout, TTLs, bounds, two replicas, outages."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import pytest
import redis

from gateway.state import redis_link
from gateway.state.open_state import State, StateOptions, open_state
from gateway.state.store import StoreUnavailableError

pytestmark = pytest.mark.anyio

Opener = Callable[..., State]


@pytest.fixture
async def open_redis(redis_url: str) -> AsyncIterator[Opener]:
    opened: list[State] = []

    def factory(**overrides: Any) -> State:
        state = open_state(StateOptions(url=redis_url, **overrides))
        opened.append(state)
        return state

    yield factory
    for state in opened:
        await state.aclose()


@pytest.fixture
def raw(redis_server: Any) -> redis.Redis:
    return redis.Redis(host="127.0.0.1", port=redis_server.port)


async def test_values_are_content_addressed_and_every_key_has_a_ttl(
    open_redis: Opener, raw: redis.Redis
) -> None:
    turns = open_redis(prefix="tst:", max_age_seconds=3600).turns
    record = b"x" * 600_000  # a signature-sized turn
    await turns.put_many({"t:a": record, "v:b": record, "c:call": record, "f:img": b"png"})
    assert await turns.get_many(["t:a", "v:b", "c:call", "missing"]) == {
        "t:a": record,
        "v:b": record,
        "c:call": record,
    }
    keys = sorted(k.decode() for k in raw.keys("*"))
    assert all(k.startswith("tst:") for k in keys)
    values = [k for k in keys if k.startswith("tst:v:")]
    assert len(values) == 2  # the shared record once, the image once
    assert all(0 < raw.ttl(k) <= 3600 for k in keys)


async def test_two_replicas_share_turns_and_never_read_a_stale_pointer(open_redis: Opener) -> None:
    a, b = open_redis().turns, open_redis().turns
    await a.put_many({"k": b"first"})
    assert await b.get("k") == b"first"
    await a.put_many({"k": b"second"})  # the key now names another turn
    assert await b.get("k") == b"second"


async def test_oversize_value_is_refused_and_drops_the_old_pointer(
    open_redis: Opener, raw: redis.Redis
) -> None:
    turns = open_redis(max_value_bytes=1000).turns
    await turns.put_many({"k": b"small"})
    await turns.put_many({"k": b"y" * 1001})
    assert await turns.get("k") is None
    assert (await turns.stats()).evictions == 1
    assert raw.dbsize() == 1  # only the orphaned small value, which expires by its TTL


async def test_an_evicted_value_is_a_miss_not_an_error(
    open_redis: Opener, raw: redis.Redis
) -> None:
    turns = open_redis(local_cache_bytes=0).turns
    await turns.put_many({"k": b"value"})
    for key in raw.keys("gw:v:*"):
        raw.delete(key)  # what maxmemory eviction does to a value
    assert await turns.get_many(["k"]) == {}


async def test_a_password_in_the_url_is_used_and_never_shown(
    redis_server: Any, raw: redis.Redis
) -> None:
    raw.config_set("requirepass", "s3cret-pw")
    try:
        url = f"redis://:s3cret-pw@127.0.0.1:{redis_server.port}/0"
        state = open_state(StateOptions(url=url))
        await state.turns.put_many({"k": b"v"})
        assert await state.turns.get("k") == b"v"
        await state.aclose()
        wrong = open_state(StateOptions(url=url.replace("s3cret-pw", "wrong-pw")))
        with pytest.raises(Exception) as caught:
            await wrong.turns.get("k")
        assert "s3cret" not in str(caught.value) and "wrong-pw" not in str(caught.value)
        await wrong.aclose()
    finally:
        raw.execute_command("AUTH", "s3cret-pw")
        raw.config_set("requirepass", "")


async def test_outage_fails_fast_logs_once_and_reconnects(
    open_redis: Opener,
    redis_server: Any,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(redis_link, "RETRY_SECONDS", 0.2)
    state = open_redis(timeout=0.5)
    await state.turns.put_many({"k": b"before"})
    redis_server.stop()
    caplog.set_level(logging.WARNING, logger="gateway.state")
    try:
        for _ in range(5):
            with pytest.raises(StoreUnavailableError):
                await state.turns.get_many(["k"])
        assert await state.ready() is False
        with pytest.raises(StoreUnavailableError):
            await state.records.get_record("s", "response", "r")
    finally:
        redis_server.start()
    outage_logs = [r for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(outage_logs) == 1
    with anyio.fail_after(10):
        while not await state.ready():
            await anyio.sleep(0.1)
    await state.turns.put_many({"k": b"after"})
    assert await state.turns.get("k") == b"after"
    assert any("reachable again" in r.getMessage() for r in caplog.records)


async def test_pool_is_bounded(open_redis: Opener, raw: redis.Redis) -> None:
    turns = open_redis(pool_size=3).turns
    await turns.put_many({f"k{i}": b"v" * 1000 for i in range(10)})

    async def read(i: int) -> None:
        assert await turns.get(f"k{i % 10}") == b"v" * 1000

    async with anyio.create_task_group() as tg:
        for i in range(100):
            tg.start_soon(read, i)
    clients = [c for c in raw.client_list() if c.get("name") == "gemini-gateway"]
    assert 1 <= len(clients) <= 3


def test_bad_options_are_refused_at_startup() -> None:
    with pytest.raises(ValueError, match="pool size"):
        open_state(StateOptions(url="redis://127.0.0.1:1/0", pool_size=0))
    with pytest.raises(ValueError, match="timeout"):
        open_state(StateOptions(url="redis://127.0.0.1:1/0", timeout=0))


async def test_a_big_value_evicted_by_redis_is_written_again_by_the_next_put(
    open_redis: Opener, raw: redis.Redis
) -> None:
    a, b = open_redis().turns, open_redis(local_cache_bytes=0).turns
    big = bytes(range(256)) * 1024  # 256 KiB: above the size re-sent on every put
    await a.put_many({"k": big})
    for key in raw.keys("gw:v:*"):
        raw.delete(key)
    assert await b.get("k") is None
    await a.put_many({"k2": big})  # a knows the bytes, but Redis lost them: sent again
    assert await b.get_many(["k", "k2"]) == {"k": big, "k2": big}


async def test_put_if_absent_between_replicas_keeps_the_first_value_with_a_ttl(
    open_redis: Opener, raw: redis.Redis
) -> None:
    a, b = open_redis(max_age_seconds=3600).turns, open_redis(max_age_seconds=3600).turns
    assert await a.put_if_absent("k", b"first") == b"first"
    assert await b.put_if_absent("k", b"second") == b"first"
    assert await b.get("k") == b"first"
    assert all(0 < raw.ttl(k) <= 3600 for k in raw.keys("*"))

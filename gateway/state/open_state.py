"""Everything the gateway remembers, opened from one URL (`GATEWAY_STATE`): the turn cache
(with hosted images) and the record store (stored responses, conversations).

memory → this process only; sqlite:///path → one host (any number of workers there);
redis://host:port/db or rediss:// (TLS; a password in the URL; Valkey too) → any number of
hosts. On Redis both stores share one client, so one bounded pool per process.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from gateway.state.factory import MEMORY_URL, SQLITE_PREFIX, open_store
from gateway.state.records import RecordStore
from gateway.state.responses import responses_store_url
from gateway.state.store import Clock, TurnStore


@dataclass(frozen=True, slots=True)
class StateOptions:
    url: str = MEMORY_URL
    max_bytes: int = 1024 * 1024 * 1024
    max_age_seconds: float = 7 * 24 * 3600.0
    prefix: str = "gw:"
    pool_size: int = 16
    timeout: float = 1.0
    max_value_bytes: int = 64 * 1024 * 1024
    local_cache_bytes: int = 64 * 1024 * 1024
    responses_max_bytes: int = 1024 * 1024 * 1024
    responses_max_age_seconds: float = 30 * 24 * 3600.0


@dataclass(frozen=True, slots=True)
class State:
    turns: TurnStore
    records: RecordStore
    # Stored responses' key/value store (state/responses.py): its own retention and bound.
    responses: TurnStore

    async def ready(self) -> bool:
        return await self.turns.ready()

    async def aclose(self) -> None:
        await self.turns.aclose()
        await self.records.aclose()
        await self.responses.aclose()


def is_redis(url: str) -> bool:
    return url.startswith(("redis://", "rediss://"))


def shared_between_processes(url: str) -> bool:
    """Whether several gateway processes see one state (what `serve --workers N` needs)."""
    return is_redis(url) or (url.startswith(SQLITE_PREFIX) and not url.endswith(":memory:"))


def open_state(options: StateOptions, *, clock: Clock = time.time) -> State:
    url = options.url
    if is_redis(url):
        # Imported here: memory and SQLite deployments never load the Redis client.
        from gateway.state.redis_link import RedisLink
        from gateway.state.redis_records import RedisRecords
        from gateway.state.redis_turns import RedisTurnStore

        link = RedisLink(
            url, pool_size=options.pool_size, timeout=options.timeout, prefix=options.prefix
        )
        shared = RedisTurnStore(
            link,
            max_age_seconds=options.max_age_seconds,
            max_value_bytes=options.max_value_bytes,
            local_cache_bytes=options.local_cache_bytes,
        )
        responses = RedisTurnStore(
            link,
            max_age_seconds=options.responses_max_age_seconds,
            max_value_bytes=options.max_value_bytes,
            local_cache_bytes=options.local_cache_bytes // 4,
            namespace="resp:",
        )
        return State(shared, RedisRecords(link), responses)
    turns = open_store(
        url, max_bytes=options.max_bytes, max_age_seconds=options.max_age_seconds, clock=clock
    )
    responses_kv = open_store(
        responses_store_url(url),
        max_bytes=options.responses_max_bytes,
        max_age_seconds=options.responses_max_age_seconds,
        clock=clock,
    )
    records: RecordStore
    if url.startswith(SQLITE_PREFIX):
        from gateway.state.sqlite_records import SqliteRecords

        records = SqliteRecords(url[len(SQLITE_PREFIX) :], clock=clock)
    else:
        from gateway.state.memory_records import MemoryRecords

        records = MemoryRecords(max_bytes=options.max_bytes, clock=clock)
    return State(turns, records, responses_kv)

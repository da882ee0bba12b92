"""`TurnStore` on Redis/Valkey: the turn cache and hosted images shared by every replica.

Layout (prefix `gw:` by default; stored responses use `gw:resp:t:` / `gw:resp:v:`):
- `gw:t:<key>` → the sha256 of the value (64 bytes), TTL `max_age`. Keys are mutable pointers
  (a key may be re-put with another turn), so they are always read from Redis.
- `gw:v:<sha256>` → the value bytes, TTL `max_age`, refreshed whenever a key is put on it.
  Content-addressed, so values put under several keys or by several replicas are stored once,
  and a value's bytes cross the network only when a turn is actually rebuilt (a lookup whose
  pointer matched): a request that needs no remembered turn never reads a blob. Values are
  immutable, so a replica keeps recently used ones in a bounded in-process LRU.

A single value above `max_value_bytes` is not stored (counted as an eviction); the total is
bounded by Redis itself (`maxmemory` with a `volatile-*` policy: every key here has a TTL).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import anyio.to_thread
import redis.asyncio as aioredis

from gateway.state.blob_cache import BlobCache
from gateway.state.redis_link import RedisLink, as_bytes, pipeline_result
from gateway.state.store import StoreError, StoreStats, check_limits, digest_items

# Hash big batches on a worker thread (hashlib releases the GIL): the loop keeps serving.
_THREAD_HASH_BYTES = 1 << 20
# Values up to this size are re-sent on every put (cheaper than a round trip to ask first).
_RESEND_BYTES = 64 * 1024


class RedisTurnStore:
    def __init__(
        self,
        link: RedisLink,
        *,
        max_age_seconds: float,
        max_value_bytes: int,
        local_cache_bytes: int,
        namespace: str = "",
    ) -> None:
        check_limits(max_value_bytes, max_age_seconds)
        self._link = link
        # Stores with other TTLs (stored responses: "resp:") keep their own values, so one
        # store's shorter TTL never cuts another's value short.
        self._namespace = namespace
        self._ttl = max(int(max_age_seconds), 1)
        self._max_value = max_value_bytes
        self._local = BlobCache(local_cache_bytes)
        self._hits = 0
        self._misses = 0
        self._refused = 0

    def _ptr(self, key: str) -> str:
        return self._link.key(f"{self._namespace}t", key)

    def _val(self, digest: str) -> str:
        return self._link.key(f"{self._namespace}v", digest)

    async def get(self, key: str) -> bytes | None:
        return (await self.get_many([key])).get(key)

    async def get_many(self, keys: Sequence[str]) -> dict[str, bytes]:
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return {}
        raw = await self._link.run(lambda c: c.mget([self._ptr(k) for k in wanted]))
        pointers = {
            k: d.decode("ascii") for k, d in zip(wanted, map(as_bytes, raw), strict=True) if d
        }
        values: dict[str, bytes] = {}
        remote: list[str] = []
        for digest in dict.fromkeys(pointers.values()):
            cached = self._local.get(digest)
            if cached is not None:
                values[digest] = cached
            else:
                remote.append(digest)
        if remote:
            blobs = await self._link.run(lambda c: c.mget([self._val(d) for d in remote]))
            for digest, blob in zip(remote, map(as_bytes, blobs), strict=True):
                if blob is not None:
                    values[digest] = blob
                    self._local.put(digest, blob)
        found = {k: values[d] for k, d in pointers.items() if d in values}
        self._hits += len(found)
        self._misses += len(wanted) - len(found)
        return found

    async def put_many(self, items: Mapping[str, bytes]) -> None:
        if not items:
            return
        size = sum(len(v) for v in {id(v): v for v in items.values()}.values())
        if size >= _THREAD_HASH_BYTES:
            digests = await anyio.to_thread.run_sync(digest_items, dict(items))
        else:
            digests = digest_items(items)
        keep = {k: d for k, d in digests.items() if len(items[k]) <= self._max_value}
        refused = [k for k in items if k not in keep]
        self._refused += len({digests[k] for k in refused})
        blobs = {d: items[k] for k, d in keep.items()}
        # One round trip in the usual case: small values are simply (re)written, big ones only
        # get their TTL refreshed, and the pointers are set; a big value Redis did not have
        # (first put, or evicted) is written by a second round trip.
        small = {d: b for d, b in blobs.items() if len(b) <= _RESEND_BYTES}
        big = [d for d in blobs if d not in small]
        present = await self._link.run(lambda c: self._write(c, keep, small, big, refused))
        missing = {d: blobs[d] for d, ok in zip(big, present, strict=True) if not ok}
        if missing:
            await self._link.run(lambda c: self._write(c, {}, missing, [], []))
        for digest, blob in blobs.items():
            self._local.put(digest, blob)

    async def put_if_absent(self, key: str, value: bytes, *, forever: bool = False) -> bytes:
        """`SET NX` on the pointer decides; the value is written first, so a winning pointer
        never points at nothing. The pointer is read back in the same round trip. `forever`:
        no TTL, and a pointer found with one (an older release's) loses it."""
        if len(value) > self._max_value:
            self._refused += 1
            return value
        mine = digest_items({key: value})[key]
        ttl = None if forever else self._ttl

        async def offer(client: aioredis.Redis) -> list[Any]:
            pipe = client.pipeline(transaction=False)
            pipe.set(self._val(mine), value, ex=ttl)
            pipe.set(self._ptr(key), mine.encode("ascii"), ex=ttl, nx=True)
            pipe.get(self._ptr(key))
            if forever:
                pipe.persist(self._ptr(key))
            return pipeline_result(await pipe.execute())

        pointer = as_bytes((await self._link.run(offer))[2])
        winner = pointer.decode("ascii") if pointer else mine
        if winner == mine:
            self._local.put(mine, value)
            return value

        async def read(client: aioredis.Redis) -> list[Any]:
            pipe = client.pipeline(transaction=False)
            pipe.get(self._val(winner))
            if forever:
                pipe.persist(self._val(winner))
            return pipeline_result(await pipe.execute())

        stored = as_bytes((await self._link.run(read))[0])
        if stored is None:
            raise StoreError(f"the value of {key!r} is gone (evicted) while its pointer is not")
        self._local.put(winner, stored)
        return stored

    async def _write(
        self,
        client: aioredis.Redis,
        pointers: dict[str, str],
        blobs: dict[str, bytes],
        refresh: list[str],
        refused: list[str],
    ) -> list[Any]:
        """Returns, for each digest in `refresh`, whether Redis still had that value."""
        pipe = client.pipeline(transaction=False)
        for digest in refresh:
            pipe.expire(self._val(digest), self._ttl)
        for digest, blob in blobs.items():
            pipe.set(self._val(digest), blob, ex=self._ttl)
        for key, digest in pointers.items():
            pipe.set(self._ptr(key), digest.encode("ascii"), ex=self._ttl)
        if refused:
            # A refused key must not keep answering with an older, different turn.
            pipe.delete(*(self._ptr(k) for k in refused))
        return pipeline_result(await pipe.execute())[: len(refresh)]

    async def stats(self) -> StoreStats:
        """Counters of this process; entries/values are what its local LRU holds."""
        return StoreStats(
            entries=0,
            bytes=self._local.bytes,
            hits=self._hits,
            misses=self._misses,
            evictions=self._refused,
            values=0,
        )

    async def ready(self) -> bool:
        return await self._link.ready()

    async def aclose(self) -> None:
        self._local.clear()
        await self._link.aclose()

"""`RecordStore` on Redis/Valkey (semantics in records.py), read from Redis on every call.

Layout per record (prefix `gw:`; the `{...}` hash tag keeps a record and its list on one
Redis Cluster slot, so the scripts below stay single-slot):
- `gw:r:{<scope>/<kind>/<id>}` → the record's value, PX ttl
- `gw:r:{<scope>/<kind>/<id>}:order` → sorted set item_id → sequence number (list order)
- `gw:r:{<scope>/<kind>/<id>}:items` → hash item_id → item value
All three share the TTL; appends and paging run as Lua scripts so a concurrent append on
another replica can never interleave with a half-done one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import redis.asyncio as aioredis

from gateway.state.records import Item, ItemPage, check_limit, check_ttl
from gateway.state.redis_link import RedisLink, as_bytes, pipeline_result

_APPEND = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
local seq = 0
if last[2] then seq = tonumber(last[2]) end
for i = 2, #ARGV, 2 do
  if redis.call('HSETNX', KEYS[3], ARGV[i], ARGV[i + 1]) == 1 then
    seq = seq + 1
    redis.call('ZADD', KEYS[2], seq, ARGV[i])
  else
    redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1])
  end
end
for k = 1, 3 do redis.call('PEXPIRE', KEYS[k], ARGV[1]) end
return 1
"""

# -> nil: no record; {0}: unknown cursor; {more, id1, value1, ...}
_PAGE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local desc = ARGV[3] == '1'
local start = 0
if ARGV[1] ~= '' then
  local rank
  if desc then rank = redis.call('ZREVRANK', KEYS[2], ARGV[1])
  else rank = redis.call('ZRANK', KEYS[2], ARGV[1]) end
  if not rank then return {0} end
  start = rank + 1
end
local limit = tonumber(ARGV[2])
local ids
if desc then ids = redis.call('ZREVRANGE', KEYS[2], start, start + limit)
else ids = redis.call('ZRANGE', KEYS[2], start, start + limit) end
local out = {0}
if #ids > limit then out[1] = 1; table.remove(ids) end
for _, id in ipairs(ids) do
  out[#out + 1] = id
  out[#out + 1] = redis.call('HGET', KEYS[3], id)
end
return out
"""


class RedisRecords:
    def __init__(self, link: RedisLink) -> None:
        self._link = link
        self._append = link.client.register_script(_APPEND)
        self._page = link.client.register_script(_PAGE)

    def _keys(self, scope: str, kind: str, record_id: str) -> tuple[str, str, str]:
        base = self._link.key("r", f"{{{scope}/{kind}/{record_id}}}")
        return base, f"{base}:order", f"{base}:items"

    async def put_record(
        self, scope: str, kind: str, record_id: str, value: bytes, ttl: float
    ) -> None:
        check_ttl(ttl)
        record, order, items = self._keys(scope, kind, record_id)
        ms = max(int(ttl * 1000), 1)

        async def put(client: aioredis.Redis) -> None:
            pipe = client.pipeline(transaction=True)
            pipe.set(record, value, px=ms)
            pipe.pexpire(order, ms)
            pipe.pexpire(items, ms)
            await pipe.execute()

        await self._link.run(put)

    async def get_record(self, scope: str, kind: str, record_id: str) -> bytes | None:
        key = self._keys(scope, kind, record_id)[0]
        return as_bytes(await self._link.run(lambda c: c.get(key)))

    async def get_records(
        self, scope: str, kind: str, record_ids: Sequence[str]
    ) -> dict[str, bytes]:
        ids = list(dict.fromkeys(record_ids))
        if not ids:
            return {}
        keys = [self._keys(scope, kind, i)[0] for i in ids]
        values = await self._link.run(lambda c: c.mget(keys))
        return {i: v for i, v in zip(ids, map(as_bytes, values), strict=True) if v is not None}

    async def delete_record(self, scope: str, kind: str, record_id: str) -> bool:
        keys = self._keys(scope, kind, record_id)

        async def delete(client: aioredis.Redis) -> list[Any]:
            pipe = client.pipeline(transaction=True)
            pipe.exists(keys[0])
            pipe.unlink(*keys)
            return pipeline_result(await pipe.execute())

        existed, _ = await self._link.run(delete)
        return bool(existed)

    async def append_items(
        self, scope: str, kind: str, record_id: str, items: Sequence[Item], ttl: float
    ) -> bool:
        check_ttl(ttl)
        args: list[bytes | str | int] = [max(int(ttl * 1000), 1)]
        for item_id, value in items:
            args += [item_id, value]
        keys = list(self._keys(scope, kind, record_id))
        done = await self._link.run(lambda c: self._append(keys=keys, args=args, client=c))
        return bool(done)

    async def list_items(
        self,
        scope: str,
        kind: str,
        record_id: str,
        *,
        after: str | None = None,
        limit: int = 20,
        descending: bool = False,
    ) -> ItemPage | None:
        check_limit(limit)
        keys = list(self._keys(scope, kind, record_id))
        args: list[str | int] = [after or "", limit, "1" if descending else "0"]
        out = await self._link.run(lambda c: self._page(keys=keys, args=args, client=c))
        if out is None:
            return None
        flat = list(out)
        pairs = [
            (flat[i].decode(), flat[i + 1])
            for i in range(1, len(flat) - 1, 2)
            if flat[i + 1] is not None
        ]
        return ItemPage(pairs, bool(flat[0]))

    async def get_item(self, scope: str, kind: str, record_id: str, item_id: str) -> bytes | None:
        record, _, items = self._keys(scope, kind, record_id)

        async def get(client: aioredis.Redis) -> list[Any]:
            pipe = client.pipeline(transaction=False)
            pipe.exists(record)
            pipe.hget(items, item_id)
            return pipeline_result(await pipe.execute())

        exists, value = await self._link.run(get)
        return value if exists else None

    async def delete_item(self, scope: str, kind: str, record_id: str, item_id: str) -> bool:
        record, order, items = self._keys(scope, kind, record_id)

        async def delete(client: aioredis.Redis) -> list[Any]:
            pipe = client.pipeline(transaction=True)
            pipe.exists(record)
            pipe.zrem(order, item_id)
            pipe.hdel(items, item_id)
            return pipeline_result(await pipe.execute())

        exists, removed, _ = await self._link.run(delete)
        return bool(exists) and bool(removed)

    async def ready(self) -> bool:
        return await self._link.ready()

    async def aclose(self) -> None:
        await self._link.aclose()

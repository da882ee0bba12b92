"""In-process turn cache: an LRU bounded by value bytes and by age.

Every mutation runs without an `await` in the middle, so concurrent asyncio tasks always
see a consistent store without a lock; only hashing of big batches leaves the loop, and it
happens before any state is touched.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from gateway.state.store import (
    Clock,
    StoreClosedError,
    StoreStats,
    check_limits,
)

log = logging.getLogger(__name__)

# Hashing releases the GIL; past this many bytes per put it is worth a worker thread.


def identity_digests(items: Mapping[str, bytes]) -> dict[str, str]:
    """key -> value identity. In memory the store holds every value it links, so an object's id
    cannot be reused while it is stored: identity dedupes the one record a caller stores under
    several keys without hashing megabytes (sha256 of a 3 MB turn cost ~2 ms per response)."""
    return {key: f"id:{id(value)}:{len(value)}" for key, value in items.items()}


@dataclass(slots=True)
class _Value:
    data: bytes
    keys: set[str] = field(default_factory=set)


@dataclass(slots=True)
class _Key:
    digest: str
    created: float


class MemoryTurnStore:
    """`TurnStore` kept in this process; lost on restart (use SQLite to keep it)."""

    def __init__(self, *, max_bytes: int, max_age_seconds: float, clock: Clock = time.time):
        check_limits(max_bytes, max_age_seconds)
        self._max_bytes = max_bytes
        self._max_age = max_age_seconds
        self._clock = clock
        # Values in least-recently-used-first order; keys in oldest-created-first order
        # (re-put keys are re-inserted), so both sweeps stop at the first survivor.
        self._values: OrderedDict[str, _Value] = OrderedDict()
        self._keys: dict[str, _Key] = {}
        self._bytes = 0
        self._hits = 0
        self._misses = 0
        self._evictions = 0
        self._closed = False

    async def get(self, key: str) -> bytes | None:
        return (await self.get_many([key])).get(key)

    async def get_many(self, keys: Sequence[str]) -> dict[str, bytes]:
        self._check_open()
        now = self._clock()
        self._expire(now)
        cutoff = now - self._max_age
        found: dict[str, bytes] = {}
        for key in dict.fromkeys(keys):
            entry = self._keys.get(key)
            if entry is not None and entry.created < cutoff:
                # Only reachable if the clock stepped back; the sweep handles the rest.
                self._evictions += self._drop_key(key)
                entry = None
            if entry is None:
                self._misses += 1
                continue
            self._values.move_to_end(entry.digest)
            found[key] = self._values[entry.digest].data
            self._hits += 1
        return found

    async def put_many(self, items: Mapping[str, bytes]) -> None:
        self._check_open()
        if not items:
            return
        digests = identity_digests(items)
        # From here on no await: the update is atomic for other tasks.
        self._check_open()
        now = self._clock()
        self._expire(now)
        refused: set[str] = set()
        for key, value in items.items():
            dig = digests[key]
            if len(value) > self._max_bytes:
                if dig not in refused:
                    refused.add(dig)
                    self._evictions += 1
                    log.warning(
                        "turn store: value of %d bytes exceeds max_bytes=%d, not cached",
                        len(value),
                        self._max_bytes,
                    )
                # The key must not keep answering with an older, different turn.
                if key in self._keys:
                    self._drop_key(key)
                continue
            self._link(key, dig, value, now)
        self._evict_lru()

    async def put_if_absent(self, key: str, value: bytes, *, forever: bool = False) -> bytes:
        self._check_open()
        # No await in here: no other task runs between the look-up and the put.
        self._expire(self._clock())
        entry = self._keys.get(key)
        if entry is not None:
            self._values.move_to_end(entry.digest)
            return self._values[entry.digest].data
        if len(value) > self._max_bytes:
            self._evictions += 1  # refused, as put_many counts it
            return value
        self._link(key, identity_digests({key: value})[key], value, self._clock())
        self._evict_lru()
        return value

    async def stats(self) -> StoreStats:
        self._check_open()
        self._expire(self._clock())
        return StoreStats(
            entries=len(self._keys),
            bytes=self._bytes,
            hits=self._hits,
            misses=self._misses,
            evictions=self._evictions,
            values=len(self._values),
        )

    async def aclose(self) -> None:
        self._closed = True
        self._values.clear()
        self._keys.clear()
        self._bytes = 0

    async def ready(self) -> bool:
        return not self._closed

    def _check_open(self) -> None:
        if self._closed:
            raise StoreClosedError("turn store is closed")

    def _link(self, key: str, dig: str, value: bytes, now: float) -> None:
        """Point `key` at the value `dig`, storing the bytes only if no key has them yet."""
        stored = self._values.get(dig)
        if stored is None:
            stored = self._values[dig] = _Value(value)
            self._bytes += len(value)
        else:
            self._values.move_to_end(dig)
        old = self._keys.pop(key, None)
        if old is not None and old.digest != dig:
            self._unlink(key, old.digest)
        self._keys[key] = _Key(dig, now)
        stored.keys.add(key)

    def _drop_key(self, key: str) -> int:
        """Forget a key; returns 1 when that orphaned (and so dropped) its value."""
        entry = self._keys.pop(key)
        return self._unlink(key, entry.digest)

    def _unlink(self, key: str, dig: str) -> int:
        stored = self._values[dig]
        stored.keys.discard(key)
        if stored.keys:
            return 0
        del self._values[dig]
        self._bytes -= len(stored.data)
        return 1

    def _expire(self, now: float) -> None:
        cutoff = now - self._max_age
        while self._keys:
            key, entry = next(iter(self._keys.items()))
            if entry.created >= cutoff:
                break
            self._evictions += self._drop_key(key)

    def _evict_lru(self) -> None:
        while self._bytes > self._max_bytes and self._values:
            _, stored = self._values.popitem(last=False)
            for key in stored.keys:
                del self._keys[key]
            self._bytes -= len(stored.data)
            self._evictions += 1

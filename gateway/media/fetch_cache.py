"""A small LRU for fetched images, bounded by entry count and bytes, with HTTP freshness.

Clients resend the same image URL on every turn of a conversation (the API is stateless), so a
short-lived cache saves the download, the size check and the base64 encoding. It honours the
origin's `Cache-Control` and keeps validators (ETag / Last-Modified) so a stale entry can be
revalidated with a cheap 304 instead of a full download.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

V = TypeVar("V")


@dataclass(slots=True)
class CacheEntry(Generic[V]):
    value: V
    size: int
    lifetime: float
    expires_at: float
    etag: str | None = None
    last_modified: str | None = None

    @property
    def revalidatable(self) -> bool:
        return self.etag is not None or self.last_modified is not None


class BoundedCache(Generic[V]):
    """Least-recently-used eviction once either `max_entries` or `max_bytes` would be exceeded."""

    def __init__(
        self,
        max_entries: int,
        max_bytes: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._entries: OrderedDict[str, CacheEntry[V]] = OrderedDict()
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._bytes = 0
        self.clock = clock

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def total_bytes(self) -> int:
        return self._bytes

    def get(self, key: str) -> CacheEntry[V] | None:
        """The entry, fresh or stale-but-revalidatable; stale entries without validators go."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if not self.is_fresh(entry) and not entry.revalidatable:
            self.discard(key)
            return None
        self._entries.move_to_end(key)
        return entry

    def is_fresh(self, entry: CacheEntry[V]) -> bool:
        return entry.expires_at > self.clock()

    def put(
        self,
        key: str,
        value: V,
        size: int,
        lifetime: float,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> None:
        """Store unless it could never be reused or alone exceeds the byte budget."""
        self.discard(key)
        if size > self._max_bytes or self._max_entries <= 0:
            return
        if lifetime <= 0 and etag is None and last_modified is None:
            return
        entry = CacheEntry(value, size, lifetime, self.clock() + lifetime, etag, last_modified)
        self._entries[key] = entry
        self._bytes += size
        while len(self._entries) > self._max_entries or self._bytes > self._max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self._bytes -= evicted.size

    def refresh(self, key: str, lifetime: float) -> None:
        """A 304 said the stored bytes are still current: start a new freshness period."""
        entry = self._entries.get(key)
        if entry is not None:
            entry.lifetime = lifetime
            entry.expires_at = self.clock() + lifetime

    def discard(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= entry.size


def freshness_lifetime(cache_control: str | None, default_ttl: float) -> float | None:
    """Seconds a response may be reused: None for `no-store`, 0 for `no-cache`.

    `max-age` is honoured up to `default_ttl`, the operator's ceiling on staleness.
    """
    if not cache_control:
        return default_ttl
    lifetime = default_ttl
    for directive in cache_control.split(","):
        name, _, value = directive.strip().partition("=")
        name = name.strip().lower()
        if name == "no-store":
            return None
        if name == "no-cache":
            lifetime = 0.0
        elif name == "max-age" and lifetime > 0:
            seconds = value.strip().strip('"')
            if seconds.isdigit():
                lifetime = min(float(seconds), default_ttl)
    return lifetime

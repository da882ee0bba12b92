"""An in-process LRU of immutable, content-addressed values (digest → bytes), bounded by bytes.

Safe to keep per replica because a digest names exactly one value: no other replica can change
what it maps to, so nothing here can go stale. Mutable state (pointers, records) never goes here.
"""

from __future__ import annotations

from collections import OrderedDict


class BlobCache:
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max(max_bytes, 0)
        self._values: OrderedDict[str, bytes] = OrderedDict()
        self.bytes = 0

    def get(self, digest: str) -> bytes | None:
        value = self._values.get(digest)
        if value is not None:
            self._values.move_to_end(digest)
        return value

    def put(self, digest: str, value: bytes) -> None:
        if len(value) > self.max_bytes // 4:  # one value never takes most of the cache
            return
        old = self._values.pop(digest, None)
        if old is not None:
            self.bytes -= len(old)
        self._values[digest] = value
        self.bytes += len(value)
        while self.bytes > self.max_bytes:
            _, dropped = self._values.popitem(last=False)
            self.bytes -= len(dropped)

    def clear(self) -> None:
        self._values.clear()
        self.bytes = 0

"""`RecordStore` in this process: lost on restart, one process only (serve refuses workers).

Bounded by bytes: past `max_bytes` the records created longest ago go first, with their items.
No `await` inside a mutation, so concurrent tasks always see a consistent store.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field

from gateway.state.records import Item, ItemPage, check_limit, check_ttl
from gateway.state.store import Clock, StoreClosedError

RecordKey = tuple[str, str, str]


@dataclass(slots=True)
class _Record:
    value: bytes
    expires: float
    items: dict[str, bytes] = field(default_factory=dict)  # insertion order is list order

    def size(self) -> int:
        return len(self.value) + sum(len(k) + len(v) for k, v in self.items.items())


class MemoryRecords:
    def __init__(self, *, max_bytes: int, clock: Clock = time.time) -> None:
        self._max_bytes = max_bytes
        self._clock = clock
        self._records: OrderedDict[RecordKey, _Record] = OrderedDict()
        self._bytes = 0
        self._closed = False

    def _live(self, key: RecordKey) -> _Record | None:
        if self._closed:
            raise StoreClosedError("record store is closed")
        record = self._records.get(key)
        if record is not None and record.expires <= self._clock():
            self._drop(key)
            return None
        return record

    def _drop(self, key: RecordKey) -> None:
        record = self._records.pop(key)
        self._bytes -= record.size()

    def _bound(self) -> None:
        now = self._clock()
        for key in [k for k, r in self._records.items() if r.expires <= now]:
            self._drop(key)
        while self._bytes > self._max_bytes and self._records:
            self._drop(next(iter(self._records)))

    async def put_record(
        self, scope: str, kind: str, record_id: str, value: bytes, ttl: float
    ) -> None:
        check_ttl(ttl)
        key = (scope, kind, record_id)
        record = self._live(key)
        expires = self._clock() + ttl
        if record is None:
            self._records[key] = _Record(value, expires)
            self._bytes += len(value)
        else:
            self._bytes += len(value) - len(record.value)
            record.value, record.expires = value, expires
        self._bound()

    async def get_record(self, scope: str, kind: str, record_id: str) -> bytes | None:
        record = self._live((scope, kind, record_id))
        return None if record is None else record.value

    async def get_records(
        self, scope: str, kind: str, record_ids: Sequence[str]
    ) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        for record_id in record_ids:
            record = self._live((scope, kind, record_id))
            if record is not None:
                found[record_id] = record.value
        return found

    async def delete_record(self, scope: str, kind: str, record_id: str) -> bool:
        key = (scope, kind, record_id)
        if self._live(key) is None:
            return False
        self._drop(key)
        return True

    async def append_items(
        self, scope: str, kind: str, record_id: str, items: Sequence[Item], ttl: float
    ) -> bool:
        check_ttl(ttl)
        record = self._live((scope, kind, record_id))
        if record is None:
            return False
        for item_id, value in items:
            old = record.items.get(item_id)
            self._bytes += len(value) - (len(old) if old is not None else -len(item_id))
            record.items[item_id] = value
        record.expires = self._clock() + ttl
        self._bound()
        return True

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
        record = self._live((scope, kind, record_id))
        if record is None:
            return None
        ids = list(record.items)
        if descending:
            ids.reverse()
        start = 0
        if after is not None:
            if after not in record.items:
                return ItemPage([], False)
            start = ids.index(after) + 1
        chosen = ids[start : start + limit]
        return ItemPage([(i, record.items[i]) for i in chosen], start + limit < len(ids))

    async def get_item(self, scope: str, kind: str, record_id: str, item_id: str) -> bytes | None:
        record = self._live((scope, kind, record_id))
        return None if record is None else record.items.get(item_id)

    async def delete_item(self, scope: str, kind: str, record_id: str, item_id: str) -> bool:
        record = self._live((scope, kind, record_id))
        if record is None or item_id not in record.items:
            return False
        self._bytes -= len(item_id) + len(record.items.pop(item_id))
        return True

    async def ready(self) -> bool:
        return not self._closed

    async def aclose(self) -> None:
        self._closed = True
        self._records.clear()
        self._bytes = 0

"""Mutable records by id with ordered item lists: what stored responses and conversations need.

Unlike the turn cache (immutable, content-addressed values), a record changes: a conversation
gets items appended and its metadata replaced, a response gets deleted. So every read goes to
the backend (no in-process copy on the Redis backend) and every other replica sees a write at
once.

Semantics, the same in every backend (memory, SQLite, Redis):
- Everything is addressed by (scope, kind, record_id). `scope` is the caller's credential scope
  (design.md, tenancy): one scope never sees another's records. `kind` names the record family
  ("response", "conversation", ...), ids are unique within a (scope, kind).
- `put_record` creates or replaces a record's value and (re)sets its TTL; the record's item
  list, if any, gets the same TTL. After the TTL the record and its items are gone (a miss).
- Items belong to a record: `append_items` on a missing or expired record appends nothing and
  returns False. Items keep the order they were first appended in; appending an id the list
  already has replaces that item's value in place. Appending refreshes the TTL of the record
  and its list.
- `list_items` pages by cursor: the items after the item `after` (exclusive) in ascending or,
  with `descending=True`, descending order, at most `limit`, with `has_more` telling whether
  more follow. An `after` that is not in the list gives an empty page; a missing record gives
  None (a 404 for the route).
- `delete_record` removes the record and its items; `delete_item` removes one item.
- Failures raise `StoreError` (`StoreUnavailableError` when the backend cannot be reached):
  callers decide between a 503-style error and degrading; the store never hides a lost write.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

# Item values travel as bytes, like turn-cache values: the caller owns the encoding.
Item = tuple[str, bytes]


@dataclass(frozen=True, slots=True)
class ItemPage:
    items: list[Item]
    has_more: bool


@runtime_checkable
class RecordStore(Protocol):
    """Stored responses and conversations, scoped to the caller; see the module docstring."""

    async def put_record(
        self, scope: str, kind: str, record_id: str, value: bytes, ttl: float
    ) -> None: ...

    async def get_record(self, scope: str, kind: str, record_id: str) -> bytes | None: ...

    async def get_records(
        self, scope: str, kind: str, record_ids: Sequence[str]
    ) -> dict[str, bytes]:
        """One round trip (a `previous_response_id` chain); missing ids are absent."""
        ...

    async def delete_record(self, scope: str, kind: str, record_id: str) -> bool:
        """True when the record existed."""
        ...

    async def append_items(
        self, scope: str, kind: str, record_id: str, items: Sequence[Item], ttl: float
    ) -> bool:
        """False (nothing appended) when the record is missing or expired."""
        ...

    async def list_items(
        self,
        scope: str,
        kind: str,
        record_id: str,
        *,
        after: str | None = None,
        limit: int = 20,
        descending: bool = False,
    ) -> ItemPage | None: ...

    async def get_item(
        self, scope: str, kind: str, record_id: str, item_id: str
    ) -> bytes | None: ...

    async def delete_item(self, scope: str, kind: str, record_id: str, item_id: str) -> bool: ...

    async def ready(self) -> bool: ...

    async def aclose(self) -> None: ...


def check_ttl(ttl: float) -> None:
    if not ttl > 0:
        raise ValueError(f"a record's ttl must be positive, got {ttl}")


def check_limit(limit: int) -> None:
    if limit < 1:
        raise ValueError(f"a page limit must be at least 1, got {limit}")

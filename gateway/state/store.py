"""The turn cache contract: what serving needs to rebuild a Gemini `model` turn byte-exact.

Clients that drop unknown fields (LangChain, plain role/content dicts) lose the thought
signatures and image bytes Gemini needs back. After each response the caller stores the
serialised turn under the keys that survive such clients (hashes of visible text, image
bytes, tool-call ids); the next request looks them up. Values are opaque bytes and big
(signatures ~600 KB, images several MB), so a value put under several keys is stored once.

A store never looks inside its values: in the turn cache they are encoded `TurnRecord`s
(gateway/protocol/turn_record.py, in the pure bottom layer because translation reads them);
responses.py keeps stored responses in a store of its own. This module is the contract every
backend implements and imports; `factory.py` picks a backend from its URL.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

Clock = Callable[[], float]


class StoreError(Exception):
    """A backend failure; one type so callers can degrade to a cache miss whatever the backend."""


class StoreClosedError(StoreError):
    """Used after `aclose()`: a programming error, not a cache miss."""


class StoreUnavailableError(StoreError):
    """The backend cannot be reached (Redis down or too slow): callers serve statelessly."""


@dataclass(frozen=True, slots=True)
class StoreStats:
    """Counters for /metrics.

    entries: live keys; values: distinct stored values; bytes: their total size (each
    value counted once however many keys point at it). hits/misses count looked-up keys.
    evictions count values dropped involuntarily: LRU over `max_bytes`, age expiry of their
    last key, or refused because a single value exceeds `max_bytes`.
    """

    entries: int
    bytes: int
    hits: int
    misses: int
    evictions: int
    values: int = 0


@runtime_checkable
class TurnStore(Protocol):
    """Content-addressed key/value cache for serialised model turns."""

    async def get(self, key: str) -> bytes | None: ...

    async def get_many(self, keys: Sequence[str]) -> dict[str, bytes]:
        """One round trip; missing or expired keys are absent from the result."""
        ...

    async def put_many(self, items: Mapping[str, bytes]) -> None:
        """Equal values are stored once and every key points at the single copy."""
        ...

    async def put_if_absent(self, key: str, value: bytes, *, forever: bool = False) -> bytes:
        """Store `value` under `key` unless the key already has one; returns the value the key
        holds afterwards. Atomic across every process sharing the backend, so callers racing
        to create the same key all end up with one winner's value (a get-then-put cannot).

        `forever`: the key (found or made) is never aged out nor evicted. For the envelope
        key: it must outlive every envelope it signed and stay the one every running worker
        holds; aged out or evicted, the next worker to start would make another. A memory
        store keeps it like any value (it dies with its only process, which holds the key)."""
        ...

    async def stats(self) -> StoreStats: ...

    async def aclose(self) -> None: ...

    async def ready(self) -> bool:
        """For /readyz: False once closed or when the backend cannot answer."""
        ...


def digest(value: bytes) -> str:
    """Content address of a value: sha256, so equal bytes from different objects dedupe."""
    return hashlib.sha256(value).hexdigest()


def digest_items(items: Mapping[str, bytes]) -> dict[str, str]:
    """key -> digest, hashing each distinct value object once (callers reuse one object)."""
    by_identity: dict[int, str] = {}
    out: dict[str, str] = {}
    for key, value in items.items():
        found = by_identity.get(id(value))
        if found is None:
            found = by_identity[id(value)] = digest(value)
        out[key] = found
    return out


def chunked(seq: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    """Batches small enough for SQLite's bound-parameter limit (sqlite.py, sqlite_records.py)."""
    for start in range(0, len(seq), size):
        yield seq[start : start + size]


def check_limits(max_bytes: int, max_age_seconds: float) -> None:
    """Reject limits that would make every put an eviction, at startup rather than per request."""
    if max_bytes <= 0:
        raise ValueError(f"turn store max_bytes must be positive, got {max_bytes}")
    if not max_age_seconds > 0:
        raise ValueError(f"turn store max_age_seconds must be positive, got {max_age_seconds}")

from __future__ import annotations

import pytest

from gateway.media.fetch_cache import BoundedCache, freshness_lifetime


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("header", "lifetime"),
    [
        (None, 300.0),
        ("", 300.0),
        ("public", 300.0),
        ("max-age=60", 60.0),
        ("public, max-age=60", 60.0),
        ("max-age=86400", 300.0),  # capped at the operator's ttl
        ("max-age=0", 0.0),
        ("no-cache", 0.0),
        ("max-age=60, no-cache", 0.0),
        ("NO-STORE", None),
        ("max-age=60, no-store", None),
        ("max-age=abc", 300.0),
    ],
)
def test_freshness_lifetime(header: str | None, lifetime: float | None) -> None:
    assert freshness_lifetime(header, 300.0) == lifetime


def test_evicts_least_recently_used_by_count() -> None:
    cache: BoundedCache[str] = BoundedCache(max_entries=2, max_bytes=1000)
    cache.put("a", "A", 1, 60)
    cache.put("b", "B", 1, 60)
    assert cache.get("a") is not None  # a is now the most recent
    cache.put("c", "C", 1, 60)
    assert cache.get("b") is None
    assert cache.get("a") is not None and cache.get("c") is not None


def test_evicts_by_bytes_and_skips_oversized_values() -> None:
    cache: BoundedCache[str] = BoundedCache(max_entries=10, max_bytes=100)
    cache.put("a", "A", 60, 60)
    cache.put("b", "B", 60, 60)
    assert cache.get("a") is None and cache.total_bytes == 60
    cache.put("huge", "H", 101, 60)
    assert cache.get("huge") is None and len(cache) == 1


def test_stale_entries_kept_only_with_validators() -> None:
    clock = Clock()
    cache: BoundedCache[str] = BoundedCache(10, 1000, clock)
    cache.put("plain", "P", 1, 10)
    cache.put("tagged", "T", 1, 10, etag='"1"')
    cache.put("never", "N", 1, 0)  # no lifetime and nothing to revalidate with
    assert cache.get("never") is None
    clock.now += 11
    assert cache.get("plain") is None
    entry = cache.get("tagged")
    assert entry is not None and not cache.is_fresh(entry)
    cache.refresh("tagged", 30)
    assert cache.is_fresh(entry)
    assert cache.total_bytes == 1

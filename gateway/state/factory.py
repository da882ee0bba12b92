"""Opening one key/value store from its URL: memory or SQLite (state/open_state.py opens the
whole state, Redis included, and uses this for the other two)."""

from __future__ import annotations

import time

from gateway.state.memory import MemoryTurnStore
from gateway.state.sqlite import SqliteTurnStore
from gateway.state.store import Clock, TurnStore

MEMORY_URL = "memory"
SQLITE_PREFIX = "sqlite:///"


def open_store(
    url: str,
    *,
    max_bytes: int,
    max_age_seconds: float,
    clock: Clock = time.time,
) -> TurnStore:
    """Build a store from its config URL.

    "memory" -> in-process LRU; "sqlite:///relative/path.db", "sqlite:////absolute/path.db"
    or "sqlite:///:memory:" -> SQLite (survives restarts unless in-memory).
    """
    if url == MEMORY_URL:
        return MemoryTurnStore(max_bytes=max_bytes, max_age_seconds=max_age_seconds, clock=clock)
    if url.startswith(SQLITE_PREFIX):
        path = url[len(SQLITE_PREFIX) :]
        if not path:
            raise ValueError(
                f"turn store URL {url!r} has no database path; "
                "use sqlite:///relative/path.db, sqlite:////absolute/path.db or sqlite:///:memory:"
            )
        return SqliteTurnStore(
            path, max_bytes=max_bytes, max_age_seconds=max_age_seconds, clock=clock
        )
    raise ValueError(
        f"unsupported turn store URL {url!r}: expected 'memory', 'sqlite:///<path>' or "
        "'redis://host:port/db' (e.g. sqlite:///state/turns.db,"
        " sqlite:////var/lib/gateway/turns.db, sqlite:///:memory:, redis://127.0.0.1:6379/0)"
    )

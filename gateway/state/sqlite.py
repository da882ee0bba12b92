"""SQLite turn cache: same semantics as the memory store, but survives gateway restarts.

One connection, used by one worker thread at a time under an `anyio.Lock`, so the event loop
never blocks on disk and the connection is never shared concurrently. Several gateway
processes may share a file: WAL, `busy_timeout` and `BEGIN IMMEDIATE` serialise their writes.
"""

from __future__ import annotations

import functools
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import ParamSpec, TypeVar

import anyio
import anyio.to_thread

from gateway.state.sqlite_schema import prepare
from gateway.state.store import (
    Clock,
    StoreClosedError,
    StoreError,
    StoreStats,
    check_limits,
    chunked,
    digest_items,
)

log = logging.getLogger(__name__)


P = ParamSpec("P")
T = TypeVar("T")

# Well under SQLite's bound-parameter limit.
_BATCH = 500
FOREVER = 1e18  # a time no age cut-off or LRU order reaches (put_if_absent(forever=True))
# Hits only note `last_used` in memory; written out with the next write or at this many.
_TOUCH_FLUSH = 256

# `data` is the last column on purpose: SQLite reads a row's columns in order, so anything
# after a multi-megabyte blob would drag its overflow pages in for SUM(size) or LRU scans.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS blobs (
    hash TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    created REAL NOT NULL,
    last_used REAL NOT NULL,
    data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS blobs_lru ON blobs (last_used);
CREATE TABLE IF NOT EXISTS keys (
    key TEXT PRIMARY KEY,
    hash TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS keys_hash ON keys (hash);
CREATE INDEX IF NOT EXISTS keys_created ON keys (created);
"""


def _marks(n: int) -> str:
    return ",".join("?" * n)


class SqliteTurnStore:
    """`TurnStore` in a SQLite file (or ":memory:" for tests)."""

    def __init__(
        self,
        path: str,
        *,
        max_bytes: int,
        max_age_seconds: float,
        clock: Clock = time.time,
    ):
        check_limits(max_bytes, max_age_seconds)
        self._max_bytes = max_bytes
        self._max_age = max_age_seconds
        self._clock = clock
        self._hits = 0
        self._misses = 0
        self._evictions = 0
        self._touched: dict[str, float] = {}
        self._lock = anyio.Lock()
        self._conn: sqlite3.Connection | None = self._connect(path)

    @staticmethod
    def _connect(path: str) -> sqlite3.Connection:
        """Open at startup so a bad path fails the boot, not the first request."""
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            _create_owner_only(path)
        try:
            conn = sqlite3.connect(path, timeout=5.0, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open turn store database {path!r}: {exc}") from exc
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA busy_timeout=5000")
            # Power loss may drop the latest turns but never corrupts the file: fine for a cache.
            conn.execute("PRAGMA synchronous=NORMAL")
            prepare(conn, path, _SCHEMA)
        except sqlite3.Error as exc:
            conn.close()
            raise StoreError(f"cannot initialise turn store database {path!r}: {exc}") from exc
        except StoreError:
            conn.close()
            raise
        return conn

    # -- public API ---------------------------------------------------------------------

    async def get(self, key: str) -> bytes | None:
        return (await self.get_many([key])).get(key)

    async def get_many(self, keys: Sequence[str]) -> dict[str, bytes]:
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return {}
        found, evicted = await self._call(self._get_sync, wanted, self._clock())
        self._hits += len(found)
        self._misses += len(wanted) - len(found)
        self._evictions += evicted
        return found

    async def put_many(self, items: Mapping[str, bytes]) -> None:
        if not items:
            return
        self._evictions += await self._call(self._put_sync, dict(items), self._clock())

    async def put_if_absent(self, key: str, value: bytes, *, forever: bool = False) -> bytes:
        stored, evicted = await self._call(
            self._put_if_absent_sync, key, value, self._clock(), forever
        )
        self._evictions += evicted
        return stored

    async def stats(self) -> StoreStats:
        (entries, values, size), evicted = await self._call(self._stats_sync, self._clock())
        self._evictions += evicted
        return StoreStats(
            entries=entries,
            bytes=size,
            hits=self._hits,
            misses=self._misses,
            evictions=self._evictions,
            values=values,
        )

    async def aclose(self) -> None:
        async with self._lock:
            conn, self._conn = self._conn, None
            if conn is not None:
                await anyio.to_thread.run_sync(self._close_sync, conn)

    async def ready(self) -> bool:
        try:
            await self._call(self._ping_sync)
        except StoreError:
            return False
        return True

    # -- plumbing -----------------------------------------------------------------------

    async def _call(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run `fn` on a worker thread with exclusive use of the connection.

        `to_thread.run_sync` defers cancellation until the thread returns, so the lock is
        never released while the connection is still in use.
        """
        async with self._lock:
            if self._conn is None:
                raise StoreClosedError("turn store is closed")
            try:
                return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs))
            except sqlite3.Error as exc:
                raise StoreError(f"sqlite turn store failed: {exc}") from exc

    @property
    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreClosedError("turn store is closed")
        return self._conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction that takes the write lock up front (no upgrade deadlocks)."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            if db.in_transaction:  # SQLite may already have rolled back (e.g. disk full)
                db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    # -- worker-thread side (connection held exclusively) ------------------------------

    def _ping_sync(self) -> None:
        self._db.execute("SELECT 1").fetchone()

    def _get_sync(self, keys: list[str], now: float) -> tuple[dict[str, bytes], int]:
        db = self._db
        cutoff = now - self._max_age
        found: dict[str, bytes] = {}
        for batch in chunked(keys, _BATCH):
            rows = db.execute(
                "SELECT k.key, b.hash, b.data FROM keys AS k JOIN blobs AS b ON b.hash = k.hash"
                f" WHERE k.key IN ({_marks(len(batch))}) AND k.created >= ?",
                (*batch, cutoff),
            )
            for key, dig, data in rows:
                found[key] = data
                self._touched[dig] = now
        evicted = 0
        missing = [k for k in keys if k not in found]
        if missing and self._any_expired(missing, cutoff):
            with self._write():
                self._flush_touches()
                evicted = self._expire(cutoff)
        elif len(self._touched) >= _TOUCH_FLUSH:
            with self._write():
                self._flush_touches()
        return found, evicted

    def _any_expired(self, keys: list[str], cutoff: float) -> bool:
        for batch in chunked(keys, _BATCH):
            row = self._db.execute(
                f"SELECT 1 FROM keys WHERE key IN ({_marks(len(batch))}) AND created < ? LIMIT 1",
                (*batch, cutoff),
            ).fetchone()
            if row is not None:
                return True
        return False

    def _put_sync(self, items: dict[str, bytes], now: float) -> int:
        digests = digest_items(items)
        refused = {digests[k] for k, v in items.items() if len(v) > self._max_bytes}
        for dig in refused:
            log.warning(
                "turn store: value %s exceeds max_bytes=%d, not cached", dig, self._max_bytes
            )
        keys = list(items)
        with self._write() as db:
            self._flush_touches()
            replaced = {
                h
                for k, h in self._select_in("SELECT key, hash FROM keys WHERE key IN", keys)
                if h != digests[k] or h in refused
            }
            blobs = {digests[k]: v for k, v in items.items() if digests[k] not in refused}
            stored = {
                h for (h,) in self._select_in("SELECT hash FROM blobs WHERE hash IN", list(blobs))
            }
            # Known values only get touched: binding megabytes just to hit a conflict is waste.
            db.executemany(
                "UPDATE blobs SET last_used = ? WHERE hash = ?", [(now, h) for h in stored]
            )
            db.executemany(
                "INSERT INTO blobs (hash, size, created, last_used, data) VALUES (?, ?, ?, ?, ?)",
                [(h, len(data), now, now, data) for h, data in blobs.items() if h not in stored],
            )
            db.executemany(
                "INSERT INTO keys (key, hash, created) VALUES (?, ?, ?) ON CONFLICT (key)"
                " DO UPDATE SET hash = excluded.hash, created = excluded.created",
                [(k, digests[k], now) for k in keys if digests[k] not in refused],
            )
            # A refused key must not keep answering with an older, different turn.
            db.executemany(
                "DELETE FROM keys WHERE key = ?",
                [(k,) for k in keys if digests[k] in refused],
            )
            self._drop_orphans(replaced)  # overwritten, not evicted
            evicted = len(refused) + self._expire(now - self._max_age)
            evicted += self._evict_lru()
        return evicted

    def _put_if_absent_sync(
        self, key: str, value: bytes, now: float, forever: bool
    ) -> tuple[bytes, int]:
        """Inside one `BEGIN IMMEDIATE` transaction: the write lock is taken before the look-up,
        so another process's put of the same key lands wholly before or wholly after.
        `forever`: the key is dated FOREVER (never older than the age cut-off) and its value
        last used at FOREVER (the last the LRU would pick); a key found is pinned so too."""
        with self._write() as db:
            self._flush_touches()
            evicted = self._expire(now - self._max_age)  # an expired key counts as absent
            row = db.execute(
                "SELECT b.data, b.hash FROM keys AS k JOIN blobs AS b ON b.hash = k.hash"
                " WHERE k.key = ?",
                (key,),
            ).fetchone()
            if row is not None:
                if forever:
                    self._pin(key, row[1])
                return bytes(row[0]), evicted
            if len(value) > self._max_bytes:
                return value, evicted + 1
            dig = digest_items({key: value})[key]
            when = FOREVER if forever else now
            db.execute(
                "INSERT INTO blobs (hash, size, created, last_used, data) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (hash) DO UPDATE SET last_used = MAX(last_used, excluded.last_used)",
                (dig, len(value), now, when, value),
            )
            # (a key whose value is gone is absent too: repoint it)
            db.execute(
                "INSERT INTO keys (key, hash, created) VALUES (?, ?, ?) ON CONFLICT (key)"
                " DO UPDATE SET hash = excluded.hash, created = excluded.created",
                (key, dig, when),
            )
            evicted += self._evict_lru()
        return value, evicted

    def _pin(self, key: str, dig: str) -> None:
        self._db.execute("UPDATE keys SET created = ? WHERE key = ?", (FOREVER, key))
        self._db.execute("UPDATE blobs SET last_used = ? WHERE hash = ?", (FOREVER, dig))

    def _select_in(self, sql: str, values: Sequence[str]) -> list[tuple[str, ...]]:
        """`sql` ends in `IN`; the placeholder list is appended and filled batch by batch."""
        out: list[tuple[str, ...]] = []
        for batch in chunked(values, _BATCH):
            out.extend(self._db.execute(f"{sql} ({_marks(len(batch))})", batch).fetchall())
        return out

    def _stats_sync(self, now: float) -> tuple[tuple[int, int, int], int]:
        db = self._db
        cutoff = now - self._max_age
        evicted = 0
        if db.execute("SELECT 1 FROM keys WHERE created < ? LIMIT 1", (cutoff,)).fetchone():
            with self._write():
                self._flush_touches()
                evicted = self._expire(cutoff)
        (entries,) = db.execute("SELECT COUNT(*) FROM keys").fetchone()
        values, size = db.execute("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM blobs").fetchone()
        return (int(entries), int(values), int(size)), evicted

    def _close_sync(self, conn: sqlite3.Connection) -> None:
        try:
            if self._touched:
                conn.execute("BEGIN IMMEDIATE")
                self._flush_touches(conn)
                conn.execute("COMMIT")
        except sqlite3.Error:
            log.warning("turn store: could not save LRU order on close", exc_info=True)
        finally:
            conn.close()

    # -- inside a write transaction -----------------------------------------------------

    def _flush_touches(self, conn: sqlite3.Connection | None = None) -> None:
        if not self._touched:
            return
        db = conn if conn is not None else self._db
        db.executemany(
            "UPDATE blobs SET last_used = ? WHERE hash = ? AND last_used < ?",
            [(t, dig, t) for dig, t in self._touched.items()],
        )
        self._touched.clear()

    def _drop_orphans(self, hashes: set[str]) -> int:
        """Delete those values no key points at any more; returns how many went."""
        dropped = 0
        for batch in chunked(sorted(hashes), _BATCH):
            cur = self._db.execute(
                f"DELETE FROM blobs WHERE hash IN ({_marks(len(batch))})"
                " AND NOT EXISTS (SELECT 1 FROM keys WHERE keys.hash = blobs.hash)",
                batch,
            )
            dropped += cur.rowcount
        return dropped

    def _expire(self, cutoff: float) -> int:
        rows = self._db.execute("DELETE FROM keys WHERE created < ? RETURNING hash", (cutoff,))
        return self._drop_orphans({h for (h,) in rows.fetchall()})

    def _evict_lru(self) -> int:
        db = self._db
        (total,) = db.execute("SELECT COALESCE(SUM(size), 0) FROM blobs").fetchone()
        evicted = 0
        while total > self._max_bytes:
            victims = db.execute(
                "SELECT hash, size FROM blobs ORDER BY last_used, rowid LIMIT 64"
            ).fetchall()
            if not victims:
                break
            for dig, size in victims:
                if total <= self._max_bytes:
                    break
                db.execute("DELETE FROM keys WHERE hash = ?", (dig,))
                db.execute("DELETE FROM blobs WHERE hash = ?", (dig,))
                total -= size
                evicted += 1
        return evicted


def _create_owner_only(path: str) -> None:
    """Turns hold conversations, images and signatures: a new database file is readable by its
    owner only, whatever the umask (SQLite gives its -wal and -shm files the database file's
    permissions). An existing file keeps the permissions its owner chose."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except OSError:
        return  # it exists (or cannot be made): sqlite3.connect reports any real problem

"""`RecordStore` in a SQLite file: survives restarts, one host (any number of workers on it).

Its own connection to the same file as the turn cache (WAL lets them and other processes
share it), used by one worker thread at a time under a lock, like `sqlite.py`. Expired records
are swept with their items on writes; reads filter on `expires` so a sweep is never needed for
correctness.
"""

from __future__ import annotations

import functools
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import ParamSpec, TypeVar

import anyio
import anyio.to_thread

from gateway.state.records import Item, ItemPage, check_limit, check_ttl
from gateway.state.sqlite_schema import prepare
from gateway.state.store import Clock, StoreClosedError, StoreError, chunked

P = ParamSpec("P")
T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    scope TEXT NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL,
    expires REAL NOT NULL, value BLOB NOT NULL,
    PRIMARY KEY (scope, kind, id)
);
CREATE INDEX IF NOT EXISTS records_expires ON records (expires);
CREATE TABLE IF NOT EXISTS record_items (
    scope TEXT NOT NULL, kind TEXT NOT NULL, record_id TEXT NOT NULL,
    seq INTEGER NOT NULL, item_id TEXT NOT NULL, value BLOB NOT NULL,
    PRIMARY KEY (scope, kind, record_id, item_id)
);
CREATE UNIQUE INDEX IF NOT EXISTS record_items_seq ON record_items (scope, kind, record_id, seq);
"""


class SqliteRecords:
    def __init__(self, path: str, *, clock: Clock = time.time) -> None:
        self._clock = clock
        self._lock = anyio.Lock()
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = sqlite3.connect(path, timeout=5.0, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open record store database {path!r}: {exc}") from exc
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA busy_timeout=5000")
            conn.execute("PRAGMA synchronous=NORMAL")
            prepare(conn, path, _SCHEMA)
        except sqlite3.Error as exc:
            conn.close()
            raise StoreError(f"cannot open record store database {path!r}: {exc}") from exc
        except StoreError:
            conn.close()
            raise
        self._conn: sqlite3.Connection | None = conn

    async def _call(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        async with self._lock:
            if self._conn is None:
                raise StoreClosedError("record store is closed")
            try:
                return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs))
            except sqlite3.Error as exc:
                raise StoreError(f"sqlite record store failed: {exc}") from exc

    @property
    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreClosedError("record store is closed")
        return self._conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def _alive(self, key: tuple[str, str, str], now: float) -> bool:
        row = self._db.execute(
            "SELECT 1 FROM records WHERE scope = ? AND kind = ? AND id = ? AND expires > ?",
            (*key, now),
        ).fetchone()
        return row is not None

    def _sweep(self, db: sqlite3.Connection, now: float) -> None:
        db.execute(
            "DELETE FROM record_items WHERE (scope, kind, record_id) IN"
            " (SELECT scope, kind, id FROM records WHERE expires <= ?)",
            (now,),
        )
        db.execute("DELETE FROM records WHERE expires <= ?", (now,))

    # -- public API (each runs one function on the worker thread) -----------------------

    async def put_record(
        self, scope: str, kind: str, record_id: str, value: bytes, ttl: float
    ) -> None:
        check_ttl(ttl)
        now = self._clock()

        def put() -> None:
            with self._write() as db:
                self._sweep(db, now)
                db.execute(
                    "INSERT INTO records (scope, kind, id, expires, value) VALUES (?, ?, ?, ?, ?)"
                    " ON CONFLICT (scope, kind, id) DO UPDATE"
                    " SET expires = excluded.expires, value = excluded.value",
                    (scope, kind, record_id, now + ttl, value),
                )

        await self._call(put)

    async def get_record(self, scope: str, kind: str, record_id: str) -> bytes | None:
        return (await self.get_records(scope, kind, [record_id])).get(record_id)

    async def get_records(
        self, scope: str, kind: str, record_ids: Sequence[str]
    ) -> dict[str, bytes]:
        now = self._clock()

        def get() -> dict[str, bytes]:
            found: dict[str, bytes] = {}
            for batch in chunked(list(dict.fromkeys(record_ids)), 500):
                marks = ",".join("?" * len(batch))
                rows = self._db.execute(
                    "SELECT id, value FROM records WHERE scope = ? AND kind = ?"
                    f" AND id IN ({marks}) AND expires > ?",
                    (scope, kind, *batch, now),
                )
                found.update({str(i): bytes(v) for i, v in rows})
            return found

        return await self._call(get)

    async def delete_record(self, scope: str, kind: str, record_id: str) -> bool:
        now = self._clock()
        key = (scope, kind, record_id)

        def delete() -> bool:
            with self._write() as db:
                existed = self._alive(key, now)
                db.execute(
                    "DELETE FROM record_items WHERE scope = ? AND kind = ? AND record_id = ?", key
                )
                db.execute("DELETE FROM records WHERE scope = ? AND kind = ? AND id = ?", key)
                return existed

        return await self._call(delete)

    async def append_items(
        self, scope: str, kind: str, record_id: str, items: Sequence[Item], ttl: float
    ) -> bool:
        check_ttl(ttl)
        now = self._clock()
        key = (scope, kind, record_id)

        def append() -> bool:
            with self._write() as db:
                if not self._alive(key, now):
                    return False
                (last,) = db.execute(
                    "SELECT COALESCE(MAX(seq), 0) FROM record_items"
                    " WHERE scope = ? AND kind = ? AND record_id = ?",
                    key,
                ).fetchone()
                for item_id, value in items:
                    cur = db.execute(
                        "UPDATE record_items SET value = ? WHERE scope = ? AND kind = ?"
                        " AND record_id = ? AND item_id = ?",
                        (value, *key, item_id),
                    )
                    if cur.rowcount == 0:
                        last += 1
                        db.execute(
                            "INSERT INTO record_items (scope, kind, record_id, seq, item_id, value)"
                            " VALUES (?, ?, ?, ?, ?, ?)",
                            (*key, last, item_id, value),
                        )
                db.execute(
                    "UPDATE records SET expires = ? WHERE scope = ? AND kind = ? AND id = ?",
                    (now + ttl, *key),
                )
                return True

        return await self._call(append)

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
        now = self._clock()
        key = (scope, kind, record_id)

        def page() -> ItemPage | None:
            db = self._db
            if not self._alive(key, now):
                return None
            where = "scope = ? AND kind = ? AND record_id = ?"
            params: tuple[object, ...] = key
            if after is not None:
                row = db.execute(f"SELECT seq FROM record_items WHERE {where} AND item_id = ?",
                                 (*key, after)).fetchone()  # fmt: skip
                if row is None:
                    return ItemPage([], False)
                where += " AND seq < ?" if descending else " AND seq > ?"
                params = (*key, row[0])
            order = "DESC" if descending else "ASC"
            rows = db.execute(
                f"SELECT item_id, value FROM record_items WHERE {where}"
                f" ORDER BY seq {order} LIMIT ?",
                (*params, limit + 1),
            ).fetchall()
            return ItemPage([(str(i), bytes(v)) for i, v in rows[:limit]], len(rows) > limit)

        return await self._call(page)

    async def get_item(self, scope: str, kind: str, record_id: str, item_id: str) -> bytes | None:
        now = self._clock()
        key = (scope, kind, record_id)

        def get() -> bytes | None:
            if not self._alive(key, now):
                return None
            row = self._db.execute(
                "SELECT value FROM record_items WHERE scope = ? AND kind = ? AND record_id = ?"
                " AND item_id = ?",
                (*key, item_id),
            ).fetchone()
            return None if row is None else bytes(row[0])

        return await self._call(get)

    async def delete_item(self, scope: str, kind: str, record_id: str, item_id: str) -> bool:
        now = self._clock()
        key = (scope, kind, record_id)

        def delete() -> bool:
            with self._write() as db:
                if not self._alive(key, now):
                    return False
                cur = db.execute(
                    "DELETE FROM record_items WHERE scope = ? AND kind = ? AND record_id = ?"
                    " AND item_id = ?",
                    (*key, item_id),
                )
                return cur.rowcount > 0

        return await self._call(delete)

    async def ready(self) -> bool:
        try:
            await self._call(lambda: self._db.execute("SELECT 1").fetchone())
        except StoreError:
            return False
        return True

    async def aclose(self) -> None:
        async with self._lock:
            conn, self._conn = self._conn, None
            if conn is not None:
                await anyio.to_thread.run_sync(conn.close)

"""The schema version of a SQLite state file, and bringing an older file up to date on open.

A state file is stamped with `PRAGMA user_version` (protocol/schema.py `SQLITE_FILE`; the upgrade
rule is there). 0.1.0 and 0.2.0 stamped nothing (0). Every store that opens a file (the turn
cache, the record store, stored responses in the sibling file) calls `prepare` with its own
tables, in one write transaction with its migrations, so several processes opening one file at
once migrate it once:

- newer than this release: refused (`NewerStateError`, a `StoreError`: the store does not open;
  `serve` checks first with `check_file` and exits 2 with the same one line);
- older: the tables that are missing are created, each migration above the file's version runs,
  then the stamp is written.

Migrations are file-wide and look at what the file holds, not at who opens it, since the record
store and the turn cache share one file and either may be first.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Final

from gateway.protocol.schema import SQLITE_FILE
from gateway.state.scope import SHARED_SCOPE, scoped_key
from gateway.state.store import StoreError

# The turn-key kinds of translate/turn_keys.py. 0.1.0 stored them unscoped; 0.2.0 put every one
# under the caller's scope (state/scope.py). Hosted images (`f:`) were and are unscoped.
_TURN_KEY_KINDS: Final = ("t:", "v:", "c:", "i:")


class NewerStateError(StoreError):
    """The file was written by a newer release; this one cannot know what it holds."""


def newer_message(path: str, version: int) -> str:
    return (
        f"state file {Path(path).absolute()} has schema version {version}, newer than the"
        f" {SQLITE_FILE} this gateway reads: run the release that wrote it (or a newer one), or"
        " point GATEWAY_STATE at a new file"
    )


def _scope_0_1_0_turn_keys(db: sqlite3.Connection) -> None:
    """0.1.0's unscoped turn keys go into the shared scope: the scope of a gateway without client
    keys or pass-through, the only setup in which 0.1.0 behaved the same. Behind client keys they
    are found by nobody (no credential's scope is `shared`) and age out: never a leak."""
    if not _has_table(db, "keys"):
        return
    kinds = ",".join("?" * len(_TURN_KEY_KINDS))
    old = f"substr(key, 1, 2) IN ({kinds})"
    db.execute(
        f"UPDATE OR IGNORE keys SET key = ? || key WHERE {old}",
        (scoped_key(SHARED_SCOPE, ""), *_TURN_KEY_KINDS),
    )
    # What is left collided with a key already scoped (written later, by 0.2.0): that one wins.
    if db.execute(f"DELETE FROM keys WHERE {old}", _TURN_KEY_KINDS).rowcount:
        db.execute(
            "DELETE FROM blobs WHERE NOT EXISTS (SELECT 1 FROM keys WHERE keys.hash = blobs.hash)"
        )


# version N -> what turns a version N-1 file into a version N file
MIGRATIONS: Final[dict[int, Callable[[sqlite3.Connection], None]]] = {
    1: _scope_0_1_0_turn_keys,
}


def _has_table(db: sqlite3.Connection, name: str) -> bool:
    found = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))
    return found.fetchone() is not None


def version_of(db: sqlite3.Connection) -> int:
    (version,) = db.execute("PRAGMA user_version").fetchone()
    return int(version)


def prepare(db: sqlite3.Connection, path: str, tables: str) -> None:
    """Create `tables` (CREATE ... IF NOT EXISTS statements), migrate, stamp; one transaction.
    `db` is in autocommit mode (isolation_level=None), as the stores keep it."""
    db.execute("BEGIN IMMEDIATE")
    try:
        version = version_of(db)
        if version > SQLITE_FILE:
            raise NewerStateError(newer_message(path, version))
        for statement in tables.split(";"):
            if statement.strip():
                db.execute(statement)
        for target in range(version + 1, SQLITE_FILE + 1):
            MIGRATIONS[target](db)
        if version != SQLITE_FILE:
            db.execute(f"PRAGMA user_version = {SQLITE_FILE:d}")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def check_file(path: str) -> None:
    """Before serving: a file stamped newer stops the start with one line (ValueError, exit 2).
    A missing file, or ":memory:", is fine: the store creates it."""
    if path == ":memory:" or not Path(path).is_file():
        return
    try:
        db = sqlite3.connect(path, timeout=5.0)
        try:
            version = version_of(db)
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise ValueError(f"state file {Path(path).absolute()} cannot be read: {exc}") from exc
    if version > SQLITE_FILE:
        raise ValueError(newer_message(path, version))

"""SQLite state files are stamped (PRAGMA user_version); a file of 0.1.0 is migrated in place
when opened (its turns scoped, its missing tables added), once, whoever opens it first; a file
stamped newer is refused by the stores and by the start-up check."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from gateway.protocol.schema import SQLITE_FILE
from gateway.state.factory import open_store
from gateway.state.open_state import StateOptions, open_state
from gateway.state.sqlite_records import SqliteRecords
from gateway.state.sqlite_schema import NewerStateError, check_file

pytestmark = pytest.mark.anyio

FIXTURE = Path(__file__).parents[1] / "fixtures" / "state" / "0.1.0" / "state.db"


def rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def old_file(tmp_path: Path) -> Path:
    db = tmp_path / "state.db"
    shutil.copyfile(FIXTURE, db)
    return db


async def test_a_0_1_0_file_is_migrated_in_place_and_stamped(tmp_path: Path):
    db = old_file(tmp_path)
    before = rows(db, "SELECT key, hash FROM keys ORDER BY key")
    assert rows(db, "PRAGMA user_version") == [(0,)]
    state = open_state(StateOptions(url=f"sqlite:///{db}"))
    await state.aclose()
    assert rows(db, "PRAGMA user_version") == [(SQLITE_FILE,)]
    assert rows(db, "SELECT key, hash FROM keys ORDER BY key") == [
        (f"s:shared:{key}", digest) for key, digest in before
    ]
    tables = {name for (name,) in rows(db, "SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"blobs", "keys", "records", "record_items"} <= tables
    # Opening again changes nothing.
    state = open_state(StateOptions(url=f"sqlite:///{db}"))
    await state.aclose()
    assert len(rows(db, "SELECT key FROM keys")) == len(before)


async def test_the_record_store_opening_first_still_migrates_the_turns(tmp_path: Path):
    db = old_file(tmp_path)
    await SqliteRecords(str(db)).aclose()
    keys = [key for (key,) in rows(db, "SELECT key FROM keys")]
    assert keys and all(str(key).startswith("s:shared:") for key in keys)


async def test_a_key_already_scoped_wins_over_its_0_1_0_twin(tmp_path: Path):
    """A file used by 0.1.0, then 0.2.0 (which wrote scoped keys and stamped nothing)."""
    db = old_file(tmp_path)
    (old_key, _), *_ = rows(db, "SELECT key, hash FROM keys ORDER BY key")
    with sqlite3.connect(db) as conn:
        conn.execute(
            "INSERT INTO blobs (hash, size, created, last_used, data) VALUES ('n', 1, 0, 0, x'7b7d')"
        )
        conn.execute(
            "INSERT INTO keys (key, hash, created) VALUES (?, 'n', 0)", (f"s:shared:{old_key}",)
        )
    store = open_store(f"sqlite:///{db}", max_bytes=1 << 30, max_age_seconds=1e10)
    await store.aclose()
    assert rows(db, f"SELECT hash FROM keys WHERE key = 's:shared:{old_key}'") == [("n",)]
    assert not rows(db, f"SELECT 1 FROM keys WHERE key = '{old_key}'")


async def test_a_file_stamped_newer_is_refused_with_one_line(tmp_path: Path):
    db = old_file(tmp_path)
    with sqlite3.connect(db) as conn:
        conn.execute(f"PRAGMA user_version = {SQLITE_FILE + 1}")
    with pytest.raises(NewerStateError) as refused:
        open_store(f"sqlite:///{db}", max_bytes=1 << 30, max_age_seconds=60)
    message = str(refused.value)
    assert str(db) in message and f"version {SQLITE_FILE + 1}" in message and "\n" not in message
    with pytest.raises(NewerStateError):
        SqliteRecords(str(db))
    with pytest.raises(ValueError, match=f"version {SQLITE_FILE + 1}"):
        check_file(str(db))
    assert rows(db, "PRAGMA user_version") == [(SQLITE_FILE + 1,)]  # left as it was
    assert rows(db, "SELECT COUNT(*) FROM keys") == [(5,)]


def test_the_start_up_check_passes_missing_current_and_older_files(tmp_path: Path):
    check_file(str(tmp_path / "absent.db"))
    check_file(":memory:")
    check_file(str(old_file(tmp_path)))

"""`serve` refuses state a newer release wrote, before binding anything: one stderr line naming
the store and both versions, exit 2 (SQLite file, its responses sibling, a Redis keyspace). A
Redis keyspace without a stamp gets this release's."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
import redis

from gateway.cli import main
from gateway.protocol.schema import REDIS_KEYSPACE, SQLITE_FILE
from gateway.state.schema_check import check_state_schema

FIXTURE = Path(__file__).parents[1] / "fixtures" / "state" / "0.1.0" / "state.db"


def stamped(db: Path, version: int) -> Path:
    shutil.copyfile(FIXTURE, db)
    with sqlite3.connect(db) as conn:
        conn.execute(f"PRAGMA user_version = {version}")
    return db


@pytest.mark.parametrize("name", ["state.db", "state.responses.db"])
def test_serve_exits_2_on_a_sqlite_file_stamped_newer(
    tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    db = stamped(tmp_path / name, SQLITE_FILE + 1)
    monkeypatch.setenv("GATEWAY_STATE", f"sqlite:///{tmp_path / 'state.db'}")
    assert main(["serve", "--emulator", "--port", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    assert str(db) in err and f"schema version {SQLITE_FILE + 1}" in err


def test_older_and_missing_sqlite_files_pass(tmp_path: Path):
    stamped(tmp_path / "state.db", 0)
    check_state_schema(f"sqlite:///{tmp_path / 'state.db'}", prefix="gw:", timeout=1.0)
    check_state_schema(f"sqlite:///{tmp_path / 'new.db'}", prefix="gw:", timeout=1.0)
    assert not (tmp_path / "new.db").exists()  # a check writes nothing


def test_a_redis_keyspace_is_stamped_once_and_refused_when_newer(
    redis_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    client = redis.Redis.from_url(redis_url)
    try:
        check_state_schema(redis_url, prefix="gw:", timeout=1.0)
        assert client.get("gw:schema") == str(REDIS_KEYSPACE).encode()
        check_state_schema(redis_url, prefix="gw:", timeout=1.0)  # stamped: passes
        client.set("other:schema", str(REDIS_KEYSPACE + 1))
        monkeypatch.setenv("GATEWAY_STATE", redis_url)
        monkeypatch.setenv("GATEWAY_STATE_PREFIX", "other:")
        assert main(["serve", "--emulator", "--port", "1"]) == 2
        err = capsys.readouterr().err.strip()
        assert "\n" not in err and "'other:schema'" in err
        assert f"schema version {REDIS_KEYSPACE + 1}" in err
    finally:
        client.close()


def test_an_unreachable_redis_does_not_stop_the_start(caplog: pytest.LogCaptureFixture):
    check_state_schema("redis://127.0.0.1:1/0", prefix="gw:", timeout=0.5)
    assert "schema version is not checked" in caplog.text

"""Upgrading from 0.1.0 with its SQLite state file: the turns 0.1.0 remembered are replayed by
this release byte for byte; a remembered turn of a newer schema is a counted miss, never a
failure. The file and conversations were written by 0.1.0's own code
(tests/fixtures/state/README.md)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import orjson
import pytest

from gateway.protocol.schema import SQLITE_FILE
from tests.conftest import emulator_stack
from tests.e2e.fidelity_helpers import (
    Session,
    assert_degraded_without_corruption,
    assert_faithful,
    content_only,
    fallbacks,
    metrics,
    turn_sources,
)

pytestmark = pytest.mark.anyio

FIXTURES = Path(__file__).parents[1] / "fixtures" / "state" / "0.1.0"
TEN_YEARS = 10 * 365 * 24 * 3600.0  # the fixture's turns were stored on 2026-12-06
IGNORED = "gateway_state_records_ignored_total"
# 0.1.0's turns were one pool for every caller: the upgrade puts them in the shared scope, the
# scope of a gateway with a server key and no client keys (state/sqlite_schema.py).
SERVER_KEY = {"api_keys": ("server-key",)}


def conversations() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / "conversations.json").read_text())
    return loaded


def copied_state(tmp_path: Path) -> Path:
    db = tmp_path / "state.db"
    shutil.copyfile(FIXTURES / "state.db", db)
    return db


async def test_an_image_turn_remembered_by_0_1_0_is_replayed_byte_exact(tmp_path: Path):
    db = copied_state(tmp_path)
    saved = conversations()["image"]
    state = f"sqlite:///{db}"
    async with emulator_stack(state=state, state_max_age=TEN_YEARS, **SERVER_KEY) as stack:
        history = [*saved["history"], {"role": "user", "content": "make it night time"}]
        turn = await content_only(Session(stack), saved["model"], history)
        assert_faithful(stack.emulator, saved["issued"])
        assert turn.png is not None
        samples = await metrics(stack)
        assert turn_sources(samples) == {"cache": 1.0}
        assert fallbacks(samples) == {}
        assert not any(k.startswith(IGNORED) and v for k, v in samples.items())
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (SQLITE_FILE,)


async def test_a_tool_call_remembered_by_0_1_0_is_replayed_byte_exact(tmp_path: Path):
    db = copied_state(tmp_path)
    saved = conversations()["tool"]
    (call,) = saved["history"][-1]["tool_calls"]
    history = [*saved["history"], {"role": "tool", "tool_call_id": call["id"], "content": "sunny"}]
    async with emulator_stack(
        state=f"sqlite:///{db}", state_max_age=TEN_YEARS, **SERVER_KEY
    ) as stack:
        await content_only(Session(stack), saved["model"], history)
        assert_faithful(stack.emulator, saved["issued"])
        assert turn_sources(await metrics(stack)) == {"cache": 1.0}


async def test_a_remembered_turn_of_a_newer_schema_is_a_counted_miss(tmp_path: Path):
    """A rollback after a newer release wrote the file: its records are not guessed at."""
    db = copied_state(tmp_path)
    with sqlite3.connect(db) as conn:
        for rowid, data in conn.execute("SELECT rowid, data FROM blobs").fetchall():
            newer = orjson.dumps({**orjson.loads(data), "v": SQLITE_FILE + 98})
            conn.execute("UPDATE blobs SET data = ? WHERE rowid = ?", (newer, rowid))
    saved = conversations()["image"]
    async with emulator_stack(
        state=f"sqlite:///{db}", state_max_age=TEN_YEARS, **SERVER_KEY
    ) as stack:
        history = [*saved["history"], {"role": "user", "content": "make it night time"}]
        turn = await content_only(Session(stack), saved["model"], history)
        assert assert_degraded_without_corruption(stack.emulator) == ["dummy", "dummy"]
        assert turn.png is not None
        samples = await metrics(stack)
        assert samples[f'{IGNORED}{{kind="turn_record",reason="newer"}}'] >= 1
        assert turn_sources(samples) == {"rebuilt": 1.0}


async def test_behind_client_keys_the_turns_of_0_1_0_are_found_by_nobody(tmp_path: Path):
    """0.1.0 shared turns between every client key; after the upgrade no key's scope has them."""
    db = copied_state(tmp_path)
    saved = conversations()["image"]
    settings = {"state": f"sqlite:///{db}", "state_max_age": TEN_YEARS, **SERVER_KEY}
    async with emulator_stack(client_keys=("test-key",), **settings) as stack:
        history = [*saved["history"], {"role": "user", "content": "make it night time"}]
        await content_only(Session(stack), saved["model"], history)
        # Dummies: the remembered turn (and its signatures) did not reach this caller.
        assert assert_degraded_without_corruption(stack.emulator) == ["dummy", "dummy"]

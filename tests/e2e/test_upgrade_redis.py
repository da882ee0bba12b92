"""On Redis/Valkey (a real server): turn records without a version — the bytes 0.1.0 wrote,
which 0.2.0 wrote the same on Redis — are read by this release and replayed byte for byte; the
keyspace is stamped once by `serve`'s start-up check, which leaves the records as they are."""

from __future__ import annotations

import json
import sqlite3
from functools import partial
from pathlib import Path
from typing import Any

import anyio.to_thread
import pytest
import redis

from gateway.protocol.schema import REDIS_KEYSPACE
from gateway.state.open_state import StateOptions, open_state
from gateway.state.schema_check import check_state_schema
from gateway.state.scope import SHARED_SCOPE, scoped_key
from tests.conftest import emulator_stack
from tests.e2e.fidelity_helpers import Session, assert_faithful, content_only, metrics, turn_sources

pytestmark = pytest.mark.anyio

FIXTURES = Path(__file__).parents[1] / "fixtures" / "state" / "0.1.0"


def unversioned_turns() -> dict[str, bytes]:
    """Every turn 0.1.0 stored, under the key this release looks it up by (shared scope)."""
    with sqlite3.connect(FIXTURES / "state.db") as conn:
        rows = conn.execute("SELECT k.key, b.data FROM keys k JOIN blobs b ON b.hash = k.hash")
        return {scoped_key(SHARED_SCOPE, key): bytes(data) for key, data in rows}


async def test_unversioned_turn_records_on_redis_are_replayed(redis_url: str):
    turns = unversioned_turns()
    assert turns and all(b'"v"' not in value for value in turns.values())
    state = open_state(StateOptions(url=redis_url))
    await state.turns.put_many(turns)
    await state.aclose()
    # As `serve` runs it: before any event loop (here on a thread of its own).
    await anyio.to_thread.run_sync(
        partial(check_state_schema, redis_url, prefix="gw:", timeout=1.0)
    )
    client = redis.Redis.from_url(redis_url)
    try:
        assert client.get("gw:schema") == str(REDIS_KEYSPACE).encode()
    finally:
        client.close()
    saved: dict[str, Any] = json.loads((FIXTURES / "conversations.json").read_text())["image"]
    async with emulator_stack(state=redis_url, api_keys=("server-key",)) as stack:
        history = [*saved["history"], {"role": "user", "content": "make it night time"}]
        await content_only(Session(stack), saved["model"], history)
        assert_faithful(stack.emulator, saved["issued"])
        assert turn_sources(await metrics(stack)) == {"cache": 1.0}

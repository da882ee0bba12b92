"""Stored responses and conversations carry a schema version (protocol/schema.py). What 0.2.0
wrote (no `v`) is read unchanged on every backend, real Redis included; a newer or unreadable
value is answered as absent and counted, never an error."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest

from gateway.protocol.schema import CONVERSATION, STORED_RESPONSE
from gateway.state.conversations import KIND, ConversationStore
from gateway.state.ignored import IgnoredRecords
from gateway.state.open_state import State, StateOptions, open_state
from gateway.state.responses import ResponseStore, StoredResponse

pytestmark = pytest.mark.anyio

RESPONSE = {"id": "resp_1", "object": "response", "output": [], "previous_response_id": None}
INPUT = [{"id": "msg_1", "type": "message", "role": "user", "content": "hi"}]
CONV = {"id": "conv_1", "object": "conversation", "created_at": 1, "metadata": {}}


@pytest.fixture(params=["memory", "sqlite", "redis"])
async def state(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[State]:
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
    elif request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'state.db'}"
    else:
        url = "memory"
    opened = open_state(StateOptions(url=url))
    yield opened
    await opened.aclose()


class Counted:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def __call__(self, kind: str, reason: str) -> None:
        self.seen.append((kind, reason))


def stores(state: State) -> tuple[ResponseStore, ConversationStore, Counted]:
    counted = Counted()
    responses = ResponseStore(state.responses, IgnoredRecords(counted))
    return responses, ConversationStore(state.records, responses, ttl=60), counted


async def test_what_0_2_0_stored_is_read(state: State):
    responses, conversations, counted = stores(state)
    old = orjson.dumps({"response": RESPONSE, "input": INPUT})  # 0.2.0's record: no "v"
    await state.responses.put_many({"r:s:resp_1": old})
    found = await responses.get("s", "resp_1")
    assert found is not None and found.response == RESPONSE and found.input == INPUT
    await state.records.put_record("s", KIND, "conv_1", orjson.dumps(CONV), ttl=60)
    await state.records.append_items("s", KIND, "conv_1", [("msg_1", orjson.dumps(INPUT[0]))], 60)
    assert await conversations.get("s", "conv_1") == CONV
    assert await conversations.items("s", "conv_1") == INPUT
    assert await conversations.item("s", "conv_1", "msg_1") == INPUT[0]
    assert counted.seen == []


async def test_what_this_release_stores_carries_its_version_and_reads_back(state: State):
    responses, conversations, counted = stores(state)
    await conversations.create("s", CONV, INPUT)
    raw = await state.records.get_record("s", KIND, "conv_1")
    assert raw is not None and orjson.loads(raw)["v"] == CONVERSATION
    assert await conversations.get("s", "conv_1") == CONV
    assert await conversations.items("s", "conv_1") == INPUT
    await responses.put("s", StoredResponse(RESPONSE, INPUT))
    raw = await state.responses.get("r:s:resp_1")
    assert raw is not None and orjson.loads(raw)["v"] == STORED_RESPONSE
    found = await responses.get("s", "resp_1")
    assert found is not None and found.response == RESPONSE
    assert counted.seen == []


async def test_newer_and_unreadable_values_are_absent_and_counted(state: State):
    responses, conversations, counted = stores(state)
    newer = {"v": STORED_RESPONSE + 1, "response": RESPONSE, "input": INPUT}
    await state.responses.put_many({"r:s:new": orjson.dumps(newer), "r:s:bad": b"\x00garbage"})
    assert await responses.get("s", "new") is None
    assert await responses.chain("s", "bad") is None  # previous_response_id: a 404, not a 500
    assert await responses.delete("s", "bad") is False  # DELETE: a 404, like GET
    await state.records.put_record("s", KIND, "conv_1", orjson.dumps(CONV), ttl=60)
    items = [
        ("msg_1", orjson.dumps(INPUT[0])),
        ("msg_2", orjson.dumps({**INPUT[0], "id": "msg_2", "v": CONVERSATION + 1})),
        ("msg_3", b"[]"),
    ]
    await state.records.append_items("s", KIND, "conv_1", items, 60)
    await state.records.put_record("s", KIND, "conv_2", orjson.dumps({"v": 99, **CONV}), 60)
    assert await conversations.items("s", "conv_1") == INPUT
    assert await conversations.item("s", "conv_1", "msg_2") is None
    assert await conversations.get("s", "conv_2") is None
    assert counted.seen == [
        ("response", "newer"),
        ("response", "unreadable"),
        ("response", "unreadable"),
        ("conversation_item", "newer"),
        ("conversation_item", "unreadable"),
        ("conversation_item", "newer"),
        ("conversation", "newer"),
    ]

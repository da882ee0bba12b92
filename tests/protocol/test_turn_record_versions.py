"""Turn record versions (protocol/schema.py): records carry `v`; the bytes 0.1.0 wrote (no `v`)
are version 1 and read unchanged; a newer or malformed version is `Unread` with its reason."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from gateway.protocol import schema
from gateway.protocol.schema import Unread
from gateway.protocol.turn_record import TurnRecord

FIXTURES = Path(__file__).parents[1] / "fixtures" / "state" / "0.1.0"


def test_an_encoded_record_carries_the_current_version():
    record = TurnRecord.of_turn([{"text": "hi"}], "hi", ["hi"], [], "m")
    assert orjson.loads(record.encode())["v"] == schema.TURN_RECORD
    assert TurnRecord.read(record.encode()) == record


@pytest.mark.parametrize("name", ["image", "tool"])
def test_records_written_by_0_1_0_are_read_as_version_1(name):
    raw = (FIXTURES / f"{name}.record.json").read_bytes()
    assert b'"v"' not in raw
    record = TurnRecord.read(raw)
    assert isinstance(record, TurnRecord)
    fields = orjson.loads(raw)
    assert list(record.parts) == fields["parts"]
    assert list(record.tool_call_ids) == fields["tool_call_ids"]
    assert record.model == fields["model"]
    # Re-encoded, it says what it is now and reads back the same.
    assert TurnRecord.read(record.encode()) == record


def test_the_0_1_0_image_record_still_matches_what_its_client_was_shown():
    raw = (FIXTURES / "image.record.json").read_bytes()
    conversation = orjson.loads((FIXTURES / "conversations.json").read_bytes())["image"]
    record = TurnRecord.read(raw)
    assert isinstance(record, TurnRecord)
    assert record.shows(conversation["history"][-1]["content"])


def test_a_newer_record_is_not_guessed_at():
    fields = {"v": schema.TURN_RECORD + 1, "parts": [{"text": "hi"}], "content": "hi"}
    assert TurnRecord.read(orjson.dumps(fields)) == Unread("newer", schema.TURN_RECORD + 1)
    assert TurnRecord.decode(orjson.dumps(fields)) is None


@pytest.mark.parametrize("version", ["1", 0, -1, 1.0, True, None, [1]])
def test_a_version_that_is_not_a_positive_integer_is_unreadable(version):
    fields = {"v": version, "parts": [{"text": "hi"}], "content": "hi"}
    assert TurnRecord.read(orjson.dumps(fields)) == Unread("unreadable")


@pytest.mark.parametrize("raw", [b"", b"not json", b"[]", b'{"parts": "x"}', b'{"v": 1}'])
def test_other_shapes_are_unreadable(raw):
    assert TurnRecord.read(raw) == Unread("unreadable")

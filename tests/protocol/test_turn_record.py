"""A turn record keeps each mirrored image once (content pieces with part refs), still
matches only the exact content the client was shown, and survives its encoding; bytes of any
other shape decode to nothing (a cache miss)."""

from __future__ import annotations

import base64
import os

import orjson
import pytest

from gateway.protocol.turn_record import TurnRecord
from gateway.translate.turn_view import TurnView, ViewOptions

DATA = base64.b64encode(os.urandom(300_000)).decode()
PARTS = [
    {"text": "Here it is.", "thoughtSignature": "c2ln"},
    {"inlineData": {"mimeType": "image/png", "data": DATA}},
    {"text": "Want changes?"},
]


def record_shows(fields: dict[str, object], visible: str) -> bool:
    """Through the encoding, as the turn cache hands a record to translation."""
    record = TurnRecord.decode(orjson.dumps(fields))
    return record is not None and record.shows(visible)


def shown(parts: list[dict[str, object]], options: ViewOptions) -> tuple[str, list[object]]:
    view = TurnView(options)
    for part in parts:
        view.add(part)
    return view.content_text, view.content_pieces()


def test_pieces_hold_the_image_as_a_part_ref_and_render_the_content():
    content, pieces = shown(PARTS, ViewOptions())
    assert {"part": 1} in pieces
    assert not any(isinstance(p, str) and DATA in p for p in pieces)
    assert record_shows({"parts": PARTS, "content_pieces": pieces}, content)


def test_streamed_deltas_give_the_same_pieces_merged():
    view = TurnView(ViewOptions())
    for part in [{"text": "Here "}, {"text": "it is."}, PARTS[1], {"text": "Bye"}]:
        view.add(part, streamed=True)
    pieces = view.content_pieces()
    assert pieces[0] == "Here it is.\n\n![image 1](" and pieces[1] == {"part": 1}
    assert record_shows({"parts": view.replay_parts, "content_pieces": pieces}, view.content_text)


@pytest.mark.parametrize(
    "edit",
    [
        lambda c: c[: len(c) // 2] + ("A" if c[len(c) // 2] != "A" else "B") + c[len(c) // 2 + 1 :],
        lambda c: c[:-1],
        lambda c: c + " ",
        lambda c: c.replace("image/png", "image/jpg"),
        lambda c: c.replace("Here", "Hera"),
        lambda c: "",
    ],
)
def test_any_edit_of_what_was_shown_does_not_match(edit):
    content, pieces = shown(PARTS, ViewOptions())
    assert not record_shows({"parts": PARTS, "content_pieces": pieces}, edit(content))


def test_text_only_and_hosted_turns_keep_plain_content():
    for options in (ViewOptions(), ViewOptions(hosted_base="https://gw.example")):
        parts = PARTS if options.hosted_base else [PARTS[0]]
        content, pieces = shown(parts, options)
        assert all(isinstance(p, str) for p in pieces)
        assert record_shows({"parts": parts, "content": content}, content)


@pytest.mark.parametrize(
    "pieces",
    [
        [{"part": 7}],
        [{"part": "1"}],
        [{"part": 0}],  # a text part, not an image
        [3],
        "not a list",
    ],
)
def test_malformed_records_never_match(pieces):
    assert not record_shows({"parts": PARTS, "content_pieces": pieces}, "Here it is.")


def test_a_record_survives_its_encoding():
    content, pieces = shown(PARTS, ViewOptions())
    record = TurnRecord.of_turn(PARTS, content, pieces, ["call_1"], "gemini-3-pro-image-preview")
    assert record.content is None and record.content_pieces == tuple(pieces)
    assert TurnRecord.decode(record.encode()) == record
    plain = TurnRecord.of_turn(PARTS[:1], "Here it is.", ["Here it is."], [], "m")
    assert plain.content == "Here it is." and plain.content_pieces is None
    assert TurnRecord.decode(plain.encode()) == plain


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"not json",
        b"[]",
        b'{"parts": "x"}',
        b'{"parts": [1]}',
        b'{"parts": [], "tool_call_ids": [1]}',
    ],
)
def test_bytes_of_another_shape_decode_to_nothing(raw):
    assert TurnRecord.decode(raw) is None
